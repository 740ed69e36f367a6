package echohttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/echohttp"
)

// A service whose requests each run in their own scope at the priority of
// their Priority header, and which calls a second service through
// Transport, so that the priority goes on with the call.
func Example() {
	// The back service says at which priority it served the call.
	back := httptest.NewServer(echohttp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "back: %v", echo.PriorityOf(r.Context()))
	})))
	defer back.Close()
	client := &http.Client{Transport: echohttp.Transport(back.Client().Transport)}
	defer client.CloseIdleConnections()

	// The front service does two parts of its answer in parallel, in the
	// request's scope, at the request's priority.
	front := httptest.NewServer(echohttp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := echo.PriorityOf(r.Context())
		var local, remote string
		err := echo.Nursery(r.Context(), func(ctx context.Context) error {
			echo.Go(ctx, p, func(ctx context.Context) error {
				local = strings.ToUpper(r.URL.Query().Get("q"))
				return nil
			})
			echo.Go(ctx, p, func(ctx context.Context) error {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, back.URL, nil)
				if err != nil {
					return err
				}
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				remote = string(b)
				return err
			})
			return nil
		})
		if err != nil {
			http.Error(w, "backend unavailable", http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "front: %v, %s, %s", p, local, remote)
	})))
	defer front.Close()

	for _, urgency := range []string{"u=0", "", "u=6, i"} {
		req, _ := http.NewRequest(http.MethodGet, front.URL+"?q=echo", nil)
		if urgency != "" {
			req.Header.Set("Priority", urgency)
		}
		resp, err := front.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("Priority %q -> %s\n", urgency, b)
	}
	// Output:
	// Priority "u=0" -> front: high, ECHO, back: high
	// Priority "" -> front: normal, ECHO, back: normal
	// Priority "u=6, i" -> front: low, ECHO, back: low
}
