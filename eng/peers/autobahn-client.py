#!/usr/bin/python3
"""Ws4Net interop peer: a WebSocket client built on AutobahnPython (asyncio
flavour) that runs a fixed conformance script against an echo endpoint.

    /usr/bin/python3 autobahn-client.py --url ws://127.0.0.1:PORT/echo

Targets Debian 12's python3-autobahn (22.7.1). Autobahn's strict defaults stay
on: incoming text is UTF-8 validated, masked server frames are rejected, a
protocol violation drops the connection. No permessage-deflate is offered;
messages and frames up to 64 MiB are accepted.

Steps, in order, each with a 10 s timeout:
  text messages of 0, 1, 125, 126, 65535, 65536, 1048576 UTF-8 bytes
    (repeating pattern with multi-byte characters "é€😀")
  binary messages of 0, 125, 126, 65535, 65536, 1048576 pseudo-random bytes
  fragmented messages sent with sendMessage(..., fragmentSize=N): text split
    every 3 bytes (through 3- and 4-byte UTF-8 sequences) and every 4093
    bytes, binary in 65536- and 1-byte fragments
  fragmented messages sent frame by frame (beginMessage/beginMessageFrame/
    sendMessageFrameData/endMessage) with a ping and an empty frame between
    the fragments: text split inside a 4-byte sequence, and binary
  ping with payload "ping!" -> expects a pong with the same payload
  close 4000 "done"        -> expects a clean close whose frame carries 4000
stdout: one "OK <what> <detail>" line per check, then "ALL OK" (exit 0), or
"FAIL <reason>" (exit 1). Usage errors exit 2. Autobahn's own warnings (for
example why it dropped the connection) go to stderr.
"""

import argparse
import asyncio
import sys

import txaio

txaio.use_asyncio()

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol  # noqa: E402

STEP_TIMEOUT = 10.0
MAX_PAYLOAD = 64 * 1024 * 1024
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


def make_binary(length, seed=0):
    """Deterministic pseudo-random bytes (xorshift32), seeded by the length."""
    out = bytearray(length)
    x = (0x9E3779B9 ^ length ^ (seed * 0x85EBCA6B)) & 0xFFFFFFFF or 1
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


class Session:
    """What the protocol saw, as awaitable queues."""

    def __init__(self, loop):
        self.opened = loop.create_future()
        self.closed = loop.create_future()
        self.messages = asyncio.Queue()
        self.pongs = asyncio.Queue()


class ClientProtocol(WebSocketClientProtocol):
    session = None  # set on the factory's protocol class before connecting

    def onOpen(self):
        if not self.session.opened.done():
            self.session.opened.set_result(self)

    def onMessage(self, payload, isBinary):
        self.session.messages.put_nowait((payload, isBinary))

    def onPong(self, payload):
        self.session.pongs.put_nowait(payload)

    def onClose(self, wasClean, code, reason):
        if not self.session.closed.done():
            self.session.closed.set_result((wasClean, code, reason))
        if not self.session.opened.done():
            self.session.opened.set_exception(
                Failure(f"connect: connection closed before the handshake completed (code {code}, {reason})")
            )


async def next_item(session, queue, name):
    """The next item of `queue`; fails on timeout or if the connection closes first."""
    getter = asyncio.ensure_future(queue.get())
    try:
        done, _ = await asyncio.wait({getter, session.closed}, timeout=STEP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        if session.closed in done:
            was_clean, code, reason = session.closed.result()
            raise Failure(f"{name}: connection closed unexpectedly (clean {was_clean}, code {code}, reason {reason!r})")
        raise Failure(f"{name}: timeout after {STEP_TIMEOUT:g} s")
    finally:
        if not getter.done():
            getter.cancel()


def check_echo(name, sent, is_binary, reply):
    payload, reply_binary = reply
    if reply_binary != is_binary:
        raise Failure(f"{name}: echo arrived as {'binary' if reply_binary else 'text'}")
    if payload != sent:
        raise Failure(
            f"{name}: echo differs (got {len(payload)} bytes, expected {len(sent)}, "
            f"first difference at byte {first_difference(payload, sent)})"
        )
    ok(name)


async def echo_check(proto, session, name, payload, is_binary, fragment_size=None):
    proto.sendMessage(payload, isBinary=is_binary, fragmentSize=fragment_size)
    check_echo(name, payload, is_binary, await next_item(session, session.messages, name))


async def streamed_check(proto, session, name, pieces, is_binary):
    """Sends one message frame by frame: pieces[0], a ping, an empty frame, the
    other pieces, then endMessage() (an empty final continuation frame)."""
    ping = f"between fragments of {name}".encode("utf-8")[:125]
    proto.beginMessage(isBinary=is_binary)
    for index, piece in enumerate(pieces):
        proto.beginMessageFrame(len(piece))
        rest = proto.sendMessageFrameData(piece)
        if rest != 0:
            raise Failure(f"{name}: frame-level send left {rest} bytes unaccounted")
        if index == 0:
            proto.sendPing(ping)
            proto.sendMessageFrame(b"")
    proto.endMessage()
    pong = await next_item(session, session.pongs, f"{name} (pong between fragments)")
    if pong != ping:
        raise Failure(f"{name}: pong between fragments carried {pong!r}")
    check_echo(name, b"".join(pieces), is_binary, await next_item(session, session.messages, name))


async def run(url):
    loop = asyncio.get_running_loop()
    session = Session(loop)

    factory = WebSocketClientFactory(url)
    factory.protocol = type("BoundClientProtocol", (ClientProtocol,), {"session": session})
    factory.setProtocolOptions(
        maxMessagePayloadSize=MAX_PAYLOAD,
        maxFramePayloadSize=MAX_PAYLOAD,
        # Offer no permessage-deflate (compression is tested elsewhere).
        perMessageCompressionOffers=[],
        perMessageCompressionAccept=lambda response: None,
        autoPingInterval=0,
        openHandshakeTimeout=STEP_TIMEOUT,
        closeHandshakeTimeout=STEP_TIMEOUT,
        serverConnectionDropTimeout=STEP_TIMEOUT,
        # Strict defaults, spelled out: validate UTF-8, mask our frames, refuse
        # masked server frames, drop the TCP on a violation.
        utf8validateIncoming=True,
        maskClientFrames=True,
        acceptMaskedServerFrames=False,
        failByDrop=True,
    )
    if factory.isSecure:
        raise Failure("connect: wss:// is not supported by this script")

    try:
        transport, _ = await asyncio.wait_for(loop.create_connection(factory, factory.host, factory.port), STEP_TIMEOUT)
    except asyncio.TimeoutError:
        raise Failure(f"connect: TCP connect timeout after {STEP_TIMEOUT:g} s") from None
    except OSError as exc:
        raise Failure(f"connect: {exc}") from None
    try:
        try:
            proto = await asyncio.wait_for(asyncio.shield(session.opened), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise Failure(f"connect: opening handshake timeout after {STEP_TIMEOUT:g} s") from None
        ok(f"connect {url}")

        for size in TEXT_SIZES:
            data = make_text(size).encode("utf-8")
            if len(data) != size:
                raise Failure(f"text {size}: generator produced {len(data)} bytes")
            await echo_check(proto, session, f"text {size}", data, False)

        for size in BINARY_SIZES:
            await echo_check(proto, session, f"binary {size}", make_binary(size), True)

        small_text = "fragmented 😀 text € end".encode("utf-8")
        await echo_check(proto, session, "fragmented text 3-byte fragments", small_text, False, fragment_size=3)
        await echo_check(proto, session, "fragmented text 4093-byte fragments", make_text(200_000).encode("utf-8"), False, fragment_size=4093)
        await echo_check(proto, session, "fragmented binary 65536-byte fragments", make_binary(300_000, seed=1), True, fragment_size=65536)
        await echo_check(proto, session, "fragmented binary 1-byte fragments", make_binary(1000, seed=2), True, fragment_size=1)

        streamed_text = "Grüße 😀 streamed ✓".encode("utf-8")
        emoji = streamed_text.index(b"\xf0")
        await streamed_check(proto, session, "streamed text", [streamed_text[: emoji + 2], streamed_text[emoji + 2 :]], False)
        streamed_binary = make_binary(200_000, seed=3)
        await streamed_check(proto, session, "streamed binary", [streamed_binary[:70_000], streamed_binary[70_000:]], True)

        name = f"ping {PING_PAYLOAD.decode()}"
        proto.sendPing(PING_PAYLOAD)
        pong = await next_item(session, session.pongs, name)
        if pong != PING_PAYLOAD:
            raise Failure(f"{name}: pong payload was {pong!r}")
        ok(name)

        name = f"close {CLOSE_CODE}"
        proto.sendClose(code=CLOSE_CODE, reason=CLOSE_REASON)
        try:
            was_clean, code, reason = await asyncio.wait_for(asyncio.shield(session.closed), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise Failure(f"{name}: timeout after {STEP_TIMEOUT:g} s") from None
        if code != CLOSE_CODE:
            raise Failure(f"{name}: server close frame carried code {code} (reason {reason!r}, clean {was_clean})")
        if not was_clean:
            raise Failure(f"{name}: the close handshake was not clean (code {code}, reason {reason!r})")
        ok(f"{name} {reason or ''}".rstrip())
    finally:
        if not transport.is_closing():
            transport.abort()


def main():
    parser = argparse.ArgumentParser(description="AutobahnPython interop client for Ws4Net tests")
    parser.add_argument("--url", required=True, help="echo endpoint, e.g. ws://127.0.0.1:PORT/echo")
    args = parser.parse_args()
    txaio.start_logging(level="warn", out=sys.stderr)
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
