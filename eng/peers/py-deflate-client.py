#!/usr/bin/python3
"""Ws4Net interop peer: a Python `websockets` client WITH permessage-deflate (its
default: compression="deflate", which offers client_max_window_bits and
compresses every message) running a fixed script against an echo endpoint.

    /usr/bin/python3 py-deflate-client.py --url ws://127.0.0.1:PORT/echo

Targets Debian 12's python3-websockets (10.4). Steps, each with a 10 s timeout:
  the server's Sec-WebSocket-Extensions answer must name permessage-deflate
  text of 0, 1, 125, 126, 65535, 65536, 1048576 UTF-8 bytes, compressible and random
  binary of the same sizes, compressible and random
  empty text and binary after non-empty ones
  a message in three fragments whose last fragment is empty, then another message
  ping "ping!" -> pong; close 4000 "done" -> the server's close carries 4000
stdout: "OK extensions <answer>", one "OK <what>" line per check, then "ALL OK"
(exit 0), or "FAIL <reason>" (exit 1). Usage errors exit 2.
"""

import itertools
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the shared modules
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from peer_common import Failure, client_main, make_text, ok, ping_and_close_checks  # noqa: E402
from websockets_peer import connected, step  # noqa: E402

SIZES = [0, 1, 125, 126, 65535, 65536, 1048576]


def text(byte_length, compressible):
    if compressible:
        return make_text(byte_length, itertools.cycle("permessage-deflate é€😀 "))
    rng = random.Random(byte_length)
    pattern = "Ws4Net é€😀 zqjxkvbwy0123456789"
    return make_text(byte_length, (rng.choice(pattern) for _ in itertools.count()))


def binary(length, compressible):
    if compressible:
        return bytes((i * 7) % 61 for i in range(length))
    return random.Random(length * 31).randbytes(length)


async def run(url):
    async with connected(url, compression="deflate") as peer:
        answer = peer.ws.response_headers.get("Sec-WebSocket-Extensions", "")
        if not answer.strip().lower().startswith("permessage-deflate"):
            raise Failure(f'extensions: the server did not accept permessage-deflate (answer: "{answer}")')
        ok(f"extensions {answer}")

        for compressible in (True, False):
            kind = "compressible" if compressible else "random"
            for size in SIZES:
                await peer.echo(f"text {kind} {size}", text(size, compressible))
            for size in SIZES:
                await peer.echo(f"binary {kind} {size}", binary(size, compressible))

        await peer.echo("text empty after text", "")
        await peer.echo("binary empty after binary", b"")
        await peer.echo("text after empty", text(3000, True))

        name = "fragments ending with an empty fragment"
        whole = binary(30000, True)
        await step(name, peer.ws.send([whole[:10000], whole[10000:], b""]))
        reply = await step(name, peer.ws.recv())
        if reply != whole:
            raise Failure(f"{name}: echo differs (got {len(reply)} bytes)")
        ok(name)
        await peer.echo("message after the empty fragment", text(5000, True))

        await ping_and_close_checks(peer)


if __name__ == "__main__":
    client_main("websockets interop client with permessage-deflate for Ws4Net tests", run)
