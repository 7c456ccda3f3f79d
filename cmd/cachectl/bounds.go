package main

import "time"

// Bounds of the size and rate flags. A value outside them is a typo or a
// request Redis or the API would pay for: --batch 2000000000 would allocate
// gigabytes before the first UNLINK, a SCAN COUNT of millions blocks Redis.
const (
	maxScanCount = 100_000 // SCAN COUNT: one call stays well under a millisecond per thousand
	maxBatch     = 100_000 // keys per UNLINK round
	maxPause     = time.Minute
	maxSamples   = 10_000 // keys measured per group and master
	maxPings     = 10_000 // ping --count
	// serve --seed-products: a reference catalog, not a load generator.
	maxSeedProducts = 1_000_000
)
