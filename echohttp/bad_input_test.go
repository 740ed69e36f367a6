package echohttp

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/echo-scheduler/echo"
)

func TestBadInputPanicsNamingTheFunction(t *testing.T) {
	ok := http.NotFoundHandler()
	for _, tc := range []struct {
		name, want string
		call       func()
	}{
		{"nil next", "echohttp: Handler called with a nil next", func() { Handler(nil) }},
		{"nil option", "echohttp: Handler called with a nil Option", func() { Handler(ok, nil) }},
		{"nil priority func", "echohttp: WithPriorityFunc called with a nil", func() { WithPriorityFunc(nil) }},
		{"nil pool", "echohttp: WithPool called with a nil pool", func() { WithPool(nil) }},
		{"nil logger", "echohttp: WithLogger called with a nil logger", func() { WithLogger(nil) }},
		{"nil scope option", "echohttp: WithScopeOptions called with a nil option at index 1", func() { WithScopeOptions(echo.WithCollectAll(), nil) }},
		{"zero max wait", "echohttp: WithShedding called with maxWait = 0s", func() { WithShedding(0, time.Second) }},
		{"negative retry", "echohttp: WithShedding called with retryAfter = -1s", func() { WithShedding(time.Second, -time.Second) }},
		{"bad priority func result", "echohttp: the WithPriorityFunc function returned unknown priority", func() {
			h := Handler(ok, WithPriorityFunc(func(*http.Request) echo.Priority { return 9 }))
			h.ServeHTTP(nil, &http.Request{})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				v := recover()
				if s, _ := v.(string); !strings.Contains(s, tc.want) {
					t.Errorf("panic %v; want one containing %q", v, tc.want)
				}
			}()
			tc.call()
		})
	}
}
