"""The transaction journal: every transaction is written here before the relay closes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chargebox.ocpp import codec
from chargebox.ocpp.datatypes import MeterValue
from chargebox.store.database import Database, atomic


@dataclass(frozen=True, slots=True)
class JournalEntry:
    local_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    start_time: datetime
    start_time_synced: bool
    parent_id_tag: str | None = None
    reservation_id: int | None = None
    transaction_id: int | None = None
    meter_last: int | None = None
    last_seen: datetime | None = None
    meter_stop: int | None = None
    stop_time: datetime | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None

    @property
    def running(self) -> bool:
        return self.stop_time is None


def _entry(row: sqlite3.Row) -> JournalEntry:
    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(row[key]) if row[key] else None

    return JournalEntry(
        local_id=row["local_id"], connector_id=row["connector_id"], id_tag=row["id_tag"],
        meter_start=row["meter_start"], start_time=datetime.fromisoformat(row["start_time"]),
        start_time_synced=bool(row["start_time_synced"]), parent_id_tag=row["parent_id_tag"],
        reservation_id=row["reservation_id"], transaction_id=row["transaction_id"],
        meter_last=row["meter_last"], last_seen=when("last_seen"), meter_stop=row["meter_stop"],
        stop_time=when("stop_time"), stop_reason=row["stop_reason"], stop_id_tag=row["stop_id_tag"],
    )


class TransactionJournal:
    """Transactions by local id. Each method is one SQLite transaction (durable on return)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(
        self, *, connector_id: int, id_tag: str, meter_start: int, start_time: datetime, synced: bool,
        parent_id_tag: str | None = None, reservation_id: int | None = None,
    ) -> JournalEntry:
        cursor = self.db.execute(
            "INSERT INTO transactions (connector_id, id_tag, parent_id_tag, reservation_id, meter_start, start_time,"
            " start_time_synced, meter_last, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [connector_id, id_tag, parent_id_tag, reservation_id, meter_start, start_time.isoformat(), int(synced),
             meter_start, start_time.isoformat()])
        return self.get(int(cursor.lastrowid or 0))

    def get(self, local_id: int) -> JournalEntry:
        row = self.db.execute("SELECT * FROM transactions WHERE local_id = ?", [local_id]).fetchone()
        if row is None:
            raise KeyError(f"no transaction {local_id} in the journal")
        return _entry(row)

    def by_transaction_id(self, transaction_id: int) -> JournalEntry | None:
        row = self.db.execute("SELECT * FROM transactions WHERE transaction_id = ? LIMIT 1", [transaction_id]).fetchone()
        return None if row is None else _entry(row)

    def reservations_used(self, reservation_ids: list[int]) -> set[int]:
        """Those of ``reservation_ids`` a transaction has ended (its StartTransaction carried the id, 5.11)."""
        if not reservation_ids:
            return set()
        marks = ", ".join("?" * len(reservation_ids))
        rows = self.db.execute(f"SELECT DISTINCT reservation_id FROM transactions WHERE reservation_id IN ({marks})",
                               reservation_ids)
        return {row["reservation_id"] for row in rows}

    def running(self) -> list[JournalEntry]:
        return [_entry(row) for row in self.db.execute("SELECT * FROM transactions WHERE stop_time IS NULL ORDER BY local_id")]

    def recent(self, limit: int = 20) -> list[JournalEntry]:
        return [_entry(row) for row in self.db.execute("SELECT * FROM transactions ORDER BY local_id DESC LIMIT ?", [limit])]

    def set_transaction_id(self, local_id: int, transaction_id: int) -> None:
        self._update(local_id, transaction_id=transaction_id)

    def record_meter(self, local_id: int, meter_wh: int, when: datetime) -> None:
        """The last good reading and sign of life: what a power cut stops the transaction with."""
        self._update(local_id, meter_last=meter_wh, last_seen=when.isoformat())

    def add_value(self, local_id: int, value: MeterValue) -> None:
        """A meter value kept for the transaction's StopTransaction.transactionData (6.9.1 StopTxn*Data)."""
        self.db.execute("INSERT INTO transaction_values (local_tx, payload) VALUES (?, ?)", [local_id, codec.to_json(value)])

    def values(self, local_id: int) -> list[MeterValue]:
        rows = self.db.execute("SELECT payload FROM transaction_values WHERE local_tx = ? ORDER BY id", [local_id])
        return [codec.from_json(row["payload"], MeterValue) for row in rows]

    def correct_times(self, local_ids: list[int], delta: timedelta) -> None:
        """Timestamps taken before the clock was first synchronised, moved by the correction the
        Central System's time brought (its StartTransaction and StopTransaction carry them)."""
        with atomic(self.db):
            for entry in (self.get(local_id) for local_id in local_ids):
                if entry.start_time_synced:
                    continue
                change: dict[str, Any] = {"start_time": (entry.start_time + delta).isoformat(), "start_time_synced": 1}
                for key in ("stop_time", "last_seen"):
                    moment = getattr(entry, key)
                    if moment is not None:
                        change[key] = (moment + delta).isoformat()
                self._update(entry.local_id, **change)

    def finish(self, local_id: int, *, meter_stop: int, stop_time: datetime, reason: str,
               id_tag: str | None) -> JournalEntry:
        self._update(local_id, meter_stop=meter_stop, meter_last=meter_stop, stop_time=stop_time.isoformat(),
                     stop_reason=reason, stop_id_tag=id_tag)
        return self.get(local_id)

    def _update(self, local_id: int, **columns: Any) -> None:
        # The column names are this module's own keywords, never input.
        assignments = ", ".join(f"{name} = ?" for name in columns)
        self.db.execute(f"UPDATE transactions SET {assignments} WHERE local_id = ?", [*columns.values(), local_id])
