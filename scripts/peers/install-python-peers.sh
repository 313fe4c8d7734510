#!/usr/bin/env bash
# Installs the Python test peer: vpp-papi (FD.io VPP's own Python client, from PyPI) into a venv
# under the cache folder. Idempotent: a venv that already has the pinned version is left as it is.
# The last line printed on stdout is the venv's python path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

VPP_PAPI_VERSION=2.4.2   # pinned; `pip index versions vpp-papi` listed 2.4.2 as the newest
venv="$VPP_EXPORTER_CACHE/venv"
py="$venv/bin/python"

have_pinned() {
  [ -x "$py" ] && "$py" - "$VPP_PAPI_VERSION" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
assert version("vpp-papi") == sys.argv[1]
from vpp_papi.vpp_stats import VPPStats  # noqa: F401  (the module the peers use must import)
PY
}

if ! have_pinned; then
  command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH (needed for the vpp-papi venv)"
  if [ ! -x "$py" ]; then
    log "creating venv $venv"
    python3 -m venv "$venv" \
      || die "python3 -m venv $venv failed (on Debian: apt-get install python3-venv)"
  fi
  log "installing vpp-papi==$VPP_PAPI_VERSION into $venv"
  "$py" -m pip install --disable-pip-version-check --no-input -q "vpp-papi==$VPP_PAPI_VERSION" >&2 \
    || die "pip install vpp-papi==$VPP_PAPI_VERSION failed (is PyPI reachable?)"
  have_pinned || die "vpp-papi==$VPP_PAPI_VERSION installed but vpp_papi.vpp_stats does not import in $venv"
fi
log "vpp-papi $VPP_PAPI_VERSION ready"
echo "$py"
