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

import argparse
import asyncio
import sys

import websockets
import websockets.exceptions

STEP_TIMEOUT = 10.0
MAX_SIZE = 64 * 1024 * 1024
TEXT_SIZES = [0, 1, 125, 126, 65535, 65536, 1048576]
BINARY_SIZES = [0, 125, 126, 65535, 65536, 1048576]
PING_PAYLOAD = b"ping!"
CLOSE_CODE = 4000
CLOSE_REASON = "done"


class Failure(Exception):
    pass


def ok(line):
    print(f"OK {line}", flush=True)


def make_text(byte_length):
    """A str whose UTF-8 encoding is exactly byte_length bytes, cycling through
    a pattern that mixes 1-, 2-, 3- and 4-byte characters; ASCII pads the tail."""
    pattern = "Ws4Net é€😀 "
    parts = []
    used = 0
    k = 0
    while used < byte_length:
        ch = pattern[k % len(pattern)]
        k += 1
        size = len(ch.encode("utf-8"))
        if used + size <= byte_length:
            parts.append(ch)
            used += size
        else:
            parts.append(".")
            used += 1
    return "".join(parts)


def make_binary(length):
    """Deterministic pseudo-random bytes (xorshift32), seeded by the length."""
    out = bytearray(length)
    x = (0x9E3779B9 ^ length) & 0xFFFFFFFF or 1
    for i in range(length):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x & 0xFF
    return bytes(out)


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
        raise Failure(
            f"{name}: echo differs (got {len(got)} bytes, first difference at byte {first_difference(got, sent)})"
        )
    ok(name)


async def run(url):
    # open_timeout bounds the connect step. A short close_timeout keeps a failed
    # opening handshake from lingering; the close step gets the full budget.
    ws = await step(
        "connect",
        websockets.connect(
            url,
            max_size=MAX_SIZE,
            compression=None,
            ping_interval=None,
            open_timeout=STEP_TIMEOUT - 0.5,
            close_timeout=0.5,
        ),
    )
    ws.close_timeout = STEP_TIMEOUT
    ok(f"connect {url}")
    try:
        for size in TEXT_SIZES:
            text = make_text(size)
            if len(text.encode("utf-8")) != size:
                raise Failure(f"text {size}: generator produced a wrong length")
            await echo_check(ws, f"text {size}", text)

        for size in BINARY_SIZES:
            await echo_check(ws, f"binary {size}", make_binary(size))

        name = f"ping {PING_PAYLOAD.decode()}"
        # The waiter resolves only when a pong carrying this exact payload arrives.
        waiter = await step(name, ws.ping(PING_PAYLOAD))
        await step(name, waiter)
        ok(name)

        name = f"close {CLOSE_CODE}"
        await step(name, ws.close(code=CLOSE_CODE, reason=CLOSE_REASON))
        await step(name, ws.wait_closed())
        received = ws.close_rcvd
        if received is None:
            raise Failure(f"{name}: server sent no close frame (close code {ws.close_code})")
        if received.code != CLOSE_CODE:
            raise Failure(f'{name}: server close frame carried code {received.code} (reason "{received.reason}")')
        ok(f"{name} {received.reason}".rstrip())
    finally:
        if not ws.closed:
            ws.transport.abort()


def main():
    parser = argparse.ArgumentParser(description="websockets interop client for Ws4Net tests")
    parser.add_argument("--url", required=True, help="echo endpoint, e.g. ws://127.0.0.1:PORT/echo")
    args = parser.parse_args()
    try:
        asyncio.run(run(args.url))
    except Failure as exc:
        print(f"FAIL {exc}", flush=True)
        sys.exit(1)
    except Exception as exc:  # anything unforeseen is still a FAIL line, not a traceback only
        print(f"FAIL unexpected: {type(exc).__name__}: {exc}", flush=True)
        sys.exit(1)
    print("ALL OK", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
