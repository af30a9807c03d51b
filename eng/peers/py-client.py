#!/usr/bin/python3
"""Ws4Net interop peer: a WebSocket client built on Python `websockets` that
runs a fixed conformance script against an echo endpoint.

    /usr/bin/python3 py-client.py --url ws://127.0.0.1:PORT/echo

Targets Debian 12's python3-websockets (10.4) and its asyncio API. Steps, in
order, each with a 10 s timeout:
  text messages of 0, 1, 125, 126, 65535, 65536, 1048576 UTF-8 bytes
    (repeating pattern with multi-byte characters "é€😀")
  binary messages of 0, 125, 126, 65535, 65536, 1048576 pseudo-random bytes
  ping with payload "ping!" -> expects a pong with the same payload
  close 4000 "done"        -> expects the server's close frame to carry 4000
stdout: one "OK <what> <detail>" line per check, then "ALL OK" (exit 0), or
"FAIL <reason>" (exit 1). Usage errors exit 2.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the shared modules
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from peer_common import client_main, echo_checks, ping_and_close_checks  # noqa: E402
from websockets_peer import connected  # noqa: E402


async def run(url):
    async with connected(url, compression=None) as peer:
        await echo_checks(peer)
        await ping_and_close_checks(peer)


if __name__ == "__main__":
    client_main("websockets interop client for Ws4Net tests", run)
