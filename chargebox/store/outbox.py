"""The outbox: messages persisted before they are sent, delivered in order (OCPP 1.6 section 3.7).

Transaction-related messages (StartTransaction, StopTransaction, MeterValues of a transaction)
live here, and so do firmware and diagnostics status notifications that could not be sent at once
(:mod:`chargebox.maintenance.status`); other messages are sent directly and may overtake them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from chargebox.ocpp import codec
from chargebox.ocpp.messages import CENTRAL_SYSTEM_OPERATIONS, Request
from chargebox.store.database import Database, atomic, count


@dataclass(frozen=True, slots=True)
class Queued:
    seq: int
    request: Request
    local_tx: int | None
    created: datetime
    attempts: int


class Outbox:
    """An ordered, durable queue of requests."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, request: Request, *, local_tx: int | None, created: datetime) -> int:
        payload = codec.to_json(request)
        cursor = self._db.execute("INSERT INTO outbox (action, local_tx, payload, created, attempts) "
                                  "VALUES (?, ?, ?, ?, 0)", [request.action(), local_tx, payload, created.isoformat()])
        return int(cursor.lastrowid or 0)

    def _queued(self, row: sqlite3.Row) -> Queued:
        cls = CENTRAL_SYSTEM_OPERATIONS[row["action"]].request
        request = codec.from_json(row["payload"], cls)
        return Queued(row["seq"], request, row["local_tx"], datetime.fromisoformat(row["created"]), row["attempts"])

    def head(self) -> Queued | None:
        """The oldest message, the only one that may be in flight."""
        row = self._db.execute("SELECT * FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else self._queued(row)

    def all(self) -> list[Queued]:
        return [self._queued(row) for row in self._db.execute("SELECT * FROM outbox ORDER BY seq")]

    def depth(self) -> int:
        return count(self._db, "outbox")

    def count_attempt(self, seq: int) -> int:
        with atomic(self._db):
            self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", [seq])
            return int(self._db.execute("SELECT attempts FROM outbox WHERE seq = ?", [seq]).fetchone()[0])

    def remove(self, seq: int) -> None:
        """Acknowledged (or given up on): it is never sent again."""
        self._db.execute("DELETE FROM outbox WHERE seq = ?", [seq])
