#!/usr/bin/env bash
# Benchmark s3dns against Unbound doing the same job, with dnsperf, and print
# one table (also written to bench/out/results.md). Loopback only; bounded in
# time (about 5 minutes with the defaults). Needs dnsperf, unbound, taskset:
#   apt-get install dnsperf unbound util-linux
# Extra arguments go to the runner: -duration 10s -runs 2 -fill 1000000, and for
# fixed rates -rates 10000,40000 -rate-runs 3 (bench/out/runner -h lists them all)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in dnsperf unbound taskset; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install dnsperf unbound util-linux)" >&2; exit 2; }
done
mkdir -p bench/out
CGO_ENABLED=0 go build -trimpath -o bench/out/s3dns ./cmd/s3dns
go build -o bench/out/runner ./bench/runner
# The runner (and the fake public DNS inside it) shares CPU 1 with dnsperf.
exec taskset -c 1 bench/out/runner "$@"
