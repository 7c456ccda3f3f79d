package main

import (
	"context"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// elsewhereHint says where the keys probably are when a command found none
// of its groups: another db, another prefix or version. It costs a few SCAN
// pages; a failure to look gives no hint rather than an error.
func elsewhereHint(ctx context.Context, conn *redisconn.Conn, schema keyspace.Schema) string {
	e, err := inspect.FindElsewhere(ctx, conn.Client, conn.DB, schema)
	if err != nil {
		return ""
	}
	return e.Hint(schema)
}

// printElsewhere writes elsewhereHint as a hint line on stderr, if any.
func printElsewhere(ctx context.Context, ios *iostreams.IOStreams, conn *redisconn.Conn, schema keyspace.Schema) {
	if h := elsewhereHint(ctx, conn, schema); h != "" {
		ios.Hintf("%s", h)
	}
}
