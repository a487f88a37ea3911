package ops

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
)

// Admin is the running server's control, as rndc and unbound-control give
// theirs: flush the cache (one name or all), list what it holds, reload the
// configuration. Only clients in Allow may use it (loopback by default).
type Admin struct {
	Allow  []netip.Prefix
	Flush  func(name string) (int, error)
	Dump   func() any
	Reload func() error
	// Count is told every request: action (flush, dump, reload) and result
	// (ok, denied, error).
	Count func(action, result string)
	Log   *slog.Logger
}

// Admin paths.
const (
	PathFlush  = "/admin/cache/flush"
	PathDump   = "/admin/cache"
	PathReload = "/admin/reload"
)

func (a *Admin) register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PathFlush, a.guard("flush", func(w http.ResponseWriter, r *http.Request) error {
		name := r.URL.Query().Get("name")
		n, err := a.Flush(name)
		if err != nil {
			return err
		}
		a.Log.Info("admin: cache flushed", "name", name, "answers", n, "client", r.RemoteAddr)
		return writeJSON(w, map[string]any{"flushed": n, "name": name})
	}))
	mux.HandleFunc("GET "+PathDump, a.guard("dump", func(w http.ResponseWriter, r *http.Request) error {
		a.Log.Info("admin: cache dumped", "client", r.RemoteAddr)
		return writeJSON(w, map[string]any{"answers": a.Dump()})
	}))
	mux.HandleFunc("POST "+PathReload, a.guard("reload", func(w http.ResponseWriter, r *http.Request) error {
		a.Log.Info("admin: reload asked", "client", r.RemoteAddr)
		if err := a.Reload(); err != nil {
			return err
		}
		return writeJSON(w, map[string]any{"reloaded": true})
	}))
}

// guard admits only clients in Allow, and counts and answers every request.
func (a *Admin) guard(action string, do func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.allowed(r.RemoteAddr) {
			a.Count(action, "denied")
			a.Log.Warn("admin: refused a client outside http_admin_allow", "action", action, "client", r.RemoteAddr)
			http.Error(w, "forbidden: the admin paths answer only http_admin_allow", http.StatusForbidden)
			return
		}
		if err := do(w, r); err != nil {
			a.Count(action, "error")
			a.Log.Error("admin: failed", "action", action, "error", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.Count(action, "ok")
	}
}

func (a *Admin) allowed(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range a.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing the reply: %w", err)
	}
	return nil
}
