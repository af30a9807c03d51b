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

import argparse
import asyncio
import os
import signal
import sys
import threading

import txaio

txaio.use_asyncio()

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol  # noqa: E402

MAX_PAYLOAD = 64 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10


def log(message):
    print(f"autobahn-echo-server: {message}", file=sys.stderr, flush=True)


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
        code_text = "none" if code is None else str(code)
        reason_text = "" if reason is None else str(reason).replace("\n", " ")
        print(
            f"CLOSED id={self.tag} clean={'true' if wasClean else 'false'} code={code_text} reason={reason_text}",
            file=sys.stderr,
            flush=True,
        )


def make_factory():
    factory = WebSocketServerFactory()
    factory.protocol = EchoProtocol
    factory.setProtocolOptions(
        maxMessagePayloadSize=MAX_PAYLOAD,
        maxFramePayloadSize=MAX_PAYLOAD,
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


def watch_stdin(loop, stop):
    """Blocks on stdin in a daemon thread and signals `stop` at EOF."""

    def run():
        try:
            fd = sys.stdin.fileno()
            while os.read(fd, 65536):
                pass
        except (OSError, ValueError, AttributeError):
            pass
        loop.call_soon_threadsafe(request_stop, stop, "stdin closed")

    threading.Thread(target=run, name="stdin-watch", daemon=True).start()


def request_stop(stop, why):
    if not stop.done():
        log(f"stopping ({why})")
        stop.set_result(None)


async def main():
    parser = argparse.ArgumentParser(description="AutobahnPython echo server for Ws4Net interop tests")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 = ephemeral (default)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--ignore-stdin", action="store_true", help="do not exit when stdin closes")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("invalid --port")

    # Autobahn's warnings (failed connections, protocol violations) to stderr.
    txaio.start_logging(level="warn", out=sys.stderr)

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, stop, sig.name)

    server = await loop.create_server(make_factory(), args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)

    if not args.ignore_stdin:
        watch_stdin(loop, stop)

    await stop
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), timeout=2)
    except asyncio.TimeoutError:
        pass


if __name__ == "__main__":
    asyncio.run(main())
