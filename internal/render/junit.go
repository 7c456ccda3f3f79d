package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/cachectl/cachectl/bench"
)

// JUnitClass is the classname of bench's testcases.
const JUnitClass = "cachectl.bench"

// The JUnit XML shapes CI systems read (Jenkins, GitLab, GitHub's test
// reporters): testsuites > testsuite > properties and testcases.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitMessage `xml:"skipped"`
	Failure   *junitMessage `xml:"failure"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// BenchJUnit writes rep as a JUnit XML document: one testcase per endpoint
// (its time the endpoint's run; skipped ones <skipped/>), one per gate
// ("gate NAME", breached ones a <failure>), and the fingerprint as the
// suite's properties. An interrupted run adds a failed testcase "complete".
func BenchJUnit(w io.Writer, rep bench.Report) error {
	s := junitSuite{Name: JUnitClass, Properties: junitProperties(rep)}
	total := 0.0
	add := func(c junitCase) {
		c.Classname = JUnitClass
		if c.Time == "" {
			c.Time = "0"
		}
		s.Cases = append(s.Cases, c)
	}
	for _, e := range rep.Endpoints {
		total += e.DurationMs / 1000
		c := junitCase{Name: e.Name, Time: junitSeconds(e.DurationMs)}
		switch {
		case e.Skipped != "":
			c.Skipped = &junitMessage{Message: e.Skipped}
		case e.Invalid != "":
			c.SystemOut = "not measured: " + e.Invalid // its gate "cold NAME" fails
		default:
			c.SystemOut = junitFigures(e)
		}
		add(c)
	}
	if m := rep.Mix; m != nil {
		add(junitCase{Name: "mix", SystemOut: fmt.Sprintf("%s; p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, %.0f rps, %d errors",
			m.Warm.Model(), m.Warm.P50, m.Warm.P95, m.Warm.P99, m.Warm.RPS, m.Warm.Errors)})
	}
	for _, t := range rep.Thresholds {
		c := junitCase{Name: "gate " + t.Name, SystemOut: t.Detail}
		if !t.OK {
			c.Failure, c.SystemOut = &junitMessage{Message: t.Detail, Type: "breached", Text: t.Detail}, ""
		}
		add(c)
	}
	if !rep.Complete {
		const why = "the run was interrupted: figures are partial"
		add(junitCase{Name: "complete", Failure: &junitMessage{Message: why, Type: "interrupted", Text: why}})
	}
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	s.Time = strconv.FormatFloat(total, 'f', 3, 64)
	doc := junitSuites{Name: "cachectl bench", Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitProperties are the API and the fingerprint, one property each (an
// endpoint's path one "endpoint" property each).
func junitProperties(rep bench.Report) []junitProperty {
	ps := []junitProperty{{"api", rep.API}}
	fp := rep.Fingerprint
	if fp == nil {
		return ps
	}
	ps = append(ps,
		junitProperty{"cachectl", fp.Cachectl}, junitProperty{"go", fp.Go}, junitProperty{"redis", fp.Redis},
		junitProperty{"os", fp.OS}, junitProperty{"cpus", strconv.Itoa(fp.CPUs)}, junitProperty{"cpu_model", fp.CPUModel},
		junitProperty{"load_model", fp.LoadModel}, junitProperty{"concurrency", strconv.Itoa(fp.Concurrency)},
		junitProperty{"requests", strconv.Itoa(fp.Requests)}, junitProperty{"repeat", strconv.Itoa(fp.Repeat)})
	if fp.Rate > 0 {
		ps = append(ps, junitProperty{"rate", strconv.FormatFloat(fp.Rate, 'g', -1, 64)})
	}
	if fp.Dataset != nil {
		ps = append(ps, junitProperty{"dataset.products", strconv.FormatInt(fp.Dataset.Products, 10)})
	}
	for _, e := range fp.Endpoints {
		ps = append(ps, junitProperty{"endpoint", e})
	}
	return ps
}

// junitFigures is an endpoint's key figures in one line.
func junitFigures(e bench.Result) string {
	load := fmt.Sprintf("under load (%s): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, %.0f rps", e.Warm.Model(), e.Warm.P50, e.Warm.P95, e.Warm.P99, e.Warm.RPS)
	if e.WarmOnly {
		return load
	}
	return fmt.Sprintf("cold p50 %.2f ms, warm p50 %.2f ms, speedup %.1fx; %s", e.Cold.P50, e.WarmSerial.P50, e.Speedup, load)
}

func junitSeconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }
