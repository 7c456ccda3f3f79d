package bench

import (
	"context"
	"net/url"

	"github.com/cachectl/cachectl/internal/option"
)

// MaxRepeat bounds Config.Repeat for a Job.
const MaxRepeat = 100

// Job is one `cachectl bench` run around its Suite: where the endpoints
// come from, the gates with their baseline, and what the run leaves behind
// (a named baseline, a history line).
type Job struct {
	Config
	Gates
	// EndpointsFile is a YAML or JSON file of endpoints; "" for the API's
	// built-in ones (DefaultEndpoints).
	EndpointsFile string
	// Only narrows the endpoints to these names (Select).
	Only []string
	// Mix runs one weighted load phase across all endpoints.
	Mix bool
	// P95 are --max-warm-p95 values: DUR, or STATE=DUR (ParseP95Gate).
	P95 []string
	// BaselineRef is the baseline to compare with: a name in BaselineDir,
	// or a file (Baselines.Open); "" for none.
	BaselineRef  string
	SaveBaseline string // a name in BaselineDir to save a passing run as
	BaselineDir  string
	// History is a file to append one JSON line per run to (Keeper.History).
	History string
	// RegressionSet says MaxRegression was chosen, which needs BaselineRef.
	RegressionSet bool
}

// Validate refuses settings and combinations no run should start with (an
// *option.Error naming the flags).
func (j Job) Validate() error {
	if err := option.First(j.Config.Validate(), j.Gates.Validate()); err != nil {
		return err
	}
	switch {
	case j.Rate < 0 || j.Repeat < 1 || j.Repeat > MaxRepeat || (j.Mix && j.Repeat > 1):
		return option.Errorf("--rate must be positive, --repeat from 1 to %d and without --mix", MaxRepeat)
	case j.RegressionSet && j.BaselineRef == "":
		return option.Errorf("--max-regression goes with --baseline")
	case j.Mix && (j.MinSpeedup > 0 || j.BaselineRef != "" || j.SaveBaseline != "" || j.Stampede > 0):
		return option.Errorf("--min-speedup, --baseline, --save-baseline and --stampede are per endpoint, which --mix does not measure one by one")
	case j.MaxStampedeWrites > 0 && j.Stampede == 0:
		return option.Errorf("--max-stampede-writes goes with --stampede")
	case j.SaveBaseline != "":
		return ValidBaselineName("save-baseline", j.SaveBaseline)
	}
	return nil
}

// Suite resolves the job against api: the gates with P95 parsed and the
// baseline read, then the endpoints (the file's, else the API's built-in
// ones) narrowed by Only.
func (j Job) Suite(ctx context.Context, api *url.URL) (Suite, error) {
	gates := j.Gates
	if err := gates.SetP95(j.P95); err != nil {
		return Suite{}, option.Errorf("--max-warm-p95 %w", err)
	}
	var err error
	if j.BaselineRef != "" {
		if gates.Baseline, err = (Baselines{Dir: j.BaselineDir}).Open(j.BaselineRef); err != nil {
			return Suite{}, err
		}
	}
	var eps []Endpoint
	if j.EndpointsFile != "" {
		if eps, err = ReadEndpoints(j.EndpointsFile, api); err != nil {
			return Suite{}, option.Errorf("--endpoints %w", err)
		}
	} else if eps, err = DefaultEndpoints(ctx, j.Client, api, j.Timeout); err != nil {
		return Suite{}, err
	}
	if eps, err = Select(eps, j.Only); err != nil {
		return Suite{}, err
	}
	return Suite{Config: j.Config, API: api, Endpoints: eps, Mix: j.Mix, Gates: gates}, nil
}

// Keeper keeps what the job's run leaves: its named baseline and history.
func (j Job) Keeper() Keeper {
	return Keeper{Baselines: Baselines{Dir: j.BaselineDir}, SaveAs: j.SaveBaseline, Baseline: j.BaselineRef, History: j.History}
}

// Writes says what this run would write to Redis, for --read-only's
// refusal; "" when it only reads: every endpoint of an --endpoints file
// says cold: false, or the file stops the run before it touches anything.
func (j Job) Writes(api *url.URL) string {
	if j.EndpointsFile != "" {
		eps, err := ReadEndpoints(j.EndpointsFile, api)
		if eps, err = Select(eps, j.Only); err != nil || len(Writers(eps)) == 0 {
			return ""
		}
	}
	return "bench's cold phase deletes each endpoint's cache keys; an --endpoints file whose endpoints all say cold: false (GET) only reads"
}
