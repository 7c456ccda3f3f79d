package warm

import (
	"net/http"
	"net/url"

	"github.com/cachectl/cachectl/catalogapi"
)

// The API's client lives in catalogapi; these names stay for warm's callers.
type (
	// RequestError is catalogapi.RequestError.
	RequestError = catalogapi.RequestError
	// UnreachableError is catalogapi.UnreachableError.
	UnreachableError = catalogapi.UnreachableError
)

// NewClient is catalogapi.NewClient.
func NewClient(api *url.URL) (*http.Client, *url.URL) { return catalogapi.NewClient(api) }

// Do is catalogapi.Do.
func Do(client *http.Client, req *http.Request) (*http.Response, error) {
	return catalogapi.Do(client, req)
}

// AddCredentials is catalogapi.AddCredentials.
func AddCredentials(client *http.Client, req *http.Request) bool {
	return catalogapi.AddCredentials(client, req)
}
