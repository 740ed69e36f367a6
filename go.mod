module github.com/echo-scheduler/echo

go 1.26.0

require (
	go.uber.org/goleak v1.3.0
	go.uber.org/multierr v1.11.0
	golang.org/x/sync v0.24.0
)
