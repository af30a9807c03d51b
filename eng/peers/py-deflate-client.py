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

import argparse
import asyncio
import random
import sys

import websockets
import websockets.exceptions

STEP_TIMEOUT = 10.0
MAX_SIZE = 64 * 1024 * 1024
SIZES = [0, 1, 125, 126, 65535, 65536, 1048576]


class Failure(Exception):
    pass


def ok(line):
    print(f"OK {line}", flush=True)


def make_text(byte_length, compressible):
    pattern = "permessage-deflate é€😀 " if compressible else "Ws4Net é€😀 zqjxkvbwy0123456789"
    rng = random.Random(byte_length)
    parts = []
    used = 0
    k = 0
    while used < byte_length:
        ch = pattern[k % len(pattern)] if compressible else rng.choice(pattern)
        k += 1
        size = len(ch.encode("utf-8"))
        if used + size <= byte_length:
            parts.append(ch)
            used += size
        else:
            parts.append(".")
            used += 1
    return "".join(parts)


def make_binary(length, compressible):
    if compressible:
        return bytes((i * 7) % 61 for i in range(length))
    return random.Random(length * 31).randbytes(length)


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


async def step(name, awaitable):
    try:
        return await asyncio.wait_for(awaitable, STEP_TIMEOUT)
    except asyncio.TimeoutError:
        raise Failure(f"{name}: timeout after {STEP_TIMEOUT:g} s") from None
    except websockets.exceptions.ConnectionClosed as exc:
        raise Failure(f"{name}: connection closed unexpectedly ({exc})") from None
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        raise Failure(f"{name}: error: {exc}") from None


async def echo_check(ws, name, payload):
    await step(name, ws.send(payload))
    reply = await step(name, ws.recv())
    if isinstance(payload, str):
        if not isinstance(reply, str):
            raise Failure(f"{name}: echo arrived as binary")
        sent, got = payload.encode("utf-8"), reply.encode("utf-8")
    else:
        if not isinstance(reply, bytes):
            raise Failure(f"{name}: echo arrived as text")
        sent, got = payload, reply
    if sent != got:
        raise Failure(f"{name}: echo differs (got {len(got)} bytes, first difference at byte {first_difference(got, sent)})")
    ok(name)


async def run(url):
    ws = await step(
        "connect",
        websockets.connect(url, max_size=MAX_SIZE, compression="deflate", ping_interval=None, open_timeout=STEP_TIMEOUT - 0.5, close_timeout=0.5),
    )
    ws.close_timeout = STEP_TIMEOUT
    ok(f"connect {url}")
    try:
        answer = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        if not answer.strip().lower().startswith("permessage-deflate"):
            raise Failure(f'extensions: the server did not accept permessage-deflate (answer: "{answer}")')
        ok(f"extensions {answer}")

        for compressible in (True, False):
            kind = "compressible" if compressible else "random"
            for size in SIZES:
                await echo_check(ws, f"text {kind} {size}", make_text(size, compressible))
            for size in SIZES:
                await echo_check(ws, f"binary {kind} {size}", make_binary(size, compressible))

        await echo_check(ws, "text empty after text", "")
        await echo_check(ws, "binary empty after binary", b"")
        await echo_check(ws, "text after empty", make_text(3000, True))

        name = "fragments ending with an empty fragment"
        whole = make_binary(30000, True)
        await step(name, ws.send([whole[:10000], whole[10000:], b""]))
        reply = await step(name, ws.recv())
        if reply != whole:
            raise Failure(f"{name}: echo differs (got {len(reply)} bytes)")
        ok(name)
        await echo_check(ws, "message after the empty fragment", make_text(5000, True))

        name = "ping ping!"
        waiter = await step(name, ws.ping(b"ping!"))
        await step(name, waiter)
        ok(name)

        name = "close 4000"
        await step(name, ws.close(code=4000, reason="done"))
        await step(name, ws.wait_closed())
        received = ws.close_rcvd
        if received is None:
            raise Failure(f"{name}: server sent no close frame (close code {ws.close_code})")
        if received.code != 4000:
            raise Failure(f'{name}: server close frame carried code {received.code} (reason "{received.reason}")')
        ok(f"{name} {received.reason}".rstrip())
    finally:
        if not ws.closed:
            ws.transport.abort()


def main():
    parser = argparse.ArgumentParser(description="websockets interop client with permessage-deflate for Ws4Net tests")
    parser.add_argument("--url", required=True, help="echo endpoint, e.g. ws://127.0.0.1:PORT/echo")
    args = parser.parse_args()
    try:
        asyncio.run(run(args.url))
    except Failure as exc:
        print(f"FAIL {exc}", flush=True)
        sys.exit(1)
    except Exception as exc:
        print(f"FAIL unexpected: {type(exc).__name__}: {exc}", flush=True)
        sys.exit(1)
    print("ALL OK", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
