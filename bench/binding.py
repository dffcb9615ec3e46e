"""Benchmark of the OCPP 1.5 SOAP binding on loopback (numbers, not pass/fail).

    python3 bench/binding.py [--requests 2000] [--seconds 5] [--concurrency 4]

Prints:
  * the client's CPU time per request (render, validate, envelope, HTTP, parse, validate, decode)
    against a bare aiohttp POST of the same bytes to the same server, their difference (the binding's
    overhead) and ratio; the peer runs in another process, so only the client's CPU is counted;
  * how many Central System requests per second the box's endpoint answers (a RemoteStartTransaction
    each, through the whole endpoint: checks, schema, handler, confirmation) with the load generator
    in another process;
  * the binding's memory: what loading both services costs (tracemalloc), the peak a call adds, and
    the resident size of the endpoint's process before and after the load.

Targets of issue 3 on the project's 2-core machine: <= 2 ms of client CPU overhead per request,
>= 300 answered requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
from aiohttp import web

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap15 import CP_NAMESPACE, CS_NAMESPACE
from chargebox.binding.soap.service import central_system_service, charge_point_service
from chargebox.ocpp.datatypes import MeterValue, SampledValue
from chargebox.ocpp.enums import Measurand, RemoteStartStopStatus, UnitOfMeasure
from chargebox.ocpp.messages import (
    Confirmation,
    MeterValuesConfirmation,
    MeterValuesRequest,
    RemoteStartTransactionConfirmation,
    RemoteStartTransactionRequest,
    Request,
)

# A typical periodic request of a charging session: three measurands of one sample.
METER_VALUES = MeterValuesRequest(connector_id=1, transaction_id=4711, values=[MeterValue(
    timestamp=datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc),
    values=[SampledValue("12345.6"), SampledValue("7200", measurand=Measurand.POWER_ACTIVE_IMPORT, unit=UnitOfMeasure.W),
            SampledValue("31.2", measurand=Measurand.CURRENT_IMPORT, unit=UnitOfMeasure.AMP)])])
METER_VALUES_RESPONSE = envelope.build(envelope.Addressing(action="/MeterValuesResponse"), CS_NAMESPACE,
                                       central_system_service().render(MeterValuesConfirmation(), "MeterValues"))
REMOTE_START = envelope.build(
    envelope.Addressing(charge_box_identity="CB-BENCH", action="/RemoteStartTransaction",
                        message_id="urn:uuid:bench", to="http://box/"),
    CP_NAMESPACE, charge_point_service().render(RemoteStartTransactionRequest(id_tag="04A2B3C4D5E680", connector_id=1),
                                                "RemoteStartTransaction"))
HEADERS = {"Content-Type": f'{envelope.CONTENT_TYPE}; charset=utf-8'}


# -- the peers, each in its own process --------------------------------------------------------------

async def serve_central_system() -> None:
    """A Central System stub answering every POST with a canned MeterValues confirmation."""
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=METER_VALUES_RESPONSE, headers=HEADERS)

    app = web.Application()
    app.router.add_post("/", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await _serve(runner, web.TCPSite(runner, "127.0.0.1", 0))


async def serve_endpoint() -> None:
    """The box's real endpoint with an engine stub that accepts every RemoteStartTransaction."""
    async def accept(request: Request) -> Confirmation:
        return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)

    endpoint = ChargePointEndpoint("CB-BENCH", accept)
    runner = endpoint.runner()  # as the daemon serves it: through its own accept loop
    await runner.setup()
    await _serve(runner, endpoint.site(runner, "127.0.0.1", 0))


async def _serve(runner: web.AppRunner, site: web.BaseSite) -> None:
    await site.start()
    print(json.dumps({"port": runner.addresses[0][1]}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    await runner.cleanup()


class Peer:
    """This script in another process, serving one of the peers above."""

    def __init__(self, role: str) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, f"--serve-{role}"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{json.loads(self.process.stdout.readline())['port']}/"

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(10)
        self.process.stdout.close()


# -- the measurements --------------------------------------------------------------------------------

async def client_overhead(url: str, requests: int) -> tuple[float, float]:
    """CPU seconds per request: through the binding's client, and as a bare POST of the same bytes."""
    client = CentralSystemClient(url, "CB-BENCH", lambda: "http://127.0.0.1:8181/", compression=None,
                                 allow_plain_http=True)
    body, _ = client.encode(METER_VALUES)
    async with aiohttp.ClientSession() as session:
        async def bare() -> None:
            async with session.post(url, data=body, headers=HEADERS) as response:
                await response.read()

        for _ in range(50):  # warm both paths: connections, caches
            await bare()
            await client.call(METER_VALUES)
        start = time.process_time()
        for _ in range(requests):
            await bare()
        bare_cpu = (time.process_time() - start) / requests
    start = time.process_time()
    for _ in range(requests):
        await client.call(METER_VALUES)
    binding_cpu = (time.process_time() - start) / requests
    await client.close()
    return binding_cpu, bare_cpu


async def endpoint_throughput(url: str, seconds: float, concurrency: int) -> tuple[float, int]:
    """Requests per second the endpoint answers with 200, and how many answers were not 200."""
    answered = failed = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def worker() -> None:
            nonlocal answered, failed
            while time.monotonic() < deadline:
                async with session.post(url, data=REMOTE_START, headers=HEADERS) as response:
                    await response.read()
                    if response.status == 200:
                        answered += 1
                    else:
                        failed += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - start
    return answered / elapsed, failed


async def call_peak_bytes(url: str) -> int:
    """The peak memory one more call allocates once the client is warm (tracemalloc)."""
    client = CentralSystemClient(url, "CB-BENCH", lambda: None, allow_plain_http=True)
    await client.call(METER_VALUES)
    tracemalloc.start()
    baseline, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    await client.call(METER_VALUES)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await client.close()
    return peak - baseline


def services_bytes() -> int:
    """What loading both services (WSDL, zeep types, compiled schemas) costs (tracemalloc)."""
    tracemalloc.start()
    services = (central_system_service(), charge_point_service())
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del services
    return size


async def main(args: argparse.Namespace) -> None:
    central_system, box = Peer("central-system"), Peer("endpoint")
    try:
        binding_cpu, bare_cpu = await client_overhead(central_system.url, args.requests)
        overhead = binding_cpu - bare_cpu
        print(f"client, {args.requests} MeterValues.req one after another ({len(METER_VALUES_RESPONSE)} B answers):")
        print(f"  CPU per request through the binding  {binding_cpu * 1e3:7.3f} ms")
        print(f"  CPU per request as a bare POST       {bare_cpu * 1e3:7.3f} ms")
        print(f"  binding overhead                     {overhead * 1e3:7.3f} ms per request"
              f"   (target <= 2 ms)  ratio {binding_cpu / bare_cpu:.2f}x")
        rss_before = box.rss_kib()
        rate, failed = await endpoint_throughput(box.url, args.seconds, args.concurrency)
        print(f"endpoint, RemoteStartTransaction.req for {args.seconds:g} s, {args.concurrency} connections:")
        print(f"  answered                             {rate:7.0f} requests/s   (target >= 300)"
              + (f"  ({failed} not 200!)" if failed else ""))
        print("memory:")
        print(f"  both services loaded                 {services_bytes() / 1024:7.0f} KiB (tracemalloc)")
        print(f"  peak one client call adds            {await call_peak_bytes(central_system.url) / 1024:7.0f} KiB")
        print(f"  endpoint process RSS before / after  {rss_before / 1024:7.1f} / {box.rss_kib() / 1024:.1f} MiB")
    finally:
        central_system.close()
        box.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="client calls per measurement")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the endpoint load")
    parser.add_argument("--concurrency", type=int, default=4, help="connections loading the endpoint")
    parser.add_argument("--serve-central-system", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-endpoint", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_central_system:
        asyncio.run(serve_central_system())
    elif options.serve_endpoint:
        asyncio.run(serve_endpoint())
    else:
        asyncio.run(main(options))
