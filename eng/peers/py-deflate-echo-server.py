#!/usr/bin/python3
"""Ws4Net interop peer: a Python `websockets` echo server WITH permessage-deflate
(its default, compression="deflate": it answers server_max_window_bits=12 and,
when offered, client_max_window_bits=12, and compresses every message).

    /usr/bin/python3 py-deflate-echo-server.py [--port 0] [--host 127.0.0.1] [--ignore-stdin]

Targets Debian 12's python3-websockets (10.4) and its asyncio API. Listens on
127.0.0.1 (port 0 = ephemeral) on any path, echoes every message back with the
same type (str stays text, bytes stay binary), answers pings and echoes close
frames (both are default `websockets` behaviour). Prints exactly
"LISTENING <port>" on its own line once ready; each connection's negotiated
Sec-WebSocket-Extensions goes to stderr. Exits when stdin reaches EOF
(unless --ignore-stdin) or on SIGTERM/SIGINT. Diagnostics go to stderr only.
"""

import argparse
import asyncio
import os
import signal
import sys
import threading

import websockets
import websockets.exceptions

MAX_SIZE = 64 * 1024 * 1024


def log(message):
    print(f"py-deflate-echo-server: {message}", file=sys.stderr, flush=True)


async def echo(websocket, *_path):
    log(f"answered Sec-WebSocket-Extensions: {websocket.response_headers.get('Sec-WebSocket-Extensions', '(none)')}")
    try:
        async for message in websocket:
            await websocket.send(message)
    except websockets.exceptions.ConnectionClosedError as exc:
        # Close codes other than 1000/1001 land here too; only a connection
        # that ended without a close frame from the peer is worth a note.
        if exc.rcvd is None:
            log(f"connection lost: {exc}")
        else:
            log(f"connection closed: {exc}")


def watch_stdin(loop, stop):
    """Blocks on stdin in a daemon thread and signals `stop` at EOF."""

    def run():
        # os.read on the raw descriptor: a daemon thread blocked inside the
        # buffered sys.stdin would abort the interpreter at shutdown.
        try:
            fd = sys.stdin.fileno()
            while os.read(fd, 65536):
                pass
        except (OSError, ValueError, AttributeError):
            pass
        loop.call_soon_threadsafe(request_stop, stop, "stdin closed")

    threading.Thread(target=run, name="stdin-watch", daemon=True).start()


def request_stop(stop, why):
    if not stop.done():
        log(f"stopping ({why})")
        stop.set_result(None)


async def main():
    parser = argparse.ArgumentParser(description="websockets echo server with permessage-deflate for Ws4Net interop tests")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 = ephemeral (default)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--ignore-stdin", action="store_true", help="do not exit when stdin closes")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("invalid --port")

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, stop, sig.name)

    server = await websockets.serve(
        echo,
        args.host,
        args.port,
        max_size=MAX_SIZE,
        compression="deflate",
        ping_interval=None,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)

    if not args.ignore_stdin:
        watch_stdin(loop, stop)

    await stop
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), timeout=2)
    except asyncio.TimeoutError:
        pass


if __name__ == "__main__":
    asyncio.run(main())
