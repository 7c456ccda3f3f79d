package catalog

import (
	"bytes"
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

// text reads a string field of minLen..maxLen characters without control characters.
func (f fields) text(name string, dst *string, minLen, maxLen int) error {
	raw, ok := f[name]
	if !ok {
		return nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil || raw[0] != '"' {
		return badRequest("field %s must be a string", quote(name))
	}
	n := utf8.RuneCountInString(v)
	if n < minLen || n > maxLen {
		return badRequest("field %s must have %d to %d characters", quote(name), minLen, maxLen)
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		return badRequest("field %s must not contain control characters", quote(name))
	}
	*dst = v
	return nil
}

// integer reads a JSON integer (not a string, not a fraction) in lo..hi.
func (f fields) integer(name string, dst *int64, lo, hi int64) error {
	raw, ok := f[name]
	if !ok {
		return nil
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || v < lo || v > hi {
		return badRequest("field %s must be an integer from %d to %d", quote(name), lo, hi)
	}
	*dst = v
	return nil
}

// ref reads an id field; nullable allows JSON null (which sets dst to nil).
func (f fields) ref(name string, dst **int64, nullable bool) error {
	raw, ok := f[name]
	if !ok {
		return nil
	}
	if string(raw) == "null" && nullable {
		*dst = nil
		return nil
	}
	id, ok := parseID(string(raw))
	if !ok {
		return badRequest("field %s must be a positive integer id", quote(name))
	}
	*dst = &id
	return nil
}

// price reads a price given as a decimal string ("19.99") or a JSON number.
func (f fields) price(name string, dst *Money) error {
	raw, ok := f[name]
	if !ok {
		return nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return badRequest("field %s must be a price", quote(name))
		}
	}
	m, ok := parsePrice(text)
	if !ok {
		return badRequest("field %s must be a price from 0 to 1000000.00 with at most two decimals", quote(name))
	}
	*dst = m
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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

func (s *Server) writeCategory(w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	f, err := s.readFields(w, r, "name", "slug", "parent")
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	id, full := writeTarget(r, ids)
	c := Category{}
	if id != 0 {
		if c, err = s.store.Category(ctx, id); err != nil {
			s.writeStoreError(w, err)
			return
		}
	}
	if full {
		err = f.required("name")
	}
	err = firstErr(err, f.text("name", &c.Name, 1, 100), f.text("slug", &c.Slug, 1, 100), f.ref("parent", &c.ParentID, true))
	if err == nil {
		if _, ok := f["slug"]; !ok && id == 0 {
			c.Slug = slugify(c.Name)
		}
		if !slugPattern.MatchString(c.Slug) {
			err = badRequest("field \"slug\" must be lower-case letters and digits separated by '-'")
		} else if c.ParentID != nil && *c.ParentID == id {
			err = badRequest("a category cannot be its own parent")
		}
	}
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	saved, err := s.store.SaveCategory(ctx, c)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, saved, familiesOn(keyspace.WriteCategory)...)
}

func (s *Server) deleteCategory(w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteCategory(ctx, ids[0]); err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, nil, familiesOn(keyspace.WriteCategory)...)
}

func (s *Server) writeColor(w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	f, err := s.readFields(w, r, "name", "hex")
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	id, full := writeTarget(r, ids)
	c := Color{}
	if id != 0 {
		if c, err = s.store.color(ctx, s.store.db, id); err != nil {
			s.writeStoreError(w, err)
			return
		}
	}
	if full {
		err = f.required("name", "hex")
	}
	err = firstErr(err, f.text("name", &c.Name, 1, 50), f.text("hex", &c.Hex, 7, 7))
	if err == nil && !hexPattern.MatchString(c.Hex) {
		err = badRequest("field \"hex\" must look like #1a2b3c")
	}
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	saved, err := s.store.SaveColor(ctx, c)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, saved, familiesOn(keyspace.WriteColor)...)
}

func (s *Server) deleteColor(w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteColor(ctx, ids[0]); err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, nil, familiesOn(keyspace.WriteColor)...)
}

// productFamilies are what a product write invalidates: the product's own
// keys, every recommendation (it may appear in any of its category's), every
// listing, and the categories (their product_count).
func productFamilies(id int64) []family {
	return familiesOn(keyspace.WriteProduct, id)
}

func (s *Server) writeProduct(w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	f, err := s.readFields(w, r, "category", "name", "description", "price", "sales_count", "popularity")
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	id, full := writeTarget(r, ids)
	p := Product{}
	if id != 0 {
		d, err := s.store.Product(ctx, id)
		if err != nil {
			s.writeStoreError(w, err)
			return
		}
		p = d.Product
	}
	if full {
		err = f.required("category", "name", "price")
	}
	cat := &p.Category
	err = firstErr(err, f.ref("category", &cat, false), f.text("name", &p.Name, 1, 200),
		f.text("description", &p.Description, 0, 2000), f.price("price", &p.Price),
		f.integer("sales_count", &p.SalesCount, 0, 1<<40), f.integer("popularity", &p.Popularity, 0, 1<<40))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	p.Category = *cat
	saved, err := s.store.SaveProduct(ctx, p)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, saved, productFamilies(saved.ID)...)
}

func (s *Server) deleteProduct(w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteProduct(ctx, ids[0]); err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, nil, productFamilies(ids[0])...)
}

// variantFamilies are what a variant write invalidates: the products it
// belonged to and belongs to now (details and variant lists), the listings
// and filters (colors, sizes), and recommendations (they show colors).
func variantFamilies(productIDs ...int64) []family {
	return familiesOn(keyspace.WriteVariant, productIDs...)
}

func (s *Server) writeVariant(w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	f, err := s.readFields(w, r, "product", "color", "size", "sku", "stock")
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	id, full := writeTarget(r, ids)
	v := Variant{}
	if id != 0 {
		if v, err = s.store.variant(ctx, s.store.db, id); err != nil {
			s.writeStoreError(w, err)
			return
		}
	}
	before := v.Product
	if full {
		err = f.required("product", "color", "size", "sku")
	}
	prod, color := &v.Product, &v.Color
	err = firstErr(err, f.ref("product", &prod, false), f.ref("color", &color, false),
		f.text("size", &v.Size, 1, 10), f.text("sku", &v.SKU, 1, 64), f.integer("stock", &v.Stock, 0, 1e9))
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	v.Product, v.Color = *prod, *color
	saved, err := s.store.SaveVariant(ctx, v)
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, saved, variantFamilies(before, saved.Product)...)
}

func (s *Server) deleteVariant(w http.ResponseWriter, r *http.Request, ids []int64) {
	ctx, ok := s.begin(w, r)
	if !ok {
		return
	}
	v, err := s.store.variant(ctx, s.store.db, ids[0])
	if err == nil {
		err = s.store.DeleteVariant(ctx, ids[0])
	}
	if err != nil {
		s.writeStoreError(w, err)
		return
	}
	s.finishWrite(w, r, nil, variantFamilies(v.Product)...)
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
			err = firstErr(f.required("quantity"), f.integer("quantity", &qty, 1, 1_000_000))
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
