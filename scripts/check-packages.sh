#!/usr/bin/env bash
# Installs the release's .deb on this machine and checks it as an operator
# would meet it: the files in place, the unit valid for systemd, the shipped
# configuration valid for s3dns, the man page readable; the .rpm's contents
# match. CI runs it after scripts/release.sh (root; Debian with rpm).
set -euo pipefail
dist=${1:-dist}
deb=$(ls "$dist"/s3dns_*_amd64.deb)
rpm=$(ls "$dist"/s3dns-*.x86_64.rpm)

(cd "$dist" && sha256sum --check --quiet SHA256SUMS)
dpkg -i "$deb" >/dev/null
trap 'dpkg --purge s3dns >/dev/null' EXIT
for f in /usr/bin/s3dns /usr/lib/systemd/system/s3dns.service /etc/s3dns/s3dns.yaml \
	/usr/share/man/man8/s3dns.8.gz /usr/share/bash-completion/completions/s3dns; do
	[[ -e $f ]] || { echo "missing after dpkg -i: $f"; exit 1; }
done
s3dns version | grep -v '(devel)' | grep -q 'commit [0-9a-f]\{7\}' || { echo "not a release build: $(s3dns version)"; exit 1; }
systemd-analyze verify /usr/lib/systemd/system/s3dns.service
s3dns validate --config /etc/s3dns/s3dns.yaml >/dev/null
man -l /usr/share/man/man8/s3dns.8.gz 2>/dev/null | grep -q discover || { echo "man page unreadable"; exit 1; }

# The .rpm carries the same files.
diff <(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\.||' | sort) \
	<(rpm -qpl "$rpm" 2>/dev/null | grep -v '/$' | sort | while read -r f; do [[ -d $f ]] || echo "$f"; done) ||
	{ echo ".deb and .rpm differ"; exit 1; }
echo "packages OK: $(basename "$deb"), $(basename "$rpm")"
