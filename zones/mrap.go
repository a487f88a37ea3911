package zones

import (
	"strings"

	"github.com/s3dns/s3dns/model"
)

// Multi-Region Access Points: <alias>.mrap.accesspoint.s3-global.amazonaws.com,
// answered by an endpoint of the global service com.amazonaws.s3-global.accesspoint.

// MRAPZone is the zone of every Multi-Region Access Point name, without the
// final dot: the one export forwards.
const MRAPZone = "accesspoint.s3-global.amazonaws.com"

const mrapSuffix = ".mrap." + MRAPZone

// matchMRAP decides a name (lower case, no final dot) under mrapSuffix.
func (m *Matcher) matchMRAP(name string, explain bool) (Match, string, bool) {
	alias, _ := strings.CutSuffix(name, mrapSuffix)
	if alias == "" || strings.Contains(alias, ".") {
		return Match{}, "not a Multi-Region Access Point name (<alias>.mrap.accesspoint.s3-global.amazonaws.com)", false
	}
	idx, rule, ok := m.mraps.match(alias)
	if !ok {
		return Match{}, say(explain, "Multi-Region Access Point ", alias, " is not listed (mraps of an endpoint with service: ", model.ServiceMRAP, ")"), false
	}
	return Match{Endpoint: &m.endpoints[idx], Index: idx, Rule: rule, Zone: MRAPZone + "."}, "", true
}
