// Package echohttp runs each HTTP request in its own Echo scope, at a
// priority that the request carries, and carries that priority on to the
// services the request calls.
//
// # A scope per request
//
// [Handler] wraps an http.Handler: every request is served inside an
// [echo.Nursery] bound to the request's context, and the handler spawns its
// parts into it with [echo.Go](r.Context(), ...). A client that goes away
// cancels the scope; the handler returns only once every part has; a panic
// anywhere in the scope becomes a logged 500, never a crash and never a
// stack trace sent to the client.
//
//	mux.HandleFunc("GET /quote", func(w http.ResponseWriter, r *http.Request) {
//		var price, stock int
//		err := echo.Nursery(r.Context(), func(ctx context.Context) error {
//			echo.Go(ctx, echo.High, func(ctx context.Context) error { price = lookupPrice(ctx); return nil })
//			echo.Go(ctx, echo.High, func(ctx context.Context) error { stock = lookupStock(ctx); return nil })
//			return nil
//		})
//		...
//	})
//	srv := &http.Server{Handler: echohttp.Handler(mux)}
//
// Parts the response needs go in a nested Nursery, as here, which waits for
// them. Parts it need not wait for (a cache fill, an audit write) can go
// straight into the request's scope with echo.Go(r.Context(), ...): they are
// joined, and their failures logged, before the request ends.
//
// # Priority
//
// By default a request's priority comes from its Priority header (RFC 9218),
// whose urgency u runs from 0 (most urgent) to 7, default 3:
//
//	u=0, u=1, u=2   echo.High
//	u=3 (or none)   echo.Normal
//	u=4 ... u=7     echo.Low
//
// The header is a structured-field Dictionary (RFC 8941): all its lines are
// combined, parameters (u=1;x=y) and other keys are ignored, a later u
// overrides an earlier one, and a field that does not parse, or a u that is
// not an Integer from 0 to 7, counts as absent. The incremental flag i is
// parsed but does not change the priority. Clients can claim any urgency, so
// at a trust boundary take the priority from something you trust instead,
// with [WithPriorityFunc] (by path, by tenant, by credentials).
//
// The scope runs at that priority ([echo.WithPriority]), so
// echo.PriorityOf(r.Context()) returns it; the handler may spawn at it,
// echo.Go(ctx, echo.PriorityOf(ctx), fn), or choose per part.
//
// [Transport] writes the priority back into the Priority header of
// outgoing requests (High as u=1, Low as u=5, Normal as no header), so a
// chain of services built this way keeps a request's priority end to end.
//
// # Other protocols
//
// The same two steps work for any protocol with headers or metadata:
// [PriorityField] turns a ctx's priority into a value to send, and
// [ParsePriority] turns received values into a priority for
// echo.WithPriority. For gRPC, say, a client interceptor and the start of a
// server interceptor are a few lines each (package grpc and
// google.golang.org/grpc/metadata; echohttp does not import them):
//
//	func clientPriority(ctx context.Context, method string, req, reply any,
//		cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
//		if v := echohttp.PriorityField(echo.PriorityOf(ctx)); v != "" {
//			ctx = metadata.AppendToOutgoingContext(ctx, "priority", v)
//		}
//		return invoke(ctx, method, req, reply, cc, opts...)
//	}
//
//	func serverPriority(ctx context.Context, req any, _ *grpc.UnaryServerInfo,
//		handle grpc.UnaryHandler) (resp any, err error) {
//		md, _ := metadata.FromIncomingContext(ctx)
//		p := echohttp.ParsePriority(md.Get("priority")...)
//		err = echo.Nursery(ctx, func(ctx context.Context) error {
//			resp, err = handle(ctx, req)
//			return err
//		}, echo.WithPriority(p))
//		return resp, err
//	}
//
// # Shutdown and timeouts
//
// [http.Server.Shutdown] waits for every active request, and a request is
// active until its handler returns, which for [Handler] is after its scope's
// last child: Shutdown waits for every request scope. It does not cancel
// them: to make them stop early, serve with a BaseContext that you cancel,
// or call [http.Server.Close] after Shutdown's deadline (that closes the
// connections, which cancels the requests' contexts, and with them the
// scopes; Close does not wait for them). Work that outlives a request
// belongs in a longer-lived scope of its own, joined after Shutdown has
// returned, since a handler still running could spawn into it until then.
//
// To bound each request, prefer [WithScopeOptions](echo.WithTimeout(d)):
// the scope is cancelled at d, the handler still decides the response, and
// Shutdown still waits for it. [http.TimeoutHandler] composes only around
// Handler, as http.TimeoutHandler(echohttp.Handler(h), d, msg): at d the
// request's context, and so its scope, is cancelled and the client gets
// msg with 503 at once, but TimeoutHandler returns without waiting for the
// scope, so Shutdown does not wait for the rest of it. Do not put
// TimeoutHandler inside Handler: its handler goroutine can outlive the
// scope it would spawn into, and echo.Go on a scope that has ended panics.
//
// # Load shedding
//
// With [WithShedding], a server under overload turns away new requests of
// the priorities whose tasks wait too long in the pool's queue, with 503 and
// Retry-After, before any of their work is done, and keeps serving High.
//
// # The network and CPU-bound work
//
// Go's scheduler polls the network only from a P that has nothing else to
// run, and from its background monitor (sysmon) when nobody has polled for
// about 10 ms. While every P runs CPU-bound code (pool workers, busy
// goroutines), a request that has arrived, or a backend's reply, may be
// noticed up to ~10 ms late, whatever its priority. A server that mixes
// CPU-heavy background work with network I/O keeps latency down by leaving
// a P free: a pool with one worker fewer than GOMAXPROCS.
package echohttp
