package dnsserver

import (
	"github.com/miekg/dns"

	"github.com/s3dns/s3dns/metrics"
	"github.com/s3dns/s3dns/tap"
	"github.com/s3dns/s3dns/wire"
)

// tapProtos are the dnstap socket protocols of the transports.
var tapProtos = [...]tap.Proto{metrics.UDP: tap.UDP, metrics.TCP: tap.TCP, metrics.TLS: tap.DOT, metrics.HTTPS: tap.DOH}

// record is step 6: the one place a query is counted, logged and tapped
// (dnstap). resp is the reply as sent, nil when none was: a query dropped,
// or a reply whose write failed, is counted as a request with no response.
// Fast UDP replies are recorded just before their batch is written.
func (s *Server) record(st *State, q *query, resp []byte) {
	elapsed := q.elapsed()
	if t := s.opts.Tap.Current(); t != nil {
		t.Client(tapProtos[q.proto], q.peer, q.local, q.pkt, resp, q.start, q.start.Add(elapsed))
	}
	if q.action == metrics.ActionEndpoint {
		s.metrics.CountEndpoint(st.endpointCounters, q.answeredBy, q.proto, q.msg.Qtype)
	} else {
		s.metrics.CountRequest(q.proto, q.msg.Qtype, q.action)
	}
	if q.site != nil {
		s.metrics.CountSite(q.site.counted, q.action)
	}
	if resp != nil {
		s.metrics.CountResponse(q.rcode)
	}
	s.metrics.ObserveDuration(q.proto, q.action, elapsed.Seconds())
	if st.Config.Log.Queries {
		name, endpoint := "", ""
		if q.msg.Name != nil {
			name = wire.Presentation(q.msg.Name)
		}
		if q.action == metrics.ActionEndpoint {
			endpoint = st.endpointName(q.answeredBy)
		}
		s.log.Info("query", "client", q.client.String(), "proto", q.proto.Socket(), "transport", q.proto.String(), "name", name,
			"type", dns.TypeToString[q.msg.Qtype], "action", q.action.String(), "rcode", dns.RcodeToString[q.rcode],
			"duration", elapsed, "upstream", q.upstream, "endpoint", endpoint)
	}
}
