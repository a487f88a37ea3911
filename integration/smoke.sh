#!/usr/bin/env bash
# Smoke test of a running s3dns with dig: usable after a deployment.
#   integration/smoke.sh HOST:PORT REGION BUCKET [UNLISTED]
# BUCKET must be listed on an endpoint; UNLISTED (optional) must not be.
# Prints one PASS or FAIL line per check; exits 1 if any check failed.
set -uo pipefail

if (($# < 3)); then
	echo "usage: $0 HOST:PORT REGION BUCKET [UNLISTED]" >&2
	exit 2
fi
server=$1 region=$2 bucket=$3 unlisted=${4:-}
host=${server%:*} port=${server##*:}
[[ $host == "$server" ]] && port=53
host=${host#[}
host=${host%]}
command -v dig >/dev/null || { echo "dig not found (apt-get install dnsutils)" >&2; exit 2; }

failed=0
check() { # check NAME CONDITION-RESULT DETAIL
	if [[ $2 == ok ]]; then echo "PASS $1"; else echo "FAIL $1: $3"; failed=1; fi
}
q() { dig @"$host" -p "$port" +tries=1 +time=5 "$@" 2>&1; }

name="$bucket.s3.$region.amazonaws.com"
out=$(q "$name" A)
[[ $out == *"status: NOERROR"* && $out == *" aa "* ]] && r=ok || r=no
check "listed bucket $name answers NOERROR with AA" $r "$(grep -m1 -- '->>HEADER' <<<"$out")"
target=$(awk '$4 == "CNAME" {print $5; exit}' <<<"$(q +noall +answer "$name" A)")
alias_a=$(awk '$4 == "A" {print $5; exit}' <<<"$(q +noall +answer "$name" A)")
[[ -n $target || -n $alias_a ]] && r=ok || r=no
check "listed bucket resolves to the endpoint (${target:-alias $alias_a})" $r "no CNAME or A in the answer"

out=$(q +tcp "$name" A)
[[ $out == *"status: NOERROR"* ]] && r=ok || r=no
check "listed bucket over TCP" $r "$(grep -m1 -- '->>HEADER' <<<"$out")"

mixed=$(echo "$name" | sed 's/\(.\)\(.\)/\U\1\E\2/g')
out=$(q +noall +question "$mixed" A)
[[ $out == *";$mixed."* ]] && r=ok || r=no
check "question echoed in the asked letter case (0x20)" $r "$out"

out=$(q +bufsize=4096 "$name" A)
[[ $out == *"udp: 1232"* ]] && r=ok || r=no
check "EDNS0 answered with a 1232-byte UDP size" $r "$(grep -m1 'EDNS' <<<"$out")"

if [[ -n $unlisted ]]; then
	uname="$unlisted.s3.$region.amazonaws.com"
	out=$(q "$uname" A)
	# An answer must have come (NOERROR or NXDOMAIN), and not an authoritative one:
	# no reply at all is a failure, never a pass.
	[[ ($out == *"status: NOERROR"* || $out == *"status: NXDOMAIN"*) && $out != *" aa "* ]] && r=ok || r=no
	check "unlisted bucket $uname is forwarded (not authoritative)" $r "$(grep -m1 -- '->>HEADER' <<<"$out")"
	if [[ -n $target ]]; then
		[[ $(q +short "$uname" A) != *"$target"* ]] && r=ok || r=no
		check "unlisted bucket does not get the endpoint" $r "answered with $target"
	fi
fi
exit $failed
