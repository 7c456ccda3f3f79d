package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/observe"
	"github.com/cachectl/cachectl/warm"
)

// clearURLOptions are clear's --url, --url-file and --rewarm.
type clearURLOptions struct {
	API     func() (*url.URL, *http.Client, error)
	URLs    []string
	URLFile string
	Rewarm  bool
}

func (o *clearURLOptions) byURL() bool { return len(o.URLs) > 0 || o.URLFile != "" }

// urlTarget refuses --url beside another target flag, and --rewarm without it.
func (o *clearURLOptions) urlTarget(changed func(flag string) bool) error {
	if !o.byURL() {
		if o.Rewarm {
			return usageErrorf("--rewarm goes with --url or --url-file")
		}
		return nil
	}
	for _, f := range append(clearTargetFlags(), "--cascade") {
		name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), " ")
		if name != "url" && changed(name) {
			return usageErrorf("--url combines with no other target flag: drop %s", f)
		}
	}
	// A URL's keys are unlinked by name: there is no SCAN to tune or bound.
	for _, name := range []string{"max-keys", "count", "batch", "pause", "max-impact"} {
		if changed(name) {
			return usageErrorf("--%s tunes a SCAN, which --url does not run: drop it", name)
		}
	}
	if o.Rewarm && changed("dry-run") {
		return usageErrorf("--rewarm requests the URLs again after deleting, which --dry-run does not do")
	}
	return nil
}

// runClearURLs is clear --url: observe.ClearURLs behind clear's gate.
func runClearURLs(ctx context.Context, opts *clearOptions) error {
	schema, err := opts.Schema()
	if err != nil {
		return err
	}
	base, client, err := opts.API()
	if err != nil {
		return err
	}
	urls, err := warm.URLs(base, opts.URLs, opts.URLFile, opts.IO.In)
	if err != nil {
		return err
	}
	conn, err := opts.Redis(ctx)
	if err != nil {
		return err
	}
	prefix := schema.Namespace()
	obs, err := observe.New(ctx, conn.Client, observe.Options{Prefix: prefix})
	if err != nil {
		return err
	}
	if !opts.Quiet {
		render.ClearURLNote(opts.IO)
	}
	res, err := obs.ClearURLs(ctx, observe.URLClear{API: catalogapi.New(base, client), URLs: urls, Key: schema.Key,
		DryRun: opts.DryRun, Rewarm: opts.Rewarm,
		Confirm: func(us []observe.URLKeys) (bool, error) {
			keys := render.ClearURLKeys(us, prefix)
			err := confirmClear(opts, func() (bool, error) { return render.AskClearURLs(ctx, opts.IO, prefix, conn, keys) },
				int64(len(keys)), strings.Join(keys, ", "), render.ClearTarget(conn))
			return err == nil, err
		}})
	opts.auditedURLs(ctx, res, err)
	rep := render.NewClearURLReport(conn.Addr, prefix, res)
	if err != nil && res.Complete {
		render.ClearURLProblems(opts.IO, rep)
		return err
	}
	if !opts.Quiet {
		if err := render.ClearURLs(opts.IO, opts.Format, rep); err != nil {
			return err
		}
	}
	switch {
	case err != nil:
		return partialError(err, "run the same command again to finish the job")
	case rep.Errors > 0:
		return errFailed
	}
	return nil
}
