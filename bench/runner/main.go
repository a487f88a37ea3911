// Command runner benchmarks s3dns against Unbound doing the same job, with
// dnsperf, and prints one table. bench/run.sh builds and starts it pinned
// to CPU 1; the servers run pinned to CPU 0. Everything stays on loopback.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

const vpce = "vpce-0a1b2c3d4e5f67890-abcdefgh.s3.eu-west-2.vpce.amazonaws.com."

func main() {
	out := flag.String("out", "bench/out", "working directory for configs, query files and results")
	bin := flag.String("s3dns", "bench/out/s3dns", "the s3dns binary")
	duration := flag.Duration("duration", 10*time.Second, "length of each dnsperf run")
	reps := flag.Int("runs", 2, "runs per workload and server")
	fill := flag.Int("fill", 1_000_000, "names to fill s3dns's cache with for the memory check (0: skip)")
	serverCPU := flag.String("server-cpu", "0", "CPU the servers are pinned to")
	clientCPU := flag.String("client-cpu", "1", "CPU dnsperf is pinned to")
	only := flag.String("only", "", "run only these workloads (comma-separated: local, forward-hit, mixed, miss-heavy, tcp)")
	withDnstap := flag.Bool("dnstap", false, "also measure s3dns writing dnstap CLIENT_QUERY/RESPONSE to a file")
	rates := flag.String("rates", "", "also run the cached workloads at these fixed rates (queries/s, comma-separated, e.g. 10000,40000)")
	flag.IntVar(&rateRuns, "rate-runs", 1, "runs per fixed rate, workload and server, the servers taking turns (the summary gives medians)")
	flag.IntVar(&missRate, "miss-rate", 0, "also run miss-heavy at this fixed rate (queries/s; e.g. half of its saturating rate)")
	flag.BoolVar(&largeConfig, "large", false, "list 100,000 more exact buckets and 2,000 globs in s3dns's configuration")
	flag.BoolVar(&withSites, "sites", false, "configure s3dns with three sites, dnsperf's address in the last (the per-site path)")
	flag.StringVar(&upstreamKind, "upstream", "fake", "the public DNS both servers forward to: fake (a Go server in the runner, on dnsperf's CPU) or nsd (NSD, on dnsperf's CPU)")
	flag.Parse()
	if *only != "" {
		var kept []workload
		for _, w := range workloads {
			if slices.Contains(strings.Split(*only, ","), w.name) {
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			fmt.Fprintf(os.Stderr, "bench: no workload %q\n", *only)
			os.Exit(2)
		}
		workloads = kept
	}
	if upstreamKind != "fake" && upstreamKind != "nsd" {
		fmt.Fprintf(os.Stderr, "bench: -upstream: %q is neither fake nor nsd\n", upstreamKind)
		os.Exit(2)
	}
	if rateRuns < 1 {
		fmt.Fprintf(os.Stderr, "bench: -rate-runs: %d is not a number of runs (1 or more)\n", rateRuns)
		os.Exit(2)
	}
	for _, r := range strings.Split(*rates, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(r)); err == nil && n > 0 {
			fixedRates = append(fixedRates, n)
		} else if strings.TrimSpace(r) != "" {
			fmt.Fprintf(os.Stderr, "bench: -rates: %q is not a number of queries per second\n", r)
			os.Exit(2)
		}
	}
	if err := run(*out, *bin, *duration, *reps, *fill, *serverCPU, *clientCPU, *withDnstap); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// fixedRates (-rates) are the light loads the cached workloads also run at;
// rateRuns (-rate-runs) how often each runs; missRate (-miss-rate), when not
// 0, the rate miss-heavy also runs at.
var (
	fixedRates   []int
	rateRuns     int
	missRate     int
	upstreamKind string
)

func run(out, bin string, duration time.Duration, reps, fill int, serverCPU, clientCPU string, withDnstap bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	out, _ = filepath.Abs(out)
	public, err := startPublicDNS(out, clientCPU)
	if err != nil {
		return err
	}
	defer public.stop()
	files, err := writeQueryFiles(out)
	if err != nil {
		return err
	}
	s3dns, err := startS3dns(out, bin, public.addr, serverCPU, "s3dns")
	if err != nil {
		return err
	}
	defer s3dns.stop()
	unbound, err := startUnbound(out, public.addr, serverCPU)
	if err != nil {
		return err
	}
	defer unbound.stop()
	servers := []*server{s3dns, unbound}
	if withDnstap {
		tapped, err := startS3dns(out, bin, public.addr, serverCPU, "s3dns+dnstap",
			"--dnstap-file", filepath.Join(out, "bench.dnstap"), "--dnstap-messages", "client_query,client_response")
		if err != nil {
			return err
		}
		defer tapped.stop()
		servers = append(servers, tapped)
	}
	for _, s := range servers {
		if err := s.checkAnswers(); err != nil {
			return fmt.Errorf("%s gives wrong answers: %w", s.name, err)
		}
		for _, w := range workloads {
			file := files[w.file]
			if w.name == "miss-heavy" {
				// Misses too: the first measured run used to meet a cold
				// upstream (the fake, in this process) and a cold full path,
				// and it was always s3dns's (runs 1 at 2 s measured 50–60 µs
				// a miss against 40–48 µs later).
				var err error
				if file, err = writeWarmMissFile(out, s.name); err != nil {
					return err
				}
			}
			if _, err := dnsperf(s.addrFor(w.mode), file, w.mode, 0, 1, clientCPU, 0); err != nil {
				return fmt.Errorf("warming %s: %w", s.name, err)
			}
		}
	}
	var rows []row
	missRun := 0
	for _, w := range workloads {
		for rep := 1; rep <= reps; rep++ {
			for _, s := range servers {
				file := files[w.file]
				if w.name == "miss-heavy" {
					missRun++
					if file, err = writeMissFile(out, missRun); err != nil {
						return err
					}
				}
				r, err := measure(s, w, file, duration, clientCPU)
				if err != nil {
					return err
				}
				r.run = rep
				rows = append(rows, r)
				fmt.Fprintf(os.Stderr, "%-12s %-8s run %d: %8.0f qps, %5.2f µs CPU/query\n", w.name, s.name, rep, r.qps, r.cpuPerQuery)
			}
		}
	}
	var rateRows []rateRow
	for _, rate := range fixedRates {
		for _, w := range workloads {
			if w.name == "miss-heavy" || w.mode != "udp" {
				continue // fixed rates are about cached answers over UDP
			}
			// The servers take turns, so that a noisy moment of the machine
			// falls on both rather than on one server's every run.
			for rep := 1; rep <= rateRuns; rep++ {
				for _, s := range servers {
					r, err := measureRate(s, w, files[w.file], duration, clientCPU, rate)
					if err != nil {
						return err
					}
					r.run = rep
					rateRows = append(rateRows, r)
					fmt.Fprintf(os.Stderr, "%-12s %-8s at %d/s run %d: %5.1f %% CPU, p50 %.0f µs, p99 %.0f µs\n", w.name, s.name, rate, rep, r.cpuPct, r.p50, r.p99)
				}
			}
		}
	}
	for _, w := range workloads {
		if w.name != "miss-heavy" || missRate <= 0 {
			continue
		}
		for _, s := range servers {
			missRun++
			file, err := writeMissFile(out, missRun)
			if err != nil {
				return err
			}
			r, err := measureRate(s, w, file, duration, clientCPU, missRate)
			if err != nil {
				return err
			}
			rateRows = append(rateRows, r)
			fmt.Fprintf(os.Stderr, "%-12s %-8s at %d/s: %5.1f %% CPU, p50 %.0f µs, p99 %.0f µs\n", w.name, s.name, missRate, r.cpuPct, r.p50, r.p99)
		}
	}
	mem := ""
	if fill > 0 {
		if mem, err = fillCache(out, s3dns, fill, clientCPU); err != nil {
			return err
		}
	}
	table := render(rows, mem, duration, reps) + renderRates(rateRows, duration)
	fmt.Print(table)
	return os.WriteFile(filepath.Join(out, "results.md"), []byte(table), 0o644)
}

// publicDNS is the upstream both servers forward to.
type publicDNS struct {
	addr string
	stop func()
}

// startPublicDNS starts what -upstream names: the Go fake in this process,
// or NSD pinned to dnsperf's CPU.
func startPublicDNS(out, cpu string) (*publicDNS, error) {
	if upstreamKind == "nsd" {
		n, err := startNSD(out, cpu)
		if err != nil {
			return nil, err
		}
		return &publicDNS{addr: n.addr, stop: n.stop}, nil
	}
	f, err := startFakeDNS(vpce)
	if err != nil {
		return nil, err
	}
	return &publicDNS{addr: f.addr, stop: f.stop}, nil
}
