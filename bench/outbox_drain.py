"""Issue 19, row 2: outbox drain, messages queued while the Central System is unreachable, database
on disk, then the Central System back: messages per second until the queue is empty, order kept.

    python bench/outbox_drain.py [--protocol ocpp1.5-soap] [--messages N] [--repeats R | --full]

Through the real processes: the reference Central System refuses connections (``outage: refused``);
the daemon is stopped and its own database file (``chargebox.db`` beside the site config, WAL and
synchronous=FULL as the daemon opens it) gets a journal entry, its StartTransaction and N-1
transaction MeterValues through the store's own API (queueing 10,000 messages by running sessions
would take hours of meter samples); the daemon starts again, settles, and the Central System comes
back. The rate is counted on the Central System's loop clock, from the first message it receives to
the last of the N; order kept means the StartTransaction first and the MeterValues in queue order.
The daemon's CPU time over the drain (from /proc) divided by N is client_cpu.py's figure.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from realpath import (
    CARD,
    BenchSite,
    NotAvailable,
    Row,
    arguments,
    cpu_seconds,
    last_seq,
    parse,
    run_alone,
    spread,
)

from chargebox.ocpp.datatypes import MeterValue, SampledValue
from chargebox.ocpp.messages import MeterValuesRequest, StartTransactionRequest
from chargebox.store import Store
from chargebox.store.database import atomic

SIZES = {"messages": (300, 10000), "repeats": (1, 3)}
MEASURE, GOAL = "outbox drain, queued during an outage, database on disk", ">= 500 msg/s, order kept"


@dataclass
class Drain:
    messages: int
    seconds: float  # the Central System's loop time from the first to the last message
    daemon_cpu: float  # the daemon's CPU seconds from the Central System's return to the last message
    in_order: bool


def queue(site: BenchSite, messages: int) -> None:
    """The stopped daemon's database gets a transaction and ``messages`` queued messages for it."""
    store = Store.open(site.workdir / "chargebox.db")
    now = datetime.now(timezone.utc)
    with atomic(store.db):
        entry = store.journal.begin(connector_id=1, id_tag=CARD, meter_start=1000, start_time=now, synced=True)
        store.outbox.put(StartTransactionRequest(connector_id=1, id_tag=CARD, timestamp=now, meter_start=1000),
                         local_tx=entry.local_id, created=now)
        for n in range(messages - 1):
            store.outbox.put(MeterValuesRequest(connector_id=1, transaction_id=0, values=[
                MeterValue(now, [SampledValue(str(1000 + n))])]), local_tx=entry.local_id, created=now)
    store.db.close()


def meter_readings(record: dict[str, Any]) -> list[int]:
    """The energy readings of a MeterValues record: 1.5 SOAP (values/value/#text) or 1.6 JSON
    (meterValue/sampledValue/value)."""
    payload = record["payload"]
    if "values" in payload:
        return [int(float(v["#text"])) for mv in payload["values"] for v in mv["value"]]
    return [int(float(v["value"])) for mv in payload["meterValue"] for v in mv["sampledValue"]]


def wait_quiet(pid: int, seconds: float = 30.0) -> None:
    """Until the daemon has started and spent under 20 ms of CPU in half a second."""
    deadline = time.monotonic() + seconds
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - before < 0.02:
            return
        before = now
    raise NotAvailable(f"the daemon did not settle within {seconds:.0f} s")


def drain(site: BenchSite, messages: int) -> Drain:
    site.cs("POST", "/behaviour", {"outage": "refused"})
    site.stop_daemon()
    queue(site, messages)
    mark = last_seq(site)
    daemon = site.start_daemon()
    wait_quiet(daemon.pid)
    cpu = cpu_seconds(daemon.pid)
    site.cs("POST", "/behaviour", {"outage": None})
    timeout = 60 + messages / 20  # at 20 msg/s something is badly wrong
    try:
        BenchSite._http(site.cs_url, "GET", f"/wait?action=MeterValues&count={messages - 1}&timeout={timeout}"
                        f"&since={mark}", timeout=timeout + 10)
    except OSError as err:
        raise NotAvailable(f"the {messages} messages did not all reach the Central System within {timeout:.0f} s "
                           f"({err})") from err
    cpu = cpu_seconds(daemon.pid) - cpu
    record = [r for r in site.cs("GET", f"/record?since={mark}") if r["action"] in ("StartTransaction", "MeterValues")]
    readings = [value for r in record if r["action"] == "MeterValues" for value in meter_readings(r)]
    in_order = (record[0]["action"] == "StartTransaction" and readings == list(range(1000, 1000 + messages - 1))
                and sum(1 for r in record if r["action"] == "StartTransaction") == 1)
    return Drain(messages, record[-1]["loop_time"] - record[0]["loop_time"], cpu, in_order)


def measure(site: BenchSite, options: argparse.Namespace) -> list[Row]:
    results = [drain(site, options.messages) for _ in range(options.repeats)]
    in_order = all(result.in_order for result in results)
    return [Row(MEASURE, GOAL, f"{spread([r.messages / r.seconds for r in results], 'msg/s', 0)} of "
                               f"{options.messages} messages, order kept: {'yes' if in_order else 'NO'}")]


if __name__ == "__main__":
    run_alone(MEASURE, measure, parse(arguments(__doc__.splitlines()[0], SIZES), SIZES))
