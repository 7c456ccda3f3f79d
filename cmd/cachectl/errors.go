package main

import (
	"github.com/cachectl/cachectl/internal/cmdutil"
)

// The exit codes and typed errors of internal/cmdutil, by the short names
// the commands use.
const (
	exitOK          = cmdutil.ExitOK
	exitFailed      = cmdutil.ExitFailed
	exitUsage       = cmdutil.ExitUsage
	exitUnavailable = cmdutil.ExitUnavailable
	exitInterrupted = cmdutil.ExitInterrupted
)

type (
	usageError  = cmdutil.UsageError
	hintedError = cmdutil.HintedError
)

var (
	usageErrorf  = cmdutil.UsageErrorf
	isUsage      = cmdutil.IsUsage
	hinted       = cmdutil.WithHint
	partialError = cmdutil.Partial
	errFailed    = cmdutil.ErrFailed
	exitCode     = cmdutil.ExitCode
	interrupted  = cmdutil.Interrupted
	noArgs       = cmdutil.NoArgs
	firstLine    = cmdutil.FirstLine
	executeRoot  = cmdutil.ExecuteRoot
	printError   = cmdutil.PrintError
)
