package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/iostreams"
)

func TestStatusStaysOffAPipe(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	st := New(ios, 0)
	if st.Active() {
		t.Fatal("active without a terminal")
	}
	st.Updatef("%d/%d", 1, 2)
	st.Clear()
	if errOut.Len() != 0 {
		t.Errorf("stderr got %q", errOut.String())
	}
	if got := st.Bar(1, 2, 4); got != "[==  ]" {
		t.Errorf("nil bar = %q", got)
	}
}

func TestStatusRedrawsInPlaceAndErases(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	ios.SetStderrTTY(true)
	st := New(ios, 0)
	st.Update(st.Bar(3, 15, 10) + " 3/15")
	st.Update(st.Bar(15, 15, 10) + " 15/15")
	st.Clear()
	st.Clear() // nothing drawn since: nothing to erase
	want := "\r\x1b[K[==        ] 3/15" + "\r\x1b[K[==========] 15/15" + "\r\x1b[K"
	if got := errOut.String(); got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

func TestStatusThrottles(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	ios.SetStderrTTY(true)
	st := New(ios, time.Hour)
	st.Update("first")
	st.Update("second")
	if got := errOut.String(); strings.Contains(got, "second") || !strings.Contains(got, "first") {
		t.Errorf("stderr = %q, want only the first draw", got)
	}
	st.Clear()
	st.Update("after clear")
	if !strings.Contains(errOut.String(), "after clear") {
		t.Errorf("a cleared line is drawn again at once: %q", errOut.String())
	}
}

func TestBarIsColouredOnlyWithColour(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	ios.SetStderrTTY(true)
	ios.SetColorEnabled(true)
	if got := New(ios, 0).Bar(1, 1, 3); !strings.Contains(got, "\x1b[") {
		t.Errorf("bar = %q, want colour", got)
	}
}

func TestBarIsFullOnlyWhenDone(t *testing.T) {
	// A bar rounds its cells down: 99 of 100 never looks finished.
	var st *Status
	for _, tt := range []struct {
		done, total, width int
		want               string
	}{
		{99, 100, 30, "[" + strings.Repeat("=", 29) + " ]"},
		{59, 60, 30, "[" + strings.Repeat("=", 29) + " ]"},
		{100, 100, 30, "[" + strings.Repeat("=", 30) + "]"},
		{1, 3, 4, "[=   ]"},
		{0, 0, 3, "[   ]"},
		{5, 2, 3, "[===]"},
	} {
		if got := st.Bar(tt.done, tt.total, tt.width); got != tt.want {
			t.Errorf("Bar(%d, %d, %d) = %q, want %q", tt.done, tt.total, tt.width, got, tt.want)
		}
	}
}
