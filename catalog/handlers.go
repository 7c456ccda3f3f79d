package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/cachectl/cachectl/keyspace"
)

// TTLs of the seed (REDIS_OPTIMIZATION.md, "Cache TTL Strategy").
const (
	ttlCategories      = 30 * time.Minute
	ttlColors          = time.Hour
	ttlVariants        = 15 * time.Minute
	ttlProductList     = 10 * time.Minute
	ttlProduct         = 15 * time.Minute
	ttlRecommendations = 20 * time.Minute
	ttlTopSellers      = 30 * time.Minute
	ttlNewArrivals     = 15 * time.Minute
	ttlPersonalized    = 20 * time.Minute
	ttlFilters         = 30 * time.Minute
)

const recommendationCount = 10

func (s *Server) routeTable() []route {
	get := http.MethodGet
	// Literal routes come before {id} routes so that top_sellers is never an id.
	return []route{
		newRoute("/healthz", map[string]handlerFunc{get: s.healthz}),
		newRoute("/readyz", map[string]handlerFunc{get: s.readyz}),
		newRoute("/metrics", map[string]handlerFunc{get: s.metricsHandler()}),

		newRoute("/api/categories/", map[string]handlerFunc{get: s.getCategories, http.MethodPost: s.writeCategory}),
		newRoute("/api/categories/{id}/", s.itemMethods(s.getCategory, s.writeCategory, s.deleteCategory)),
		newRoute("/api/colors/", map[string]handlerFunc{get: s.getColors, http.MethodPost: s.writeColor}),
		newRoute("/api/colors/{id}/", s.itemMethods(nil, s.writeColor, s.deleteColor)),

		newRoute("/api/products/top_sellers/", map[string]handlerFunc{get: s.getTop(keyspace.KeyTopSellers, "-sales_count", ttlTopSellers)}),
		newRoute("/api/products/new_arrivals/", map[string]handlerFunc{get: s.getTop(keyspace.KeyNewArrivals, "-created_at", ttlNewArrivals)}),
		newRoute("/api/products/personalized/", map[string]handlerFunc{get: s.getPersonalized}),
		newRoute("/api/products/filters/", map[string]handlerFunc{get: s.getFilters}),
		newRoute("/api/products/", map[string]handlerFunc{get: s.getProducts, http.MethodPost: s.writeProduct}),
		newRoute("/api/products/{id}/", s.itemMethods(s.getProduct, s.writeProduct, s.deleteProduct)),
		newRoute("/api/products/{id}/variants/", map[string]handlerFunc{get: s.getProductVariants}),
		newRoute("/api/products/{id}/recommendations/", map[string]handlerFunc{get: s.getRecommendations}),

		newRoute("/api/variants/", map[string]handlerFunc{get: s.getVariantList, http.MethodPost: s.writeVariant}),
		newRoute("/api/variants/{id}/", s.itemMethods(nil, s.writeVariant, s.deleteVariant)),
		newRoute("/api/variants/{id}/reduce_stock/", map[string]handlerFunc{http.MethodPost: s.stockAction(-1)}),
		newRoute("/api/variants/{id}/increase_stock/", map[string]handlerFunc{http.MethodPost: s.stockAction(+1)}),
	}
}

// itemMethods is the method table of one resource item; get may be nil.
func (s *Server) itemMethods(get, write, del handlerFunc) map[string]handlerFunc {
	m := map[string]handlerFunc{http.MethodPut: write, http.MethodPatch: write, http.MethodDelete: del}
	if get != nil {
		m[http.MethodGet] = get
	}
	return m
}

// serveCached answers a cacheable GET: from Redis when it holds the key, else
// from load, whose result is stored. view, when set, reshapes the cached body
// for this request (a top-N slice of a stored top 50).
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, e entry, load func(ctx context.Context) (any, error), view func([]byte) ([]byte, error)) {
	ctx, qc := withQueryCount(r.Context())
	body, state, err := s.cache.fetch(ctx, e, func(ctx context.Context) ([]byte, error) {
		v, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return marshal(v)
	})
	if state == cacheHit && s.cfg.HitLatency > 0 {
		slowHit(r.Context(), s.cfg.HitLatency)
	}
	w.Header().Set("X-Cache", state)
	// The logical key (without PREFIX:VERSION:) lets warm verify and bench
	// clear exactly this response's key, even when its name holds a hash.
	w.Header().Set("X-Cache-Key", e.logical)
	w.Header().Set("X-DB-Queries", strconv.FormatInt(qc.n.Load(), 10))
	if err == nil && view != nil {
		body, err = view(body)
	}
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// noParams refuses any query parameter on routes that take none.
func noParams(r *http.Request) error {
	_, err := parseParams(r.URL.RawQuery, nil, nil)
	return err
}

// requiredID parses the query of a route whose one parameter, name, is an
// id it requires.
func requiredID(r *http.Request, name string) (params, error) {
	p, err := parseParams(r.URL.RawQuery, map[string]paramKind{name: idParam}, nil)
	if err == nil && p[name] == "" {
		err = badRequest("parameter %q is required", name)
	}
	return p, err
}

// serveNoParams is serveCached for a route that takes no query parameters.
func (s *Server) serveNoParams(w http.ResponseWriter, r *http.Request, e entry, load func(ctx context.Context) (any, error)) {
	if err := noParams(r); err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.serveCached(w, r, e, load, nil)
}

// serveRequiredID is serveCached for a route whose one query parameter,
// name, is an id it requires: route makes the entry and its load from the
// parsed query and that id.
func (s *Server) serveRequiredID(w http.ResponseWriter, r *http.Request, name string,
	route func(p params, id int64) (entry, func(ctx context.Context) (any, error))) {
	p, err := requiredID(r, name)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	e, load := route(p, p.id(name))
	s.serveCached(w, r, e, load, nil)
}

func (s *Server) getCategories(w http.ResponseWriter, r *http.Request, _ []int64) {
	s.serveNoParams(w, r, entry{keyspace.KeyCategories, ttlCategories, famCategories, keyspace.GroupCategories},
		func(ctx context.Context) (any, error) { return s.store.Categories(ctx) })
}

func (s *Server) getCategory(w http.ResponseWriter, r *http.Request, ids []int64) {
	s.serveNoParams(w, r, entry{keyspace.CategoryKey(ids[0]), ttlCategories, famCategories, keyspace.GroupCategories},
		func(ctx context.Context) (any, error) { return s.store.Category(ctx, ids[0]) })
}

func (s *Server) getColors(w http.ResponseWriter, r *http.Request, _ []int64) {
	s.serveNoParams(w, r, entry{keyspace.KeyColors, ttlColors, famColors, keyspace.GroupColors},
		func(ctx context.Context) (any, error) { return s.store.Colors(ctx) })
}

// getVariantList is the variant viewset's list, filtered by product (required).
func (s *Server) getVariantList(w http.ResponseWriter, r *http.Request, _ []int64) {
	s.serveRequiredID(w, r, "product", func(_ params, id int64) (entry, func(ctx context.Context) (any, error)) {
		return entry{keyspace.ProductVariantListKey(id), ttlVariants, famProduct(id), keyspace.GroupProducts},
			func(ctx context.Context) (any, error) { return s.store.ProductVariants(ctx, id) }
	})
}

// page is Django REST framework's page-number pagination; the links are
// relative so that a cached page never carries a client's Host header.
type page struct {
	Count    int64     `json:"count"`
	Next     *string   `json:"next"`
	Previous *string   `json:"previous"`
	Results  []Product `json:"results"`
}

func pageLink(p params, n int) *string {
	q := params{}
	for k, v := range p {
		q[k] = v
	}
	q["page"] = strconv.Itoa(n)
	link := "/api/products/?" + q.encode()
	return &link
}

func (s *Server) getProducts(w http.ResponseWriter, r *http.Request, _ []int64) {
	p, err := parseParams(r.URL.RawQuery, listParams, listDefaults)
	var lq ListQuery
	if err == nil {
		lq, err = listQuery(p)
	}
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.serveCached(w, r, entry{keyspace.ProductListKey(p.hash()), ttlProductList, famLists, keyspace.GroupProducts},
		func(ctx context.Context) (any, error) {
			if err := s.checkRefs(ctx, lq.Category, lq.Color); err != nil {
				return nil, err
			}
			total, rows, err := s.store.ListProducts(ctx, lq)
			if err != nil {
				if err == ErrNotFound {
					return nil, &apiError{status: http.StatusNotFound, msg: "invalid page"}
				}
				return nil, err
			}
			pg := page{Count: total, Results: rows}
			if int64(lq.Page*lq.PageSize) < total {
				pg.Next = pageLink(p, lq.Page+1)
			}
			if lq.Page > 1 {
				pg.Previous = pageLink(p, lq.Page-1)
			}
			return pg, nil
		}, nil)
}

// checkRefs refuses filters on a category or color that does not exist, as
// a Django filter on a foreign key does; it runs only on a miss, and its
// error is never cached.
func (s *Server) checkRefs(ctx context.Context, category, color int64) error {
	if category != 0 {
		if _, err := s.store.Category(ctx, category); err == ErrNotFound {
			return badRequest("category %d does not exist", category)
		} else if err != nil {
			return err
		}
	}
	if color != 0 {
		if _, err := s.store.color(ctx, s.store.db, color); err == ErrNotFound {
			return badRequest("color %d does not exist", color)
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request, ids []int64) {
	id := ids[0]
	s.serveNoParams(w, r, entry{keyspace.ProductKey(id), ttlProduct, famProduct(id), keyspace.GroupProducts},
		func(ctx context.Context) (any, error) { return s.store.Product(ctx, id) })
}

func (s *Server) getProductVariants(w http.ResponseWriter, r *http.Request, ids []int64) {
	id := ids[0]
	s.serveNoParams(w, r, entry{keyspace.ProductVariantsKey(id), ttlVariants, famProduct(id), keyspace.GroupProducts},
		func(ctx context.Context) (any, error) { return s.store.ProductVariants(ctx, id) })
}

func (s *Server) getRecommendations(w http.ResponseWriter, r *http.Request, ids []int64) {
	id := ids[0]
	s.serveNoParams(w, r, entry{keyspace.ProductRecommendationsKey(id), ttlRecommendations, famRecs, keyspace.GroupProducts},
		func(ctx context.Context) (any, error) { return s.store.Recommendations(ctx, id, recommendationCount) })
}

// getTop serves top_sellers and new_arrivals: one key holds the top
// maxLimit, and each response is the first `limit` of it.
func (s *Server) getTop(logical, ordering string, ttl time.Duration) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ []int64) {
		p, err := parseParams(r.URL.RawQuery, limitParams, limitDefaults)
		if err != nil {
			s.writeStoreError(w, err)
			return
		}
		limit := p.int("limit")
		s.serveCached(w, r, entry{logical, ttl, famLists, keyspace.GroupProducts},
			func(ctx context.Context) (any, error) { return s.store.TopProducts(ctx, ordering, maxLimit) },
			func(body []byte) ([]byte, error) { return firstN(body, limit) })
	}
}

// firstN returns the first n elements of a JSON array.
func firstN(body []byte, n int) ([]byte, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, err
	}
	return marshal(items[:min(n, len(items))])
}

// marshal encodes v as compact JSON without HTML escaping, so that links
// keep their literal '&'.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (s *Server) getPersonalized(w http.ResponseWriter, r *http.Request, _ []int64) {
	s.serveRequiredID(w, r, "user_id", func(p params, user int64) (entry, func(ctx context.Context) (any, error)) {
		return entry{keyspace.PersonalizedKey(p.hash()), ttlPersonalized, famLists, keyspace.GroupProducts},
			func(ctx context.Context) (any, error) { return s.store.Personalized(ctx, user, recommendationCount) }
	})
}

func (s *Server) getFilters(w http.ResponseWriter, r *http.Request, _ []int64) {
	p, err := parseParams(r.URL.RawQuery, map[string]paramKind{"category": idParam}, nil)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	cat := p.id("category")
	s.serveCached(w, r, entry{keyspace.ProductFiltersKey(p.hash()), ttlFilters, famLists, keyspace.GroupProducts},
		func(ctx context.Context) (any, error) {
			f, err := s.store.Filters(ctx, cat)
			if err == ErrNotFound {
				return nil, badRequest("category %d does not exist", cat)
			}
			return f, err
		}, nil)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// slowHit holds a HIT for d. Go's timers are coarse below a millisecond on
// an idle process (a 100µs sleep can take 1ms), so the last millisecond is
// spun: the delay is then d, as precise as a slower code path would be.
func slowHit(ctx context.Context, d time.Duration) {
	end := time.Now().Add(d)
	if d > 2*time.Millisecond {
		t := time.NewTimer(d - time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	for time.Now().Before(end) && ctx.Err() == nil {
		runtime.Gosched()
	}
}
