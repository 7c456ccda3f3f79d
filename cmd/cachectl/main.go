// Command cachectl inspects, clears, warms and benchmarks the Redis cache of a
// catalog API, and serves a reference catalog to try it on.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cachectl/cachectl/internal/iostreams"
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return execute(ctx, iostreams.System(), os.Args[1:], os.Getenv)
}

// execute runs one command line and returns its exit code.
func execute(ctx context.Context, ios *iostreams.IOStreams, args []string, getenv func(string) string) int {
	f := newFactory(ios, getenv)
	defer f.Close()
	root := newRootCmd(f)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := executeRoot(ctx, root, args)
	if err != nil {
		printError(ios.ErrOut, ctx, err)
	}
	return exitCode(ctx, err)
}
