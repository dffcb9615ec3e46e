"""What an acknowledgement costs (chargebox.engine.delivery, issue 19): a StartTransaction's or
StopTransaction's is synced to disk before the next message goes (synchronous=FULL), a MeterValues'
is not (NORMAL, its resend is harmless), at most RELAXED_ACKNOWLEDGEMENTS in a row."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

from chargebox.engine.configuration import Configuration
from chargebox.engine.delivery import RELAXED_ACKNOWLEDGEMENTS, Courier
from chargebox.ocpp.datatypes import IdTagInfo, MeterValue, SampledValue
from chargebox.ocpp.enums import AuthorizationStatus
from chargebox.ocpp.messages import (
    Confirmation,
    MeterValuesConfirmation,
    MeterValuesRequest,
    Request,
    StartTransactionConfirmation,
    StartTransactionRequest,
    StopTransactionConfirmation,
    StopTransactionRequest,
)
from chargebox.store import Store
from chargebox.store.database import atomic
from chargebox.store.outbox import Queued
from chargebox.store.transactions import JournalEntry

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
FULL, NORMAL = 2, 1  # PRAGMA synchronous's answers


def queue_session(store: Store, values: int) -> JournalEntry:
    """A transaction's StartTransaction, ``values`` MeterValues and StopTransaction, queued."""
    with atomic(store.db):
        entry = store.journal.begin(connector_id=1, id_tag="0A0B0C0D", meter_start=0, start_time=NOW, synced=True)
        store.outbox.put(StartTransactionRequest(connector_id=1, id_tag="0A0B0C0D", timestamp=NOW, meter_start=0),
                         local_tx=entry.local_id, created=NOW)
        for n in range(values):
            store.outbox.put(MeterValuesRequest(connector_id=1, transaction_id=0, values=[
                MeterValue(NOW, [SampledValue(str(n))])]), local_tx=entry.local_id, created=NOW)
        store.outbox.put(StopTransactionRequest(transaction_id=0, timestamp=NOW, meter_stop=values),
                         local_tx=entry.local_id, created=NOW)
    return entry


async def send(request: Request, message_id: str | None) -> Confirmation:
    """A Central System that accepts everything, its transaction 7."""
    accepted = IdTagInfo(AuthorizationStatus.ACCEPTED)
    if isinstance(request, StartTransactionRequest):
        return StartTransactionConfirmation(transaction_id=7, id_tag_info=accepted)
    if isinstance(request, StopTransactionRequest):
        return StopTransactionConfirmation(id_tag_info=accepted)
    return MeterValuesConfirmation()


async def test_only_transaction_boundaries_wait_for_the_disk(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "chargebox.db")
    entry = queue_session(store, RELAXED_ACKNOWLEDGEMENTS + 2)
    levels: list[tuple[str, int]] = []
    done = asyncio.Event()

    def acknowledged(queued: Queued, confirmation: Confirmation) -> None:
        if isinstance(confirmation, StartTransactionConfirmation):
            store.journal.set_transaction_id(entry.local_id, confirmation.transaction_id)
        # The level the acknowledging transaction will commit with.
        levels.append((queued.request.action(), store.db.execute("PRAGMA synchronous").fetchone()[0]))
        if isinstance(confirmation, StopTransactionConfirmation):
            done.set()

    courier = Courier(store, Configuration(store.settings), send, acknowledged, lambda: NOW)
    task = asyncio.create_task(courier.run())
    await done.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert levels[0] == ("StartTransaction", FULL) and levels[-1] == ("StopTransaction", FULL)
    meter = [level for _, level in levels[1:-1]]
    # After the synced StartTransaction, RELAXED_ACKNOWLEDGEMENTS unsynced in a row, then one synced.
    assert meter == [NORMAL] * RELAXED_ACKNOWLEDGEMENTS + [FULL, NORMAL]
    assert store.outbox.depth() == 0
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == FULL  # every other write stays synced


async def test_a_drain_reads_the_journal_once_per_transaction_and_does_not_count_the_queue(tmp_path: Path) -> None:
    """Per message sent, no journal read (the Central System's transactionId, once known, stays) and,
    with the outbox far from its bound, no count of the queue (issue 19: queries per message)."""
    store = Store.open(tmp_path / "chargebox.db")
    entry = queue_session(store, 50)
    statements: list[str] = []
    sent: list[Request] = []
    done = asyncio.Event()

    async def recording(request: Request, message_id: str | None) -> Confirmation:
        sent.append(request)
        return await send(request, message_id)

    def acknowledged(queued: Queued, confirmation: Confirmation) -> None:
        if isinstance(confirmation, StartTransactionConfirmation):
            store.journal.set_transaction_id(entry.local_id, confirmation.transaction_id)
        if isinstance(confirmation, StopTransactionConfirmation):
            done.set()

    store.db.set_trace_callback(statements.append)
    courier = Courier(store, Configuration(store.settings), recording, acknowledged, lambda: NOW)
    task = asyncio.create_task(courier.run())
    await done.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert [getattr(request, "transaction_id", None) for request in sent[1:]] == [7] * 51
    journal_reads = [s for s in statements if s.startswith("SELECT * FROM transactions")]
    # The StartTransaction and the StopTransaction (each sent and logged), the first MeterValues.
    assert len(journal_reads) <= 5
    assert not [s for s in statements if "count(*)" in s]
