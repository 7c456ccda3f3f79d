package main

import (
	"cmp"
	"time"
)

// Bounds of the size and rate flags. A value outside them is a typo or a
// request Redis or the API would pay for: --batch 2000000000 would allocate
// gigabytes before the first UNLINK, a SCAN COUNT of millions blocks Redis.
const (
	maxScanCount   = 100_000 // SCAN COUNT: one call stays well under a millisecond per thousand
	maxBatch       = 100_000 // keys per UNLINK round
	maxPause       = time.Minute
	maxSamples     = 10_000 // keys measured per group and master
	maxPings       = 10_000 // ping --count
	maxRequests    = 10_000_000
	maxConcurrency = 10_000
	maxColdSamples = 10_000
	maxRetries     = 100
	// serve --seed-products: a reference catalog, not a load generator.
	maxSeedProducts = 1_000_000
)

// inRange refuses (exit 2) a flag value outside [lo, hi], naming the range.
func inRange[T cmp.Ordered](flag string, v, lo, hi T) error {
	if v < lo || v > hi {
		return usageErrorf("--%s must be from %v to %v, not %v", flag, lo, hi, v)
	}
	return nil
}

// firstErr returns the first non-nil error, for a run of flag checks.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
