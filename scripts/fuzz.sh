#!/usr/bin/env bash
# Fuzz the C++ stats segment reader (native/statseg.cc) with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer. See docs/fuzzing.md and native/fuzz/fuzz_statseg.cc.
#
#   scripts/fuzz.sh [SECONDS]      fuzz for SECONDS (default 60) and report the executions
#
# Environment:
#   FUZZ_JOBS=N         run N fuzzing processes side by side (libFuzzer -jobs/-workers; default 1)
#   FUZZ_CORPUS=DIR     corpus directory (default: $VPP_EXPORTER_CACHE/fuzz/corpus, kept between
#                       runs so that each run starts where the last one stopped)
#   FUZZ_ARGS="..."     extra libFuzzer flags
#
# Idempotent: installs clang + its sanitizer/libFuzzer runtime from Debian if missing, rebuilds the
# target only when its sources or flags changed, re-extracts the fixture images only when they
# changed, rewrites the seeds. Exits non-zero on any crash, sanitizer report, leak, timeout or
# out-of-memory; the crashing input is saved under $VPP_EXPORTER_CACHE/fuzz/crashes/ and its path
# printed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=lib.sh
source "$here/lib.sh"

secs=${1:-60}
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "usage: scripts/fuzz.sh [SECONDS]"
jobs=${FUZZ_JOBS:-1}
[[ $jobs =~ ^[0-9]+$ ]] && [ "$jobs" -gt 0 ] || die "FUZZ_JOBS must be a positive number"

# Debian 12's default clang; libclang-rt-14-dev holds libFuzzer and the ASan/UBSan runtimes.
llvm=14
cxx=clang++-$llvm
pkgs=(clang-$llvm libclang-rt-$llvm-dev)

work="$VPP_EXPORTER_CACHE/fuzz"
corpus=${FUZZ_CORPUS:-$work/corpus}
crashes="$work/crashes"
mkdir -p "$work/images" "$work/logs" "$corpus" "$crashes"

# ---- 1. Toolchain --------------------------------------------------------------------------
have_toolchain() {
  command -v "$cxx" >/dev/null 2>&1 || return 1
  local rt
  rt=$("$cxx" -print-resource-dir 2>/dev/null)/lib/linux
  [ -f "$rt/libclang_rt.fuzzer-x86_64.a" ] && [ -f "$rt/libclang_rt.asan-x86_64.a" ] &&
    [ -f "$rt/libclang_rt.ubsan_standalone-x86_64.a" ]
}
if ! have_toolchain; then
  [ "$(id -u)" -eq 0 ] || die "$cxx with libFuzzer is missing; install as root: apt-get install ${pkgs[*]}"
  log "installing ${pkgs[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >"$work/logs/apt.log" 2>&1; then
    # The package lists may be missing or stale on a fresh machine.
    { apt-get update && apt-get install -y --no-install-recommends "${pkgs[@]}"; } \
      >>"$work/logs/apt.log" 2>&1 || { tail -n 20 "$work/logs/apt.log" >&2; die "could not install ${pkgs[*]}"; }
  fi
  have_toolchain || die "${pkgs[*]} installed but $cxx cannot find libFuzzer / the sanitizer runtimes"
fi

# ---- 2. Build (only when sources or flags changed) ----------------------------------------
srcs=(native/fuzz/fuzz_statseg.cc native/statseg.cc native/fdpass.cc native/shm.cc)
hdrs=(native/statseg.h native/fdpass.h native/shm.h)
# _GLIBCXX_SANITIZE_VECTOR: std::vector tells ASan where its size ends, so a read or write past
# size() but within capacity is reported too (the target lends result vectors from run to run).
flags=(-std=c++17 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1
  -fno-omit-frame-pointer -D_GLIBCXX_SANITIZE_VECTOR=1 -Wall -Wextra)
bin="$work/fuzz_statseg"
stamp=$( { "$cxx" --version; echo "${flags[*]}"; (cd "$root" && cat "${srcs[@]}" "${hdrs[@]}"); } | sha256sum | cut -d' ' -f1)
if [ ! -x "$bin" ] || [ "$(cat "$bin.stamp" 2>/dev/null)" != "$stamp" ]; then
  log "building $bin"
  # A name of its own: another checkout may be building into the same cache at the same time.
  (cd "$root" && "$cxx" "${flags[@]}" -o "$bin.tmp.$$" "${srcs[@]}" -lpthread) ||
    { rm -f "$bin.tmp.$$"; die "build failed"; }
  mv -f "$bin.tmp.$$" "$bin"
  echo "$stamp" >"$bin.stamp"
fi

# ---- 3. Fixture images (gunzipped here; the target reads them raw) -------------------------
shared=${VPP_EXPORTER_SHARED:-$root/../shared}
fixtures="$shared/fixtures/vpp-26.10"
images=()
for name in statseg statseg-churn; do
  gz="$fixtures/$name.bin.gz"
  [ -f "$gz" ] || die "missing fixture $gz"
  out="$work/images/$name.bin"
  gunzip -c "$gz" >"$out.tmp"
  if cmp -s "$out.tmp" "$out"; then rm -f "$out.tmp"; else mv -f "$out.tmp" "$out"; fi
  images+=("$out")
done
VPP_FUZZ_IMAGES=$(IFS=:; echo "${images[*]}")
export VPP_FUZZ_IMAGES

# ---- 4. Seeds: mutate seeds per image, raw prefixes, small images rebuilt from the fixtures ---
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
VPP_FUZZ_WRITE_SEEDS="$seeds" "$bin" >/dev/null 2>&1 || die "writing the seeds failed"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Every new input lands in the corpus directory and libFuzzer never deletes superseded ones; once
# it holds over 1000 files, keep only a minimal set with the same coverage (-merge=1), since each
# run replays the whole corpus first (up to ~160 ms per input on a whole image).
# Several runs may share one corpus (a campaign and a shorter check, say): each holds a shared
# lock on it while it fuzzes (fd 9, inherited by libFuzzer), and minimizing, which replaces the
# directory, needs the lock alone; a run that cannot have it leaves the corpus as it is.
mkdir -p "$work/locks"
exec 9>"$work/locks/$(cd "$corpus" && pwd -P | sha256sum | cut -c1-16).lock"
if [ "$(find "$corpus" -type f | wc -l)" -gt 1000 ]; then
  if flock -n -x 9; then
    log "minimizing the corpus ($(find "$corpus" -type f | wc -l) files)"
    rm -rf "$corpus.merge"
    mkdir -p "$corpus.merge"
    if "$bin" -merge=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 "$corpus.merge" "$corpus" \
      >"$work/logs/merge.log" 2>&1; then
      rm -rf "$corpus" && mv "$corpus.merge" "$corpus"
    else
      log "corpus merge failed (see $work/logs/merge.log); keeping the corpus as it is"
      rm -rf "$corpus.merge"
    fi
  else
    log "another run is fuzzing $corpus; not minimizing it now"
  fi
fi
flock -s 9

# ---- 5. Fuzz --------------------------------------------------------------------------------
# Corpus directories: new inputs go to the first; the seeds and native/fuzz/regressions (inputs
# that once crashed the reader, replayed first on every run) are only read.
# -max_len=4096: a mutate input is 1 mode byte (+3 truncation bytes) + 8-byte patches, so 4096
#   bytes carry up to 511 patches, far more than any useful corruption needs; a raw input is a
#   whole segment image, and 4 KiB holds a header, a directory of ~25 entries and their vectors
#   (the rebuilt seeds are ~3.2 KiB). Raw images as big as the real 1 MB dumps would make each
#   run ~250x slower and waste libFuzzer's mutations on bytes nothing points at; the big images
#   are covered by mutate mode.
# -timeout=10: a run takes ~25 us (raw) to ~160 ms (a whole 1 MB image whose directory is smeared
#   with copies of one entry, every copy read up to the copy budget); 10 s means a hang.
#   -rss_limit_mb=2048 (also the malloc limit): a reader that allocates without bound on a
#   corrupt length is a bug, reported as out-of-memory.
# -entropic_scale_per_exec_time=1: libFuzzer mutates fast inputs more often (up to 30x) than slow
#   ones. The slow ones are the corruptions that reach thousands of entries of a whole image; they
#   still run, less often. Without it a campaign spends most of its time re-running them at a few
#   hundred runs per second (docs/fuzzing.md, "Speed").

# Keep the logs of the last 10 runs.
find "$work/logs" -maxdepth 1 -type d -name 'run-*' | sort | head -n -9 | xargs -r rm -rf
run="$work/logs/run-$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$run"
marker="$run/.start"
touch "$marker"
args=(-max_len=4096 -timeout=10 -rss_limit_mb=2048 -max_total_time="$secs" -print_final_stats=1
  -entropic_scale_per_exec_time=1 -artifact_prefix="$crashes/" "$corpus" "$seeds"
  "$root/native/fuzz/regressions")
if [ "$jobs" -gt 1 ]; then args=(-jobs="$jobs" -workers="$jobs" "${args[@]}"); fi
# shellcheck disable=SC2206
extra=(${FUZZ_ARGS:-})
log "fuzzing for ${secs}s with $jobs process(es); corpus $corpus; log $run/fuzz.log"
set +e
(cd "$run" && "$bin" "${args[@]}" "${extra[@]}") >"$run/fuzz.log" 2>&1
rc=$?
set -e
# With -jobs the per-job logs are fuzz-N.log in $run; libFuzzer also copies them to its stderr.
logs=("$run"/fuzz*.log)

# ---- 6. Report --------------------------------------------------------------------------------
echo "== libFuzzer final stats (per process) =="
grep -h -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' "${logs[@]}" | sort -u || true
total=0
while read -r n; do total=$((total + n)); done < <(
  if [ "$jobs" -gt 1 ]; then grep -h -o -E '^stat::number_of_executed_units: [0-9]+' "$run"/fuzz-*.log
  else grep -h -o -E '^stat::number_of_executed_units: [0-9]+' "$run/fuzz.log"; fi | awk '{print $2}')
echo "executions: $total"
# Split by mode (the target prints it at exit): mutated fixture images (whole, or with the
# directory cut to ~150 entries) vs small raw images, and what the mutate runs read.
target_logs=$(if [ "$jobs" -gt 1 ]; then echo "$run"/fuzz-*.log; else echo "$run/fuzz.log"; fi)
# shellcheck disable=SC2086
grep -h -o -E '^fuzz_statseg: executed [0-9]+ mutate, [0-9]+ raw' $target_logs |
  awk '{m += $3; r += $5} END {if (NR) printf "executions by mode: %d mutate (fixture images), %d raw\n", m, r}'
# shellcheck disable=SC2086
grep -h -E '^fuzz_statseg: mutate runs: [0-9]+ on whole images' $target_logs |
  awk '{w += $4; c += $8; d += $12; e += $16; n += $19}
    END {if (NR && w + c) printf "mutate runs: %d on whole images, %d with the directory cut; " \
      "%d read the directory, %d every entry; %.0f entries snapshotted per run\n",
      w, c, d, e, n / (w + c)}'
echo "corpus: $(find "$corpus" -type f | wc -l) inputs in $corpus"

found=()
while IFS= read -r f; do found+=("$f"); done < <(find "$crashes" -type f -newer "$marker" | sort)
bad=0
if [ "$rc" -ne 0 ] || [ "${#found[@]}" -gt 0 ] ||
  grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "${logs[@]}"; then
  bad=1
fi
if [ "$bad" -ne 0 ]; then
  echo "== FAILURE (libFuzzer exit code $rc) =="
  grep -h -E -A3 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^SUMMARY: |fuzz_statseg: ' \
    "${logs[@]}" | head -n 60 || true
  for f in "${found[@]}"; do echo "crash input saved: $f"; done
  grep -h -o -E 'Test unit written to .*' "${logs[@]}" | sort -u || true
  echo "reproduce: VPP_FUZZ_IMAGES=$VPP_FUZZ_IMAGES $bin <crash file>"
  echo "full log: $run/fuzz.log"
  exit 1
fi
echo "fuzz: OK, no crash in $total executions (${secs}s, $jobs process(es))"
