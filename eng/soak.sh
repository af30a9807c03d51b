#!/usr/bin/env bash
# eng/soak.sh: the soak test. Mixed traffic (echo, broadcast with a reader that stalls, chat, connection
# churn with clean closes, aborts and TCP resets mid-handshake and mid-frame; permessage-deflate offered by
# half of the clients; ws and wss) against two `ws4net serve` processes for N minutes. Every 10 s it
# samples each server's RSS (/proc/PID/status VmRSS), open descriptors (/proc/PID/fd), managed heap after
# the last GC (the server's `--stats-interval` line) and the echo p99 of the interval into a CSV, fits a
# trend to the second half of every series (after a warm-up of at least 30 s that is not sampled) and fails when one rises beyond its tolerance (see
# docs/soak.md). Writes soak.csv, soak.svg (OxyPlot) and soak-summary.md into the output directory.
#
#   eng/soak.sh [--minutes N] [--out DIR] [--bin DIR] [--no-build]
#
#   --minutes N   how long the traffic runs (default 1; the reference run in docs/soak.md is 60)
#   --out DIR     where the CSV, plot and summary go (default artifacts/soak)
#   --bin DIR     where the server and the soak tool are published (default artifacts/soak-bin); a long run
#                 can use a private directory so that rebuilding the repository does not touch it
#   --no-build    use what --bin already holds
#
# Exit code: 0 passed, 1 a series trends upward, a long-lived client failed or a server died, 2 usage.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes=1
out="$REPO_ROOT/artifacts/soak"
bin="$REPO_ROOT/artifacts/soak-bin"
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: eng/soak.sh [--minutes N] [--out DIR] [--bin DIR] [--no-build]" >&2; exit 2 ;;
  esac
done

log() { printf '[soak.sh] %s\n' "$*"; }

if [[ "$build" -eq 1 ]]; then
  log "publishing ws4net (src/Ws4Net.Cli) and the soak tool (benchmarks/Ws4Net.Soak) to $bin"
  dotnet publish "$REPO_ROOT/src/Ws4Net.Cli/Ws4Net.Cli.csproj" -c Release -o "$bin/cli" --nologo -v quiet
  dotnet publish "$REPO_ROOT/benchmarks/Ws4Net.Soak/Ws4Net.Soak.csproj" -c Release -o "$bin/soak" --nologo -v quiet
fi
[[ -f "$bin/cli/Ws4Net.Cli.dll" && -f "$bin/soak/Ws4Net.Soak.dll" ]] || { echo "[soak.sh] ERROR: $bin holds no published build (drop --no-build)" >&2; exit 2; }

# Each connection is a descriptor on both sides; the soak needs a few hundred, raise the soft limit anyway.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$out"
log "running the soak for $minutes min; output in $out"
dotnet "$bin/soak/Ws4Net.Soak.dll" --server "$bin/cli/Ws4Net.Cli.dll" --minutes "$minutes" --out "$out"
