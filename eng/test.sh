#!/usr/bin/env bash
# eng/test.sh: install what the Ws4Net test suites need, then run them.
#
#   ./eng/test.sh [extra dotnet test args...]
#
# Idempotent: when everything is already present this only checks and then
# runs the tests. Dependencies:
#   - Debian packages: chromium (browser tests), python3-websockets and
#     python3-autobahn (interop peers under /usr/bin/python3), afl++ (the fuzz
#     smoke run after the tests, eng/fuzz.sh --smoke), rabbitmq-server (the
#     scale-out tests start a private node of it; its system service is
#     stopped if the package started one); nodejs/npm only if node is missing
#   - npm packages in eng/peers (ws, faye-websocket) via `npm ci`
#   - the .NET SDK (dotnet on PATH), with the ASP.NET Core shared framework
#     (Kestrel is an in-process interop peer)
#
# Environment:
#   CI=true                 a dependency that cannot be installed is an error
#                           (otherwise a warning; tests needing it may skip)
#   WS4NET_CHROMIUM         browser binary for the browser tests
#                           (default /usr/bin/chromium)
#   WS4NET_INSTALL_ONLY=1   install and check dependencies, don't run tests
#   WS4NET_FUZZ_SMOKE=0     skip the AFL++ smoke run after dotnet test (the
#                           fuzz corpus is still replayed by dotnet test)
#   WS4NET_SOAK=0           skip the 1-minute soak after dotnet test
#                           (eng/soak.sh --minutes 1; output in artifacts/soak)
#
# Exported for the tests: WS4NET_REPO_ROOT, WS4NET_CHROMIUM, WS4NET_PEERS_DIR,
# WS4NET_NODE, WS4NET_PYTHON.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="$REPO_ROOT/eng/peers"
SYSTEM_PYTHON=/usr/bin/python3

log() { printf '[test.sh] %s\n' "$*"; }
warn() { printf '[test.sh] WARNING: %s\n' "$*" >&2; }
die() { printf '[test.sh] ERROR: %s\n' "$*" >&2; exit 1; }

is_ci() { [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; }

# A dependency could not be provided: fatal on CI, a warning elsewhere.
missing_dependency() {
  if is_ci; then
    die "$* (CI=true: refusing to run the tests without it)"
  fi
  warn "$* (tests that need it may be skipped or fail)"
}

# ---------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------

pkg_installed() {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

pkg_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}

# How to run apt-get as root: directly, through sudo, or not at all.
SUDO=()
can_be_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
    return 0
  fi
  if command -v sudo >/dev/null 2>&1; then
    if [[ -t 0 ]]; then SUDO=(sudo); else SUDO=(sudo -n); fi
    return 0
  fi
  return 1
}

as_root() {
  ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive "$@"
}

ensure_apt_packages() {
  local wanted=("$@") missing=() pkg
  if ! command -v dpkg >/dev/null 2>&1; then
    missing_dependency "dpkg not found: cannot check or install ${wanted[*]} (this script expects Debian/Ubuntu)"
    return 0
  fi
  for pkg in "${wanted[@]}"; do
    if pkg_installed "$pkg"; then
      log "found apt package $pkg $(pkg_version "$pkg")"
    else
      missing+=("$pkg")
    fi
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0

  log "installing apt packages: ${missing[*]}"
  if ! can_be_root; then
    missing_dependency "not root and sudo is not available: cannot install ${missing[*]}"
    return 0
  fi
  if ! as_root apt-get -o DPkg::Lock::Timeout=300 update -q; then
    warn "apt-get update failed; trying the install with the package lists at hand"
  fi
  if ! as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"; then
    missing_dependency "apt-get install ${missing[*]} failed"
    return 0
  fi
  for pkg in "${missing[@]}"; do
    if pkg_installed "$pkg"; then
      log "installed apt package $pkg $(pkg_version "$pkg")"
    else
      missing_dependency "apt package $pkg is still not installed after apt-get install"
    fi
  done
}

apt_wanted=(chromium python3-websockets python3-autobahn afl++ rabbitmq-server)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_wanted+=(nodejs npm)
fi
ensure_apt_packages "${apt_wanted[@]}"

# The RabbitMQ tests (tests/Ws4Net.Amqp.Tests) start their own private node (own node name, ports, epmd
# port and data directory). The package's system service is not wanted: stop it if the install started one.
if pgrep -u rabbitmq -f 'beam.*rabbit' >/dev/null 2>&1; then
  log "stopping the rabbitmq-server system service started by the package (the tests run their own node)"
  if can_be_root; then
    as_root /usr/sbin/rabbitmqctl stop >/dev/null 2>&1 || as_root service rabbitmq-server stop >/dev/null 2>&1 || warn "could not stop the system rabbitmq-server"
  fi
fi
if [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
  log "found rabbitmq-server $(pkg_version rabbitmq-server)"
else
  missing_dependency "rabbitmq-server not found at /usr/lib/rabbitmq/bin (apt package rabbitmq-server)"
fi

# ---------------------------------------------------------------------------
# Runtimes the tests start as child processes
# ---------------------------------------------------------------------------

export WS4NET_REPO_ROOT="$REPO_ROOT"
export WS4NET_CHROMIUM="${WS4NET_CHROMIUM:-/usr/bin/chromium}"
export WS4NET_PEERS_DIR="$PEERS_DIR"
export WS4NET_PYTHON="${WS4NET_PYTHON:-$SYSTEM_PYTHON}"

if [[ -x "$WS4NET_CHROMIUM" ]]; then
  log "found chromium at $WS4NET_CHROMIUM"
else
  missing_dependency "chromium not found at WS4NET_CHROMIUM=$WS4NET_CHROMIUM"
fi

if [[ -x "$WS4NET_PYTHON" ]] && websockets_version="$("$WS4NET_PYTHON" -c 'import websockets; print(websockets.__version__)' 2>/dev/null)"; then
  log "found python websockets $websockets_version for $WS4NET_PYTHON"
else
  missing_dependency "$WS4NET_PYTHON cannot import websockets (apt package python3-websockets)"
fi

if [[ -x "$WS4NET_PYTHON" ]] && autobahn_version="$("$WS4NET_PYTHON" -c 'import autobahn; print(autobahn.__version__)' 2>/dev/null)"; then
  log "found python autobahn $autobahn_version for $WS4NET_PYTHON"
else
  missing_dependency "$WS4NET_PYTHON cannot import autobahn (apt package python3-autobahn)"
fi

if command -v node >/dev/null 2>&1; then
  export WS4NET_NODE="${WS4NET_NODE:-$(command -v node)}"
  log "found node $("$WS4NET_NODE" --version) at $WS4NET_NODE"
else
  export WS4NET_NODE="${WS4NET_NODE:-node}"
  missing_dependency "node not found on PATH"
fi

# ---------------------------------------------------------------------------
# npm packages for the interop peers (eng/peers)
# ---------------------------------------------------------------------------

ensure_peer_modules() {
  local stamp="$PEERS_DIR/node_modules/.package-lock.json"
  if [[ -d "$PEERS_DIR/node_modules" && -f "$stamp" && ! "$PEERS_DIR/package-lock.json" -nt "$stamp" ]]; then
    log "found npm packages in eng/peers/node_modules (up to date with package-lock.json)"
  else
    if ! command -v npm >/dev/null 2>&1; then
      missing_dependency "npm not found: cannot install the packages in eng/peers"
      return 0
    fi
    log "installing npm packages in eng/peers (npm ci)"
    if ! (cd "$PEERS_DIR" && npm ci --no-audit --no-fund); then
      missing_dependency "npm ci in eng/peers failed"
      return 0
    fi
    # npm ci rewrites the hidden lockfile; touch it so the check above holds
    # even where the file system keeps coarse timestamps.
    [[ -f "$stamp" ]] && touch "$stamp"
    log "installed npm packages in eng/peers"
  fi
  local module version
  for module in ws faye-websocket; do
    if version="$(cd "$PEERS_DIR" && node -p "require('$module/package.json').version" 2>/dev/null)"; then
      log "found npm package $module $version"
    else
      missing_dependency "npm package $module cannot be loaded from eng/peers"
    fi
  done
}

if command -v node >/dev/null 2>&1; then
  ensure_peer_modules
fi

# ---------------------------------------------------------------------------
# .NET SDK and the test run
# ---------------------------------------------------------------------------

command -v dotnet >/dev/null 2>&1 || die "dotnet not found on PATH: install the .NET 10 SDK"
log "found dotnet SDK $(dotnet --version)"
# The interop tests host Kestrel in-process (FrameworkReference Microsoft.AspNetCore.App).
if aspnetcore_version="$(dotnet --list-runtimes 2>/dev/null | awk '$1 == "Microsoft.AspNetCore.App" && $2 ~ /^10\./ { v = $2 } END { if (v == "") exit 1; print v }')"; then
  log "found ASP.NET Core shared framework $aspnetcore_version (Kestrel interop peer)"
else
  missing_dependency "the ASP.NET Core 10 shared framework (Microsoft.AspNetCore.App) is not installed: install the .NET 10 SDK or aspnetcore-runtime-10.0"
fi

if [[ "${WS4NET_INSTALL_ONLY:-}" == "1" ]]; then
  log "WS4NET_INSTALL_ONLY=1: dependencies ready, not running the tests"
  exit 0
fi

export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}"
export DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE="${DOTNET_SKIP_FIRST_TIME_EXPERIENCE:-1}"

# The denial-of-service suite (tests/Ws4Net.DoS.Tests) opens 10,000 connections at once: one descriptor each in
# the test process and in the server it starts (which inherits the limit). Raise the soft limit to the hard
# one; the suite itself fails with a clear message on CI when the limit is still too low.
if ulimit -n "$(ulimit -Hn)" 2>/dev/null; then
  log "open-file limit (ulimit -n): $(ulimit -n)"
else
  warn "could not raise the open-file limit (ulimit -n $(ulimit -n), hard $(ulimit -Hn))"
fi

cd "$REPO_ROOT"
log "running: dotnet test Ws4Net.slnx -c Release --logger \"console;verbosity=normal\"${*:+ $*}"
results_dir="$REPO_ROOT/artifacts/test-results"
rm -rf "$results_dir"
status=0
dotnet test Ws4Net.slnx -c Release --logger "console;verbosity=normal" --logger "trx" \
  --results-directory "$results_dir" "$@" || status=$?
log "dotnet test exited with code $status"

# The permessage-deflate vectors once more on the fallback zlib (the system's libz through NativeLibrary
# instead of the runtime's private libSystem.IO.Compression.Native exports; docs/compression.md).
zlib_status=0
log "running: WS4NET_ZLIB=system dotnet test tests/Ws4Net.Protocol.Tests (compression)"
WS4NET_ZLIB=system dotnet test tests/Ws4Net.Protocol.Tests/Ws4Net.Protocol.Tests.csproj -c Release --no-build \
  --filter "FullyQualifiedName~Ws4Net.Protocol.Tests.Compression" --logger "trx" \
  --results-directory "$results_dir/zlib-system" || zlib_status=$?
log "compression tests on the system zlib exited with code $zlib_status"
if [[ "$status" -eq 0 && "$zlib_status" -ne 0 ]]; then
  status=$zlib_status
fi

# Coverage-guided fuzzing smoke run: every AFL++ target for a few seconds (after the tests, so that a
# fuzzing problem never hides a test failure; its failure fails the run too).
fuzz_status=0
if [[ "${WS4NET_FUZZ_SMOKE:-1}" != "0" ]]; then
  log "running: eng/fuzz.sh --smoke"
  "$REPO_ROOT/eng/fuzz.sh" --smoke || fuzz_status=$?
  log "eng/fuzz.sh --smoke exited with code $fuzz_status"
fi

# One-minute soak (eng/soak.sh): mixed traffic against two `ws4net serve` processes, failing when RSS,
# descriptors, managed heap or echo p99 trend upward (docs/soak.md). After the tests, like the fuzz smoke.
soak_status=0
if [[ "${WS4NET_SOAK:-1}" != "0" ]]; then
  log "running: eng/soak.sh --minutes 1"
  "$REPO_ROOT/eng/soak.sh" --minutes 1 --out "$REPO_ROOT/artifacts/soak" || soak_status=$?
  log "eng/soak.sh --minutes 1 exited with code $soak_status"
fi

# One closing line with the totals over every test project (from the TRX reports), so that a run
# that executed no test cannot pass unnoticed.
totals=$(find "$results_dir" -name '*.trx' -print0 2>/dev/null | xargs -0 -r cat | tr '>' '\n' \
  | sed -n 's/.*<Counters \(.*\)/\1/p' \
  | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]); c[kv[1]] += kv[2] } }
         END { printf "%d %d %d", c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], c["notExecuted"] }')
read -r passed failed skipped <<<"${totals:-0 0 0}"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ "$status" -eq 0 && "$passed" -eq 0 ]]; then
  log "ERROR: no test was executed"
  status=1
fi
if [[ "$status" -eq 0 && "$fuzz_status" -ne 0 ]]; then
  log "ERROR: the fuzz smoke run failed (exit $fuzz_status)"
  status=$fuzz_status
fi
if [[ "$status" -eq 0 && "$soak_status" -ne 0 ]]; then
  log "ERROR: the 1-minute soak failed (exit $soak_status)"
  status=$soak_status
fi
exit "$status"
