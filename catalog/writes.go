package catalog

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cachectl/cachectl/keyspace"
)

// fields is a decoded JSON object body, one raw value per field.
type fields map[string]json.RawMessage

// readFields decodes the body as one JSON object with only the accepted
// fields; anything else is a 400, an oversized body a 413.
func (s *Server) readFields(w http.ResponseWriter, r *http.Request, accepted ...string) (fields, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, msg: "body larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}
		}
		return nil, badRequest("cannot read body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var f fields
	if err := dec.Decode(&f); err != nil || f == nil {
		return nil, badRequest("body must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("body must be a single JSON object")
	}
	for name := range f {
		if !slices.Contains(accepted, name) {
			return nil, badRequest("unknown field %s (accepted: %s)", quote(name), strings.Join(accepted, ", "))
		}
	}
	return f, nil
}

// required refuses a create or full update that lacks a field.
func (f fields) required(names ...string) error {
	for _, n := range names {
		if _, ok := f[n]; !ok {
			return badRequest("field %s is required", quote(n))
		}
	}
	return nil
}

// set parses field name with parse and stores the value in dst; a field the
// body does not have leaves dst as it is.
func set[T any](f fields, name string, dst *T, parse func(raw json.RawMessage) (T, error)) error {
	raw, ok := f[name]
	if !ok {
		return nil
	}
	v, err := parse(raw)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// text reads a string field of minLen..maxLen characters without control characters.
func (f fields) text(name string, dst *string, minLen, maxLen int) error {
	return set(f, name, dst, func(raw json.RawMessage) (string, error) {
		var v string
		if err := json.Unmarshal(raw, &v); err != nil || raw[0] != '"' {
			return "", badRequest("field %s must be a string", quote(name))
		}
		if n := utf8.RuneCountInString(v); n < minLen || n > maxLen {
			return "", badRequest("field %s must have %d to %d characters", quote(name), minLen, maxLen)
		}
		if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
			return "", badRequest("field %s must not contain control characters", quote(name))
		}
		return v, nil
	})
}

// integer reads a JSON integer (not a string, not a fraction) in lo..hi.
func (f fields) integer(name string, dst *int64, lo, hi int64) error {
	return set(f, name, dst, func(raw json.RawMessage) (int64, error) {
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || v < lo || v > hi {
			return 0, badRequest("field %s must be an integer from %d to %d", quote(name), lo, hi)
		}
		return v, nil
	})
}

// ref reads an id field; nullable allows JSON null (which sets dst to nil).
func (f fields) ref(name string, dst **int64, nullable bool) error {
	return set(f, name, dst, func(raw json.RawMessage) (*int64, error) {
		if string(raw) == "null" && nullable {
			return nil, nil
		}
		id, ok := parseID(string(raw))
		if !ok {
			return nil, badRequest("field %s must be a positive integer id", quote(name))
		}
		return &id, nil
	})
}

// price reads a price given as a decimal string ("19.99") or a JSON number.
func (f fields) price(name string, dst *Money) error {
	return set(f, name, dst, func(raw json.RawMessage) (Money, error) {
		text := string(raw)
		if raw[0] == '"' {
			if err := json.Unmarshal(raw, &text); err != nil {
				return 0, badRequest("field %s must be a price", quote(name))
			}
		}
		m, ok := parsePrice(text)
		if !ok {
			return 0, badRequest("field %s must be a price from 0 to 1000000.00 with at most two decimals", quote(name))
		}
		return m, nil
	})
}

var (
	slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	hexPattern  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// writeTarget is the id of the item a PUT or PATCH addresses, 0 for a POST.
func writeTarget(r *http.Request, ids []int64) (id int64, full bool) {
	if len(ids) > 0 {
		id = ids[0]
	}
	return id, r.Method != http.MethodPatch
}

// finishWrite invalidates after a committed write and answers it.
func (s *Server) finishWrite(w http.ResponseWriter, r *http.Request, v any, fams ...family) {
	s.cache.invalidate(r.Context(), fams...)
	status := http.StatusOK
	if r.Method == http.MethodPost && v != nil {
		status = http.StatusCreated
	}
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, status, v)
}

// begin authorizes a write and gives it a counted context.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	if !s.authorize(w, r) {
		return nil, false
	}
	ctx, _ := withQueryCount(r.Context())
	return ctx, true
}

// itemWrite is what a POST, PUT or PATCH handler of one kind of item
// declares; write does the rest: authorize, read the body, load the item a
// PUT or PATCH addresses, apply, save, invalidate and answer.
type itemWrite[T, S any] struct {
	accepted []string
	required []string // by a POST or PUT, not by a PATCH
	load     func(ctx context.Context, id int64) (T, error)
	// apply checks the body's fields and sets them on item; id is 0 for a POST.
	apply func(f fields, item *T, id int64) error
	save  func(ctx context.Context, item T) (S, error)
	// invalidates is what a save invalidates; before is the item as it was
	// loaded (zero for a POST).
	invalidates func(before T, saved S) []family
}

func (iw itemWrite[T, S]) serve(s *Server, w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	f, err := s.readFields(w, r, iw.accepted...)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	id, full := writeTarget(r, ids)
	var item T
	if id != 0 {
		if item, err = iw.load(ctx, id); err != nil {
			s.writeStoreError(w, err)
			return
		}
	}
	before := item
	var missing error
	if full {
		missing = f.required(iw.required...)
	}
	if err := cmp.Or(missing, iw.apply(f, &item, id)); err != nil {
		s.writeStoreError(w, err)
		return
	}
	saved, err := iw.save(ctx, item)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, saved, iw.invalidates(before, saved)...)
}

// remove is a DELETE handler: del deletes item id and says what that
// invalidates.
func (s *Server) remove(w http.ResponseWriter, r *http.Request, ids []int64, del func(ctx context.Context, id int64) ([]family, error)) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	fams, err := del(ctx, ids[0])
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, nil, fams...)
}

// categoryFamilies are what a category write invalidates: the categories and
// every listing.
func categoryFamilies() []family { return familiesOn(keyspace.WriteCategory) }

func (s *Server) writeCategory(w http.ResponseWriter, r *http.Request, ids []int64) {
	itemWrite[Category, Category]{
		accepted: []string{"name", "slug", "parent"},
		required: []string{"name"},
		load:     s.store.Category,
		apply: func(f fields, c *Category, id int64) error {
			err := cmp.Or(f.text("name", &c.Name, 1, 100), f.text("slug", &c.Slug, 1, 100), f.ref("parent", &c.ParentID, true))
			if err != nil {
				return err
			}
			if _, ok := f["slug"]; !ok && id == 0 {
				c.Slug = slugify(c.Name)
			}
			if !slugPattern.MatchString(c.Slug) {
				return badRequest("field \"slug\" must be lower-case letters and digits separated by '-'")
			}
			if c.ParentID != nil && *c.ParentID == id {
				return badRequest("a category cannot be its own parent")
			}
			return nil
		},
		save:        s.store.SaveCategory,
		invalidates: func(Category, Category) []family { return categoryFamilies() },
	}.serve(s, w, r, ids)
}

func (s *Server) deleteCategory(w http.ResponseWriter, r *http.Request, ids []int64) {
	s.remove(w, r, ids, func(ctx context.Context, id int64) ([]family, error) {
		return categoryFamilies(), s.store.DeleteCategory(ctx, id)
	})
}

// colorFamilies are what a color write invalidates: the colors and every
// listing.
func colorFamilies() []family { return familiesOn(keyspace.WriteColor) }

func (s *Server) writeColor(w http.ResponseWriter, r *http.Request, ids []int64) {
	itemWrite[Color, Color]{
		accepted: []string{"name", "hex"},
		required: []string{"name", "hex"},
		load:     func(ctx context.Context, id int64) (Color, error) { return s.store.color(ctx, s.store.db, id) },
		apply: func(f fields, c *Color, _ int64) error {
			err := cmp.Or(f.text("name", &c.Name, 1, 50), f.text("hex", &c.Hex, 7, 7))
			if err == nil && !hexPattern.MatchString(c.Hex) {
				err = badRequest("field \"hex\" must look like #1a2b3c")
			}
			return err
		},
		save:        s.store.SaveColor,
		invalidates: func(Color, Color) []family { return colorFamilies() },
	}.serve(s, w, r, ids)
}

func (s *Server) deleteColor(w http.ResponseWriter, r *http.Request, ids []int64) {
	s.remove(w, r, ids, func(ctx context.Context, id int64) ([]family, error) {
		return colorFamilies(), s.store.DeleteColor(ctx, id)
	})
}

// productFamilies are what a product write invalidates: the product's own
// keys, every recommendation (it may appear in any of its category's), every
// listing, and the categories (their product_count).
func productFamilies(id int64) []family {
	return familiesOn(keyspace.WriteProduct, id)
}

func (s *Server) writeProduct(w http.ResponseWriter, r *http.Request, ids []int64) {
	itemWrite[Product, ProductDetail]{
		accepted: []string{"category", "name", "description", "price", "sales_count", "popularity"},
		required: []string{"category", "name", "price"},
		load: func(ctx context.Context, id int64) (Product, error) {
			d, err := s.store.Product(ctx, id)
			return d.Product, err
		},
		apply: func(f fields, p *Product, _ int64) error {
			cat := &p.Category
			err := cmp.Or(f.ref("category", &cat, false), f.text("name", &p.Name, 1, 200),
				f.text("description", &p.Description, 0, 2000), f.price("price", &p.Price),
				f.integer("sales_count", &p.SalesCount, 0, 1<<40), f.integer("popularity", &p.Popularity, 0, 1<<40))
			p.Category = *cat
			return err
		},
		save:        s.store.SaveProduct,
		invalidates: func(_ Product, saved ProductDetail) []family { return productFamilies(saved.ID) },
	}.serve(s, w, r, ids)
}

func (s *Server) deleteProduct(w http.ResponseWriter, r *http.Request, ids []int64) {
	s.remove(w, r, ids, func(ctx context.Context, id int64) ([]family, error) {
		return productFamilies(id), s.store.DeleteProduct(ctx, id)
	})
}

// variantFamilies are what a variant write invalidates: the products it
// belonged to and belongs to now (details and variant lists), the listings
// and filters (colors, sizes), and recommendations (they show colors).
func variantFamilies(productIDs ...int64) []family {
	return familiesOn(keyspace.WriteVariant, productIDs...)
}

func (s *Server) writeVariant(w http.ResponseWriter, r *http.Request, ids []int64) {
	itemWrite[Variant, Variant]{
		accepted: []string{"product", "color", "size", "sku", "stock"},
		required: []string{"product", "color", "size", "sku"},
		load:     func(ctx context.Context, id int64) (Variant, error) { return s.store.variant(ctx, s.store.db, id) },
		apply: func(f fields, v *Variant, _ int64) error {
			prod, color := &v.Product, &v.Color
			err := cmp.Or(f.ref("product", &prod, false), f.ref("color", &color, false),
				f.text("size", &v.Size, 1, 10), f.text("sku", &v.SKU, 1, 64), f.integer("stock", &v.Stock, 0, 1e9))
			v.Product, v.Color = *prod, *color
			return err
		},
		save:        s.store.SaveVariant,
		invalidates: func(before, saved Variant) []family { return variantFamilies(before.Product, saved.Product) },
	}.serve(s, w, r, ids)
}

func (s *Server) deleteVariant(w http.ResponseWriter, r *http.Request, ids []int64) {
	s.remove(w, r, ids, func(ctx context.Context, id int64) ([]family, error) {
		v, err := s.store.variant(ctx, s.store.db, id)
		if err == nil {
			err = s.store.DeleteVariant(ctx, id)
		}
		return variantFamilies(v.Product), err
	})
}

// stockAction is reduce_stock (sign -1) or increase_stock (+1) with
// {"quantity": n}; reducing below zero is a 409 and changes nothing.
func (s *Server) stockAction(sign int64) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ids []int64) {
		ctx, ok := s.begin(w, r)
		if !ok {
			return
		}
		f, err := s.readFields(w, r, "quantity")
		var qty int64
		if err == nil {
			err = cmp.Or(f.required("quantity"), f.integer("quantity", &qty, 1, 1_000_000))
		}
		if err != nil {
			s.writeStoreError(w, err)
			return
		}
		v, err := s.store.AdjustStock(ctx, ids[0], sign*qty)
		if err != nil {
			s.writeStoreError(w, err)
			return
		}
		s.cache.invalidate(r.Context(), familiesOn(keyspace.WriteStock, v.Product)...)
		writeJSON(w, http.StatusOK, v)
	}
}
