package sandbox

import "context"

// TB is the part of testing.TB that MustStartAPI needs.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// MustStartAPI starts the catalog API for a test, and stops it when the test ends.
func MustStartAPI(t TB, o APIOptions) *API {
	t.Helper()
	api, err := StartAPI(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	return api
}
