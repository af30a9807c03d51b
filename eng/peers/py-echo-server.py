#!/usr/bin/python3
"""Ws4Net interop peer: a WebSocket echo server built on Python `websockets`.

    /usr/bin/python3 py-echo-server.py [--port 0] [--host 127.0.0.1] [--ignore-stdin]

Targets Debian 12's python3-websockets (10.4) and its asyncio API. Listens on
127.0.0.1 (port 0 = ephemeral) on any path, echoes every message back with the
same type (str stays text, bytes stay binary), answers pings and echoes close
frames (both are default `websockets` behaviour). Prints exactly
"LISTENING <port>" on its own line once ready. Exits when stdin reaches EOF
(unless --ignore-stdin) or on SIGTERM/SIGINT. Diagnostics go to stderr only.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the shared modules
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from websockets_peer import serve_echo  # noqa: E402

if __name__ == "__main__":
    serve_echo("py-echo-server", "websockets echo server for Ws4Net interop tests", compression=None)
