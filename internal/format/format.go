// Package format prints numbers for people: sizes, counts, durations,
// latencies, rates, percents, uptimes and TTLs. Every command, the
// dashboard and the reports use it, so the same figure reads the same
// everywhere. Machine output (JSON) never goes through it.
package format

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Bytes prints a size in binary units the way free -h does: 1023B, 1.5K, 12M, 3.0G.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	f, i := float64(n), -1
	for f >= unit && i < 5 {
		f /= unit
		i++
	}
	suffix := string("KMGTPE"[i])
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 1, 64) + suffix
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + suffix
}

// Size is Bytes, with "n/a" for a negative size (MEMORY USAGE or INFO not
// permitted).
func Size(n int64) string {
	if n < 0 {
		return "n/a"
	}
	return Bytes(n)
}

// Count prints a number of things compactly: 950, 12.3k, 4.5M, 1.2G; a
// fraction below 10 keeps one decimal (2.5).
func Count(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 1, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case a >= 10 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Keys prints a key count with its noun: 1 key, 0 keys, 1234 keys.
func Keys(n int64) string {
	if n == 1 {
		return "1 key"
	}
	return strconv.FormatInt(n, 10) + " keys"
}

// Percent prints a ratio 0..1 as a percent with one decimal: 0.123 -> 12.3%.
func Percent(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// Rate prints a per-second figure: whole numbers from 10 up (and 0), one
// decimal below.
func Rate(v float64) string {
	if v >= 10 || v == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Uptime prints seconds compactly with the two largest units: 3d4h, 5h12m, 7m3s, 42s.
func Uptime(s int64) string {
	d, h, m := s/86400, s%86400/3600, s%3600/60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd%dh", d, h)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

// Clock prints seconds as a running clock: 3d 04:05:06 or 04:05:06.
func Clock(s int64) string {
	d, s := s/86400, s%86400
	hms := fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60)
	if d > 0 {
		return fmt.Sprintf("%dd %s", d, hms)
	}
	return hms
}

// Latency prints a round trip with about three significant digits: 850µs,
// 1.25ms, 1.5s.
func Latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	}
	return d.Round(10 * time.Millisecond).String()
}

// Ms prints milliseconds for a report: 0.8 ms, 12 ms, 1.25 s.
func Ms(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}

// Millis is a duration in (fractional) milliseconds, the unit of every
// _ms field in the JSON contracts.
func Millis(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// TTL prints an average TTL compactly: 45s, 12m, 3.5h.
func TTL(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	}
	return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + "h"
}

// Cents prints an amount held in cents with two decimals: 1999 -> 19.99.
func Cents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}
