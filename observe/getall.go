package observe

import (
	"context"
	"errors"
	"slices"

	"github.com/cachectl/cachectl/catalogapi"
	"github.com/cachectl/cachectl/internal/option"
)

// GetAll observes a GET of each URL in turn (Get), as `cachectl trace`
// does. It stops at the first URL whose API cannot be reached and returns
// that error; failed says whether a request failed or answered other than 2xx.
func (o *Observer) GetAll(ctx context.Context, api *catalogapi.Client, urls []string) (probes []Probe, failed bool, err error) {
	for _, u := range urls {
		p, err := o.Get(ctx, api, u)
		if err != nil {
			return probes, failed, err
		}
		if errors.As(p.Err, new(*catalogapi.UnreachableError)) {
			return probes, failed, p.Err
		}
		failed = failed || p.Err != nil || !p.Response.Success()
		probes = append(probes, p)
	}
	return probes, failed, nil
}

// ParseMechanism is the mechanism a --mechanism flag names; "" lets New
// pick the best the server allows.
func ParseMechanism(s string) (Mechanism, error) {
	if !slices.Contains([]string{"", string(Monitor), string(Tracking), string(Info)}, s) {
		return "", option.Errorf("--mechanism: %q is not monitor, tracking or info", s)
	}
	return Mechanism(s), nil
}
