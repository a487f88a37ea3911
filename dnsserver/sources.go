package dnsserver

import (
	"context"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/wire"
)

// route is the answer source a query's decision (step 2) picks. Both
// speeds dispatch on it through sources: a new kind of answer is one
// route and one row there.
type route uint8

const (
	// routeForward: forwarded names, from the cache and the upstreams.
	routeForward route = iota
	// routeEndpoint: names an endpoint serves, synthesized (package endpoint).
	routeEndpoint
	// routeHost: a health-checked endpoint's own hostname, its down
	// addresses left out, so never answered from the cache as it is.
	routeHost
)

// source is one answer source at both speeds: fresh (step 3) finds an
// answer already packed, allocating nothing, or nil; resolve (step 4)
// builds one, on a goroutine of its own.
type source struct {
	fresh   func(st *State, q *query) (*wire.Entry, int64)
	resolve func(s *Server, st *State, q *query) wire.Result
}

var sources = [...]source{
	routeForward: {
		fresh: func(st *State, q *query) (*wire.Entry, int64) { return st.Cache.Fresh(&q.ask, &q.held) },
		resolve: func(s *Server, st *State, q *query) wire.Result {
			// One fetch, bounded by the upstreams' own timeouts: no deadline
			// (and no timer) of the query's own is needed.
			res, err := st.Cache.Resolve(s.ctx, q.ask)
			if err != nil {
				s.log.Debug("forwarding failed", "name", q.ask.Name, "error", err)
				return wire.Failed(rcodeServfail)
			}
			return res
		},
	},
	routeEndpoint: {
		fresh: func(st *State, q *query) (*wire.Entry, int64) {
			e, now, by := st.Endpoints.Fresh(&q.ask)
			q.answeredBy = by
			return e, now
		},
		resolve: func(s *Server, st *State, q *query) wire.Result {
			ctx, cancel := s.budgeted(st)
			defer cancel()
			r, by := st.Endpoints.Answer(ctx, &q.ask, q.match)
			q.answeredBy = by
			if r.Forwarded {
				q.action = metrics.ActionForward // on_unresolved or on_unhealthy: public
			}
			return r
		},
	},
	routeHost: {
		fresh: func(*State, *query) (*wire.Entry, int64) { return nil, 0 },
		resolve: func(s *Server, st *State, q *query) wire.Result {
			ctx, cancel := s.budgeted(st)
			defer cancel()
			return st.Endpoints.Host(ctx, &q.ask, &st.Config.Endpoints[q.ownHost], q.ownHost)
		},
	},
}

// lookup is step 3, the fast path: the answer already packed for the
// query, fresh at now, or nil. It allocates nothing.
func (s *Server) lookup(st *State, q *query) (*wire.Entry, int64) {
	return sources[q.route].fresh(st, q)
}

// resolve is step 4, the full path, for an admitted query whose answer was
// not packed yet.
func (s *Server) resolve(st *State, q *query) wire.Result {
	if s.loop.seen(q.ask.Name) {
		// Our own probe came back: answer at once so that the loop ends here.
		s.log.Debug("loop probe came back", "client", q.client.String(), "name", q.ask.Name)
		return wire.Failed(rcodeServfail)
	}
	return sources[q.route].resolve(s, st, q)
}

// budgeted is the context of a query that several fetches answer (an
// endpoint's name and its fallback): its own deadline bounds its wait for
// them together; the fetches themselves, shared with other queries, live
// as long as the cache.
func (s *Server) budgeted(st *State) (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, st.budget)
}
