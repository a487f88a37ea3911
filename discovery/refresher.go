package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/s3dns/s3dns/config"
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

// known is the last good data of one endpoint and when it was fetched.
type known struct {
	Endpoint
	at time.Time
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

	mu    sync.Mutex
	known map[string]known // by endpoint id
}

// NewRefresher prepares refreshing cfg's endpoints that have a
// vpc_endpoint_id, starting from what previous knows of the same ids
// (previous may be nil).
func NewRefresher(cfg *config.Config, opts Options, previous *Refresher) *Refresher {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	r := &Refresher{settings: Settings{Region: cfg.AWS.Region, Profile: cfg.AWS.Profile, EndpointURL: cfg.AWS.EndpointURL},
		interval: cfg.Discovery.Interval, opts: opts, now: time.Now, clients: map[string]*Client{}, known: map[string]known{}}
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
	return r
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
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		r.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Refresh asks EC2 once about every endpoint, region by region.
func (r *Refresher) Refresh(ctx context.Context) {
	byRegion := map[string][]target{}
	for _, t := range r.targets {
		byRegion[t.region] = append(byRegion[t.region], t)
	}
	changed := false
	for region, targets := range byRegion {
		found, err := r.describe(ctx, region, targets)
		if ctx.Err() != nil {
			return // stopping: an interrupted call is no failure
		}
		for _, t := range targets {
			e, ok := found[t.id]
			switch {
			case err != nil:
				r.failed(t, err)
			case !ok:
				r.failed(t, fmt.Errorf("EC2 lists no interface endpoint %s in %s", t.id, region))
			case e.Service != t.service:
				r.failed(t, fmt.Errorf("%s is an endpoint of %s, not of service %q as configured", t.id, e.ServiceName, t.service))
			case e.State != "available":
				r.failed(t, fmt.Errorf("%s is %s, not available", t.id, e.State))
			default:
				changed = r.store(t, e) || changed
			}
		}
	}
	if changed && r.opts.OnChange != nil {
		r.opts.OnChange()
	}
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
	r.known[t.id] = known{Endpoint: e, at: r.now()}
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
