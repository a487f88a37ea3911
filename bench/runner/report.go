package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// render prints every run and then, per workload, s3dns's CPU per query as
// a ratio to Unbound's (averaged over the runs).
func render(rows []row, mem string, duration time.Duration, reps int) string {
	var b strings.Builder
	if len(rows) == 0 { // -runs 0: only the fixed rates
		if mem != "" {
			fmt.Fprintf(&b, "%s\n", mem)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "## Results\n\n%s; %d runs of %v per workload and server; servers pinned to one CPU, dnsperf to the other.\n\n",
		machine(), reps, duration)
	fmt.Fprintf(&b, "| workload | server | run | QPS | server CPU µs/query | avg latency µs | p99 latency µs | lost | RSS MB |\n")
	fmt.Fprintf(&b, "|---|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %.2f | %.0f | %.0f | %d | %.0f |\n",
			r.workload, r.server, r.run, r.qps, r.cpuPerQuery, r.avg, r.p99, r.lost, r.rssMB)
	}
	fmt.Fprintf(&b, "\n| workload | s3dns CPU µs/query | Unbound CPU µs/query | s3dns ÷ Unbound | s3dns lost | s3dns p99 µs | Unbound p99 µs |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|\n")
	for _, w := range workloads {
		s, u := mean(rows, w.name, "s3dns"), mean(rows, w.name, "unbound")
		ratio := 0.0
		if u.cpuPerQuery > 0 {
			ratio = s.cpuPerQuery / u.cpuPerQuery
		}
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f× | %d | %.0f | %.0f |\n", w.name, s.cpuPerQuery, u.cpuPerQuery, ratio, s.lost, s.p99, u.p99)
	}
	if hasServer(rows, "s3dns+dnstap") {
		fmt.Fprintf(&b, "\n| workload | s3dns CPU µs/query | with dnstap (client messages to a file) | dnstap's cost µs/query |\n|---|---:|---:|---:|\n")
		for _, w := range workloads {
			s, d := mean(rows, w.name, "s3dns"), mean(rows, w.name, "s3dns+dnstap")
			fmt.Fprintf(&b, "| %s | %.2f | %.2f | %+.2f |\n", w.name, s.cpuPerQuery, d.cpuPerQuery, d.cpuPerQuery-s.cpuPerQuery)
		}
	}
	if mem != "" {
		fmt.Fprintf(&b, "\n%s\n", mem)
	}
	return b.String()
}

func hasServer(rows []row, server string) bool {
	for _, r := range rows {
		if r.server == server {
			return true
		}
	}
	return false
}

func mean(rows []row, workload, server string) row {
	var m row
	n := 0
	for _, r := range rows {
		if r.workload == workload && r.server == server {
			m.cpuPerQuery += r.cpuPerQuery
			m.p99 += r.p99
			m.lost += r.lost
			n++
		}
	}
	if n > 0 {
		m.cpuPerQuery /= float64(n)
		m.p99 /= float64(n)
	}
	return m
}

func machine() string {
	model := "unknown CPU"
	if out, err := exec.Command("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").Output(); err == nil {
		model = strings.TrimSpace(string(out))
	}
	cpus := "?"
	if out, err := exec.Command("nproc", "--all").Output(); err == nil {
		cpus = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%s, %s CPUs, s3dns built with %s", model, cpus, runtime.Version())
}

// renderRates prints the fixed-rate runs: server CPU (% of one core) and
// latency percentiles, s3dns beside Unbound; then, per workload and rate,
// the medians over the runs against issue 24's targets (CPU ≤ Unbound's,
// p50 ≤ Unbound's, p99 ≤ 1.1 × Unbound's).
func renderRates(rows []rateRow, duration time.Duration) string {
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n### Fixed rates (dnsperf -Q, -c 10 -q 100, %v per run)\n\n", duration)
	fmt.Fprintf(&b, "| workload | rate/s | server | run | CPU %% | answered/s | lost | p50 µs | p90 µs | p99 µs | p99.9 µs |\n")
	fmt.Fprintf(&b, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %.1f | %.0f | %d | %.0f | %.0f | %.0f | %.0f |\n",
			r.workload, r.rate, r.server, r.run, r.cpuPct, r.qps, r.lost, r.p50, r.p90, r.p99, r.p999)
	}
	fmt.Fprintf(&b, "\nMedians over the runs (s3dns / Unbound):\n\n")
	fmt.Fprintf(&b, "| workload | rate/s | CPU %% | CPU ratio | p50 µs | p99 µs | p99 ratio | targets |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---|\n")
	type key struct {
		workload string
		rate     int
	}
	var keys []key
	for _, r := range rows {
		if k := (key{r.workload, r.rate}); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		s := medianRate(rows, k.workload, k.rate, "s3dns")
		u := medianRate(rows, k.workload, k.rate, "unbound")
		if u.cpuPct == 0 || u.p99 == 0 {
			continue
		}
		cpuRatio, p99Ratio := s.cpuPct/u.cpuPct, s.p99/u.p99
		met := "met"
		if cpuRatio > 1 || s.p50 > u.p50 || p99Ratio > 1.1 {
			met = "not met"
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f / %.1f | %.2f× | %.0f / %.0f | %.0f / %.0f | %.2f× | %s |\n",
			k.workload, k.rate, s.cpuPct, u.cpuPct, cpuRatio, s.p50, u.p50, s.p99, u.p99, p99Ratio, met)
	}
	return b.String()
}

// medianRate is one server's median CPU %, p50 and p99 (each its own
// median) over its runs of a workload at a rate.
func medianRate(rows []rateRow, workload string, rate int, server string) rateRow {
	var cpu, p50, p99 []float64
	for _, r := range rows {
		if r.workload == workload && r.rate == rate && r.server == server {
			cpu, p50, p99 = append(cpu, r.cpuPct), append(p50, r.p50), append(p99, r.p99)
		}
	}
	return rateRow{workload: workload, server: server, rate: rate, cpuPct: median(cpu), p50: median(p50), p99: median(p99)}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
