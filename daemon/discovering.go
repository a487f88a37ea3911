package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/s3dns/s3dns/discovery"
	"github.com/s3dns/s3dns/model"
)

// discovering is the daemon's running endpoint discovery.
type discovering struct {
	refresher *discovery.Refresher
	key       string // what it was made from: a reload keeps it while equal
	stop      context.CancelFunc
}

// discoveryKey is what a refresher depends on in cfg.
func discoveryKey(cfg *model.Config) string {
	key := fmt.Sprintf("%+v %+v", cfg.AWS, cfg.Discovery)
	for _, e := range cfg.Endpoints {
		if e.VPCEndpointID != "" {
			key += fmt.Sprintf(" %s=%s/%s/%s", e.Name, e.VPCEndpointID, e.Region, e.Service)
		}
	}
	return key
}

// startDiscovery (re)starts discovery for cfg when what it depends on
// changed, keeping what the previous refresher knew. It runs in the
// background and never delays answering; d.mu is held.
func (d *daemon) startDiscovery(ctx context.Context, cfg *model.Config) {
	key := discoveryKey(cfg)
	old := d.discovery.Load()
	if old != nil && old.key == key {
		return
	}
	var previous *discovery.Refresher
	if old != nil {
		old.stop() // not waited for here: its last change may be waiting for d.mu
		previous = old.refresher
	}
	if !cfg.Discovers() {
		d.discovery.Store(nil)
		return
	}
	run := &discovering{key: key}
	run.refresher = discovery.NewRefresher(cfg, discovery.Options{
		Log:      d.log,
		OnError:  func(name string) { d.discoveryErrors.WithLabelValues(name).Inc() },
		OnChange: func() { d.applyDiscovered(run) },
	}, previous)
	ctx, run.stop = context.WithCancel(ctx)
	d.discovery.Store(run)
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		run.refresher.Run(ctx)
	}()
}

// applyDiscovered puts changed discovery data in use, as a reload of the
// same file would.
func (d *daemon) applyDiscovered(run *discovering) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.discovery.Load() != run || d.lifetime.Err() != nil {
		return // replaced by a reload meanwhile, or shutting down
	}
	d.swapState(d.cfg, d.resolver.Load())
}

// withDiscovered is cfg with what discovery found filled in.
func (d *daemon) withDiscovered(cfg *model.Config) *model.Config {
	if run := d.discovery.Load(); run != nil {
		return discovery.Fill(cfg, run.refresher.Found())
	}
	return cfg
}

// discoveryFromStateFile feeds s3dns_discovery_from_state_file.
func (d *daemon) discoveryFromStateFile() map[string]bool {
	if run := d.discovery.Load(); run != nil {
		return run.refresher.FromStateFile()
	}
	return nil
}

// discoverySources is what /status says of discovery.
func (d *daemon) discoverySources() []discovery.Source {
	if run := d.discovery.Load(); run != nil {
		return run.refresher.Sources()
	}
	return nil
}

// discoveryAges feeds s3dns_discovery_age_seconds.
func (d *daemon) discoveryAges() map[string]time.Duration {
	if run := d.discovery.Load(); run != nil {
		return run.refresher.Ages()
	}
	return nil
}
