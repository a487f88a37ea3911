#!/usr/bin/env bash
# Builds a release of s3dns into dist/ (or $DIST): static binaries, .deb and
# .rpm packages (binary, systemd unit, default config, man pages,
# completions), an SBOM (CycloneDX JSON) and SHA256SUMS.
#
#   scripts/release.sh [VERSION]      # default: git describe, e.g. v2.1.0 or v2.1.0-3-gabc1234
#   TARGETS="linux/amd64" scripts/release.sh v2.1.0   # fewer targets (CI)
#
# Needs only Go and the module proxy: nfpm and cyclonedx-gomod are run at
# pinned versions with `go run`, and nothing else is fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

nfpm=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
cyclonedx=github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/arm64 windows/amd64 freebsd/amd64}
dist=${DIST:-dist}

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# The version: as given; else the tag on this commit; else the newest
# release CHANGELOG.md names, as a development build of this commit
# (X.Y.Z-dev+<commit>), which dpkg and rpm accept and order before X.Y.Z's
# next release.
if [[ $# -ge 1 && $1 != --version-only ]]; then
	version=$1
elif tag=$(git describe --tags --exact-match 2>/dev/null); then
	version=$tag
else
	released=$(sed -n 's/^## \[\([0-9][0-9.]*\)\].*/\1/p' CHANGELOG.md | head -1)
	version=${released:-0.0.0}-dev+${commit:0:12}
fi
version=v${version#v}
if [[ ${1:-} == --version-only ]]; then
	echo "$version"
	exit 0
fi
# The commit's time, so that the same commit builds the same artifacts.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
date=$(date -u -d "@${SOURCE_DATE_EPOCH}" +%Y-%m-%dT%H:%M:%SZ)

rm -rf "$dist"
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

pkg=github.com/s3dns/s3dns/app
ldflags="-s -w -buildid= -X ${pkg}.Version=${version} -X ${pkg}.Commit=${commit} -X ${pkg}.Date=${date}"

echo "--- s3dns ${version} (${commit:0:12}, ${date})"
binaries=()
for target in $targets; do
	os=${target%/*} arch=${target#*/}
	out="$dist/s3dns_${version#v}_${os}_${arch}"
	[[ $os == windows ]] && out+=.exe
	echo "building $(basename "$out")"
	GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/s3dns
	binaries+=("$out")
done

# The packages' files, staged under the names packaging/nfpm.yaml uses. Man
# pages and completions come from the command tree of this source.
stage=$build/stage
mkdir -p "$stage/completion"
go run -ldflags "-X ${pkg}.Version=${version}" ./internal/tools/mangen "$stage/man"
gzip -9n "$stage"/man/*.8 "$stage"/man/*.5
go run ./cmd/s3dns completion bash >"$stage/completion/s3dns.bash"
go run ./cmd/s3dns completion zsh >"$stage/completion/_s3dns"
go run ./cmd/s3dns completion fish >"$stage/completion/s3dns.fish"
cp deploy/systemd/s3dns.service deploy/systemd/s3dns.yaml deploy/prometheus/s3dns.rules.yaml deploy/grafana/s3dns.json \
	LICENSE README.md CHANGELOG.md docs/runbook.md docs/operations.md packaging/copyright \
	packaging/postinstall.sh packaging/preremove.sh packaging/postremove.sh "$stage/"
config=$PWD/packaging/nfpm.yaml

for target in $targets; do
	os=${target%/*} arch=${target#*/}
	[[ $os == linux ]] || continue
	cp "$dist/s3dns_${version#v}_linux_${arch}" "$stage/s3dns"
	for format in deb rpm; do
		echo "packaging $format for $arch"
		# rpm allows no "-" in a version, and both dpkg and rpm sort "~" before
		# the release it precedes: 2.0.0-dev+abc is packaged as 2.0.0~dev+abc.
		pkgversion=${version#v}
		(cd "$stage" && VERSION=${pkgversion//-/\~} ARCH=$arch go run "$nfpm" package --config "$config" --packager "$format" --target "$dist/" >/dev/null)
	done
done

# An archive per target: the binary with LICENSE and README, .zip for
# Windows, .tar.gz elsewhere; times and owners fixed, so that the same
# commit gives the same bytes.
for bin in "${binaries[@]}"; do
	base=$(basename "$bin" .exe)
	dir=$build/archive/$base
	mkdir -p "$dir"
	exe=s3dns
	[[ $bin == *.exe ]] && exe=s3dns.exe
	cp "$bin" "$dir/$exe"
	cp LICENSE README.md "$dir/"
	touch -d "@${SOURCE_DATE_EPOCH}" "$dir" "$dir"/*
	if [[ $bin == *.exe ]]; then
		(cd "$build/archive" && TZ=UTC zip -X -q -r "$dist/$base.zip" "$base")
	else
		tar --sort=name --mtime="@${SOURCE_DATE_EPOCH}" --owner=0 --group=0 --numeric-owner -C "$build/archive" -cf - "$base" |
			gzip -9n >"$dist/$base.tar.gz"
	fi
done

# Every target is built from the same modules: one binary's build info is
# the SBOM of all of them, the Go standard library included; sbomfix adds
# each module's licence and the commit's time (no random serial either), so
# that the same commit gives the same SBOM, and so the same SHA256SUMS.
echo "writing the SBOM"
go run "$cyclonedx" bin -json -std -noserial -version "${version#v}" -output "$dist/s3dns_${version#v}.cdx.json" "${binaries[0]}" 2>/dev/null
go run ./internal/tools/sbomfix "$dist/s3dns_${version#v}.cdx.json"

(cd "$dist" && sha256sum -- * >SHA256SUMS)
echo "--- $dist:"
ls -l "$dist"
