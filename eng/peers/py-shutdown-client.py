#!/usr/bin/python3
"""Ws4Net interop peer for graceful-shutdown tests: a Python `websockets` client
that only listens.

    /usr/bin/python3 py-shutdown-client.py --url ws://127.0.0.1:PORT/path

stdout: "OPEN" once connected, then one "MSG <text>" line per text message
("BIN <hex>" for binary), then "CLOSE <code> <reason>" when the server's close
arrives, exit 0. Connection errors print "FAIL <reason>" and exit 1. Never sends
a data message; answers the close as the library does. Targets Debian 12's
python3-websockets (10.4).
"""

import argparse
import asyncio
import sys

import websockets
import websockets.exceptions


async def listen(url):
    async with websockets.connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        print("OPEN", flush=True)
        try:
            async for message in ws:
                if isinstance(message, str):
                    print("MSG", message, flush=True)
                else:
                    print("BIN", message.hex(), flush=True)
        except websockets.exceptions.ConnectionClosedError:
            pass
        print(f"CLOSE {ws.close_code} {ws.close_reason}", flush=True)


def main():
    parser = argparse.ArgumentParser(description="listening websockets client for Ws4Net shutdown tests")
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    try:
        asyncio.run(asyncio.wait_for(listen(args.url), 60))
    except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as exc:
        print(f"FAIL {type(exc).__name__}: {exc}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
