package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/catalog"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redistest"
	"github.com/cachectl/cachectl/internal/render"
	"github.com/cachectl/cachectl/internal/sandbox"
	"github.com/cachectl/cachectl/internal/topfeed"
	"github.com/cachectl/cachectl/keyspace"
)

// TestANewGroupIsOneEntry adds a built-in group to the registry, here in the
// test only, and finds it everywhere a group is read: clear's flags and
// --group, keys, stats and top's group list, and the catalog's invalidation.
func TestANewGroupIsOneEntry(t *testing.T) {
	remove, err := keyspace.Register(keyspace.Group{Name: "banners", Patterns: []string{"banner:*"}, Families: []keyspace.Family{
		{Name: "banners", Keys: []string{"banner:home"}, On: []keyspace.Write{keyspace.WriteProduct}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	srv := redistest.Start(t)
	c := srv.Client(t)
	seed := func() {
		seedKeys(t, c, "ecommerce:1:banner:home", "ecommerce:1:banner:7", "ecommerce:1:product:1", "ecommerce:1:session:banner")
	}
	seed()

	t.Run("clear", func(t *testing.T) {
		ios, _, out, errOut := iostreams.Test()
		if code := runCLI(t, ios, "clear", "--help"); code != 0 || !strings.Contains(out.String(), "--banners") ||
			!strings.Contains(out.String(), "banner:*") {
			t.Errorf("clear --help (exit %d) does not offer --banners:\n%s%s", code, out, errOut)
		}
		for _, flag := range [][]string{{"--banners"}, {"--group", "banners"}} {
			ios, _, out, errOut := iostreams.Test()
			args := append([]string{"clear", "--redis", srv.URL(), "--yes", "--json"}, flag...)
			if code := runCLI(t, ios, args...); code != 0 {
				t.Fatalf("%v: exit %d: %s", flag, code, errOut)
			}
			var res clearResult
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if g := res.Groups["banners"]; g.Deleted != 2 || res.Deleted != 2 {
				t.Errorf("%v deleted %s, want the 2 banner keys", flag, out)
			}
			if exists(t, c, "ecommerce:1:product:1", "ecommerce:1:session:banner") != 2 {
				t.Errorf("%v deleted keys outside the group", flag)
			}
			seed()
		}
		ios, _, _, errOut = iostreams.Test()
		if code := runCLI(t, ios, "clear", "--redis", srv.URL()); code != exitUsage || !strings.Contains(errOut.String(), "--banners") {
			t.Errorf("clear without a target: exit %d, %s; want 2 naming --banners", code, errOut)
		}
	})

	t.Run("keys", func(t *testing.T) {
		ios, _, out, errOut := iostreams.Test()
		if code := runCLI(t, ios, "keys", "--redis", srv.URL(), "--json"); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var res keysResult
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if res.Groups["banners"].Keys != 2 || res.Groups["products"].Keys != 1 {
			t.Errorf("keys %s, want 2 banners and 1 product", out)
		}
	})

	t.Run("stats and top", func(t *testing.T) {
		for _, args := range [][]string{{"stats"}, {"top", "--once"}} {
			ios, _, out, errOut := iostreams.Test()
			if code := runCLI(t, ios, append(args, "--redis", srv.URL(), "--json")...); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errOut)
			}
			var res render.StatsResult
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if res.Groups["banners"].Keys != 2 {
				t.Errorf("%v: %s, want 2 banners", args, out)
			}
		}
		// The dashboard's keyspace panel reads the same selection.
		sel := keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion).Selection()
		gs, err := topfeed.Redis{Client: c, Selection: sel}.Groups(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, g := range gs {
			names = append(names, g.Name)
			if g.Name == "banners" && g.Keys != 2 {
				t.Errorf("top counts %d banners, want 2", g.Keys)
			}
		}
		if strings.Join(names, ",") != "products,categories,colors,banners" {
			t.Errorf("top's groups %q", names)
		}
	})

	t.Run("catalog invalidation", func(t *testing.T) {
		api := sandbox.MustStartAPI(t, sandbox.APIOptions{Redis: srv.ClientOptions(), Store: catalog.StoreConfig{SeedProducts: 5},
			Schema: keyspace.New(keyspace.DefaultPrefix, keyspace.DefaultVersion), AdminToken: checkTestToken, RedisTimeout: time.Second})
		req, _ := http.NewRequest(http.MethodPatch, api.URL.JoinPath("/api/products/1/").String(), strings.NewReader(`{"name": "renamed"}`))
		req.Header.Set("Authorization", "Bearer "+checkTestToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH: %s", resp.Status)
		}
		if exists(t, c, "ecommerce:1:banner:home") != 0 || exists(t, c, "ecommerce:1:banner:7", "ecommerce:1:session:banner") != 2 {
			t.Error("a product write did not invalidate exactly the banners family's key")
		}
	})
}
