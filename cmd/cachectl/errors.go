package main

import "github.com/cachectl/cachectl/internal/cmdutil"

// The typed errors of internal/cmdutil, by the names the commands use.
var (
	usageErrorf  = cmdutil.UsageErrorf // exit 2
	isUsage      = cmdutil.IsUsage
	hinted       = cmdutil.WithHint    // a hint line under the message
	partialError = cmdutil.Partial     // exit 1, with how to finish the job
	errFailed    = cmdutil.ErrFailed   // exit 1; the result printed says why
	interrupted  = cmdutil.Interrupted // exit 130
	exitCode     = cmdutil.ExitCode
	printError   = cmdutil.PrintError
	noArgs       = cmdutil.NoArgs      // cobra's argument checks, as usage errors
	executeRoot  = cmdutil.ExecuteRoot // an unknown command is a usage error too
	firstLine    = cmdutil.FirstLine
)
