package main

import (
	"github.com/cachectl/cachectl/internal/cmdutil"
	"github.com/cachectl/cachectl/internal/config"
)

type usageError = cmdutil.UsageError

// The exit codes and environment variables the tests name.
const (
	exitOK          = cmdutil.ExitOK
	exitFailed      = cmdutil.ExitFailed
	exitUsage       = cmdutil.ExitUsage
	exitUnavailable = cmdutil.ExitUnavailable
	exitInterrupted = cmdutil.ExitInterrupted

	envRedisURL      = config.EnvRedisURL
	envRedisPassword = config.EnvRedisPassword
	envReadOnly      = config.EnvReadOnly
	envConfig        = config.EnvConfig
)
