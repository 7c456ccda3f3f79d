package main

import (
	"context"

	"github.com/cachectl/cachectl/inspect"
	"github.com/cachectl/cachectl/internal/iostreams"
	"github.com/cachectl/cachectl/internal/redisconn"
	"github.com/cachectl/cachectl/keyspace"
)

// printElsewhere says, as a hint line on stderr, where the keys probably
// are when a command found none of its groups: another db, another prefix
// or version. It costs a few SCAN pages; a failure to look gives no hint
// rather than an error.
func printElsewhere(ctx context.Context, ios *iostreams.IOStreams, conn *redisconn.Conn, schema keyspace.Schema) {
	if e, err := inspect.FindElsewhere(ctx, conn.Client, conn.DB, schema); err == nil && e.Hint(schema) != "" {
		ios.Hintf("%s", e.Hint(schema))
	}
}
