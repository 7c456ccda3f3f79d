package render

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/bench"
)

// A skipped endpoint is a <skipped/> testcase with its reason, an
// interrupted run a failed testcase "complete", and a gate's detail full of
// markup and control characters still makes valid XML that reads back as
// it was written.
func TestBenchJUnitSkippedInterruptedAndEscaped(t *testing.T) {
	rep := benchSample()
	rep.Complete = false
	detail := `p95 "1.25" <ms> & more` + "\x00\x1b"
	rep.Thresholds = []bench.Threshold{{Name: "max-warm-p95 product_detail", OK: false, Detail: detail}}
	var buf bytes.Buffer
	if err := BenchJUnit(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Skipped int `xml:"skipped,attr"`
			Cases   []struct {
				Name    string `xml:"name,attr"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	cases := map[string]int{}
	s := doc.Suites[0]
	for i, c := range s.Cases {
		cases[c.Name] = i
	}
	rec := s.Cases[cases["recommendations"]]
	if rec.Skipped == nil || !strings.HasPrefix(rec.Skipped.Message, "HTTP 404") || s.Skipped != 1 {
		t.Errorf("recommendations: %+v, suite skipped=%d: want skipped with the 404", rec, s.Skipped)
	}
	gate := s.Cases[cases["gate max-warm-p95 product_detail"]]
	if gate.Failure == nil || !strings.HasPrefix(gate.Failure.Message, `p95 "1.25" <ms> & more`) {
		t.Errorf("gate: failure %+v, want the detail back", gate.Failure)
	}
	if i, ok := cases["complete"]; !ok || s.Cases[i].Failure == nil || s.Cases[i].Failure.Type != "interrupted" {
		t.Errorf("no failed testcase complete for an interrupted run: %v", cases)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.60s", buf.String())
	}
}
