package echohttp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/echo-scheduler/echo"
)

// TestTransportCarriesThePriorityAcrossTwoServers: a front service served
// by Handler calls a back service served by Handler through Transport; the
// back request's scope runs at the priority of the front code that called.
func TestTransportCarriesThePriorityAcrossTwoServers(t *testing.T) {
	back := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%v %q", echo.PriorityOf(r.Context()), r.Header.Values("Priority"))
	})))
	defer back.Close()
	client := &http.Client{Transport: Transport(back.Client().Transport)}
	defer client.CloseIdleConnections()

	call := func(ctx context.Context, header string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, back.URL, nil)
		if err != nil {
			return "", err
		}
		if header != "" {
			req.Header.Set("Priority", header)
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if header != "" && req.Header.Get("Priority") != header || header == "" && len(req.Header.Values("Priority")) != 0 {
			return "", fmt.Errorf("Transport modified the caller's request: Priority %q", req.Header.Values("Priority"))
		}
		return string(b), err
	}
	front := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var out string
		var err error
		switch r.URL.Path {
		case "/direct": // the request's own ctx: its priority
			out, err = call(r.Context(), "")
		case "/high-child": // a child spawned at High
			err = echo.Nursery(r.Context(), func(ctx context.Context) error {
				echo.Go(ctx, echo.High, func(ctx context.Context) error {
					out, err = call(ctx, "")
					return err
				})
				return nil
			})
		case "/caller-set": // the caller's own header wins
			out, err = call(r.Context(), "u=7")
		case "/no-scope": // a ctx without a scope is Normal: no header
			out, err = call(context.Background(), "")
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(w, out)
	})))
	defer front.Close()

	for _, tc := range []struct {
		path, prio, want string
	}{
		{"/direct", "u=6", `low ["u=5"]`},
		{"/direct", "u=0", `high ["u=1"]`},
		{"/direct", "", `normal []`},
		{"/high-child", "u=6", `high ["u=1"]`},
		{"/caller-set", "u=0", `low ["u=7"]`},
		{"/no-scope", "u=0", `normal []`},
	} {
		var prio []string
		if tc.prio != "" {
			prio = []string{tc.prio}
		}
		if code, _, body := get(t, front.Client(), front.URL+tc.path, prio...); code != http.StatusOK || body != tc.want {
			t.Errorf("%s with Priority %q: back saw %d %q; want 200 %q", tc.path, tc.prio, code, body, tc.want)
		}
	}
}
