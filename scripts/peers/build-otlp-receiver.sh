#!/usr/bin/env bash
# Builds the OTLP receiver test peer: Prometheus 3 (which takes OTLP/HTTP metrics on
# /api/v1/otlp/v1/metrics with --web.enable-otlp-receiver, and answers PromQL) from the Go module
# proxy, into "$VPP_EXPORTER_CACHE/bin/prometheus3".
#
# `go install github.com/prometheus/prometheus/cmd/prometheus@v0.3XX.Y` fails because Prometheus'
# go.mod has replace/exclude lines, and a main package cannot be imported. So the wrapper module in
# scripts/peers/otlp/ lists the command as a `tool` dependency (Go >= 1.24), carries Prometheus'
# replace/exclude lines, and `go build` builds the command from inside it. Its go.sum pins every
# module. The web UI assets are not embedded (the API is all the tests use), and the `remove_all_sd`
# tag leaves out the cloud service discoveries (static and file discovery stay).
#
# Go's module, build and path caches live under "$VPP_EXPORTER_CACHE/go". Idempotent: rebuilds
# only when the wrapper module, this script or the Go version changed.
# The last line printed on stdout is the binary's path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

PROM_MODULE_VERSION=v0.315.1   # Prometheus 3.15.1; keep in step with scripts/peers/otlp/go.mod
src="$here/otlp"
bin_dir="$VPP_EXPORTER_CACHE/bin"
bin="$bin_dir/prometheus3"
stamp="$bin.sha256"

ensure_go "Prometheus 3, the OTLP receiver peer"

grep -q "github.com/prometheus/prometheus $PROM_MODULE_VERSION" "$src/go.mod" \
  || die "scripts/peers/otlp/go.mod does not require github.com/prometheus/prometheus $PROM_MODULE_VERSION"

hash=$({ go version; sha256sum "$src/go.mod" "$src/go.sum" "$0" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)

if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  log "prometheus3 ($PROM_MODULE_VERSION) is up to date"
else
  mkdir -p "$bin_dir" "$GOMODCACHE" "$GOCACHE"
  log "building Prometheus 3 (module $PROM_MODULE_VERSION, $(go version | cut -d' ' -f3)); the first build takes minutes"
  rm -f "$stamp"
  mp=${PROM_MODULE_VERSION#v0.}; minor=$((10#${mp%%.*}))   # v0.315.1 -> Prometheus 3.15.1
  ver="$((minor / 100)).$((minor % 100)).${mp#*.}"
  start=$(date +%s)
  (cd "$src" && go build -trimpath -tags remove_all_sd \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=$ver -X github.com/prometheus/common/version.Branch=vpp-exporter-peer" \
      -o "$bin.tmp" github.com/prometheus/prometheus/cmd/prometheus) \
    || die "go build of github.com/prometheus/prometheus/cmd/prometheus $PROM_MODULE_VERSION failed (is the Go module proxy reachable? is Go >= $(sed -n 's/^go //p' "$src/go.mod")?)"
  mv -f "$bin.tmp" "$bin"
  echo "$hash" > "$stamp"
  log "built $bin in $(( $(date +%s) - start ))s"
fi
"$bin" --version 2>&1 | head -1 | sed 's/^/[build-otlp-receiver.sh] /' >&2
echo "$bin"
