#!/usr/bin/env bash
# Installs every real test peer, idempotently (each step is a no-op when its peer is already in
# "$VPP_EXPORTER_CACHE" or on the machine):
#   install-kafka.sh         Kafka broker jars from Maven Central (needs java 17+, mvn)
#   install-prometheus.sh    Debian's prometheus + promtool (apt-get)
#   build-otlp-receiver.sh   Prometheus 3, the OTLP receiver, built from the Go module proxy
#   install-python-peers.sh  vpp-papi from PyPI
#   build-govpp.sh           the GoVPP peer from the Go module proxy
# Every step runs even when an earlier one failed; the run ends with a summary and exits non-zero
# naming each step that failed.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

steps=(install-kafka.sh install-prometheus.sh build-otlp-receiver.sh install-python-peers.sh build-govpp.sh build-govpp-api.sh)
failed=()
for s in "${steps[@]}"; do
  if [ ! -f "$here/$s" ]; then
    log "ERROR: scripts/peers/$s is missing"; failed+=("$s"); continue
  fi
  start=$(date +%s)
  log "== $s"
  if out=$(bash "$here/$s"); then
    log "== $s: ok in $(( $(date +%s) - start ))s -> ${out##*$'\n'}"
  else
    rc=$?
    log "ERROR: scripts/peers/$s failed (exit $rc) after $(( $(date +%s) - start ))s; its messages are above"
    failed+=("$s")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  die "test peers NOT installed: ${failed[*]} (run each one alone to see why)"
fi
log "all test peers installed (cache: $VPP_EXPORTER_CACHE)"
