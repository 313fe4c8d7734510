#!/usr/bin/env bash
# Installs everything the project needs to run, idempotently: Node >= 22.15 (fetched from the npm
# registry when the machine's is older), npm dependencies, the native addon and the TypeScript
# build. With --peers it also installs the real test peers (Kafka, Prometheus and promtool, an
# OTLP receiver, the OpenTelemetry Collector, vpp-papi, GoVPP); scripts/fuzz.sh installs clang
# for the fuzzer itself.
# Caches live outside the clone ($VPP_EXPORTER_CACHE), so CI's fresh clones reuse them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_node

stamp=node_modules/.vpp-exporter-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund >/dev/null
  echo "$want" > "$stamp"
fi

log "building the native addon"
npm run --silent build:native >/dev/null
log "building TypeScript"
npm run --silent build:ts

if [ "${1:-}" = "--peers" ]; then
  bash scripts/peers/install-all.sh
fi
