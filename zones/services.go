package zones

import (
	"fmt"
	"strings"

	"github.com/s3dns/s3dns/model"
)

// services matches the names of endpoints for services other than S3
// (sts.R, api.ecr.R, *.dkr.ecr.R …): exact names, and names with a leading
// "*." that stands for any one label. An exact name beats a wildcard.
type services struct {
	exact map[string]serviceRule // name without the final dot
	wild  map[string]serviceRule // the part after "*."
}

type serviceRule struct {
	rule
	zone string // fully qualified, for the SOA of negative answers
}

func newServices() services {
	return services{exact: map[string]serviceRule{}, wild: map[string]serviceRule{}}
}

// add indexes endpoint i's names; validation has made sure no two
// endpoints share one.
func (s services) add(e *model.Endpoint, i int) {
	for _, n := range e.Names {
		r := rule{endpoint: i, text: fmt.Sprintf("service %s: %q", e.Service, n)}
		if suffix, ok := strings.CutPrefix(n, "*."); ok {
			s.wild[suffix] = serviceRule{r, suffix + "."}
		} else {
			s.exact[n] = serviceRule{r, n + "."}
		}
	}
}

// match finds the endpoint for name (lower case, no final dot) and the zone
// its SOA is named after, without allocating.
func (s services) match(name string) (serviceRule, bool) {
	if len(s.exact) == 0 && len(s.wild) == 0 {
		return serviceRule{}, false
	}
	if r, ok := s.exact[name]; ok {
		return r, true
	}
	if dot := strings.IndexByte(name, '.'); dot > 0 {
		if r, ok := s.wild[name[dot+1:]]; ok {
			return r, true
		}
	}
	return serviceRule{}, false
}
