#!/usr/bin/env bash
# eng/fuzz.sh: coverage-guided fuzzing of Ws4Net.Protocol with SharpFuzz and AFL++.
#
#   ./eng/fuzz.sh TARGET [--minutes N | --seconds N]   one campaign (default 10 minutes)
#   ./eng/fuzz.sh --smoke [--seconds N]                every target for N seconds (default 8); CI
#   ./eng/fuzz.sh --cmin TARGET                        minimise TARGET's corpus and the last campaign's
#                                                      queue with afl-cmin -e (edges, not hit counts)
#   ./eng/fuzz.sh --list                               the targets
#   --no-build                                         reuse artifacts/fuzz/bin (already instrumented)
#
# Targets (tests/Ws4Net.Protocol.Tests/Fuzz/CoverageFuzzTargets.cs): frames, zframes, http-request,
# http-response, extensions, utf8, deflate-negotiation. The seeds are tests/Ws4Net.Fuzz/corpus/TARGET; a campaign writes
# to artifacts/fuzz/TARGET (queue, crashes, hangs, fuzzer_stats) and prints its figures. Crashes are
# violated properties: replay one with
#   dotnet artifacts/fuzz/bin-plain/Ws4Net.Fuzz.dll TARGET artifacts/fuzz/TARGET/default/crashes/id*
# which prints the WS4NET_FUZZ_REPRO_* variables for FuzzReproduceTests; then add the file to
# tests/Ws4Net.Fuzz/regressions/TARGET (CorpusReplayTests replays it in every test run).
#
# Installs what it needs: the apt package afl++ and the SharpFuzz.CommandLine dotnet tool
# (artifacts/tools). Builds tests/Ws4Net.Fuzz, instruments Ws4Net.Protocol.dll (only the library
# under test: the checks and the reference decoders are not instrumented) and runs afl-fuzz with
# nice -n 19, one campaign at a time.
#
# Exit status: 0 when no campaign found a crash or a hang, 1 when one did, 2 for a usage error or a
# missing dependency. With CI=true a dependency that cannot be installed is an error; elsewhere the
# script says so and exits 0 for --smoke (the corpus replay in dotnet test still runs without AFL++).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_PROJECT="$REPO_ROOT/tests/Ws4Net.Fuzz"
CORPUS_ROOT="$FUZZ_PROJECT/corpus"
WORK="$REPO_ROOT/artifacts/fuzz"
BIN="$WORK/bin"
PLAIN_BIN="$WORK/bin-plain"
TOOLS="$REPO_ROOT/artifacts/tools"
SHARPFUZZ_VERSION=2.3.0
TARGETS=(frames zframes http-request http-response extensions utf8 deflate-negotiation)

log() { printf '[fuzz.sh] %s\n' "$*"; }
die() { printf '[fuzz.sh] ERROR: %s\n' "$*" >&2; exit 2; }
is_ci() { [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; }

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

mode=campaign target="" seconds=600 build=1
[[ $# -gt 0 ]] || usage
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) mode=smoke; seconds=8 ;;
    --cmin) mode=cmin ;;
    --no-build) build=0 ;;
    --list) printf '%s\n' "${TARGETS[@]}"; exit 0 ;;
    --minutes) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; seconds=$(( $2 * 60 )); shift ;;
    --seconds) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; seconds=$2; shift ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [[ -z "$target" ]] || usage; target=$1 ;;
  esac
  shift
done
if [[ "$mode" != smoke ]]; then
  [[ -n "$target" ]] || usage
  [[ " ${TARGETS[*]} " == *" $target "* ]] || die "unknown target '$target' (known: ${TARGETS[*]})"
fi

# A dependency that cannot be provided: fatal on CI; elsewhere the smoke run is skipped.
unavailable() {
  if is_ci || [[ "$mode" != smoke ]]; then
    die "$*"
  fi
  printf '[fuzz.sh] WARNING: %s; skipping the AFL++ smoke run (the corpus replay runs in dotnet test)\n' "$*" >&2
  exit 0
}

# --- AFL++ (apt) ------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null 2>&1; then
  log "installing the apt package afl++"
  SUDO=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || unavailable "afl-fuzz not found, not root and no sudo to install afl++"
    SUDO=(sudo -n)
  fi
  ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q \
    || log "apt-get update failed; trying the install with the package lists at hand"
  ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends afl++ \
    || unavailable "apt-get install afl++ failed"
  command -v afl-fuzz >/dev/null 2>&1 || unavailable "afl-fuzz still not found after installing afl++"
fi
log "found afl-fuzz at $(command -v afl-fuzz)"

# --- SharpFuzz.CommandLine (dotnet tool) -------------------------------------
command -v dotnet >/dev/null 2>&1 || unavailable "dotnet not found on PATH"
SHARPFUZZ="$TOOLS/sharpfuzz"
if [[ ! -x "$SHARPFUZZ" ]]; then
  log "installing the dotnet tool SharpFuzz.CommandLine $SHARPFUZZ_VERSION into artifacts/tools"
  dotnet tool install SharpFuzz.CommandLine --version "$SHARPFUZZ_VERSION" --tool-path "$TOOLS" >/dev/null \
    || unavailable "dotnet tool install SharpFuzz.CommandLine failed"
fi

# --- build and instrument -----------------------------------------------------
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if [[ "$build" -eq 1 || ! -f "$BIN/.instrumented" ]]; then
  log "building tests/Ws4Net.Fuzz"
  rm -rf "$BIN"
  nice -n 19 dotnet publish "$FUZZ_PROJECT/Ws4Net.Fuzz.csproj" -c Release -o "$BIN" --nologo -v quiet >/dev/null \
    || die "dotnet publish tests/Ws4Net.Fuzz failed"
  # An uninstrumented copy for triage: instrumented code needs afl-fuzz's coverage map to run.
  rm -rf "$PLAIN_BIN" && cp -r "$BIN" "$PLAIN_BIN"
  log "instrumenting Ws4Net.Protocol.dll"
  "$SHARPFUZZ" "$BIN/Ws4Net.Protocol.dll" >/dev/null || die "sharpfuzz could not instrument Ws4Net.Protocol.dll"
  touch "$BIN/.instrumented"
fi

# --- afl-fuzz -------------------------------------------------------------------
export AFL_SKIP_BIN_CHECK=1          # the target is dotnet, not an afl-instrumented binary
export AFL_NO_AFFINITY=1             # a shared machine: do not pin a core
export AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FORKSRV_INIT_TMOUT=60000  # the .NET runtime starts before SharpFuzz's fork server answers
export AFL_NO_UI=1
export AFL_QUIET=1

stat_of() { sed -n "s/^$2 *: //p" "$1" 2>/dev/null | head -1; }

# Runs one campaign of $2 seconds on target $1; prints its figures; returns 1 on a crash or hang.
campaign() {
  local name=$1 time=$2 out="$WORK/$1"
  [[ -d "$CORPUS_ROOT/$name" ]] || die "no seed corpus at tests/Ws4Net.Fuzz/corpus/$name"
  rm -rf "$out"
  mkdir -p "$out"
  log "afl-fuzz $name for ${time}s (output: artifacts/fuzz/$name, log: artifacts/fuzz/$name.log)"
  local status=0 dictionary=()
  case "$name" in
    http-request|http-response|extensions|deflate-negotiation) dictionary=(-x "$FUZZ_PROJECT/dictionaries/http.dict") ;;
  esac
  nice -n 19 afl-fuzz -i "$CORPUS_ROOT/$name" -o "$out" -t 10000 -m none -V "$time" ${dictionary[@]+"${dictionary[@]}"} \
    -- dotnet "$BIN/Ws4Net.Fuzz.dll" "$name" >"$WORK/$name.log" 2>&1 || status=$?
  local stats="$out/default/fuzzer_stats"
  if [[ ! -f "$stats" ]]; then
    tail -n 30 "$WORK/$name.log" >&2
    die "afl-fuzz $name did not run (exit $status); see artifacts/fuzz/$name.log"
  fi
  local crashes hangs
  crashes=$(stat_of "$stats" saved_crashes); hangs=$(stat_of "$stats" saved_hangs)
  printf '[fuzz.sh] %-13s %4ss  execs %10s  (%s/s)  corpus %5s (found %s)  edges %s  bitmap %s  stability %s  crashes %s  hangs %s\n' \
    "$name" "$(stat_of "$stats" run_time)" "$(stat_of "$stats" execs_done)" "$(stat_of "$stats" execs_per_sec)" \
    "$(stat_of "$stats" corpus_count)" "$(stat_of "$stats" corpus_found)" "$(stat_of "$stats" edges_found)" \
    "$(stat_of "$stats" bitmap_cvg)" "$(stat_of "$stats" stability)" "$crashes" "$hangs"
  if [[ "${crashes:-0}" != 0 || "${hangs:-0}" != 0 ]]; then
    log "FINDINGS in artifacts/fuzz/$name/default/crashes and .../hangs; triage with:"
    log "  dotnet artifacts/fuzz/bin-plain/Ws4Net.Fuzz.dll $name artifacts/fuzz/$name/default/crashes/id*"
    return 1
  fi
  return 0
}

case "$mode" in
  campaign)
    campaign "$target" "$seconds"
    ;;
  smoke)
    # The canary target throws for inputs starting with '!': AFL++ must record a crash within seconds,
    # or the harness cannot report failures and the smoke run proves nothing.
    mkdir -p "$WORK/canary-seed" && printf 'a' >"$WORK/canary-seed/a"
    rm -rf "$WORK/canary"
    nice -n 19 afl-fuzz -i "$WORK/canary-seed" -o "$WORK/canary" -t 10000 -m none -V 5 \
      -- dotnet "$BIN/Ws4Net.Fuzz.dll" canary >"$WORK/canary.log" 2>&1 || true
    canary_crashes=$(stat_of "$WORK/canary/default/fuzzer_stats" saved_crashes)
    if [[ "${canary_crashes:-0}" == 0 ]]; then
      tail -n 20 "$WORK/canary.log" >&2
      log "smoke: FAILED: the canary's exception was not recorded as a crash (see artifacts/fuzz/canary.log)"
      exit 1
    fi
    log "canary: AFL++ recorded the planted failure ($canary_crashes crash(es) in 5 s)"
    failed=0
    for name in "${TARGETS[@]}"; do
      campaign "$name" "$seconds" || failed=1
    done
    [[ "$failed" -eq 0 ]] && log "smoke: every target ran ${seconds}s without a crash or hang" || log "smoke: FAILED"
    exit "$failed"
    ;;
  cmin)
    command -v afl-cmin >/dev/null 2>&1 || die "afl-cmin not found"
    tmp="$WORK/cmin-$target"
    rm -rf "$tmp"
    log "afl-cmin over tests/Ws4Net.Fuzz/corpus/$target and artifacts/fuzz/$target/default/queue"
    inputs="$WORK/cmin-input-$target"
    rm -rf "$inputs"; mkdir -p "$inputs"
    cp "$CORPUS_ROOT/$target"/* "$inputs/"
    if [[ -d "$WORK/$target/default/queue" ]]; then
      find "$WORK/$target/default/queue" -maxdepth 1 -type f -name 'id:*' -exec cp {} "$inputs/" \;
      # afl file names contain ':' and ','; make them plain.
      (cd "$inputs" && for f in id:*; do [[ -e "$f" ]] && mv "$f" "q-$(printf '%s' "$f" | cut -c4-9)"; done)
    fi
    nice -n 19 afl-cmin -e -i "$inputs" -o "$tmp" -t 10000 -m none -- "$(command -v dotnet)" "$BIN/Ws4Net.Fuzz.dll" "$target" >"$WORK/cmin-$target.log" 2>&1 \
      || { tail -n 20 "$WORK/cmin-$target.log" >&2; die "afl-cmin failed"; }
    rm -f "$CORPUS_ROOT/$target"/*
    cp "$tmp"/* "$CORPUS_ROOT/$target/"
    log "tests/Ws4Net.Fuzz/corpus/$target: $(ls "$CORPUS_ROOT/$target" | wc -l) file(s), $(du -sb "$CORPUS_ROOT/$target" | cut -f1) bytes"
    ;;
esac
