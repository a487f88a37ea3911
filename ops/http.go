// Package ops serves the operational HTTP endpoints: /metrics, /healthz and
// /readyz.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Readiness makes /readyz 200 only while nothing blocks it: the server is
// blocked while starting, while a forwarding loop is detected and while
// shutting down. The zero value is blocked by "starting".
type Readiness struct {
	mu       sync.Mutex
	started  bool
	blockers map[string]bool
}

// Block adds a reason not to be ready.
func (r *Readiness) Block(reason string) { r.set(reason, true) }

// Unblock removes a reason; "starting" is the one that Start-up removes.
func (r *Readiness) Unblock(reason string) { r.set(reason, false) }

func (r *Readiness) set(reason string, blocked bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	if blocked {
		r.blockers[reason] = true
	} else {
		delete(r.blockers, reason)
	}
}

func (r *Readiness) init() {
	if !r.started {
		r.started = true
		r.blockers = map[string]bool{"starting": true}
	}
}

// Blocked reports whether reason blocks readiness now.
func (r *Readiness) Blocked(reason string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	return r.blockers[reason]
}

// Ready reports whether nothing blocks readiness, and the reasons if some do.
func (r *Readiness) Ready() (bool, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	reasons := make([]string, 0, len(r.blockers))
	for k := range r.blockers {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	return len(reasons) == 0, reasons
}

// Handler returns the mux for the HTTP endpoints. status gives what GET
// /status shows as JSON under "endpoints" (endpoint health), sections the
// rest (where discovered data came from and its age, the policy audit): a
// section giving nil is left out. admin (nil: no admin paths) serves
// /admin/.
func Handler(gatherer prometheus.Gatherer, ready *Readiness, status func() any, sections map[string]func() any, admin *Admin) http.Handler {
	mux := http.NewServeMux()
	if admin != nil {
		admin.register(mux)
	}
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		body := map[string]any{"endpoints": status()}
		for name, section := range sections {
			if v := section(); v != nil {
				body[name] = v
			}
		}
		_ = enc.Encode(body)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ok, reasons := ready.Ready(); !ok {
			http.Error(w, "not ready: "+strings.Join(reasons, ", "), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Server is the running HTTP listener.
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// Start binds addr and serves h in the background.
func Start(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for HTTP: %w", addr, err)
	}
	s := &Server{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", "error", err)
		}
	}()
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.addr }

// Shutdown stops the HTTP server within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
