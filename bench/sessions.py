"""Benchmarks of the charging-session engine (numbers, not pass/fail). Issue 4's targets on the
project's 2-core machine are in brackets.

    python3 bench/sessions.py [--entries 50000] [--messages 10000] [--sessions 30] [--idle 60]

Prints:
  * SendLocalList Full of --entries entries applied through the engine's command [<= 3 s], and
    the p50/p99 of a lookup among them [p99 <= 1 ms];
  * the drain of an outbox that queued --messages messages during an outage, through the real
    client to the reference Central System on loopback [>= 200 messages/s, order kept];
  * on a whole simulated site (daemon, simulator and Central System as processes): the card-to-relay
    latency for a card in the local list, from the simulator writing the reader's frame to the relay
    command reaching it [p99 <= 20 ms]; the daemon's resident memory [<= 60 MB]; its CPU while idle
    for --idle seconds [<= 0.5 % of a core]; the bytes it wrote to storage meanwhile [none but
    what a heartbeat needs]; and its CPU during a session whose meter is polled every second.

Run it with the interpreter of an installation as a box has it: a venv with only the project's
dependencies and ``pip install .``, which compiles every module to .pyc. A daemon that compiles
its modules at each start instead (an editable install under PYTHONDONTWRITEBYTECODE, as on the
development machines) holds about 1.5 MB more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap15 import CENTRAL_SYSTEM_WSDL, CHARGE_POINT_WSDL
from chargebox.engine.configuration import Configuration
from chargebox.engine.delivery import Courier
from chargebox.ocpp.datatypes import AuthorisationData, IdTagInfo, MeterValue, SampledValue
from chargebox.ocpp.enums import AuthorizationStatus, UpdateType
from chargebox.ocpp.messages import (
    Confirmation,
    MeterValuesRequest,
    SendLocalListRequest,
    StartTransactionConfirmation,
    StartTransactionRequest,
)
from chargebox.site import SimulatedSite
from chargebox.store import Store
from chargebox.store.database import atomic
from chargebox.store.outbox import Queued

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.chargebox.engine.fakes import Box, FakeCentralSystem  # noqa: E402

CARD = "04A2B3C4D5E680"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def local_list(entries: int) -> None:
    box = Box(FakeCentralSystem())
    tags = [f"{n:08X}" for n in range(entries)]
    request = SendLocalListRequest(update_type=UpdateType.FULL, list_version=1, local_authorisation_list=[
        AuthorisationData(tag, IdTagInfo(AuthorizationStatus.ACCEPTED)) for tag in tags])
    with tempfile.TemporaryDirectory() as folder:
        # On a file, as on the box: the durability settings count.
        box.store = Store.open(Path(folder) / "box.db")
        box.cp = box.build()
        start = time.perf_counter()
        conf = await box.cp.handle(request)
        applied = time.perf_counter() - start
        lookups = []
        for tag in tags[:: max(1, entries // 2000)]:
            t0 = time.perf_counter()
            decision = box.cp.authorizer.local(tag.lower())
            lookups.append((time.perf_counter() - t0) * 1000)
            assert decision is not None and decision.accepted
    print(f"SendLocalList Full of {entries} entries: {conf.status.value} in {applied:.2f} s "  # type: ignore[attr-defined]
          f"[<= 3 s]; lookup p50 {percentile(lookups, 50):.3f} ms, p99 {percentile(lookups, 99):.3f} ms [<= 1 ms]")


async def drain(messages: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cs = subprocess.Popen([sys.executable, "-m", "hwsim.centralsystem", "--cs-wsdl", str(CENTRAL_SYSTEM_WSDL),
                               "--cp-wsdl", str(CHARGE_POINT_WSDL), "--log-level", "WARNING"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = json.loads(cs.stdout.readline())  # type: ignore[union-attr]
        client = CentralSystemClient(f"http://127.0.0.1:{ready['soap_port']}/", "BENCH-1",
                                     lambda: "http://127.0.0.1:1/", allow_plain_http=True)
        store = Store.open(Path(folder) / "box.db")
        now = datetime.now(timezone.utc)
        with atomic(store.db):
            entry = store.journal.begin(connector_id=1, id_tag=CARD, meter_start=1000, start_time=now, synced=True)
            store.outbox.put(StartTransactionRequest(connector_id=1, id_tag=CARD, timestamp=now, meter_start=1000),
                             local_tx=entry.local_id, created=now)
            for n in range(messages - 1):
                value = MeterValue(now, [SampledValue(str(1000 + n))])
                store.outbox.put(MeterValuesRequest(connector_id=1, transaction_id=0, values=[value]),
                                 local_tx=entry.local_id, created=now)
        done = asyncio.Event()

        def acknowledged(queued: Queued, confirmation: Confirmation) -> None:
            if isinstance(confirmation, StartTransactionConfirmation):
                store.journal.set_transaction_id(entry.local_id, confirmation.transaction_id)
            if store.outbox.depth() <= 1:  # the last one, removed right after this
                done.set()

        courier = Courier(store, Configuration(store.settings), client.call, acknowledged)
        start = time.perf_counter()
        task = asyncio.create_task(courier.run())
        await done.wait()
        elapsed = time.perf_counter() - start
        task.cancel()
        await client.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{ready['control_port']}/record") as answer:
            record = json.load(answer)
        cs.terminate()
        cs.wait()
    sent = [int(v["#text"]) for r in record if r["action"] == "MeterValues"
            for mv in r["payload"]["values"] for v in mv["value"]]
    in_order = sent == sorted(sent) and record[0]["action"] == "StartTransaction"
    print(f"outbox drain: {len(record)} of {messages} messages in {elapsed:.1f} s = {messages / elapsed:.0f} "
          f"messages/s [>= 200], order kept: {in_order}")


def site_figures(sessions: int, idle: float) -> None:
    with SimulatedSite(sample_interval=1, ocpp={"LocalPreAuthorize": True}) as site:
        site.wait_cs("BootNotification")
        site.call("SendLocalList", {"updateType": "Full", "listVersion": 1, "localAuthorisationList": [
            {"idTag": CARD, "idTagInfo": {"status": "Accepted"}}]})
        latencies = []
        for _ in range(sessions):
            mark = site.hw_seq()
            site.hw("POST", "/plug", {"connector": 1})
            site.hw("POST", "/card", {"uid": CARD})
            card = site.wait_hw("card", after=mark)
            relay = site.wait_hw("relay", closed=True, after=mark)
            latencies.append((relay["time"] - card["time"]) * 1000)
            site.hw("POST", "/unplug", {"connector": 1})
            site.wait_hw("relay", closed=False, after=mark)
            site.wait_hw("card_removed", after=mark)
            time.sleep(0.5)
        print(f"card to relay, listed card ({sessions} sessions): p50 {percentile(latencies, 50):.1f} ms, "
              f"p99 {percentile(latencies, 99):.1f} ms [<= 20 ms]")
        pid = site.processes["chargebox"].pid
        time.sleep(2)  # the last session's messages settle
        cpu0, io0, t0 = _cpu(pid), _written(pid), time.monotonic()
        time.sleep(idle)
        cpu1, io1, t1 = _cpu(pid), _written(pid), time.monotonic()
        memory = _memory_mb(pid)
        print(f"daemon resident memory: {memory['VmRSS']:.1f} MB [<= 60 MB] (heap and other anonymous "
              f"memory {memory['RssAnon']:.1f} MB, shared libraries {memory['RssFile']:.1f} MB)")
        print(f"daemon CPU while idle for {idle:.0f} s: {100 * (cpu1 - cpu0) / (t1 - t0):.2f} % of a core [<= 0.5 %]")
        print(f"bytes written to storage while idle: {io1 - io0} [none but a heartbeat's]")
        mark = site.hw_seq()
        site.hw("POST", "/plug", {"connector": 1})
        site.hw("POST", "/card", {"uid": CARD})
        site.wait_hw("relay", closed=True, after=mark)
        cpu0, t0 = _cpu(pid), time.monotonic()
        time.sleep(idle)
        cpu1, t1 = _cpu(pid), time.monotonic()
        print(f"daemon CPU during a session, meter polled and MeterValues sent every second: "
              f"{100 * (cpu1 - cpu0) / (t1 - t0):.2f} % of a core")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _written(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _memory_mb(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon and RssFile of /proc/PID/status, in MB."""
    fields = (line.split() for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {f[0].rstrip(":"): int(f[1]) / 1024 for f in fields if f and f[0] in ("VmRSS:", "RssAnon:", "RssFile:")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50000)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--idle", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(local_list(args.entries))
    asyncio.run(drain(args.messages))
    site_figures(args.sessions, args.idle)


if __name__ == "__main__":
    main()
