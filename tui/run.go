package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
)

// Run shows the dashboard on out, reading keys from in, until q, ctrl+c
// (context.Canceled) or the end of ctx. An out that is not a file (tests)
// has no size to ask for: the dashboard is then width columns by 24 rows.
func Run(ctx context.Context, cfg Config, in io.Reader, out io.Writer, width int) error {
	cfg.Context = ctx
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithOutput(out)}
	if f, ok := in.(*os.File); !ok || f != os.Stdin {
		opts = append(opts, tea.WithInput(in))
	}
	if _, ok := out.(*os.File); !ok {
		opts = append(opts, tea.WithWindowSize(width, 24))
	}
	_, err := tea.NewProgram(New(cfg), opts...).Run()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, tea.ErrInterrupted):
		return context.Canceled
	case err != nil:
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}
