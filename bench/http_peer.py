"""The bare aiohttp peers of issue 19 (rows 6 and 7), each run as its own process so that only its
own CPU is counted:

    python bench/http_peer.py post URL BODY_FILE CONTENT_TYPE COUNT
        COUNT POSTs of the file's bytes one after another (after 20 to warm up); prints
        {"seconds": ..., "cpu": ...} (this process's CPU time over the COUNT)
    python bench/http_peer.py load URL BODY_FILE CONTENT_TYPE SECONDS CONCURRENCY
        as many POSTs as CONCURRENCY connections get answered in SECONDS; prints
        {"answered": ..., "failed": ..., "seconds": ...} (failed: an answer other than 200)
    python bench/http_peer.py serve BODY_FILE CONTENT_TYPE
        a canned server answering every POST with the file's bytes; prints {"port": ...} and
        serves until stdin closes
    python bench/http_peer.py call URL PAYLOAD_FILE ACTION COUNT
        a bare OCPP-J charge point: a WebSocket to URL (subprotocol ocpp1.6) sending COUNT CALLs of
        ACTION with the file's JSON payload one after another, each once the last is answered (after 20
        to warm up); prints {"seconds": ..., "cpu": ...} as ``post`` does
    python bench/http_peer.py answer URL PAYLOAD_FILE
        a canned OCPP-J charge point: a WebSocket to URL (subprotocol ocpp1.6) answering every CALL
        with a CALLRESULT of the file's JSON payload; prints {"connected": true} and answers until
        stdin closes
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web


async def post(url: str, body: bytes, headers: dict[str, str], count: int) -> dict[str, float]:
    async with aiohttp.ClientSession() as session:
        async def once() -> None:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()

        for _ in range(20):
            await once()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            await once()
        return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}


async def load(url: str, body: bytes, headers: dict[str, str], seconds: float, concurrency: int) -> dict[str, float]:
    answered = failed = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def worker() -> None:
            nonlocal answered, failed
            while time.monotonic() < deadline:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        answered += 1
                    else:
                        failed += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {"answered": answered, "failed": failed, "seconds": time.monotonic() - start}


async def serve(body: bytes, headers: dict[str, str]) -> None:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(json.dumps({"port": runner.addresses[0][1]}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    await runner.cleanup()


async def call(url: str, payload: str, action: str, count: int) -> dict[str, float]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url, protocols=("ocpp1.6",)) as ws:
        async def once(n: int) -> None:
            await ws.send_str(f'[2,"{n}",{json.dumps(action)},{payload}]')
            await ws.receive()

        for n in range(20):
            await once(n)
        start, cpu = time.perf_counter(), time.process_time()
        for n in range(20, 20 + count):
            await once(n)
        return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}


async def canned_charge_point(url: str, payload: str) -> None:
    async def calls(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            message_id = json.loads(message.data)[1]  # [2, "<UniqueId>", "<Action>", {...}]
            await ws.send_str(f"[3,{json.dumps(message_id)},{payload}]")

    async with aiohttp.ClientSession() as session, session.ws_connect(url, protocols=("ocpp1.6",)) as ws:
        reader = asyncio.ensure_future(calls(ws))
        print(json.dumps({"connected": True}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
        reader.cancel()


def main(argv: list[str]) -> None:
    mode, rest = argv[0], argv[1:]
    if mode == "serve":
        asyncio.run(serve(Path(rest[0]).read_bytes(), {"Content-Type": rest[1]}))
        return
    if mode == "answer":
        asyncio.run(canned_charge_point(rest[0], Path(rest[1]).read_text()))
        return
    if mode == "call":
        print(json.dumps(asyncio.run(call(rest[0], Path(rest[1]).read_text(), rest[2], int(rest[3])))), flush=True)
        return
    url, body, headers = rest[0], Path(rest[1]).read_bytes(), {"Content-Type": rest[2]}
    if mode == "post":
        result = asyncio.run(post(url, body, headers, int(rest[3])))
    else:
        result = asyncio.run(load(url, body, headers, float(rest[3]), int(rest[4])))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
