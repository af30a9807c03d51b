#!/usr/bin/python3
"""Ws4Net interop peer: a WebSocket echo server built on AutobahnPython
(asyncio flavour).

    /usr/bin/python3 autobahn-echo-server.py [--port 0] [--host 127.0.0.1] [--ignore-stdin]

Targets Debian 12's python3-autobahn (22.7.1). Autobahn's strict defaults stay
on: incoming text is UTF-8 validated, client frames must be masked, a protocol
violation drops the connection (failByDrop). permessage-deflate is declined,
and messages and frames up to 64 MiB are accepted.

Listens on 127.0.0.1 (port 0 = ephemeral), on any path. Every message is echoed
back with the same type (text stays text, binary stays binary); pings are
answered with pongs; a peer's close frame is answered with the same code and
reason (echoCloseCodeReason). Query parameters change the behaviour:

  fragment=N   echo each message as fragments of at most N payload bytes
               (sendMessage(..., fragmentSize=N)); text fragments may split
               UTF-8 sequences, as RFC 6455 allows
  close=CODE   after the first echo, start the close handshake with CODE and
               the reason "autobahn closing"
  id=TAG       a tag for the CLOSED line below

Prints exactly "LISTENING <port>" on stdout once ready. On stderr, one line per
finished connection:

  CLOSED id=<TAG or -> clean=<true|false> code=<code or none> reason=<reason>

where code/reason are what the peer's close frame carried, as Autobahn parsed
it. Autobahn's own warnings (for example why it failed a connection) also go to
stderr. Exits when stdin reaches EOF (unless --ignore-stdin) or on
SIGTERM/SIGINT.
"""

import asyncio
import os
import sys

import txaio

sys.dont_write_bytecode = True  # no __pycache__ beside the shared modules
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

txaio.use_asyncio()

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol  # noqa: E402
from peer_common import MAX_SIZE, report_closed, server_main  # noqa: E402

HANDSHAKE_TIMEOUT = 10


def first_param(params, name):
    values = params.get(name) or []
    return values[0] if values else None


class EchoProtocol(WebSocketServerProtocol):
    tag = "-"
    fragment_size = None
    close_code = None
    echoed = 0

    def onConnect(self, request):
        params = request.params or {}
        self.tag = first_param(params, "id") or "-"
        fragment = first_param(params, "fragment")
        if fragment is not None:
            self.fragment_size = int(fragment)
            if self.fragment_size < 1:
                raise ValueError("fragment must be at least 1")
        close = first_param(params, "close")
        if close is not None:
            self.close_code = int(close)
        # No subprotocol, no extra headers; permessage-deflate is declined by
        # the factory's perMessageCompressionAccept.
        return None

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary=isBinary, fragmentSize=self.fragment_size)
        self.echoed += 1
        if self.close_code is not None and self.echoed == 1:
            self.sendClose(code=self.close_code, reason="autobahn closing")

    def onClose(self, wasClean, code, reason):
        report_closed(self.tag, wasClean, code, reason)


def make_factory():
    factory = WebSocketServerFactory()
    factory.protocol = EchoProtocol
    factory.setProtocolOptions(
        maxMessagePayloadSize=MAX_SIZE,
        maxFramePayloadSize=MAX_SIZE,
        # Decline every permessage-deflate offer (compression is tested elsewhere).
        perMessageCompressionAccept=lambda offers: None,
        echoCloseCodeReason=True,
        autoPingInterval=0,
        openHandshakeTimeout=HANDSHAKE_TIMEOUT,
        closeHandshakeTimeout=HANDSHAKE_TIMEOUT,
        # Strict defaults, spelled out: validate UTF-8, require masked client
        # frames, never mask server frames, drop the TCP on a violation.
        utf8validateIncoming=True,
        requireMaskedClientFrames=True,
        maskServerFrames=False,
        failByDrop=True,
    )
    return factory


async def start(args):
    # Autobahn's warnings (failed connections, protocol violations) to stderr.
    txaio.start_logging(level="warn", out=sys.stderr)
    loop = asyncio.get_running_loop()
    return await loop.create_server(make_factory(), args.host, args.port)


if __name__ == "__main__":
    server_main("autobahn-echo-server", "AutobahnPython echo server for Ws4Net interop tests", start)
