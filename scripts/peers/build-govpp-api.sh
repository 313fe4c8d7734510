#!/usr/bin/env bash
# Builds the GoVPP binary API test peer (test/peers/govpp-api, go.fd.io/govpp v0.13.0 from the Go
# module proxy) into "$VPP_EXPORTER_CACHE/bin/govpp-api". Its Go bindings are generated here, by
# GoVPP's own binapi-generator, from the VPP 26.10 .api.json set (../shared/vpp/api, or
# $VPP_EXPORTER_SHARED/vpp/api), so their CRCs are VPP's; they are not committed. The sources are
# copied to "$VPP_EXPORTER_CACHE/build/govpp-api", the bindings generated into its binapi/, and
# the binary built there. Go's module, build and path caches live under "$VPP_EXPORTER_CACHE/go".
# Idempotent: rebuilds only when the sources, the .api.json files or the Go version changed.
# The last line printed on stdout is the binary's path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

repo=$(cd "$here/../.." && pwd)
src="$repo/test/peers/govpp-api"
shared=${VPP_EXPORTER_SHARED:-$repo/../shared}
api_dir="$shared/vpp/api"
build="$VPP_EXPORTER_CACHE/build/govpp-api"
bin_dir="$VPP_EXPORTER_CACHE/bin"
bin="$bin_dir/govpp-api"
stamp="$bin.sha256"
module=vpp-exporter/test/peers/govpp-api
# The API modules the peer uses; the generator adds the type modules they import.
apis=(memclnt vpe interface ip)

[ -d "$api_dir" ] || die "no VPP .api.json files at $api_dir (set VPP_EXPORTER_SHARED to the shared folder)"
ensure_go "the GoVPP API peer"

# The hash covers the peer's sources, the .api.json files, the API list and the Go version.
hash=$(
  { go version; echo "${apis[*]}";
    (cd "$src" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 | sort -z | xargs -0 sha256sum);
    (cd "$api_dir" && find . -type f -name '*.api.json' -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -d' ' -f1
)

if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  log "govpp-api is up to date"
else
  log "building govpp-api ($(go version | cut -d' ' -f3)) from $src with bindings from $api_dir"
  rm -f "$stamp"
  rm -rf "$build"
  mkdir -p "$build" "$bin_dir" "$GOMODCACHE" "$GOCACHE"
  cp "$src"/*.go "$src"/go.mod "$src"/go.sum "$build"/
  (cd "$build" && go run go.fd.io/govpp/cmd/binapi-generator --input="$api_dir" --output-dir=binapi \
      --import-prefix="$module/binapi" --no-source-path-info "${apis[@]}" >&2) \
    || die "GoVPP's binapi-generator failed on $api_dir (is the Go module proxy reachable for go.fd.io/govpp?)"
  (cd "$build" && go build -trimpath -o "$bin.tmp" .) \
    || die "go build of test/peers/govpp-api failed"
  mv -f "$bin.tmp" "$bin"
  echo "$hash" > "$stamp"
fi
echo "$bin"
