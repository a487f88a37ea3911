package main

import (
	"strings"
	"testing"
	"time"
)

// The summary takes each server's medians over its runs and judges them
// against the targets: CPU ≤ Unbound's, p50 ≤ Unbound's, p99 ≤ 1.1×.
func TestRateSummaryMediansAndTargets(t *testing.T) {
	runs := func(workload, server string, cpu, p50, p99 []float64) []rateRow {
		var rows []rateRow
		for i := range cpu {
			rows = append(rows, rateRow{workload: workload, server: server, rate: 10000, run: i + 1, cpuPct: cpu[i], p50: p50[i], p99: p99[i]})
		}
		return rows
	}
	var rows []rateRow
	// local: s3dns's medians 17 %, 30 µs, 110 µs against 18 %, 31 µs, 100 µs (p99 1.1×): met.
	rows = append(rows, runs("local", "s3dns", []float64{17, 30, 16}, []float64{30, 29, 90}, []float64{110, 500, 100})...)
	rows = append(rows, runs("local", "unbound", []float64{18, 19, 10}, []float64{31, 31, 31}, []float64{100, 90, 120})...)
	// mixed: CPU above Unbound's in the median only.
	rows = append(rows, runs("mixed", "s3dns", []float64{19, 21, 15}, []float64{30, 30, 30}, []float64{100, 100, 100})...)
	rows = append(rows, runs("mixed", "unbound", []float64{20, 18, 18}, []float64{30, 30, 30}, []float64{100, 100, 100})...)
	out := renderRates(rows, 5*time.Second)
	for _, want := range []string{
		"| local | 10000 | 17.0 / 18.0 | 0.94× | 30 / 31 | 110 / 100 | 1.10× | met |",
		"| mixed | 10000 | 19.0 / 18.0 | 1.06× | 30 / 30 | 100 / 100 | 1.00× | not met |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
