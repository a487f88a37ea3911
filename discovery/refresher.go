package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/s3dns/s3dns/model"
)

// callTimeout bounds one round of API calls for one region: the data in
// use stays while the API is slow.
const callTimeout = 30 * time.Second

// Options are a Refresher's hooks; every one may be nil.
type Options struct {
	Log *slog.Logger
	// OnError is called once per endpoint whose refresh failed.
	OnError func(name string)
	// OnChange is called after a refresh changed what is known.
	OnChange func()
}

// target is one endpoint a configuration gives by id.
type target struct {
	name, id, region, service string
}

// known is the last good data of one endpoint, when it was fetched, and
// from where (FromEC2, or FromStateFile until EC2 answers).
type known struct {
	Endpoint
	at   time.Time
	from string
}

// Refresher keeps what EC2 says about a configuration's endpoints current:
// it asks at once and then every interval, never blocks the caller, and
// keeps the last good data of an endpoint when a refresh fails.
type Refresher struct {
	settings Settings
	interval time.Duration
	targets  []target
	opts     Options
	now      func() time.Time
	clients  map[string]*Client // by region; made on first use
	// stateFile keeps the last good data across restarts ("": none).
	stateFile string
	failures  int // rounds in a row with a failure: the retry backs off

	mu    sync.Mutex
	known map[string]known // by endpoint id
}

// NewRefresher prepares refreshing cfg's endpoints that have a
// vpc_endpoint_id, starting from what previous knows of the same ids
// (previous may be nil).
func NewRefresher(cfg *model.Config, opts Options, previous *Refresher) *Refresher {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	r := &Refresher{settings: Settings{Region: cfg.AWS.Region, Profile: cfg.AWS.Profile, EndpointURL: cfg.AWS.EndpointURL},
		interval: cfg.Discovery.Interval, opts: opts, now: time.Now, clients: map[string]*Client{}, known: map[string]known{},
		stateFile: cfg.Discovery.StateFile}
	for _, e := range cfg.Endpoints {
		if e.VPCEndpointID == "" {
			continue
		}
		r.targets = append(r.targets, target{name: e.Name, id: e.VPCEndpointID, region: e.Region, service: e.Service})
		if previous != nil {
			if k, ok := previous.lookup(e.VPCEndpointID); ok {
				r.known[e.VPCEndpointID] = k
			}
		}
	}
	if previous == nil {
		r.loadState()
	}
	return r
}

// loadState starts from the state file's data for the endpoints it knows
// (of the configured service), until EC2 answers.
func (r *Refresher) loadState() {
	if r.stateFile == "" {
		return
	}
	saved, err := readState(r.stateFile)
	if err != nil {
		r.opts.Log.Warn("discovery state file unreadable: starting without it", "file", r.stateFile, "error", err)
		return
	}
	for _, t := range r.targets {
		s, ok := saved[t.id]
		if !ok || s.Endpoint.Service != t.service {
			continue
		}
		r.known[t.id] = known{Endpoint: s.Endpoint, at: s.DiscoveredAt, from: FromStateFile}
		r.opts.Log.Info("endpoint from the discovery state file until EC2 answers", "endpoint", t.name, "id", t.id,
			"file", r.stateFile, "age", r.now().Sub(s.DiscoveredAt).Round(time.Second), "hostname", s.Endpoint.Hostname,
			"addresses", s.Endpoint.Addresses)
	}
}

// saveState writes what is known to the state file.
func (r *Refresher) saveState() {
	if r.stateFile == "" {
		return
	}
	r.mu.Lock()
	saved := make(map[string]savedState, len(r.known))
	for id, k := range r.known {
		saved[id] = savedState{Endpoint: k.Endpoint, DiscoveredAt: k.at}
	}
	r.mu.Unlock()
	if err := writeState(r.stateFile, saved); err != nil {
		r.opts.Log.Error("discovery state file not written: a restart while EC2 cannot be reached answers from older data",
			"file", r.stateFile, "error", err)
	}
}

func (r *Refresher) lookup(id string) (known, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.known[id]
	return k, ok
}

// Run refreshes at once and then every interval until ctx ends.
func (r *Refresher) Run(ctx context.Context) {
	if len(r.targets) == 0 {
		return
	}
	for {
		r.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.nextWait()):
		}
	}
}

// Bounds of the retry after a failed round.
const (
	retryFirst = 2 * time.Second
	retryMax   = time.Minute
)

// nextWait is how long until the next round: the interval after a good
// one; after failures (throttling, an unreachable API) sooner, doubling
// from retryFirst up to the interval (at most retryMax), so that a start
// during an outage picks up EC2's data soon after it returns without
// hammering a throttled API. Each wait is jittered (the half to the whole
// of it), so that many instances do not ask in step.
func (r *Refresher) nextWait() time.Duration {
	wait := r.interval
	if r.failures > 0 {
		wait = min(r.interval, retryMax, retryFirst<<min(r.failures-1, 10))
	}
	return wait/2 + rand.N(wait/2+1)
}

// Refresh asks EC2 once about every endpoint, region by region.
func (r *Refresher) Refresh(ctx context.Context) {
	byRegion := map[string][]target{}
	for _, t := range r.targets {
		region := t.region
		if region == "" { // a global service: asked where aws.region says
			region = r.settings.Region
		}
		byRegion[region] = append(byRegion[region], t)
	}
	changed, good, bad := false, false, false
	for region, targets := range byRegion {
		found, err := r.describe(ctx, region, targets)
		if ctx.Err() != nil {
			return // stopping: an interrupted call is no failure
		}
		// A cross-Region endpoint (and a global service's) lives in a VPC
		// of another region than the service's: aws.region's.
		if missing := notFound(targets, found); err == nil && len(missing) > 0 && r.settings.Region != "" && r.settings.Region != region {
			more, err2 := r.describe(ctx, r.settings.Region, missing)
			if ctx.Err() != nil {
				return
			}
			if err2 == nil {
				maps.Copy(found, more)
			}
		}
		for _, t := range targets {
			e, ok := found[t.id]
			switch {
			case err != nil:
				r.failed(t, err)
			case !ok:
				r.failed(t, fmt.Errorf("EC2 lists no interface endpoint %s in %s%s", t.id, region, alsoAsked(r.settings.Region, region)))
			case e.Service != t.service:
				r.failed(t, fmt.Errorf("%s is an endpoint of %s, not of service %q as configured", t.id, e.ServiceName, t.service))
			case e.Region != t.region:
				r.failed(t, fmt.Errorf("%s serves %s names, not %q as endpoints[].region says", t.id, orGlobal(e.Region), t.region))
			case e.State != "available":
				r.failed(t, fmt.Errorf("%s is %s, not available", t.id, e.State))
			default:
				changed = r.store(t, e) || changed
				good = true
				continue
			}
			bad = true
		}
	}
	if bad {
		r.failures++
	} else {
		r.failures = 0
	}
	if good {
		r.saveState()
	}
	if changed && r.opts.OnChange != nil {
		r.opts.OnChange()
	}
}

func orGlobal(region string) string {
	if region == "" {
		return "global"
	}
	return region
}

// alsoAsked names the VPC's region when it was asked too.
func alsoAsked(vpcRegion, region string) string {
	if vpcRegion == "" || vpcRegion == region {
		return ""
	}
	return " or " + vpcRegion + " (aws.region)"
}

// notFound are the targets found does not hold.
func notFound(targets []target, found map[string]Endpoint) []target {
	var out []target
	for _, t := range targets {
		if _, ok := found[t.id]; !ok {
			out = append(out, t)
		}
	}
	return out
}

func (r *Refresher) describe(ctx context.Context, region string, targets []target) (map[string]Endpoint, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c := r.clients[region]
	if c == nil {
		s := r.settings
		s.Region = region
		var err error
		if c, err = NewClient(ctx, s); err != nil {
			return nil, err
		}
		r.clients[region] = c
	}
	ids := make([]string, len(targets))
	for i, t := range targets {
		ids[i] = t.id
	}
	list, err := c.Endpoints(ctx, Query{IDs: ids})
	if err != nil {
		return nil, err
	}
	out := map[string]Endpoint{}
	for _, e := range list {
		out[e.ID] = e
	}
	return out, nil
}

// store records good data and reports whether answers change with it.
func (r *Refresher) store(t target, e Endpoint) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, had := r.known[t.id]
	r.known[t.id] = known{Endpoint: e, at: r.now(), from: FromEC2}
	if had && old.from == FromStateFile {
		r.opts.Log.Info("endpoint confirmed by EC2; the state file's data is replaced", "endpoint", t.name, "id", t.id,
			"unchanged", old.Equal(&e))
		return !old.Equal(&e)
	}
	if !had {
		r.opts.Log.Info("endpoint discovered", "endpoint", t.name, "id", t.id, "hostname", e.Hostname,
			"addresses", e.Addresses, "zones", e.Zones)
		return true
	}
	if old.Equal(&e) {
		return false
	}
	r.opts.Log.Info("endpoint changed in EC2; answers follow", "endpoint", t.name, "id", t.id, "hostname", e.Hostname,
		"addresses", e.Addresses, "zones", e.Zones, "previous_addresses", old.Addresses)
	return true
}

func (r *Refresher) failed(t target, err error) {
	if r.opts.OnError != nil {
		r.opts.OnError(t.name)
	}
	msg := "endpoint discovery failed; answering from the last good data"
	if _, ok := r.lookup(t.id); !ok {
		msg = "endpoint discovery failed; nothing discovered yet, answering from the configured data"
	}
	r.opts.Log.Error(msg, "endpoint", t.name, "id", t.id, "error", err)
}

// Found is the last good data by endpoint id.
func (r *Refresher) Found() map[string]Endpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Endpoint, len(r.known))
	for id, k := range r.known {
		out[id] = k.Endpoint
	}
	return out
}

// Sources says, for each endpoint with data, where it came from and how
// old it is (for /status).
func (r *Refresher) Sources() []Source {
	r.mu.Lock()
	known := maps.Clone(r.known)
	r.mu.Unlock()
	var out []Source
	now := r.now()
	for _, t := range r.targets {
		if k, ok := known[t.id]; ok {
			out = append(out, Source{Endpoint: t.name, ID: t.id, From: k.from, Age: now.Sub(k.at), Region: k.Region, VPCRegion: k.VPCRegion})
		}
	}
	return out
}

// FromStateFile says, by endpoint name, whether the data in use came from
// the state file and EC2 has not confirmed it yet.
func (r *Refresher) FromStateFile() map[string]bool {
	out := map[string]bool{}
	for _, s := range r.Sources() {
		out[s.Endpoint] = s.From == FromStateFile
	}
	return out
}

// Ages says how old the data in use is, by endpoint name; endpoints with
// no data yet are absent.
func (r *Refresher) Ages() map[string]time.Duration {
	r.mu.Lock()
	known := maps.Clone(r.known)
	r.mu.Unlock()
	out := map[string]time.Duration{}
	now := r.now()
	for _, t := range r.targets {
		if k, ok := known[t.id]; ok {
			out[t.name] = now.Sub(k.at)
		}
	}
	return out
}
