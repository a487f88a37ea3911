package dnstest

import (
	"flag"
	"strconv"
	"testing"
)

// waitingTests is how many parallel tests run at once unless -parallel
// says otherwise: the parallel tests here mostly wait (timeouts, idle
// clocks, an upstream that stays silent), so more of them than there are
// CPUs finish sooner without competing for them.
const waitingTests = 8

// RunTests runs a package's tests (from TestMain) with up to waitingTests
// parallel tests at once, unless -parallel is given, and returns the exit
// code.
func RunTests(m *testing.M) int {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(waitingTests))
	}
	return m.Run()
}
