package config

import (
	"io"
	"log/slog"
)

// Logger logs to w from level: from debug with -v, errors only with -q.
func (o *Options) Logger(w io.Writer, level slog.Level) *slog.Logger {
	switch {
	case o.Verbose:
		level = slog.LevelDebug
	case o.Quiet:
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
