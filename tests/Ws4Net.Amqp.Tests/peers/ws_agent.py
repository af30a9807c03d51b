"""A line-driven WebSocket client (Python `websockets`) for the multi-node tests.

usage: ws_agent.py URL
Each line read on stdin is sent as one text message; each text message received is printed as
"< " + text on one line (newlines escaped as \\n); "open" is printed once connected and "closed CODE"
when the connection ends. EOF on stdin closes the connection with 1000.
"""
import asyncio
import sys

import websockets


async def main(url: str) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        print("open", flush=True)
        loop = asyncio.get_running_loop()

        async def pump_stdin() -> None:
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    await ws.close(1000)
                    return
                await ws.send(line.rstrip("\n"))

        sender = asyncio.ensure_future(pump_stdin())
        try:
            async for message in ws:
                if isinstance(message, str):
                    print("< " + message.replace("\n", "\\n"), flush=True)
        finally:
            sender.cancel()
        print("closed %s" % ws.close_code, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
