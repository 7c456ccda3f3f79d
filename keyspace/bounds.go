package keyspace

import (
	"time"

	"github.com/cachectl/cachectl/internal/option"
)

// Bounds of the sizes a clear or a survey takes. A value outside them is a
// typo or a request Redis would pay for: a batch of 2,000,000,000 would
// allocate gigabytes before the first UNLINK, a SCAN COUNT of millions
// blocks Redis.
const (
	MaxScanCount = 100_000 // SCAN COUNT: one call stays well under a millisecond per thousand
	MaxBatch     = 100_000 // keys per UNLINK round
	MaxPause     = time.Minute
	MaxSamples   = 10_000 // keys measured per group and master
	MaxBiggest   = 1_000  // biggest keys kept per group
)

// Validate refuses sizes outside the bounds, naming clear's flags.
func (c ClearConfig) Validate() error {
	if err := option.First(
		option.InRange("count", c.Count, 1, MaxScanCount),
		option.InRange("batch", c.Batch, 1, MaxBatch),
		option.InRange("pause", c.Pause, 0, MaxPause),
	); err != nil {
		return err
	}
	if c.MaxImpact > 0 && c.Pause > 0 {
		return option.Errorf("--pause and --max-impact do not go together: --max-impact chooses the pauses itself, --pause is the manual control")
	}
	if c.Limit < 0 {
		return option.Errorf("--max-keys must not be negative")
	}
	return c.Conditions.validate()
}

// Validate refuses sizes outside the bounds, naming keys's flags.
func (c SurveyConfig) Validate() error {
	return option.First(
		option.InRange("samples", c.Samples, 1, MaxSamples),
		option.InRange("count", c.Count, 1, MaxScanCount),
		option.InRange("biggest", c.Biggest, 1, MaxBiggest),
		option.InRange("max-impact", c.MaxImpact, 0, MaxImpactLimit),
	)
}
