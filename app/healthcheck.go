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
	addr, ok := serverHTTP(fs, io, "healthcheck")
	if !ok {
		return 1
	}
	url := "http://" + addr + "/readyz"
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

// serverHTTP is where the running server's HTTP endpoints are: --http when
// the command has it and it is given, else http_listen (a wildcard made
// loopback). ok is false, with the reason on stderr, when there is none.
func serverHTTP(fs *pflag.FlagSet, io IO, cmd string) (string, bool) {
	if addr, _ := fs.GetString("http"); addr != "" {
		return addr, true
	}
	cfg, ok := load(fs, io)
	if !ok {
		return "", false
	}
	if cfg.HTTPListen == "" {
		fmt.Fprintf(io.Stderr, "%s: http_listen is off, nothing to ask\n", cmd)
		return "", false
	}
	return reachable(cfg.HTTPListen), true
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
