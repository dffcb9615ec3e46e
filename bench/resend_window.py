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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from chargebox.binding.soap15.client import CentralSystemClient
from chargebox.binding.soap15.service import CENTRAL_SYSTEM_WSDL, CHARGE_POINT_WSDL
from chargebox.engine.configuration import Configuration
from chargebox.engine.delivery import Courier
from chargebox.ocpp.messages import Confirmation, Request, StartTransactionConfirmation, StartTransactionRequest
from chargebox.site import _read_ready
from chargebox.store import Store
from chargebox.store.database import atomic
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
    head = store.outbox.head

    def timed_head() -> Queued | None:
        if len(commits) < len(answers):  # the loop is back for the next message: the last one is committed
            commits.append(time.monotonic())
        return head()

    store.outbox.head = timed_head  # type: ignore[method-assign]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
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
