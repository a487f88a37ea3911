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
# Versions both package managers take: dpkg's own syntax check, and rpm's
# rule that a version holds no "-".
debversion=$(dpkg-deb -f "$deb" Version)
dpkg --compare-versions "$debversion" gt 0 || { echo "dpkg does not take version $debversion"; exit 1; }
rpmversion=$(rpm -qp --queryformat '%{VERSION}' "$rpm" 2>/dev/null)
[[ -n $rpmversion && $rpmversion != *-* ]] || { echo "rpm version $rpmversion holds a hyphen"; exit 1; }
# An archive per binary, with the licence beside it. (No grep -q after a
# pipe here: it would stop reading early, and pipefail would fail the pipe.)
for bin in "$dist"/s3dns_*_linux_* "$dist"/s3dns_*_windows_*.exe; do
	[[ -e $bin && $bin != *.tar.gz && $bin != *.zip ]] || continue
	base=$(basename "$bin" .exe)
	if [[ $bin == *.exe ]]; then
		unzip -l "$dist/$base.zip" | grep "$base/LICENSE" >/dev/null || { echo "$base.zip lacks LICENSE"; exit 1; }
	else
		tar -tzf "$dist/$base.tar.gz" | grep -x "$base/LICENSE" >/dev/null || { echo "$base.tar.gz lacks LICENSE"; exit 1; }
	fi
done
dpkg -i "$deb" >/dev/null
trap 'dpkg --purge s3dns >/dev/null' EXIT
for f in /usr/bin/s3dns /usr/lib/systemd/system/s3dns.service /etc/s3dns/s3dns.yaml \
	/usr/share/man/man8/s3dns.8.gz /usr/share/man/man5/s3dns.yaml.5.gz /usr/share/bash-completion/completions/s3dns \
	/usr/share/doc/s3dns/copyright /usr/share/doc/s3dns/runbook.md /usr/share/doc/s3dns/operations.md; do
	[[ -e $f ]] || { echo "missing after dpkg -i: $f"; exit 1; }
done
s3dns version | grep -v '(devel)' | grep -q 'commit [0-9a-f]\{7\}' || { echo "not a release build: $(s3dns version)"; exit 1; }
systemd-analyze verify /usr/lib/systemd/system/s3dns.service
s3dns validate --config /etc/s3dns/s3dns.yaml >/dev/null
# The installed binary on the installed configuration, as the unit's
# ExecStart runs it, answering on both of its listen addresses (0.0.0.0:53
# and [::]:53): in a network namespace of its own, loopback only, so that
# port 53 is free and the shipped upstreams (10.0.0.2, 10.0.0.3) are
# unreachable: nothing leaves the machine. The listed bucket is answered
# from the endpoint's static addresses once its hostname cannot be resolved.
unshare --net bash -euo pipefail -c '
	ip link set lo up
	/usr/bin/s3dns serve --config /etc/s3dns/s3dns.yaml 2>/tmp/s3dns-package.log &
	pid=$!
	trap "kill \$pid 2>/dev/null; wait \$pid 2>/dev/null || true" EXIT
	for _ in $(seq 100); do
		s3dns healthcheck --config /etc/s3dns/s3dns.yaml >/dev/null 2>&1 && break
		kill -0 $pid 2>/dev/null || { echo "the installed s3dns exited on the installed configuration:"; cat /tmp/s3dns-package.log; exit 1; }
		sleep 0.1
	done
	for server in 127.0.0.1 ::1; do
		for proto in +notcp +tcp; do
			got=$(dig +short +tries=1 +time=5 $proto @$server myspecificbucket.s3.eu-west-2.amazonaws.com A | grep -E "^[0-9.]+\$" | sort | tr "\n" " ")
			[[ $got == "10.0.1.10 10.0.2.10 " ]] || { echo "installed s3dns on $server ($proto): \"$got\""; cat /tmp/s3dns-package.log; exit 1; }
		done
	done
'
man -l /usr/share/man/man8/s3dns.8.gz 2>/dev/null | grep -q discover || { echo "man page unreadable"; exit 1; }
man -l /usr/share/man/man8/s3dns.8.gz 2>/dev/null | grep "EXIT STATUS" >/dev/null || { echo "s3dns(8) lacks EXIT STATUS"; exit 1; }
zcat /usr/share/man/man8/s3dns.8.gz | grep -F "$(s3dns version | awk '{print $2}')" >/dev/null || { echo "s3dns(8) does not carry the version"; exit 1; }
man -l /usr/share/man/man5/s3dns.yaml.5.gz 2>/dev/null | grep "http_admin_allow" >/dev/null || { echo "s3dns.yaml(5) unreadable"; exit 1; }

# The .rpm carries the same files.
diff <(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\.||' | sort) \
	<(rpm -qpl "$rpm" 2>/dev/null | grep -v '/$' | sort | while read -r f; do [[ -d $f ]] || echo "$f"; done) ||
	{ echo ".deb and .rpm differ"; exit 1; }
echo "packages OK: $(basename "$deb"), $(basename "$rpm")"
