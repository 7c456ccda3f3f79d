package observe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/redistest"
)

// Two URLs that share a key (a query in another order) delete it once and
// both say so; a URL that touches no key fails alone, and its reason says
// why; a key the app never writes back fails --rewarm for its URL only.
func TestClearURLsDeletesEachLearnedKeyOnce(t *testing.T) {
	srv := redistest.Start(t)
	app, rdb := srv.Client(t), srv.Client(t)
	views := map[string]func(context.Context) error{
		"/list":  cacheView(app, prefix+"products:list:a", 10*time.Minute),
		"/once":  cacheView(app, prefix+"product:1", time.Minute),
		"/plain": func(context.Context) error { return nil },
	}
	written := false
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/once" && written { // it stops caching after the first clear
			return
		}
		written = written || r.URL.Path == "/once"
		if err := views[r.URL.Path](r.Context()); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	api := httptest.NewServer(h)
	t.Cleanup(api.Close)
	base, _ := url.Parse(api.URL)
	ctx := context.Background()
	app.Set(ctx, prefix+"products:list:b", "other list", time.Hour)
	o := newObserver(t, rdb, "")

	res, err := o.ClearURLs(ctx, URLClear{API: catalogapi.New(base, api.Client()), Key: func(l string) string { return prefix + l },
		URLs: []string{api.URL + "/list?a=1&b=2", api.URL + "/list?b=2&a=1", api.URL + "/plain", api.URL + "/once"}, Rewarm: true,
		Confirm: func(us []URLKeys) (bool, error) { return true, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted() != 2 || !slices.Equal(res.Keys(), []string{prefix + "products:list:a", prefix + "product:1"}) || !res.Failed() {
		t.Fatalf("deleted %d of %v, failed %v", res.Deleted(), res.Keys(), res.Failed())
	}
	for _, i := range []int{0, 1} {
		if u := res.URLs[i]; len(u.Keys) != 1 || !u.Keys[0].Deleted || u.Rewarm == nil || !u.Rewarm.OK || u.Rewarm.TTL < 9*time.Minute {
			t.Errorf("%s: %+v rewarm %+v", u.URL, u.Keys, u.Rewarm)
		}
	}
	if u := res.URLs[2]; u.Err == nil || u.Err.Error() != "Redis showed no cache key for URL: the request issued no command on the cache's keys" || u.Rewarm != nil {
		t.Errorf("/plain: %v", u.Err)
	}
	if u := res.URLs[3]; u.Rewarm == nil || u.Rewarm.OK || !slices.Equal(u.Rewarm.Missing, []string{prefix + "product:1"}) {
		t.Errorf("/once: rewarm %+v, want its key missing", u.Rewarm)
	}
	if app.Exists(ctx, prefix+"products:list:b").Val() != 1 {
		t.Error("an unrelated list was deleted")
	}
}
