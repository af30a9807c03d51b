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

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the shared modules
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from websockets_peer import serve_echo  # noqa: E402

if __name__ == "__main__":
    serve_echo(
        "py-deflate-echo-server",
        "websockets echo server with permessage-deflate for Ws4Net interop tests",
        compression="deflate",
        verbose=True,
    )
