"""The resend window (issue 15, item 6): how long after the Central System's answer arrives a power
cut still makes the box send the message again (numbers, not pass/fail).

    python3 bench/resend_window.py [--messages 300]

The daemon's own outbox path runs against the reference Central System in another process: a
journal entry and its StartTransaction are queued in a real database file (WAL, synchronous=FULL,
as the daemon opens it) and delivered by the daemon's Courier through the SOAP client. For each
message it takes, on the system-wide monotonic clock:

  * ``answer``: the client has read the whole answer (the last byte is in; before it, a cut loses
    the answer, and a resend is the only way);
  * ``committed``: the acknowledgement (the transactionId in the journal, the message out of the
    outbox) is committed, the first instant a SIGKILL no longer causes a resend.

The window is ``committed - answer``: parsing and validating the answer, and the SQLite commit
with its fsync. It also prints ``committed - recorded``, from the instant the Central System began
to handle the request (its record's loop time), the whole stretch in which a cut leaves the Central
System holding a message that the box will send again.

    python3 bench/resend_window.py --sigkill [--trials 6] [--delays 0,0.25,0.5,1,2,4]

measures the same window from outside, with real processes: a simulated site whose daemon talks to
the reference Central System run in this process; the Central System writes its answer to a
StartTransaction, waits the given delay (ms) and SIGKILLs the daemon; the daemon is started again,
and once its StopTransaction for the cut session has arrived, a second StartTransaction with the
first one's wsa:MessageID shows that the kill fell inside the window. It prints the share of
resends per delay.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import web
from hwsim.centralsystem import CentralSystem, Received

from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap15 import CENTRAL_SYSTEM_WSDL, CHARGE_POINT_WSDL
from chargebox.engine.configuration import Configuration
from chargebox.engine import delivery
from chargebox.engine.delivery import Courier
from chargebox.ocpp.messages import Confirmation, Request, StartTransactionConfirmation, StartTransactionRequest
from chargebox.site import SimulatedSite, _read_ready
from chargebox.store import Store
from chargebox.store.database import Database, atomic
from chargebox.store.outbox import Queued


def percentiles(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    q = statistics.quantiles(ms, n=100)
    return f"median {statistics.median(ms):.2f} ms, p90 {q[89]:.2f} ms, p99 {q[98]:.2f} ms, max {ms[-1]:.2f} ms"


async def measure(url: str, control: str, messages: int, folder: Path) -> None:
    store = Store.open(folder / "chargebox.db")
    now = datetime.now(timezone.utc)
    for n in range(messages):
        with atomic(store.db):
            entry = store.journal.begin(connector_id=1, id_tag=f"TAG{n}", meter_start=n, start_time=now, synced=True)
            store.outbox.put(StartTransactionRequest(connector_id=1, id_tag=f"TAG{n}", timestamp=now, meter_start=n),
                             local_tx=entry.local_id, created=now)
    client = CentralSystemClient(url, "CB-BENCH", lambda: None, allow_plain_http=True)
    answers: list[float] = []
    decoded: list[float] = []
    commits: list[float] = []
    post = client._post

    async def timed_post(url: str, body: bytes, action: str) -> tuple[int, bytes]:
        answer = await post(url, body, action)
        answers.append(time.monotonic())
        return answer

    client._post = timed_post  # type: ignore[method-assign]

    @contextlib.contextmanager
    def timed_atomic(db: Database, *, durable: bool = True) -> Iterator[None]:
        # The instant the Courier's acknowledgement has committed (it reads the next head inside it).
        with atomic(db, durable=durable):
            yield
        if len(commits) < len(answers):
            commits.append(time.monotonic())

    delivery.atomic = timed_atomic

    def acknowledged(queued: Queued, confirmation: Confirmation) -> None:
        assert isinstance(confirmation, StartTransactionConfirmation) and queued.local_tx is not None
        store.journal.set_transaction_id(queued.local_tx, confirmation.transaction_id)

    async def send(request: Request, message_id: str) -> Confirmation:
        confirmation = await client.call(request, message_id)
        decoded.append(time.monotonic())
        return confirmation

    courier = Courier(store, Configuration(store.settings), send, acknowledged, lambda: datetime.now(timezone.utc))
    task = asyncio.ensure_future(courier.run())
    while store.outbox.depth() or len(commits) < messages:
        await asyncio.sleep(0.05)
        courier.wake()
    task.cancel()
    await client.close()
    with urllib.request.urlopen(f"{control}record") as response:
        record = [r for r in json.loads(response.read()) if r["action"] == "StartTransaction"]
    window = [c - a for a, c in zip(answers, commits)]
    whole = [c - r["loop_time"] for r, c in zip(record, commits)]
    print(f"{messages} StartTransactions through the outbox; database in {folder}")
    print(f"resend window, answer read -> acknowledgement committed: {percentiles(window)}")
    print(f"  of which answer read -> answer parsed and validated: "
          f"{percentiles([d - a for a, d in zip(answers, decoded)])}")
    print(f"  and answer parsed -> acknowledgement committed (SQLite, fsync): "
          f"{percentiles([c - d for d, c in zip(decoded, commits)])}")
    print(f"Central System began handling -> acknowledgement committed: {percentiles(whole)}")


def sigkill_sweep(trials: int, delays: list[float]) -> None:
    sys.setswitchinterval(1e-5)  # the Central System's thread must not wait for the GIL to kill on time
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    cs = CentralSystem(CENTRAL_SYSTEM_WSDL, CHARGE_POINT_WSDL)
    plan: dict[str, Any] = {"pid": 0, "delay": None}
    handle = cs._handle
    # The record of the request being handled (others may be recorded meanwhile, on the same loop).
    own: contextvars.ContextVar[list[Received]] = contextvars.ContextVar("own")
    cs.request_listeners.append(lambda rec: own.get().append(rec))

    async def answer_then_kill(request: web.Request) -> web.StreamResponse:
        own.set(mine := [])
        response = await handle(request)
        rec = mine[0]
        if plan["delay"] is not None and rec.action == "StartTransaction" and rec.response is not None:
            await response.prepare(request)
            await response.write_eof()  # the answer is on its way (loopback: there at once)
            time.sleep(plan["delay"] / 1000)  # blocking: nothing else may run on this loop meanwhile
            os.kill(plan["pid"], signal.SIGKILL)
            plan["delay"] = None
        return response

    cs._handle = answer_then_kill  # type: ignore[method-assign]
    asyncio.run_coroutine_threadsafe(cs.start(), loop).result()

    def count(action: str) -> int:
        return sum(1 for r in cs.record if r.action == action)

    with SimulatedSite(central_system_port=cs.port, ocpp={"LocalPreAuthorize": True}) as site:
        wait(lambda: count("StatusNotification") > 0)
        for delay in delays:
            resent = 0
            for _ in range(trials):
                plan.update(pid=site.processes["chargebox"].pid, delay=delay)
                starts, stops, boots = count("StartTransaction"), count("StopTransaction"), count("BootNotification")
                site.hw("POST", "/plug", {"connector": 1})
                site.hw("POST", "/card", {"uid": "04A2B3C4D5E680"})
                site.processes["chargebox"].wait(30)
                site.start_daemon()
                wait(lambda: count("StopTransaction") > stops and count("BootNotification") > boots)
                first = [r for r in cs.record if r.action == "StartTransaction"][starts]
                resent += sum(1 for r in cs.record if r.message_id == first.message_id) > 1
                site.hw("POST", "/unplug", {"connector": 1})
                time.sleep(1.5)  # the box sees the EV go, the card's hold window passes
            print(f"SIGKILL {delay:5.2f} ms after the answer was written: {resent}/{trials} resent", flush=True)
    asyncio.run_coroutine_threadsafe(cs.stop(), loop).result()
    loop.call_soon_threadsafe(loop.stop)


def wait(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the site did not get there in time")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--sigkill", action="store_true", help="measure with real processes and SIGKILL")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--delays", default="0,0.25,0.5,1,2,4", help="ms after the answer, comma-separated")
    args = parser.parse_args()
    if args.sigkill:
        sigkill_sweep(args.trials, [float(d) for d in args.delays.split(",")])
        return
    cs = subprocess.Popen([sys.executable, "-m", "hwsim.centralsystem", "--cs-wsdl", str(CENTRAL_SYSTEM_WSDL),
                           "--cp-wsdl", str(CHARGE_POINT_WSDL)], stdout=subprocess.PIPE, text=True)
    try:
        ready = _read_ready(cs, "central system")
        with tempfile.TemporaryDirectory(prefix="resend-window-") as folder:
            asyncio.run(measure(f"http://127.0.0.1:{ready['soap_port']}/",
                                f"http://127.0.0.1:{ready['control_port']}/", args.messages, Path(folder)))
    finally:
        cs.terminate()
        cs.wait()


if __name__ == "__main__":
    main()
