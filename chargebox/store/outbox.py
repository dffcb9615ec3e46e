"""The outbox: messages persisted before they are sent, delivered in order (OCPP 1.6 section 3.7).

Transaction-related messages (StartTransaction, StopTransaction, MeterValues of a transaction)
live here, and so do firmware and diagnostics status notifications that could not be sent at once
(:mod:`chargebox.maintenance.status`); other messages are sent directly and may overtake them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from chargebox.ocpp import codec
from chargebox.ocpp.messages import CENTRAL_SYSTEM_OPERATIONS, Request
from chargebox.store.database import atomic


@dataclass(frozen=True, slots=True)
class Queued:
    seq: int
    request: Request
    local_tx: int | None
    created: datetime
    attempts: int


class Outbox:
    """An ordered, durable queue of requests."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = db.table("outbox")

    def put(self, request: Request, *, local_tx: int | None, created: datetime) -> int:
        payload = codec.to_json(request)
        with atomic(self._db):
            self._table.insert({
                "action": request.action(), "local_tx": local_tx, "payload": payload,
                "created": created.isoformat(), "attempts": 0,
            })
            return int(self._table.last_pk or 0)

    def _queued(self, row: dict[str, Any]) -> Queued:
        cls = CENTRAL_SYSTEM_OPERATIONS[row["action"]].request
        request = codec.from_json(row["payload"], cls)
        return Queued(row["seq"], request, row["local_tx"], datetime.fromisoformat(row["created"]), row["attempts"])

    def head(self) -> Queued | None:
        """The oldest message, the only one that may be in flight."""
        rows = list(self._table.rows_where(order_by="seq", limit=1))
        return self._queued(rows[0]) if rows else None

    def all(self) -> list[Queued]:
        return [self._queued(row) for row in self._table.rows_where(order_by="seq")]

    def depth(self) -> int:
        return int(self._table.count)

    def count_attempt(self, seq: int) -> int:
        with atomic(self._db):
            self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", [seq])
        return int(self._table.get(seq)["attempts"])

    def remove(self, seq: int) -> None:
        """Acknowledged (or given up on): it is never sent again."""
        with atomic(self._db):
            self._table.delete(seq)
