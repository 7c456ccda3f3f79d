package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Category is one row of the category tree; ProductCount includes the
// products of its direct subcategories. Its JSON names the parent as DRF's
// ModelSerializer does: "parent", the parent's id, null for a main category.
type Category struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Slug         string `json:"slug"`
	ParentID     *int64 `json:"parent"`
	ProductCount int64  `json:"product_count"`
}

// Color is a product color.
type Color struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Hex  string `json:"hex"`
}

// Money is an amount in cents, shown as a decimal string as Django REST
// framework shows a DecimalField ("19.99").
type Money int64

// MarshalJSON renders cents as a two-decimal string.
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(`"` + m.String() + `"`), nil
}

func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Product is a product as lists show it: Colors are the ids of the colors it
// comes in (the related rows a list loads in its own query).
type Product struct {
	ID          int64   `json:"id"`
	Category    int64   `json:"category"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Price       Money   `json:"price"`
	CreatedAt   string  `json:"created_at"`
	SalesCount  int64   `json:"sales_count"`
	Popularity  int64   `json:"popularity"`
	Colors      []int64 `json:"colors"`
}

// ProductDetail is one product with its variants.
type ProductDetail struct {
	Product
	Variants []Variant `json:"variants"`
}

// Variant is one purchasable color and size of a product.
type Variant struct {
	ID      int64  `json:"id"`
	Product int64  `json:"product"`
	Color   int64  `json:"color"`
	Size    string `json:"size"`
	SKU     string `json:"sku"`
	Stock   int64  `json:"stock"`
}

// Filters are the filter options for a category's products.
type Filters struct {
	Category      *int64     `json:"category"`
	Subcategories []Category `json:"subcategories"`
	Colors        []Color    `json:"colors"`
	Sizes         []string   `json:"sizes"`
	Price         PriceRange `json:"price"`
	Count         int64      `json:"count"`
}

// PriceRange is the cheapest and dearest price among some products.
type PriceRange struct {
	Min Money `json:"min"`
	Max Money `json:"max"`
}

const categoryColumns = `c.id, c.name, c.slug, c.parent_id,
	(SELECT COUNT(*) FROM products p WHERE p.category_id = c.id
		OR p.category_id IN (SELECT k.id FROM categories k WHERE k.parent_id = c.id))`

// scanner is one row: a *sql.Row or the current row of *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query on the store's database and scans every row with
// scan. The rows are closed when it returns, so the caller may query again.
func queryAll[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), sqlText string, args ...any) ([]T, error) {
	rows, err := s.query(ctx, s.db, sqlText, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// one is the single row of a query by id, ErrNotFound when there is none.
func one[T any](scan func(scanner) (T, error), row *sql.Row) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

func scanCategory(sc scanner) (Category, error) {
	var c Category
	var parent sql.NullInt64
	if err := sc.Scan(&c.ID, &c.Name, &c.Slug, &parent, &c.ProductCount); err != nil {
		return c, err
	}
	if parent.Valid {
		c.ParentID = &parent.Int64
	}
	return c, nil
}

// Categories lists every category, main categories and subcategories, by id.
func (s *Store) Categories(ctx context.Context) ([]Category, error) {
	return queryAll(ctx, s, scanCategory, "SELECT "+categoryColumns+" FROM categories c ORDER BY c.id")
}

// Category returns one category or ErrNotFound.
func (s *Store) Category(ctx context.Context, id int64) (Category, error) {
	return s.category(ctx, s.db, id)
}

func (s *Store) category(ctx context.Context, q queryer, id int64) (Category, error) {
	return one(scanCategory, s.queryRow(ctx, q, "SELECT "+categoryColumns+" FROM categories c WHERE c.id = ?", id))
}

// Colors lists every color by id.
func (s *Store) Colors(ctx context.Context) ([]Color, error) {
	return queryAll(ctx, s, scanColor, "SELECT "+colorColumns+" FROM colors c ORDER BY c.id")
}

func (s *Store) color(ctx context.Context, q queryer, id int64) (Color, error) {
	return one(scanColor, s.queryRow(ctx, q, "SELECT "+colorColumns+" FROM colors c WHERE c.id = ?", id))
}

const colorColumns = "c.id, c.name, c.hex"

func scanColor(sc scanner) (Color, error) {
	var c Color
	err := sc.Scan(&c.ID, &c.Name, &c.Hex)
	return c, err
}

const productColumns = "p.id, p.category_id, p.name, p.description, p.price_cents, p.created_at, p.sales_count, p.popularity"

func scanProduct(sc scanner) (Product, error) {
	var p Product
	err := sc.Scan(&p.ID, &p.Category, &p.Name, &p.Description, &p.Price, &p.CreatedAt, &p.SalesCount, &p.Popularity)
	p.Colors = []int64{}
	return p, err
}

func (s *Store) product(ctx context.Context, q queryer, id int64) (Product, error) {
	return one(scanProduct, s.queryRow(ctx, q, "SELECT "+productColumns+" FROM products p WHERE p.id = ?", id))
}

// Product returns one product with its variants, or ErrNotFound.
func (s *Store) Product(ctx context.Context, id int64) (ProductDetail, error) {
	p, err := s.product(ctx, s.db, id)
	if err != nil {
		return ProductDetail{}, err
	}
	vs, err := s.variantsOf(ctx, id)
	if err != nil {
		return ProductDetail{}, err
	}
	d := ProductDetail{Product: p, Variants: vs}
	seen := map[int64]bool{}
	for _, v := range vs {
		if !seen[v.Color] {
			seen[v.Color] = true
			d.Colors = append(d.Colors, v.Color)
		}
	}
	return d, nil
}

// ProductVariants lists a product's variants, or ErrNotFound for an unknown product.
func (s *Store) ProductVariants(ctx context.Context, productID int64) ([]Variant, error) {
	if _, err := s.product(ctx, s.db, productID); err != nil {
		return nil, err
	}
	return s.variantsOf(ctx, productID)
}

func (s *Store) variantsOf(ctx context.Context, productID int64) ([]Variant, error) {
	return queryAll(ctx, s, scanVariant, "SELECT "+variantColumns+" FROM variants WHERE product_id = ? ORDER BY id", productID)
}

func (s *Store) variant(ctx context.Context, q queryer, id int64) (Variant, error) {
	return one(scanVariant, s.queryRow(ctx, q, "SELECT "+variantColumns+" FROM variants WHERE id = ?", id))
}

const variantColumns = "id, product_id, color_id, size, sku, stock"

func scanVariant(sc scanner) (Variant, error) {
	var v Variant
	err := sc.Scan(&v.ID, &v.Product, &v.Color, &v.Size, &v.SKU, &v.Stock)
	return v, err
}

// ListQuery is a validated product list request.
type ListQuery struct {
	Category int64 // 0: any; includes the category's subcategories
	Color    int64 // 0: any
	MinPrice *Money
	MaxPrice *Money
	Search   string
	Ordering string // a key of orderings
	Page     int
	PageSize int
}

// orderings maps the accepted `ordering` values to SQL; id breaks ties so
// that pages never overlap.
var orderings = map[string]string{
	"id": "p.id", "-id": "p.id DESC",
	"name": "p.name, p.id", "-name": "p.name DESC, p.id",
	"price": "p.price_cents, p.id", "-price": "p.price_cents DESC, p.id",
	"created_at": "p.created_at, p.id", "-created_at": "p.created_at DESC, p.id",
	"sales_count": "p.sales_count, p.id", "-sales_count": "p.sales_count DESC, p.id",
	"popularity": "p.popularity, p.id", "-popularity": "p.popularity DESC, p.id",
}

func (lq ListQuery) where() (string, []any) {
	var conds []string
	var args []any
	if lq.Category != 0 {
		conds = append(conds, "p.category_id IN (SELECT k.id FROM categories k WHERE k.id = ? OR k.parent_id = ?)")
		args = append(args, lq.Category, lq.Category)
	}
	if lq.Color != 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.color_id = ?)")
		args = append(args, lq.Color)
	}
	if lq.MinPrice != nil {
		conds = append(conds, "p.price_cents >= ?")
		args = append(args, int64(*lq.MinPrice))
	}
	if lq.MaxPrice != nil {
		conds = append(conds, "p.price_cents <= ?")
		args = append(args, int64(*lq.MaxPrice))
	}
	if lq.Search != "" {
		like := "%" + escapeLike(lq.Search) + "%"
		conds = append(conds, `(p.name LIKE ? ESCAPE '\' OR p.description LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// ListProducts returns the total count and one page, as a Django list view
// does: a COUNT, the page, then the page's related rows.
func (s *Store) ListProducts(ctx context.Context, lq ListQuery) (int64, []Product, error) {
	where, args := lq.where()
	var total int64
	if err := s.queryRow(ctx, s.db, "SELECT COUNT(*) FROM products p"+where, args...).Scan(&total); err != nil {
		return 0, nil, err
	}
	offset := (lq.Page - 1) * lq.PageSize
	if offset >= int(total) && lq.Page > 1 {
		return total, nil, ErrNotFound
	}
	page, err := s.products(ctx, "SELECT "+productColumns+" FROM products p"+where+
		" ORDER BY "+orderings[lq.Ordering]+" LIMIT ? OFFSET ?", append(args, lq.PageSize, offset)...)
	if err != nil {
		return 0, nil, err
	}
	return total, page, nil
}

// products runs a product query, then loads the colors of the rows it returned.
func (s *Store) products(ctx context.Context, sqlText string, args ...any) ([]Product, error) {
	out, err := queryAll(ctx, s, scanProduct, sqlText, args...)
	if err != nil {
		return nil, err
	}
	return out, s.attachColors(ctx, out)
}

func (s *Store) attachColors(ctx context.Context, ps []Product) error {
	if len(ps) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(ps))
	ids := make([]string, len(ps))
	for i, p := range ps {
		idx[p.ID] = i
		ids[i] = strconv.FormatInt(p.ID, 10)
	}
	// The ids are integers from our own rows, safe to inline.
	rows, err := s.query(ctx, s.db, "SELECT DISTINCT product_id, color_id FROM variants WHERE product_id IN ("+
		strings.Join(ids, ",")+") ORDER BY product_id, color_id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pid, cid int64
		if err := rows.Scan(&pid, &cid); err != nil {
			return err
		}
		i := idx[pid]
		ps[i].Colors = append(ps[i].Colors, cid)
	}
	return rows.Err()
}

// TopProducts returns the first n products by an ordering key.
func (s *Store) TopProducts(ctx context.Context, ordering string, n int) ([]Product, error) {
	return s.products(ctx, "SELECT "+productColumns+" FROM products p ORDER BY "+orderings[ordering]+" LIMIT ?", n)
}

// Recommendations are the most popular other products of a product's category.
func (s *Store) Recommendations(ctx context.Context, id int64, n int) ([]Product, error) {
	p, err := s.product(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return s.products(ctx, "SELECT "+productColumns+" FROM products p WHERE p.category_id = ? AND p.id <> ? ORDER BY p.popularity DESC, p.id LIMIT ?",
		p.Category, id, n)
}

// Personalized picks products for a user: a deterministic stand-in for a
// recommender, the most popular products of one main category chosen by the
// user id.
func (s *Store) Personalized(ctx context.Context, userID int64, n int) ([]Product, error) {
	mains, err := queryAll(ctx, s, scanOne[int64], "SELECT id FROM categories WHERE parent_id IS NULL ORDER BY id")
	if err != nil {
		return nil, err
	}
	if len(mains) == 0 {
		return []Product{}, nil
	}
	cat := mains[userID%int64(len(mains))]
	return s.products(ctx, "SELECT "+productColumns+" FROM products p WHERE p.category_id IN "+
		"(SELECT k.id FROM categories k WHERE k.id = ? OR k.parent_id = ?) ORDER BY p.popularity DESC, p.id LIMIT ?", cat, cat, n)
}

// Filters returns the filter options for the products of a category (and its
// subcategories), or of the whole catalog when category is 0.
func (s *Store) Filters(ctx context.Context, category int64) (Filters, error) {
	f := Filters{Subcategories: []Category{}, Colors: []Color{}, Sizes: []string{}}
	scope := "SELECT id FROM products"
	var args []any
	subWhere := "c.parent_id IS NULL"
	if category != 0 {
		if _, err := s.category(ctx, s.db, category); err != nil {
			return f, err
		}
		f.Category = &category
		scope = "SELECT p.id FROM products p WHERE p.category_id IN (SELECT k.id FROM categories k WHERE k.id = ? OR k.parent_id = ?)"
		args = []any{category, category}
		subWhere = "c.parent_id = ?"
	}
	subArgs := []any{}
	if category != 0 {
		subArgs = append(subArgs, category)
	}
	var err error
	if f.Subcategories, err = queryAll(ctx, s, scanCategory,
		"SELECT "+categoryColumns+" FROM categories c WHERE "+subWhere+" ORDER BY c.id", subArgs...); err != nil {
		return f, err
	}
	var lo, hi sql.NullInt64
	if err := s.queryRow(ctx, s.db, "SELECT COUNT(*), MIN(price_cents), MAX(price_cents) FROM products WHERE id IN ("+scope+")", args...).
		Scan(&f.Count, &lo, &hi); err != nil {
		return f, err
	}
	f.Price = PriceRange{Min: Money(lo.Int64), Max: Money(hi.Int64)}
	if f.Colors, err = queryAll(ctx, s, scanColor, "SELECT DISTINCT "+colorColumns+
		" FROM colors c JOIN variants v ON v.color_id = c.id WHERE v.product_id IN ("+scope+") ORDER BY c.id", args...); err != nil {
		return f, err
	}
	f.Sizes, err = queryAll(ctx, s, scanOne[string], "SELECT DISTINCT size FROM variants WHERE product_id IN ("+scope+") ORDER BY size", args...)
	return f, err
}

// scanOne scans a row of one column.
func scanOne[T any](sc scanner) (T, error) {
	var v T
	err := sc.Scan(&v)
	return v, err
}
