package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
)

// fillCache sends n distinct names through s3dns once and reports its RSS
// with the cache that full.
func fillCache(dir string, s *server, n int, cpu string) (string, error) {
	file := filepath.Join(dir, "fill.txt")
	if err := writeLines(file, func(w *bufio.Writer) {
		for i := range n {
			fmt.Fprintf(w, "f%d.fill.example.com A\n", i)
		}
	}); err != nil {
		return "", err
	}
	r, err := dnsperf(s.addr, file, "udp", 0, 1, cpu, 0)
	if err != nil {
		return "", err
	}
	entries := "?"
	if resp, err := http.Get("http://" + s.http + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, "s3dns_cache_entries "); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					entries = strconv.FormatFloat(f, 'f', 0, 64)
				}
			}
		}
	}
	return fmt.Sprintf("Memory: after %d distinct names (%d answered, %d lost), s3dns holds %s cache entries (max_entries 1,000,000) in %.0f MB RSS.",
		n, r.completed, r.lost, entries, s.rssMB()), nil
}
