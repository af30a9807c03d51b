#!/usr/bin/env bash
# eng/bench.sh: load benchmarks of Ws4Net's server against Kestrel (ASP.NET Core, System.Net.WebSockets)
# and Node ws, measured from outside by `ws4net bench` (raw sockets).
#
#   ./eng/bench.sh [--repeats N] [--duration S] [--cases LIST] [--servers LIST] [--out DIR] [--smoke] [--no-build]
#
# Method: each server runs pinned to CPU 0 (taskset -c 0), the load generator to CPU 1; servers are
# interleaved within each case (ws4net, kestrel, node, then again), each case is repeated R times
# (default 3); the table shows the best of R and the spread (min-max), plus ratios Ws4Net/Kestrel and
# Ws4Net/ws of the case's main figure. Loopback only (127.0.0.1). Every step is bounded in time.
#
# Options:
#   --repeats N      runs per case and server (default 3)
#   --duration S     measured seconds per run (default 10)
#   --cases LIST     comma-separated case names (default: all; see CASES below, or --list)
#   --servers LIST   comma-separated from ws4net,kestrel,node (default: all three)
#   --out DIR        where results.md and results.jsonl go (default artifacts/bench)
#   --smoke          CI check: each server once, 2 s, two tiny cases
#   --no-build       use the existing Release builds and node_modules
#   --list           print the cases and exit
#
# Needs: the .NET 10 SDK (with ASP.NET Core), node and npm (benchmarks/node-ws: npm ci), python3 (report).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLI_DLL="$REPO_ROOT/src/Ws4Net.Cli/bin/Release/net10.0/Ws4Net.Cli.dll"
KESTREL_DLL="$REPO_ROOT/benchmarks/Ws4Net.Bench.Kestrel/bin/Release/net10.0/Ws4Net.Bench.Kestrel.dll"
NODE_DIR="$REPO_ROOT/benchmarks/node-ws"

log() { printf '[bench.sh] %s\n' "$*" >&2; }
warn() { printf '[bench.sh] WARNING: %s\n' "$*" >&2; }
die() { printf '[bench.sh] ERROR: %s\n' "$*" >&2; exit 1; }

# name|kind|path|generator arguments (the duration and the server pid are added per run)
CASES=(
  "echo-100x64B-p16|echo|/echo|--connections 100 --size 64 --pipeline 16"
  "echo-100x1KiB-p16|echo|/echo|--connections 100 --size 1024 --pipeline 16"
  "echo-1x64B-p16|echo|/echo|--connections 1 --size 64 --pipeline 16"
  "echo-1x64B-p1|echo|/echo|--connections 1 --size 64 --pipeline 1"
  "echo-100x64KiB-p1|echo|/echo|--connections 100 --size 65536 --pipeline 1"
  "echo-100x1MiB-p1|echo|/echo|--connections 100 --size 1048576 --pipeline 1"
  "broadcast-1000x1KiB-100Hz|broadcast|/broadcast|--connections 1000 --size 1024 --rate 100"
  "idle-10000|idle|/echo|--connections 10000 --settle 3"
  "connect-rate-c16|connect-rate|/echo|--concurrency 16"
)
SMOKE_CASES=(
  "smoke-echo-10x64B-p4|echo|/echo|--connections 10 --size 64 --pipeline 4 --warmup 0.5"
  "smoke-broadcast-20x256B-50Hz|broadcast|/broadcast|--connections 20 --size 256 --rate 50 --warmup 0.5"
)

repeats=3
duration=10
cases_filter=""
servers="ws4net,kestrel,node"
out_dir="$REPO_ROOT/artifacts/bench"
smoke=0
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="${2:?--repeats needs a number}"; shift 2 ;;
    --duration) duration="${2:?--duration needs seconds}"; shift 2 ;;
    --cases) cases_filter="${2:?--cases needs a list}"; shift 2 ;;
    --servers) servers="${2:?--servers needs a list}"; shift 2 ;;
    --out) out_dir="${2:?--out needs a directory}"; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --no-build) build=0; shift ;;
    --list) for c in "${CASES[@]}" "${SMOKE_CASES[@]}"; do IFS='|' read -r n k p a <<<"$c"; printf '%-28s %-12s %s %s\n' "$n" "$k" "$p" "$a"; done; exit 0 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$repeats" =~ ^[1-9][0-9]*$ ]] || die "--repeats must be a positive integer"
[[ "$duration" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--duration must be a number of seconds"

selected=()
if [[ $smoke -eq 1 ]]; then
  repeats=1
  duration=2
  selected=("${SMOKE_CASES[@]}")
else
  for c in "${CASES[@]}"; do
    name="${c%%|*}"
    if [[ -z "$cases_filter" || ",$cases_filter," == *",$name,"* ]]; then selected+=("$c"); fi
  done
  [[ ${#selected[@]} -gt 0 ]] || die "no case matches --cases $cases_filter (see --list)"
fi
IFS=',' read -r -a server_list <<<"$servers"
for s in "${server_list[@]}"; do
  [[ "$s" == ws4net || "$s" == kestrel || "$s" == node ]] || die "unknown server '$s' (ws4net, kestrel, node)"
done

# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------

# 10,000 idle connections need as many descriptors in the server and in the generator.
if ! ulimit -n 65536 2>/dev/null; then
  hard="$(ulimit -Hn)"
  ulimit -n "$hard" 2>/dev/null || true
  warn "cannot raise the open-file limit to 65536; using $(ulimit -n) (the idle case needs more than its connection count)"
fi

PIN_SERVER=()
PIN_CLIENT=()
if command -v taskset >/dev/null 2>&1 && [[ "$(nproc)" -ge 2 ]]; then
  PIN_SERVER=(taskset -c 0)
  PIN_CLIENT=(taskset -c 1)
else
  warn "taskset missing or fewer than 2 CPUs: server and generator are not pinned"
fi

PYTHON="$(command -v python3 || true)"
[[ -n "$PYTHON" ]] || PYTHON=/usr/bin/python3
[[ -x "$PYTHON" ]] || die "python3 is needed to write the report"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

needs_server() { [[ ",$servers," == *",$1,"* ]]; }

if [[ $build -eq 1 ]]; then
  command -v dotnet >/dev/null 2>&1 || die "dotnet not found on PATH"
  log "building src/Ws4Net.Cli (Release)"
  dotnet build "$REPO_ROOT/src/Ws4Net.Cli/Ws4Net.Cli.csproj" -c Release -nologo -v q -clp:ErrorsOnly >&2 || die "build of Ws4Net.Cli failed"
  if needs_server kestrel; then
    log "building benchmarks/Ws4Net.Bench.Kestrel (Release)"
    dotnet build "$REPO_ROOT/benchmarks/Ws4Net.Bench.Kestrel/Ws4Net.Bench.Kestrel.csproj" -c Release -nologo -v q -clp:ErrorsOnly >&2 || die "build of Ws4Net.Bench.Kestrel failed"
  fi
  if needs_server node; then
    command -v node >/dev/null 2>&1 || die "node not found on PATH (eng/test.sh installs it)"
    stamp="$NODE_DIR/node_modules/.package-lock.json"
    if [[ -f "$stamp" && ! "$NODE_DIR/package-lock.json" -nt "$stamp" ]]; then
      log "benchmarks/node-ws/node_modules is up to date"
    else
      command -v npm >/dev/null 2>&1 || die "npm not found on PATH"
      log "installing npm packages in benchmarks/node-ws (npm ci)"
      (cd "$NODE_DIR" && timeout 300 npm ci --no-audit --no-fund >&2) || die "npm ci in benchmarks/node-ws failed"
      [[ -f "$stamp" ]] && touch "$stamp"
    fi
  fi
fi
[[ -f "$CLI_DLL" ]] || die "$CLI_DLL is missing (run without --no-build)"
if needs_server kestrel; then [[ -f "$KESTREL_DLL" ]] || die "$KESTREL_DLL is missing (run without --no-build)"; fi
if needs_server node; then
  (cd "$NODE_DIR" && node -e "require('ws'); require('bufferutil')" 2>/dev/null) || die "benchmarks/node-ws cannot load ws and bufferutil (run without --no-build)"
fi

mkdir -p "$out_dir"
jsonl="$out_dir/results.jsonl"
logs="$out_dir/logs"
mkdir -p "$logs"
: >"$jsonl"

# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# Listening ports below the usual ephemeral range (32768-60999), so no outgoing connection holds one.
next_port=$((15000 + RANDOM % 10000))

# start_server NAME LOGFILE: starts it pinned, waits for its ready line; sets server_pid and port.
# A server that exits before it is ready (say, its port was taken) is retried on the next ports.
start_server() {
  local attempt
  for attempt in 1 2 3; do
    if start_server_once "$@"; then return 0; fi
  done
  return 1
}

start_server_once() {
  local name="$1" logfile="$2" ready
  port=$next_port
  next_port=$((next_port + 1))
  case "$name" in
    ws4net) ready="Ws4Net is serving"
      "${PIN_SERVER[@]}" dotnet "$CLI_DLL" serve --port "$port" --log-level Warning >"$logfile" 2>&1 & ;;
    kestrel) ready="kestrel ready"
      "${PIN_SERVER[@]}" dotnet "$KESTREL_DLL" --port "$port" >"$logfile" 2>&1 & ;;
    node) ready="node-ws ready"
      "${PIN_SERVER[@]}" node "$NODE_DIR/server.mjs" --port "$port" >"$logfile" 2>&1 & ;;
  esac
  server_pid=$!
  local waited=0
  until grep -q "$ready" "$logfile" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      warn "$name exited before it was ready:"; sed 's/^/    /' "$logfile" >&2
      server_pid=""
      return 1
    fi
    if [[ $waited -ge 300 ]]; then
      warn "$name printed no ready line within 30 s"
      cleanup
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$server_pid" 2>/dev/null && [[ $waited -lt 50 ]]; do sleep 0.1; waited=$((waited + 1)); done
  cleanup
}

# record SERVER CASE REPEAT JSON-OBJECT-OR-EMPTY ERROR
record() {
  local server="$1" case_name="$2" repeat="$3" json="$4" error="$5"
  if [[ -n "$json" ]]; then
    printf '{"server":"%s","case":"%s","repeat":%d,%s\n' "$server" "$case_name" "$repeat" "${json#\{}" >>"$jsonl"
  else
    error="${error//\\/\\\\}"; error="${error//\"/\\\"}"
    printf '{"server":"%s","case":"%s","repeat":%d,"error":"%s"}\n' "$server" "$case_name" "$repeat" "$error" >>"$jsonl"
  fi
}

# ---------------------------------------------------------------------------
# Runs: for each case, R rounds; in each round every server once (interleaved)
# ---------------------------------------------------------------------------

total=$(( ${#selected[@]} * repeats * ${#server_list[@]} ))
n=0
log "$total runs: ${#selected[@]} case(s) x ${#server_list[@]} server(s) x $repeats repeat(s), ${duration} s each; results in $out_dir"
for c in "${selected[@]}"; do
  IFS='|' read -r case_name kind path args <<<"$c"
  for ((r = 1; r <= repeats; r++)); do
    for server in "${server_list[@]}"; do
      n=$((n + 1))
      run_log="$logs/$case_name.$server.$r"
      if ! start_server "$server" "$run_log.server.log"; then
        record "$server" "$case_name" "$r" "" "server did not start"
        continue
      fi
      url="ws://127.0.0.1:$port$path"
      # shellcheck disable=SC2206
      gen=(dotnet "$CLI_DLL" bench "$kind" --url "$url" $args)
      if [[ "$kind" == idle ]]; then
        gen+=(--pid "$server_pid")
        limit=120
      else
        gen+=(--duration "$duration" --server-pid "$server_pid")
        limit=$(awk -v d="$duration" 'BEGIN { printf "%d", d + 60 }')
      fi
      log "[$n/$total] $case_name on $server (repeat $r)"
      status=0
      # The generator runs its socket continuations on the epoll thread (no thread-pool hop): on its one
      # core that roughly doubles what it can drive, so it is not the bottleneck. Servers keep their defaults.
      DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_TieredPGO=1 \
        timeout -k 5 "$limit" "${PIN_CLIENT[@]}" "${gen[@]}" >"$run_log.out" 2>"$run_log.err" || status=$?
      stop_server
      json="$(grep -m1 '^JSON ' "$run_log.out" | cut -c6- || true)"
      if [[ -n "$json" ]]; then
        record "$server" "$case_name" "$r" "$json" ""
        [[ $status -eq 0 ]] || warn "$case_name on $server: the generator exited with $status (errors during the run; see $run_log.err)"
      else
        reason="$(grep -m1 '^error:' "$run_log.err" || true)"
        [[ -n "$reason" ]] || reason="generator exit code $status"
        warn "$case_name on $server: no result ($reason)"
        record "$server" "$case_name" "$r" "" "$reason"
      fi
    done
  done
done

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

"$PYTHON" - "$jsonl" "$out_dir/results.md" "$repeats" "$duration" "$smoke" <<'PY'
import json, sys, datetime, os, platform, subprocess
jsonl, out, repeats, duration, smoke = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
rows = [json.loads(line) for line in open(jsonl) if line.strip()]
servers = ["ws4net", "kestrel", "node"]
label = {"ws4net": "Ws4Net", "kestrel": "Kestrel", "node": "Node ws"}
cases = []
for r in rows:
    if r["case"] not in cases:
        cases.append(r["case"])

def main_figure(r):
    # idle: memory per connection (lower is better); everything else: msgs (or handshakes) per second.
    return ("kib_per_connection", False) if r.get("bench") == "idle" else ("msgs_per_s", True)

def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"

best = {}
lines = []
lines.append(f"# Load benchmarks ({'smoke, ' if smoke else ''}best of {repeats}, {duration} s per run)")
lines.append("")
lines.append(f"Run of {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs); "
             "server on CPU 0, generator (`ws4net bench`) on CPU 1, loopback. Main figure: msgs/s (echo: echoes, "
             "broadcast: deliveries, connect-rate: handshakes) or, for idle, server KiB per connection (lower is better). "
             "Spread = min-max of the main figure over the repeats; latency and CPU are from the best run; CPU in % of one core.")
lines.append("")
lines.append("| case | server | main figure (best) | spread | p50 µs | p99 µs | p99.9 µs | server CPU % | generator CPU % | errors | Ws4Net/Kestrel | Ws4Net/ws |")
lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for case in cases:
    for server in servers:
        runs = [r for r in rows if r["case"] == case and r["server"] == server]
        if not runs:
            continue
        ok = [r for r in runs if "error" not in r]
        failed = len(runs) - len(ok)
        if not ok:
            lines.append(f"| {case} | {label[server]} | failed: {runs[0]['error']} | | | | | | | {failed} run(s) | | |")
            continue
        key, higher = main_figure(ok[0])
        values = [r.get(key, 0) for r in ok]
        b = max(ok, key=lambda r: r.get(key, 0)) if higher else min(ok, key=lambda r: r.get(key, 0))
        best[(case, server)] = (b.get(key, 0), key)
        digits = 1 if key == "kib_per_connection" else 0
        unit = " KiB/conn" if key == "kib_per_connection" else ""
        errors = sum(r.get("errors", 0) for r in ok) + failed
        missing = sum(r.get("missing", 0) for r in ok)
        err = f"{errors}" + (f" ({missing} missing)" if missing else "")
        lines.append("| {} | {} | {}{} | {}-{} | {} | {} | {} | {} | {} | {} | {{r_{}_k}} | {{r_{}_n}} |".format(
            case, label[server], fmt(b.get(key), digits), unit, fmt(min(values), digits), fmt(max(values), digits),
            fmt(b.get("p50_us")), fmt(b.get("p99_us")), fmt(b.get("p999_us")),
            fmt(b.get("server_cpu_pct")), fmt(b.get("client_cpu_pct")), err, case, case) if server == "ws4net" else
            "| {} | {} | {}{} | {}-{} | {} | {} | {} | {} | {} | {} | | |".format(
            case, label[server], fmt(b.get(key), digits), unit, fmt(min(values), digits), fmt(max(values), digits),
            fmt(b.get("p50_us")), fmt(b.get("p99_us")), fmt(b.get("p999_us")),
            fmt(b.get("server_cpu_pct")), fmt(b.get("client_cpu_pct")), err))

text = "\n".join(lines) + "\n"
for case in cases:
    mine = best.get((case, "ws4net"))
    for other, tag in (("kestrel", "k"), ("node", "n")):
        theirs = best.get((case, other))
        ratio = f"{mine[0] / theirs[0]:.2f}" if mine and theirs and theirs[0] else "-"
        text = text.replace("{r_%s_%s}" % (case, tag), ratio)
text += "\nRatios compare the main figure (throughput: above 1 = Ws4Net faster; idle memory: below 1 = Ws4Net smaller).\n"
text += f"Raw results (one JSON object per run): {os.path.basename(jsonl)}.\n"
open(out, "w").write(text)
print(text)
PY
log "wrote $out_dir/results.md and $jsonl"
