package dnsserver

import "github.com/s3dns/s3dns/wire"

// lookup is step 3, the fast path: a dispatch on the decision to the
// answer source that owns it — endpoint answers (package endpoint) or
// forwarded answers (package cache) — for an answer already packed, fresh
// at now, or nil. It allocates nothing.
func (s *Server) lookup(st *State, q *query) (*wire.Entry, int64) {
	switch {
	case q.matched:
		return st.Endpoints.Fresh(&q.ep)
	case q.ownHost >= 0 && st.Endpoints.Probed(q.ownHost):
		return nil, 0 // health filters these answers on the full path
	}
	return st.Cache.Fresh(&q.ask)
}
