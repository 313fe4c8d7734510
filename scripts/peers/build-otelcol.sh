#!/usr/bin/env bash
# Builds the OpenTelemetry Collector test peer (core components: otlp receiver, batch processor,
# otlphttp and debug exporters) with the collector's own builder, ocb
# (go.opentelemetry.io/collector/cmd/builder), from the Go module proxy, into
# "$VPP_EXPORTER_CACHE/bin/otelcol". The OTLP/gRPC tests push to its otlp receiver and it
# forwards over OTLP/HTTP to Prometheus 3 (scripts/peers/build-otlp-receiver.sh).
#
# The components and their versions are in scripts/peers/otelcol/builder-config.yaml; the
# builder's version is OCB_VERSION below (one collector release for all of them). ocb generates
# the distribution's sources and go.mod under "$VPP_EXPORTER_CACHE/otelcol-build", resolves the
# modules (go mod tidy) and compiles it.
#
# Go's module, build and path caches live under "$VPP_EXPORTER_CACHE/go". Idempotent: rebuilds
# only when the builder configuration, this script or the Go version changed.
# The last line printed on stdout is the binary's path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

OCB_VERSION=v0.165.0   # keep in step with the module versions in scripts/peers/otelcol/builder-config.yaml
config="$here/otelcol/builder-config.yaml"
bin_dir="$VPP_EXPORTER_CACHE/bin"
bin="$bin_dir/otelcol"
stamp="$bin.sha256"
work="$VPP_EXPORTER_CACHE/otelcol-build"

ensure_go "the OpenTelemetry Collector peer"

grep -q "otlpreceiver ${OCB_VERSION}\$" "$config" \
  || die "scripts/peers/otelcol/builder-config.yaml does not use collector release $OCB_VERSION"

hash=$({ go version; echo "$OCB_VERSION"; sha256sum "$config" "$0" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)

if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  log "otelcol (collector $OCB_VERSION) is up to date"
else
  mkdir -p "$bin_dir" "$GOMODCACHE" "$GOCACHE"
  rm -f "$stamp"
  rm -rf "$work"
  mkdir -p "$work/bin"
  start=$(date +%s)
  log "building the OpenTelemetry Collector with ocb $OCB_VERSION ($(go version | cut -d' ' -f3)); the first build takes minutes"
  GOBIN="$work/bin" go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" \
    || die "go install go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION failed (is the Go module proxy reachable?)"
  # The committed configuration has no output path: this copy puts the sources under $work.
  sed "s|^dist:\$|dist:\n  output_path: $work/src|" "$config" > "$work/builder-config.yaml"
  # ocb prints its progress as JSON-ish log lines on stderr; keep them for a failure.
  if ! (cd "$work" && "$work/bin/builder" --config "$work/builder-config.yaml" --ldflags "-s -w" > "$work/ocb.log" 2>&1); then
    tail -40 "$work/ocb.log" >&2
    die "ocb $OCB_VERSION failed to build the collector (log: $work/ocb.log)"
  fi
  mv -f "$work/src/otelcol-vpp-peer" "$bin"
  echo "$hash" > "$stamp"
  log "built $bin in $(( $(date +%s) - start ))s"
fi
"$bin" --version 2>&1 | head -1 | sed 's/^/[build-otelcol.sh] /' >&2
echo "$bin"
