#!/usr/bin/env bash
# Build the Wisp image FROM scratch without a registry: compile a static wisp
# binary, put it, the host's CA certificates and deploy/cluster/Dockerfile in a
# temporary build context, and docker build it.
# Then build the Docker backend's runtime images (wisp/action-nodejs-v20, ...)
# into the same engine with that very binary, from this host's interpreters:
# the image has none, so its invokers use these (they carry the binary's hash).
#   usage: deploy/cluster/image.sh [TAG]      (default wisp:dev; env GO, DOCKER, VERSION, WISP_RUNTIMES)
#   WISP_RUNTIMES: the kinds to build, space separated ("nodejs:20 python:3 native"),
#   "all" (default: every kind this host has the toolchain of) or "none".
set -euo pipefail

tag="${1:-wisp:dev}"
go="${GO:-go}"
docker="${DOCKER:-docker}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT

# VERSION and the commit are stamped into the binary (wisp version, GET /api/v1).
version="${VERSION:-$(cd "$root" && git describe --tags --always --dirty 2>/dev/null || echo dev)}"
commit="$(cd "$root" && git rev-parse HEAD 2>/dev/null || true)"
(cd "$root" && CGO_ENABLED=0 "$go" build -trimpath -ldflags "-s -w -X github.com/wispio/wisp/version.Version=$version -X github.com/wispio/wisp/version.Commit=$commit" -o "$ctx/wisp" ./cmd/wisp)
if "$ctx/wisp" --help >/dev/null 2>&1; then :; else
	echo "image.sh: the wisp binary does not run" >&2
	exit 1
fi

certs=/etc/ssl/certs/ca-certificates.crt
if [ -r "$certs" ]; then
	cp "$certs" "$ctx/ca-certificates.crt"
else
	echo "image.sh: warning: $certs not found; the image trusts no CA (HTTPS to GitHub, Slack and CouchDB fails)" >&2
	: >"$ctx/ca-certificates.crt"
fi

mkdir -p "$ctx/etc" "$ctx/data" "$ctx/tmp"
chmod 1777 "$ctx/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/data:/sbin/nologin\n' >"$ctx/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/etc/group"
cp "$here/Dockerfile" "$ctx/Dockerfile"

"$docker" build --tag "$tag" "$ctx"

runtimes="${WISP_RUNTIMES:-all}"
case "$runtimes" in
none) ;;
all) "$ctx/wisp" runtimes build ;;
*) # shellcheck disable=SC2086 # the kinds are words
	"$ctx/wisp" runtimes build $runtimes ;;
esac
