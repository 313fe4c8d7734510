#!/usr/bin/env bash
# Builds a GoVPP test peer, test/peers/NAME (default govpp-stats; also govpp-exporter, the scrape
# benchmark's peer), whose modules (go.fd.io/govpp, client_golang) come from the Go module proxy,
# into "$VPP_EXPORTER_CACHE/bin/NAME". Go's module, build and path caches live under
# "$VPP_EXPORTER_CACHE/go". Idempotent: rebuilds only when the sources (or the Go version) changed.
# The last line printed on stdout is the binary's path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

name=${1:-govpp-stats}
src=$(cd "$here/../../test/peers/$name" && pwd) || die "no test/peers/$name"
bin_dir="$VPP_EXPORTER_CACHE/bin"
bin="$bin_dir/$name"
stamp="$bin.sha256"

ensure_go "the GoVPP peer"

# The hash covers every source file of the folder (names and contents) and the Go version.
hash=$(
  cd "$src"
  { go version; find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 | sort -z \
      | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1
)

if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  log "$name is up to date"
else
  mkdir -p "$bin_dir" "$GOMODCACHE" "$GOCACHE"
  log "building $name ($(go version | cut -d' ' -f3)) from $src"
  rm -f "$stamp"
  (cd "$src" && go build -trimpath -o "$bin.tmp" .) \
    || die "go build of test/peers/$name failed (is the Go module proxy reachable for go.fd.io/govpp?)"
  mv -f "$bin.tmp" "$bin"
  echo "$hash" > "$stamp"
fi
echo "$bin"
