package app

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/pflag"
)

// healthcheck asks the running server's /readyz, for container health
// checks in images without a shell or curl.
func healthcheck(fs *pflag.FlagSet, io IO) int {
	cfg, ok := load(fs, io)
	if !ok {
		return 1
	}
	if cfg.HTTPListen == "" {
		fmt.Fprintln(io.Stderr, "healthcheck: http_listen is off, nothing to ask")
		return 1
	}
	url := "http://" + reachable(cfg.HTTPListen) + "/readyz"
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(io.Stderr, "healthcheck: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(io.Stderr, "healthcheck: %s answered %s\n", url, resp.Status)
		return 1
	}
	fmt.Fprintf(io.Stdout, "ready (%s)\n", url)
	return 0
}

// reachable turns a wildcard listen address into a loopback one to dial.
func reachable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
