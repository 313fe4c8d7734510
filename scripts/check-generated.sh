#!/usr/bin/env bash
# Regenerates src/binapi/generated/ from ../shared/vpp/api into a temporary folder and diffs it
# against the committed files. Exit 0 when they are identical; exit 1 with the diff when the
# committed code is stale (run `npm run generate:binapi` and commit the result).
#
# The generator command is package.json's `generate:binapi` script with --output redirected, so
# CI checks exactly what developers run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_node

committed=src/binapi/generated
cli=dist/src/binapigen/cli.js

# Build the generator when it is missing or older than its sources.
if [ ! -f "$cli" ] || [ -n "$(find src/binapigen src/binapi/codec -name '*.ts' -newer "$cli" -print -quit)" ]; then
  log "building the generator"
  npx tsc -p tsconfig.json >/dev/null || log "tsc reported errors (see npm run build:ts); checking with what it emitted"
  [ -f "$cli" ] || die "no $cli after building"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/binapi-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ "$(npm pkg get 'scripts.generate:binapi')" != "{}" ]; then
  npm run --silent generate:binapi -- --output "$tmp/generated"
else
  log "package.json has no generate:binapi script; using the default command"
  node "$cli" --input ../shared/vpp/api --output "$tmp/generated" --vpp-version '26.10-rc0~374-gb575ec2c56d'
fi

if diff -ru "$committed" "$tmp/generated"; then
  log "src/binapi/generated is current"
else
  die "src/binapi/generated is stale: run 'npm run generate:binapi' and commit the result (diff above: committed -> regenerated)"
fi
