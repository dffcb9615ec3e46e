"""The outbox: messages persisted before they are sent, delivered in order (OCPP 1.6 section 3.7).

Transaction-related messages (StartTransaction, StopTransaction, MeterValues of a transaction)
live here, and so do firmware and diagnostics status notifications that could not be sent at once
(:mod:`chargebox.maintenance.status`); other messages are sent directly and may overtake them.

Each message gets its message id when it is queued, and every attempt to send it carries that id,
so a Central System can recognise a resend of a message whose answer it could not deliver. A
message that can never be sent (the binding cannot express it, or it cannot be read back) is moved
aside into ``outbox_aside``: kept for the operator (``chargebox queue``), out of the way of the rest.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from chargebox.ocpp import codec
from chargebox.ocpp.messages import CENTRAL_SYSTEM_OPERATIONS, Request
from chargebox.store.database import Database, atomic, count, new_message_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Queued:
    seq: int
    request: Request
    local_tx: int | None
    created: datetime
    attempts: int
    message_id: str


@dataclass(frozen=True, slots=True)
class SetAside:
    """A message that can never be sent, as it was when moved aside, and why."""

    id: int
    seq: int
    action: str
    local_tx: int | None
    payload: str  # as stored: it may be a message that cannot be read back
    created: str
    attempts: int
    message_id: str | None
    reason: str
    moved: str


class Outbox:
    """An ordered, durable queue of requests."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, request: Request, *, local_tx: int | None, created: datetime) -> int:
        payload = codec.to_json(request)
        cursor = self._db.execute(
            "INSERT INTO outbox (action, local_tx, payload, created, attempts, message_id) VALUES (?, ?, ?, ?, 0, ?)",
            [request.action(), local_tx, payload, created.isoformat(), new_message_id()])
        return int(cursor.lastrowid or 0)

    def _queued(self, row: sqlite3.Row) -> Queued:
        cls = CENTRAL_SYSTEM_OPERATIONS[row["action"]].request
        request = codec.from_json(row["payload"], cls)
        return Queued(row["seq"], request, row["local_tx"], datetime.fromisoformat(row["created"]), row["attempts"],
                      row["message_id"])

    def _readable(self, row: sqlite3.Row) -> Queued | None:
        """The row's message; None when it cannot be read back (a row from another version, a
        damaged payload): then it is moved aside, never in the way of the others."""
        try:
            return self._queued(row)
        except (LookupError, ValueError, TypeError) as err:
            log.error("outbox message %s (%s) cannot be read back, moved aside: %s", row["seq"], row["action"], err)
            self.set_aside(row["seq"], f"unreadable: {err}")
            return None

    def head(self) -> Queued | None:
        """The oldest message, the only one that may be in flight."""
        while (row := self._db.execute("SELECT * FROM outbox ORDER BY seq LIMIT 1").fetchone()) is not None:
            if (queued := self._readable(row)) is not None:
                return queued
        return None

    def all(self) -> list[Queued]:
        rows = self._db.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
        return [queued for row in rows if (queued := self._readable(row)) is not None]

    def depth(self) -> int:
        return count(self._db, "outbox")

    def count_attempt(self, seq: int) -> int:
        with atomic(self._db):
            self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", [seq])
            return int(self._db.execute("SELECT attempts FROM outbox WHERE seq = ?", [seq]).fetchone()[0])

    def remove(self, seq: int) -> None:
        """Acknowledged (or given up on): it is never sent again."""
        self._db.execute("DELETE FROM outbox WHERE seq = ?", [seq])

    def set_aside(self, seq: int, reason: str) -> None:
        """The message can never be sent: out of the queue, kept in ``outbox_aside`` with ``reason``
        (and the UTC time SQLite gives, a record for the operator, not protocol time)."""
        with atomic(self._db):
            self._db.execute(
                "INSERT INTO outbox_aside (seq, action, local_tx, payload, created, attempts, message_id, "
                "reason, moved) SELECT seq, action, local_tx, payload, created, attempts, message_id, ?, "
                "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM outbox WHERE seq = ?", [reason, seq])
            self.remove(seq)

    def aside(self) -> list[SetAside]:
        """The messages moved aside, oldest first."""
        return [SetAside(**dict(row)) for row in self._db.execute("SELECT * FROM outbox_aside ORDER BY id")]
