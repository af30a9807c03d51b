"""Python `websockets` (Debian 12's python3-websockets 10.4, asyncio API) under
the shared peer plumbing: the client adapter of py-client.py and
py-deflate-client.py, the echo server of py-echo-server.py and
py-deflate-echo-server.py."""

import asyncio
import contextlib

import websockets
import websockets.exceptions

from peer_common import MAX_SIZE, STEP_TIMEOUT, Failure, first_difference, logger, ok, server_main


async def step(name, awaitable):
    """Awaits with the step timeout; a timeout or a websockets error is a Failure of `name`."""
    try:
        return await asyncio.wait_for(awaitable, STEP_TIMEOUT)
    except asyncio.TimeoutError:
        raise Failure(f"{name}: timeout after {STEP_TIMEOUT:g} s") from None
    except websockets.exceptions.ConnectionClosed as exc:
        raise Failure(f"{name}: connection closed unexpectedly ({exc})") from None
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        raise Failure(f"{name}: error: {exc}") from None


class WebsocketsPeer:
    """The client adapter (see peer_common) over a websockets client connection."""

    def __init__(self, ws):
        self.ws = ws

    async def echo(self, name, payload):
        ws = self.ws
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

    async def ping(self, name, payload):
        # The waiter resolves only when a pong carrying this exact payload arrives.
        waiter = await step(name, self.ws.ping(payload))
        await step(name, waiter)

    async def close(self, name, code, reason):
        ws = self.ws
        await step(name, ws.close(code=code, reason=reason))
        await step(name, ws.wait_closed())
        received = ws.close_rcvd
        if received is None:
            raise Failure(f"{name}: server sent no close frame (close code {ws.close_code})")
        if received.code != code:
            raise Failure(f'{name}: server close frame carried code {received.code} (reason "{received.reason}")')
        return received.reason


@contextlib.asynccontextmanager
async def connected(url, compression):
    """Connects (printing "OK connect <url>") and yields a WebsocketsPeer; the TCP
    connection is aborted on the way out unless it is closed by then."""
    # open_timeout bounds the connect step. A short close_timeout keeps a failed
    # opening handshake from lingering; the close step gets the full budget.
    ws = await step(
        "connect",
        websockets.connect(
            url,
            max_size=MAX_SIZE,
            compression=compression,
            ping_interval=None,
            open_timeout=STEP_TIMEOUT - 0.5,
            close_timeout=0.5,
        ),
    )
    ws.close_timeout = STEP_TIMEOUT
    ok(f"connect {url}")
    try:
        yield WebsocketsPeer(ws)
    finally:
        if not ws.closed:
            ws.transport.abort()


def serve_echo(name, description, compression, verbose=False):
    """Runs an echo server on any path until stopped (see peer_common.server_main):
    every message goes back with the same type (str stays text, bytes stay
    binary); pings and close frames are answered by websockets itself. verbose:
    also log each connection's Sec-WebSocket-Extensions answer and every close
    that is not 1000/1001, not only connections lost without a close frame."""
    log = logger(name)

    async def echo(websocket, *_path):
        if verbose:
            log(f"answered Sec-WebSocket-Extensions: {websocket.response_headers.get('Sec-WebSocket-Extensions', '(none)')}")
        try:
            async for message in websocket:
                await websocket.send(message)
        except websockets.exceptions.ConnectionClosedError as exc:
            # Close codes other than 1000/1001 land here too; only a connection
            # that ended without a close frame from the peer is always worth a note.
            if exc.rcvd is None:
                log(f"connection lost: {exc}")
            elif verbose:
                log(f"connection closed: {exc}")

    async def start(args):
        return await websockets.serve(
            echo,
            args.host,
            args.port,
            max_size=MAX_SIZE,
            compression=compression,
            ping_interval=None,
        )

    server_main(name, description, start)
