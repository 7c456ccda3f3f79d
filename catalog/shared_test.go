package catalog

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// djangoPickle is what django-redis's default serializer stores for a
// product: a pickle (protocol 4) of {"id": 13, "name": "From Django", "parent": None}.
const djangoPickle = "\x80\x04\x95+\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x02id\x94K\x0d\x8c\x04name\x94\x8c\x0bFrom Django\x94\x8c\x06parent\x94Nu."

func zlibbed(t *testing.T, v string) string {
	t.Helper()
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(v))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// foreignValue is another writer's value under a key the server reads.
type foreignValue struct {
	name  string
	id    int    // the product whose key holds it
	value string // a string value; "" for a hash
}

func foreignValues(t *testing.T) []foreignValue {
	return []foreignValue{
		{"a pickle (django-redis's default)", 13, djangoPickle},
		{"a zlib-compressed pickle", 14, zlibbed(t, djangoPickle)},
		{"JSON of a Django app", 15, `{"id": 15, "name": "From Django", "category": 2}`},
		{"JSON without the mark, as serve stored it before the mark", 16, `{"id":16,"name":"Unmarked"}`},
		{"an integer, which django-redis stores as is", 17, "42"},
		{"garbage", 18, "not json at all"},
		{"a hash", 19, ""},
	}
}

// rawKey is what a key holds, byte for byte (DUMP), and its expiry.
type rawKey struct {
	dump string
	pttl time.Duration
}

func (e *testEnv) raw(key string) rawKey {
	e.t.Helper()
	ctx := context.Background()
	d, err := e.rdb.Dump(ctx, key).Result()
	if err != nil {
		e.t.Fatalf("DUMP %s: %v", key, err)
	}
	return rawKey{dump: d, pttl: e.rdb.PTTL(ctx, key).Val()}
}

// requireUntouched fails unless key holds what it held and its TTL only ran
// down (by at most elapsed).
func (e *testEnv) requireUntouched(key string, before rawKey, elapsed time.Duration) {
	e.t.Helper()
	after := e.raw(key)
	if after.dump != before.dump {
		e.t.Fatalf("%s was overwritten", key)
	}
	if after.pttl > before.pttl || after.pttl < before.pttl-elapsed-time.Second {
		e.t.Fatalf("%s: TTL %v, was %v %v before: its expiry was changed", key, after.pttl, before.pttl, elapsed)
	}
}

// Another writer's value under a key the server reads (a Django app on the
// same prefix and version) is never served, replaced or re-timed: the
// request is answered from the database as a BYPASS, counted as "foreign".
func TestForeignValuesAreServedFromTheDatabaseAndLeftAlone(t *testing.T) { testForeignValues(t) }

func testForeignValues(t *testing.T, opts ...envOption) {
	e := newEnv(t, opts...)
	ctx := context.Background()
	values := foreignValues(t)
	before := map[string]rawKey{}
	for _, v := range values {
		key := "ecommerce:1:product:" + strconv.Itoa(v.id)
		var err error
		if v.value == "" {
			err = e.rdb.HSet(ctx, key, "id", v.id).Err()
			e.rdb.Expire(ctx, key, 40*time.Minute)
		} else {
			err = e.rdb.Set(ctx, key, v.value, 40*time.Minute).Err()
		}
		if err != nil {
			t.Fatal(err)
		}
		before[key] = e.raw(key)
	}
	start := time.Now()
	for _, v := range values {
		t.Run(v.name, func(t *testing.T) {
			path := "/api/products/" + strconv.Itoa(v.id) + "/"
			for i := range 2 {
				r := e.mustGet(path)
				if r.cache() != "BYPASS" || r.queries() == 0 || r.field(t, "id") != float64(v.id) {
					t.Fatalf("GET %d: %s with %d queries, id %v; want BYPASS from the database", i+1, r.cache(), r.queries(), r.field(t, "id"))
				}
			}
		})
	}
	for key, raw := range before {
		e.requireUntouched(key, raw, time.Since(start))
	}
	m := e.mustGet("/metrics").body
	if want := fmt.Sprintf(`catalog_cache_requests_total{group="products",result="foreign"} %d`, 2*len(values)); !strings.Contains(m, want) {
		t.Errorf("/metrics lacks %s", want)
	}

	// A value of the server's own whose body is broken is replaced.
	const own = "ecommerce:1:product:20"
	e.rdb.Set(ctx, own, valueMark+"not json", time.Hour)
	if r := e.mustGet("/api/products/20/"); r.cache() != "MISS" {
		t.Fatalf("GET over a broken value of its own: %s, want MISS", r.cache())
	}
	if r := e.mustGet("/api/products/20/"); r.cache() != "HIT" || r.field(t, "id") != 20.0 {
		t.Fatalf("the broken value was not replaced: %s %.100s", r.cache(), r.body)
	}
	e.checkSessionSurvives()
}

// Another writer stores its value while a reader loads the same key (the
// reader saw a miss): the reader must not write over it, nor extend or
// unlink it while it finishes its checks, whether or not a write moved the
// fence meanwhile. On a single server the check is in the set script; on a
// cluster it is in each single-key step, so each stage is tried there.
func TestAValueStoredByAnotherWriterDuringALoadIsNotServedOrOverwritten(t *testing.T) {
	testForeignValueDuringALoad(t)
}

func testForeignValueDuringALoad(t *testing.T, opts ...envOption) {
	stages := []string{stageBeforeSet}
	if newEnv(t, opts...).srv.cache.cluster {
		stages = append(stages, stageSet, stageChecked)
	}
	const path, key = "/api/products/21/", "ecommerce:1:product:21"
	for _, stage := range stages {
		for _, write := range []bool{false, true} {
			name := stage + ", the app's value"
			if write {
				name = stage + ", a write elsewhere, then the app's value"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, opts...)
				done, release := heldGet(t, e, stage, path)
				if write {
					if r := e.another().admin(http.MethodPatch, path, `{"name":"Written Elsewhere"}`); r.status != 200 {
						t.Fatalf("write: %d %s", r.status, r.body)
					}
				}
				if err := e.rdb.Set(context.Background(), key, djangoPickle, 40*time.Minute).Err(); err != nil {
					t.Fatal(err)
				}
				stored := e.raw(key)
				start := time.Now()
				release()
				if slow := <-done; slow.status != 200 || slow.field(t, "id") != 21.0 {
					t.Fatalf("the held reader: %d %.100s", slow.status, slow.body)
				}
				e.requireUntouched(key, stored, time.Since(start))
				if r := e.mustGet(path); r.cache() != "BYPASS" {
					t.Fatalf("GET after: %s, want BYPASS", r.cache())
				}
			})
		}
	}
}

// At start the server says, in one line, how many of the seed's keys hold
// values it did not write; keys outside the seed's families (a session) and
// its own values do not count.
func TestServeWarnsAtStartAboutValuesItDidNotWrite(t *testing.T) { testStartWarning(t) }

func testStartWarning(t *testing.T, opts ...envOption) {
	t.Run("a few", func(t *testing.T) {
		e := newEnv(t, opts...)
		ctx := context.Background()
		e.mustGet("/api/products/2/") // one of its own
		e.rdb.Set(ctx, "ecommerce:1:product:1", djangoPickle, time.Hour)
		e.rdb.Set(ctx, "ecommerce:1:categories:all", `[{"id": 1, "parent": null}]`, time.Hour)
		e.rdb.HSet(ctx, "ecommerce:1:product_colors:all", "k", "v")
		e.rdb.Set(ctx, "ecommerce:1:products:list:0123abcd", zlibbed(t, djangoPickle), time.Hour)
		line := startLog(t, e)
		for _, want := range []string{"level=WARN", "did not write", "foreign=4 checked=5 sampled=false", `keys=ecommerce:1:*`} {
			if !strings.Contains(line, want) {
				t.Errorf("the start-up warning lacks %q: %s", want, line)
			}
		}
	})
	t.Run("many: a bounded sample", func(t *testing.T) {
		e := newEnv(t, opts...)
		ctx := context.Background()
		p := e.rdb.Pipeline()
		const n = 5 * surveyKeys // more than any master of a 3-master cluster checks
		for i := range n {
			p.Set(ctx, "ecommerce:1:products:list:"+strconv.Itoa(i), djangoPickle, time.Hour)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		line := startLog(t, e)
		if !strings.Contains(line, "sampled=true") {
			t.Fatalf("a sample of %d keys is not labelled as one: %s", n, line)
		}
		// Each master checks at most surveyKeys values.
		var foreign, checked int
		if _, err := fmt.Sscanf(line[strings.Index(line, "foreign="):], "foreign=%d checked=%d", &foreign, &checked); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if foreign != checked || checked < surveyKeys || checked >= n {
			t.Fatalf("foreign=%d checked=%d", foreign, checked)
		}
	})
	t.Run("none", func(t *testing.T) {
		e := newEnv(t, opts...)
		e.mustGet("/api/products/2/")
		e.mustGet("/api/categories/")
		base, cancel, served := e.serve()
		// Serve answers once its look at the keyspace is done.
		eventually(t, "the server answers", func() bool {
			res, err := http.Get(base + "/healthz")
			if err == nil {
				res.Body.Close()
			}
			return err == nil
		})
		cancel()
		<-served
		if strings.Contains(e.logs.String(), "did not write") {
			t.Fatalf("a warning with nothing but its own values and a session:\n%s", e.logs)
		}
	})
}

// startLog runs e's server as serve does and returns its start-up warning.
func startLog(t *testing.T, e *testEnv) string {
	t.Helper()
	_, cancel, served := e.serve()
	defer func() { cancel(); <-served }()
	var line string
	eventually(t, "the start-up warning", func() bool {
		for _, l := range strings.Split(e.logs.String(), "\n") {
			if strings.Contains(l, "did not write") {
				line = l
				return true
			}
		}
		return false
	})
	return line
}
