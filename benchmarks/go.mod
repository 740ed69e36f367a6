module github.com/echo-scheduler/echo/benchmarks

go 1.26.0

require (
	github.com/alitto/pond/v2 v2.7.1
	github.com/panjf2000/ants/v2 v2.12.1
	github.com/sourcegraph/conc v0.3.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.24.0
)

require (
	github.com/echo-scheduler/echo v0.0.0
	go.uber.org/multierr v1.11.0 // indirect
)

replace github.com/echo-scheduler/echo => ../
