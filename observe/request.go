package observe

import (
	"context"

	"github.com/cachectl/cachectl/catalogapi"
)

// Probe is one API request and what it did to the cache.
type Probe struct {
	URL      string
	Response *catalogapi.Response // never nil; Status 0 when no response came
	Err      error                // the request's own error
	Trace    Trace
}

// Get sends a GET for u through api inside an observed window. The error
// is the observation's; the request's own is in Probe.Err.
func (o *Observer) Get(ctx context.Context, api *catalogapi.Client, u string) (Probe, error) {
	p := Probe{URL: u}
	t, err := o.Observe(ctx, func(ctx context.Context) {
		p.Response, p.Err = api.Get(ctx, u)
	})
	p.Trace = t
	return p, err
}

// Cache is the request's cache state as Redis showed it, and, when the API
// sent X-Cache, whether the two agree.
func (p Probe) Cache() (observed State, header string, agree bool) {
	observed, header = p.Trace.State, p.Response.Cache
	if header == "" {
		return observed, "", true
	}
	return observed, header, header == string(observed)
}
