"""What the Python interop peers in eng/peers have in common, whatever WebSocket
library they drive: the command line, the client check script and its stdout
contract ("OK ..." lines, then "ALL OK" or "FAIL <reason>"), and the echo
servers' lifecycle ("LISTENING <port>", stdin EOF / SIGTERM / SIGINT, "CLOSED ..."
lines on stderr).

Only the standard library is imported here. A client script hands the checks an
adapter over its library, with three coroutines:

    echo(name, payload)        send payload (str: text, bytes: binary), check the
                               echo (same type, same bytes) and print "OK <name>"
    ping(name, payload)        ping with payload, return once its pong arrived
    close(name, code, reason)  close, check the server's close frame, return its
                               reason

raising Failure for a failed check. A server script hands server_main() a
coroutine function that starts its listening server.
"""

import argparse
import asyncio
import itertools
import os
import signal
import sys
import threading

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


def make_text(byte_length, chars=None):
    """A str whose UTF-8 encoding is exactly byte_length bytes, taken from the
    iterator `chars` (by default a pattern cycling through 1-, 2-, 3- and 4-byte
    characters); a "." stands in for a character that does not fit the tail."""
    if chars is None:
        chars = itertools.cycle("Ws4Net é€😀 ")
    parts = []
    used = 0
    while used < byte_length:
        ch = next(chars)
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


async def echo_checks(peer):
    """Text of every TEXT_SIZES length, then binary of every BINARY_SIZES length."""
    for size in TEXT_SIZES:
        text = make_text(size)
        length = len(text.encode("utf-8"))
        if length != size:
            raise Failure(f"text {size}: generator produced {length} bytes")
        await peer.echo(f"text {size}", text)
    for size in BINARY_SIZES:
        await peer.echo(f"binary {size}", make_binary(size))


async def ping_and_close_checks(peer):
    """Ping "ping!" (the pong must carry it), then close 4000 "done" (the
    server's close frame must carry 4000)."""
    name = f"ping {PING_PAYLOAD.decode()}"
    await peer.ping(name, PING_PAYLOAD)
    ok(name)

    name = f"close {CLOSE_CODE}"
    reason = await peer.close(name, CLOSE_CODE, CLOSE_REASON)
    ok(f"{name} {reason}".rstrip())


def client_main(description, run, setup=None):
    """Parses --url, calls setup(), runs the coroutine run(url) and prints the
    verdict: "ALL OK" (exit 0) or "FAIL <reason>" (exit 1); usage errors exit 2."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True, help="echo endpoint, e.g. ws://127.0.0.1:PORT/echo")
    args = parser.parse_args()
    if setup is not None:
        setup()
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


def logger(name):
    def log(message):
        print(f"{name}: {message}", file=sys.stderr, flush=True)

    return log


def report_closed(tag, clean, code, reason):
    """The stderr line of a reporting server when a connection has ended:
    CLOSED id=<tag> clean=<true|false> code=<code or none> reason=<reason on one line>"""
    code_text = "none" if code is None else str(code)
    reason_text = "" if reason is None else str(reason).replace("\n", " ")
    print(
        f"CLOSED id={tag} clean={'true' if clean else 'false'} code={code_text} reason={reason_text}",
        file=sys.stderr,
        flush=True,
    )


def server_main(name, description, start):
    """Parses [--port 0] [--host 127.0.0.1] [--ignore-stdin], starts the server
    with `await start(args)` (anything with .sockets, .close() and
    .wait_closed(), like an asyncio server), prints "LISTENING <port>" and serves
    until SIGTERM, SIGINT or (unless --ignore-stdin) stdin EOF."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 = ephemeral (default)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--ignore-stdin", action="store_true", help="do not exit when stdin closes")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error("invalid --port")
    asyncio.run(_serve(logger(name), args, start))


async def _serve(log, args, start):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def request_stop(why):
        if not stop.done():
            log(f"stopping ({why})")
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, sig.name)

    server = await start(args)
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)

    if not args.ignore_stdin:
        _watch_stdin(loop, request_stop)

    await stop
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), timeout=2)
    except asyncio.TimeoutError:
        pass


def _watch_stdin(loop, request_stop):
    """Blocks on stdin in a daemon thread and requests the stop at EOF."""

    def run():
        # os.read on the raw descriptor: a daemon thread blocked inside the
        # buffered sys.stdin would abort the interpreter at shutdown.
        try:
            fd = sys.stdin.fileno()
            while os.read(fd, 65536):
                pass
        except (OSError, ValueError, AttributeError):
            pass
        loop.call_soon_threadsafe(request_stop, "stdin closed")

    threading.Thread(target=run, name="stdin-watch", daemon=True).start()
