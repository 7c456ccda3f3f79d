package catalog

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Sentinel errors of writes; the HTTP layer maps both to 409.
var (
	// ErrConflict is a write that clashes with existing rows: a duplicate
	// unique value, or deleting a row others still refer to.
	ErrConflict = errors.New("conflict")
	// ErrInsufficientStock is a stock reduction below zero.
	ErrInsufficientStock = errors.New("insufficient stock")
	// errMissingRef is a write that refers to a row that does not exist.
	errMissingRef = errors.New("refers to a row that does not exist")
)

// writeTx runs fn in one transaction and turns SQLite constraint failures into
// the store's sentinel errors.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.count(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return constraintError(err)
	}
	return constraintError(tx.Commit())
}

func constraintError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"):
		return ErrConflict
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return errMissingRef
	}
	return err
}

// affected returns ErrNotFound when an UPDATE or DELETE touched no row.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// deleteRow deletes one row; a row that others still refer to is a conflict.
func (s *Store) deleteRow(ctx context.Context, table string, id int64) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return affected(tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = ?", id))
	})
	if errors.Is(err, errMissingRef) {
		return ErrConflict
	}
	return err
}

// saveRow inserts a row when *id is 0, and sets *id to the new row's id, or
// else updates row *id, in one transaction. The INSERT's placeholders take
// cols and then extra, the UPDATE's cols and then the id.
func (s *Store) saveRow(ctx context.Context, id *int64, insert, update string, cols []any, extra ...any) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if *id == 0 {
			res, err := tx.ExecContext(ctx, insert, append(cols, extra...)...)
			if err != nil {
				return err
			}
			*id, err = res.LastInsertId()
			return err
		}
		return affected(tx.ExecContext(ctx, update, append(cols, *id)...))
	})
}

// SaveCategory inserts c (ID 0) or replaces the row with c's ID.
func (s *Store) SaveCategory(ctx context.Context, c Category) (Category, error) {
	var parent any
	if c.ParentID != nil {
		parent = *c.ParentID
	}
	err := s.saveRow(ctx, &c.ID, "INSERT INTO categories(name, slug, parent_id) VALUES(?,?,?)",
		"UPDATE categories SET name = ?, slug = ?, parent_id = ? WHERE id = ?", []any{c.Name, c.Slug, parent})
	if err != nil {
		return c, err
	}
	return s.category(ctx, s.db, c.ID)
}

// DeleteCategory deletes an empty category; one with products or
// subcategories is ErrConflict.
func (s *Store) DeleteCategory(ctx context.Context, id int64) error {
	return s.deleteRow(ctx, "categories", id)
}

// SaveColor inserts c (ID 0) or replaces the row with c's ID.
func (s *Store) SaveColor(ctx context.Context, c Color) (Color, error) {
	err := s.saveRow(ctx, &c.ID, "INSERT INTO colors(name, hex) VALUES(?,?)",
		"UPDATE colors SET name = ?, hex = ? WHERE id = ?", []any{c.Name, c.Hex})
	return c, err
}

// DeleteColor deletes a color no variant uses; one in use is ErrConflict.
func (s *Store) DeleteColor(ctx context.Context, id int64) error {
	return s.deleteRow(ctx, "colors", id)
}

// SaveProduct inserts p (ID 0, created now) or replaces the row with p's ID.
func (s *Store) SaveProduct(ctx context.Context, p Product) (ProductDetail, error) {
	err := s.saveRow(ctx, &p.ID,
		`INSERT INTO products(category_id, name, description, price_cents, sales_count, popularity, created_at) VALUES(?,?,?,?,?,?,?)`,
		`UPDATE products SET category_id = ?, name = ?, description = ?, price_cents = ?, sales_count = ?, popularity = ? WHERE id = ?`,
		[]any{p.Category, p.Name, p.Description, int64(p.Price), p.SalesCount, p.Popularity}, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return ProductDetail{}, err
	}
	return s.Product(ctx, p.ID)
}

// DeleteProduct deletes a product and its variants.
func (s *Store) DeleteProduct(ctx context.Context, id int64) error {
	return s.deleteRow(ctx, "products", id)
}

// SaveVariant inserts v (ID 0) or replaces the row with v's ID.
func (s *Store) SaveVariant(ctx context.Context, v Variant) (Variant, error) {
	err := s.saveRow(ctx, &v.ID, "INSERT INTO variants(product_id, color_id, size, sku, stock) VALUES(?,?,?,?,?)",
		"UPDATE variants SET product_id = ?, color_id = ?, size = ?, sku = ?, stock = ? WHERE id = ?",
		[]any{v.Product, v.Color, v.Size, v.SKU, v.Stock})
	return v, err
}

// DeleteVariant deletes one variant.
func (s *Store) DeleteVariant(ctx context.Context, id int64) error {
	return s.deleteRow(ctx, "variants", id)
}

// AdjustStock adds delta (negative to reduce) to a variant's stock in one
// statement, so concurrent reductions never oversell.
func (s *Store) AdjustStock(ctx context.Context, id, delta int64) (Variant, error) {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		err := affected(tx.ExecContext(ctx, "UPDATE variants SET stock = stock + ? WHERE id = ? AND stock + ? >= 0", delta, id, delta))
		if errors.Is(err, ErrNotFound) {
			// Inside the transaction, so not counted or delayed: the
			// connection is held until it ends.
			var one int
			if err := tx.QueryRowContext(ctx, "SELECT 1 FROM variants WHERE id = ?", id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			} else if err != nil {
				return err
			}
			return ErrInsufficientStock
		}
		return err
	})
	if err != nil {
		return Variant{}, err
	}
	return s.variant(ctx, s.db, id)
}
