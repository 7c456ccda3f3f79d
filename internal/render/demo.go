package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/keyspace"
)

// DemoWorld is what the demo runs on, and where its secrets are.
type DemoWorld struct {
	Sandbox      *sandbox.Sandbox
	Schema       keyspace.Schema
	SeedProducts int
	// PasswordFile holds the password of a Redis the demo started ("" for
	// one given with --redis: the user's own settings reach it).
	PasswordFile string
	TokenFile    string // the API's admin token
}

// DemoStarted says which Redis and which API the demo runs on.
func DemoStarted(w io.Writer, d DemoWorld) {
	sb := d.Sandbox
	switch sb.RedisKind {
	case sandbox.Given:
		fmt.Fprintf(w, "redis:  %s (given with --redis: the demo clears its keys under %s)\n", sb.RedisURL, d.Schema.Namespace())
	case sandbox.Process:
		fmt.Fprintf(w, "redis:  a private redis-server on %s (data in %s, removed on exit)\n", sb.RedisURL, sb.Local.Dir)
	default:
		fmt.Fprintf(w, "redis:  an embedded in-process Redis on %s (no redis-server on PATH)\n", sb.RedisURL)
		fmt.Fprintln(w, "        it keeps no INFO statistics: hit rate, memory, evictions and ops/s stay")
		fmt.Fprintln(w, "        empty in check, bench, stats and top; install redis-server to see them")
	}
	if d.PasswordFile != "" {
		fmt.Fprintf(w, "        password in %s (the commands below pass it with --password-file)\n", d.PasswordFile)
	}
	fmt.Fprintf(w, "api:    the reference catalog on %s (%d products, in memory)\n", sb.API.URL, d.SeedProducts)
}

// DemoSection starts a part of the tour, after a blank line.
func DemoSection(w io.Writer, title string) { fmt.Fprintf(w, "\n%s\n", title) }

// DemoNext prints the commands to try against the demo, with its addresses.
func DemoNext(w io.Writer, d DemoWorld, keep bool) {
	if keep {
		fmt.Fprintln(w, "\ntry next, in another terminal:")
	} else {
		fmt.Fprintln(w, "\ntry next (cachectl demo --keep keeps these addresses up):")
	}
	for _, line := range demoNextSteps(d) {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

func demoNextSteps(d DemoWorld) []string {
	schema := ""
	if d.Schema.Prefix != keyspace.DefaultPrefix {
		schema += " --prefix " + d.Schema.Prefix
	}
	if d.Schema.Version != keyspace.DefaultVersion {
		schema += " --key-version " + strconv.Itoa(d.Schema.Version)
	}
	r := " --redis " + d.Sandbox.RedisURL
	if d.PasswordFile != "" {
		r += " --password-file " + d.PasswordFile
	}
	r += schema
	api := d.Sandbox.API.URL.String()
	return []string{
		"cachectl top" + r + " --api " + api,
		"cachectl keys" + r,
		"cachectl stats" + r,
		"cachectl clear --products --dry-run" + r,
		"cachectl bench" + r + " --api " + api,
		"CACHECTL_ADMIN_TOKEN=$(cat " + d.TokenFile + ") cachectl check" + r + " --api " + api,
		"curl -si " + strings.TrimSuffix(api, "/") + "/api/products/1/ | grep X-Cache",
	}
}
