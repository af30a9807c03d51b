#!/usr/bin/env bash
# eng/bench-backplane.sh: the RabbitMQ backplane's throughput figure.
#
#   ./eng/bench-backplane.sh [extra `ws4net bench backplane` args, e.g. --messages 100000 --sizes 64,1024]
#
# Starts a private RabbitMQ node (Debian package rabbitmq-server; its own node name, ports, epmd port and
# data directory under a temporary directory, bound to 127.0.0.1; never the system service), builds the CLI,
# runs `ws4net bench backplane --amqp ...` (ws4net across two nodes vs a RabbitMQ.Client loop on the same
# broker, in the same run) and stops the node. Set WS4NET_AMQP_URI to use a broker of your own instead.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RABBIT_BIN="${WS4NET_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}"
log() { printf '[bench-backplane] %s\n' "$*" >&2; }

dotnet build "$REPO_ROOT/src/Ws4Net.Cli/Ws4Net.Cli.csproj" -c Release -v quiet -nologo >&2
CLI="$REPO_ROOT/src/Ws4Net.Cli/bin/Release/net10.0/Ws4Net.Cli.dll"

if [[ -n "${WS4NET_AMQP_URI:-}" ]]; then
  exec dotnet "$CLI" bench backplane --amqp "$WS4NET_AMQP_URI" "$@"
fi

[[ -x "$RABBIT_BIN/rabbitmq-server" ]] || { log "rabbitmq-server not found in $RABBIT_BIN: apt-get install rabbitmq-server"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

DIR="$(mktemp -d /tmp/ws4net-bench-rabbitmq.XXXXXX)"
PORT="$(free_port)"; DIST="$(free_port)"; EPMD="$(free_port)"
export HOME="$DIR" RABBITMQ_NODENAME="ws4netbench$$@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$PORT" RABBITMQ_DIST_PORT="$DIST" ERL_EPMD_PORT="$EPMD" ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_MNESIA_BASE="$DIR/mnesia" RABBITMQ_LOG_BASE="$DIR/log" RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" RABBITMQ_PLUGINS_EXPAND_DIR="$DIR/plugins-expand" RABBITMQ_PID_FILE="$DIR/rabbitmq.pid"
echo "listeners.tcp.default = 127.0.0.1:$PORT" > "$DIR/rabbitmq.conf"
echo "[]." > "$DIR/enabled_plugins"

"$RABBIT_BIN/rabbitmq-server" > "$DIR/server.log" 2>&1 &
SERVER_PID=$!
cleanup() {
  "$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" shutdown >/dev/null 2>&1 || kill "$SERVER_PID" 2>/dev/null || true
  epmd -kill >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

log "starting RabbitMQ node $RABBITMQ_NODENAME on 127.0.0.1:$PORT"
for _ in $(seq 1 60); do
  if "$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" await_startup --timeout 30 >/dev/null 2>&1; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DIR/server.log" >&2; log "rabbitmq-server exited"; exit 1; }
  sleep 1
done
dotnet "$CLI" bench backplane --amqp "amqp://guest:guest@127.0.0.1:$PORT/" "$@"
