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

import asyncio
import os
import sys

import txaio

sys.dont_write_bytecode = True  # no __pycache__ beside the shared modules
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

txaio.use_asyncio()

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol  # noqa: E402
from peer_common import (  # noqa: E402
    MAX_SIZE,
    STEP_TIMEOUT,
    Failure,
    client_main,
    echo_checks,
    first_difference,
    make_binary,
    make_text,
    ok,
    ping_and_close_checks,
)


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


class AutobahnPeer:
    """The client adapter (see peer_common) over an open ClientProtocol."""

    def __init__(self, proto, session):
        self.proto = proto
        self.session = session

    async def echo(self, name, payload, fragment_size=None):
        """payload: str (sent as text) or bytes (binary); fragment_size: let
        sendMessage split the message into frames of at most that many bytes."""
        is_binary = isinstance(payload, bytes)
        data = payload if is_binary else payload.encode("utf-8")
        self.proto.sendMessage(data, isBinary=is_binary, fragmentSize=fragment_size)
        check_echo(name, data, is_binary, await next_item(self.session, self.session.messages, name))

    async def streamed(self, name, pieces, is_binary):
        """Sends one message frame by frame: pieces[0], a ping, an empty frame, the
        other pieces, then endMessage() (an empty final continuation frame)."""
        proto, session = self.proto, self.session
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

    async def ping(self, name, payload):
        self.proto.sendPing(payload)
        pong = await next_item(self.session, self.session.pongs, name)
        if pong != payload:
            raise Failure(f"{name}: pong payload was {pong!r}")

    async def close(self, name, code, reason):
        self.proto.sendClose(code=code, reason=reason)
        try:
            was_clean, got_code, got_reason = await asyncio.wait_for(asyncio.shield(self.session.closed), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise Failure(f"{name}: timeout after {STEP_TIMEOUT:g} s") from None
        if got_code != code:
            raise Failure(f"{name}: server close frame carried code {got_code} (reason {got_reason!r}, clean {was_clean})")
        if not was_clean:
            raise Failure(f"{name}: the close handshake was not clean (code {got_code}, reason {got_reason!r})")
        return got_reason or ""


async def fragmented_checks(peer):
    await peer.echo("fragmented text 3-byte fragments", "fragmented 😀 text € end", fragment_size=3)
    await peer.echo("fragmented text 4093-byte fragments", make_text(200_000), fragment_size=4093)
    await peer.echo("fragmented binary 65536-byte fragments", make_binary(300_000, seed=1), fragment_size=65536)
    await peer.echo("fragmented binary 1-byte fragments", make_binary(1000, seed=2), fragment_size=1)

    streamed_text = "Grüße 😀 streamed ✓".encode("utf-8")
    emoji = streamed_text.index(b"\xf0")
    await peer.streamed("streamed text", [streamed_text[: emoji + 2], streamed_text[emoji + 2 :]], False)
    streamed_binary = make_binary(200_000, seed=3)
    await peer.streamed("streamed binary", [streamed_binary[:70_000], streamed_binary[70_000:]], True)


async def run(url):
    loop = asyncio.get_running_loop()
    session = Session(loop)

    factory = WebSocketClientFactory(url)
    factory.protocol = type("BoundClientProtocol", (ClientProtocol,), {"session": session})
    factory.setProtocolOptions(
        maxMessagePayloadSize=MAX_SIZE,
        maxFramePayloadSize=MAX_SIZE,
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

        peer = AutobahnPeer(proto, session)
        await echo_checks(peer)
        await fragmented_checks(peer)
        await ping_and_close_checks(peer)
    finally:
        if not transport.is_closing():
            transport.abort()


if __name__ == "__main__":
    client_main(
        "AutobahnPython interop client for Ws4Net tests",
        run,
        # Autobahn's warnings (for example why it dropped the connection) to stderr.
        setup=lambda: txaio.start_logging(level="warn", out=sys.stderr),
    )
