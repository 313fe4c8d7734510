#!/usr/bin/env bash
# Installs the Prometheus test peer: Debian's `prometheus` package (prometheus + promtool, 2.42),
# used for scrape tests and `promtool check/test`. Idempotent: nothing happens when both binaries
# are already there. The package's own service is never used: the tests run their own server on a
# free loopback port with a temporary config and data dir. So the service is kept from starting
# while the package installs (policy-rc.d), and stopped and disabled should it run anyway.
# The last line printed on stdout is the directory holding `prometheus` and `promtool`.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

have() { [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; }

stop_service() {
  # Stop and disable the package's service, whatever the init system; quiet when there is none.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  else
    if [ -x /etc/init.d/prometheus ]; then
      /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
    if command -v update-rc.d >/dev/null 2>&1 && [ -x /etc/init.d/prometheus ]; then
      update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
  fi
}

if ! have; then
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install Debian's prometheus package by hand"
  [ "$(id -u)" = 0 ] || SUDO=sudo
  sudo=${SUDO:-}
  # Keep the package's service from starting while it installs (a no-op where a policy exists).
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  cleanup() { if [ -n "$made_policy" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup EXIT
  log "installing Debian package prometheus (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends prometheus >&2; then
    log "apt-get install failed; refreshing the package lists once and retrying"
    $sudo apt-get update -q >&2 || die "apt-get update failed (are Debian's package mirrors reachable?)"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends prometheus >&2 \
      || die "apt-get install prometheus failed"
  fi
  stop_service
  have || die "package prometheus installed but /usr/bin/prometheus or /usr/bin/promtool is missing"
fi

log "$(/usr/bin/prometheus --version 2>&1 | head -1)"
echo /usr/bin
