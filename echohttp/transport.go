package echohttp

import (
	"net/http"

	"github.com/echo-scheduler/echo"
)

// Transport returns a RoundTripper that adds to each outgoing request the
// Priority header of the priority its ctx carries ([echo.PriorityOf]), as
// [PriorityField] writes it, then sends it with base (http.DefaultTransport
// if nil). A request that already has a Priority header is sent as it is,
// and so is one at Normal, which is RFC 9218's default. The caller's
// request is not modified: the header goes on a clone.
//
// With Transport on the client of a service whose handler is a [Handler], a
// request's priority crosses the service boundary: the downstream scope
// runs at the priority of the upstream code that made the call.
//
//	client := &http.Client{Transport: echohttp.Transport(nil)}
//	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil) // ctx: a child's or a request's
//	resp, err := client.Do(req)
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct {
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, set := req.Header["Priority"]; set {
		return t.base.RoundTrip(req)
	}
	v := PriorityField(echo.PriorityOf(req.Context()))
	if v == "" {
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not modify the request it is given.
	r := req.Clone(req.Context())
	if r.Header == nil {
		r.Header = make(http.Header, 1)
	}
	r.Header.Set("Priority", v)
	return t.base.RoundTrip(r)
}

// CloseIdleConnections closes base's idle connections if base can, so that
// http.Client.CloseIdleConnections reaches through the wrapper.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
