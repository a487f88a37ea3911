package main

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

type perfResult struct {
	completed, lost int
	runtime         float64
	latencies       []float64 // seconds, one per response
}

// dnsperf runs dnsperf pinned to cpu against addr, for duration (or, when
// duration is 0, through the file n times), and reads every latency. With
// rate > 0 it sends at that many queries per second (-Q), from 10 clients
// with 100 queries outstanding at most, as a light load does.
func dnsperf(addr, file, mode string, duration time.Duration, n int, cpu string, rate int) (perfResult, error) {
	host, port, _ := net.SplitHostPort(addr)
	args := []string{"-c", cpu, "dnsperf", "-s", host, "-p", port, "-d", file, "-m", mode, "-t", "2", "-v"}
	if mode == "doh" {
		args = append(args, "-O", "doh-uri=https://"+addr+"/dns-query", "-O", "doh-method=POST")
	}
	if rate > 0 {
		args = append(args, "-c", "10", "-q", "100", "-Q", strconv.Itoa(rate))
	} else {
		args = append(args, "-c", "8", "-q", "200")
	}
	if duration > 0 {
		args = append(args, "-l", strconv.Itoa(int(duration.Seconds())))
	} else {
		args = append(args, "-n", strconv.Itoa(n))
	}
	cmd := exec.Command("taskset", args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return perfResult{}, err
	}
	if err := cmd.Start(); err != nil {
		return perfResult{}, err
	}
	var r perfResult
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "> "):
			f := strings.Fields(line)
			if lat, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				r.latencies = append(r.latencies, lat)
			}
		case strings.Contains(line, "Queries completed:"):
			r.completed = firstInt(line)
		case strings.Contains(line, "Queries lost:"):
			r.lost = firstInt(line)
		case strings.Contains(line, "Run time (s):"):
			f := strings.Fields(line)
			r.runtime, _ = strconv.ParseFloat(f[len(f)-1], 64)
		}
	}
	if err := cmd.Wait(); err != nil {
		return r, fmt.Errorf("dnsperf: %w", err)
	}
	return r, nil
}

func firstInt(line string) int {
	for _, f := range strings.Fields(line[strings.IndexByte(line, ':')+1:]) {
		if n, err := strconv.Atoi(f); err == nil {
			return n
		}
	}
	return 0
}

// percentile is the latency (seconds) below which share of the answers
// came; latencies must be sorted (avgAndP99 sorts them).
func (r perfResult) percentile(share float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*share))]
}

func (r perfResult) avgAndP99() (avg, p99 float64) {
	if len(r.latencies) == 0 {
		return 0, 0
	}
	sum := 0.0
	for _, l := range r.latencies {
		sum += l
	}
	slices.Sort(r.latencies)
	return sum / float64(len(r.latencies)), r.latencies[len(r.latencies)*99/100]
}

type row struct {
	workload, server string
	run              int
	qps, cpuPerQuery float64
	avg, p99         float64 // µs
	lost             int
	rssMB            float64
}

// measure runs one timed dnsperf against s and reads its CPU time around it.
func measure(s *server, w workload, file string, duration time.Duration, cpu string) (row, error) {
	before, err := s.cpuSeconds()
	if err != nil {
		return row{}, err
	}
	r, err := dnsperf(s.addrFor(w.mode), file, w.mode, duration, 0, cpu, 0)
	if err != nil {
		return row{}, err
	}
	after, err := s.cpuSeconds()
	if err != nil {
		return row{}, err
	}
	avg, p99 := r.avgAndP99()
	out := row{workload: w.name, server: s.name, lost: r.lost, rssMB: s.rssMB(), avg: avg * 1e6, p99: p99 * 1e6}
	if r.completed > 0 && r.runtime > 0 {
		out.qps = float64(r.completed) / r.runtime
		out.cpuPerQuery = (after - before) * 1e6 / float64(r.completed)
	}
	return out, nil
}

// rateRow is one fixed-rate run: server CPU as a share of one core over the
// run (its rusage in /proc), what was answered, and latency percentiles.
type rateRow struct {
	workload, server    string
	rate, run           int
	cpuPct, qps         float64
	lost                int
	p50, p90, p99, p999 float64 // µs
}

// measureRate runs one fixed-rate dnsperf against s.
func measureRate(s *server, w workload, file string, duration time.Duration, cpu string, rate int) (rateRow, error) {
	before, err := s.cpuSeconds()
	if err != nil {
		return rateRow{}, err
	}
	r, err := dnsperf(s.addrFor(w.mode), file, w.mode, duration, 0, cpu, rate)
	if err != nil {
		return rateRow{}, err
	}
	after, err := s.cpuSeconds()
	if err != nil {
		return rateRow{}, err
	}
	r.avgAndP99() // sorts
	out := rateRow{workload: w.name, server: s.name, rate: rate, lost: r.lost,
		p50: r.percentile(.5) * 1e6, p90: r.percentile(.9) * 1e6, p99: r.percentile(.99) * 1e6, p999: r.percentile(.999) * 1e6}
	if r.runtime > 0 {
		out.qps = float64(r.completed) / r.runtime
		out.cpuPct = (after - before) / r.runtime * 100
	}
	return out, nil
}
