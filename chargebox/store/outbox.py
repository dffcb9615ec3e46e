"""The outbox: messages persisted before they are sent, delivered in order (OCPP 1.6 section 3.7).

It holds two of the lanes of :mod:`chargebox.ocpp.lanes`: transaction messages (StartTransaction,
StopTransaction, MeterValues of a transaction), each queued with its journal entry's ``local_tx``,
and status-lane messages (StatusNotification, Firmware- and DiagnosticsStatusNotification, the
set-aside report) that could not be sent at once, never with one; so the order is in the table.
Transaction messages go first, in order: a status waiting behind them never holds up a bill (one
that never got through would, at the head), and it tells the state the box is in when it goes.
Direct messages are never queued.

Each message gets its message id when it is queued, and every attempt to send it carries that id,
so a Central System can recognise a resend of a message whose answer it could not deliver. A
message that can never be sent (the binding cannot express it, or it cannot be read back) is moved
aside into ``outbox_aside``: kept for the operator (``chargebox queue``), out of the way of the rest.

The outbox is bounded (DESIGN.md; ``[storage] outbox_limit``). A transaction message is never
dropped, so near the bound (:data:`SESSION_THRESHOLD`) the box offers no new session
(:meth:`Outbox.refuses_sessions`) until the outbox drains: a bill is never lost. A queued
StatusNotification is replaced by its connector's newer one, so statuses take at most one place
per connector (two while one is on its way); at the bound the oldest of the other status-lane
messages (firmware and diagnostics steps, set-aside reports) is dropped to make room, or the new
one when none is older. Each replaced or dropped message is one log line. The next message to send
is never replaced nor dropped: delivery may have it on its way, and acknowledges it by its seq,
which SQLite gives again once the row is gone.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from chargebox.ocpp import codec
from chargebox.ocpp.lanes import Lane, coalescing_key, lane
from chargebox.ocpp.messages import CENTRAL_SYSTEM_OPERATIONS, Request
from chargebox.store.database import Database, atomic, count, new_message_id

log = logging.getLogger(__name__)

#: Messages the outbox holds by default (``[storage] outbox_limit``): days of an offline box's
#: sessions and meter values, a few MB of flash.
DEFAULT_LIMIT = 10_000
#: The outbox's delivery order: a transaction's messages (they have a local transaction) first.
_ORDER = "ORDER BY local_tx IS NULL, seq"
#: The share of the limit from which new sessions are refused: their transaction messages, and those
#: of the sessions still running, must fit.
SESSION_THRESHOLD = 0.9


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

    def __init__(self, db: Database, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"an outbox holds at least one message, not {limit}")
        self._db = db
        self.limit = limit
        self._refusing = False  # whether refuses_sessions() said so last: its changes are logged
        self.refuses_sessions()  # known from the start, so that a removal need not count (remove())

    def put(self, request: Request, *, local_tx: int | None, created: datetime) -> int | None:
        """Queue ``request`` (of the transaction or status lane) with the bound's policy; its seq, or
        None when it was dropped for want of room. Call it inside the caller's SQLite transaction
        when the message goes with other writes (a journal entry)."""
        kind = lane(request)
        if kind is Lane.DIRECT:
            raise ValueError(f"{request.action()} is sent directly, never queued (chargebox.ocpp.lanes)")
        if kind is Lane.STATUS and local_tx is not None:  # it would go with the transaction messages
            raise ValueError(f"{request.action()} is of no transaction")
        with atomic(self._db):
            key = coalescing_key(request)
            if key is not None:
                for old in self._matching(request.action(), lambda q: coalescing_key(q.request) == key):
                    if old.seq == self._head_seq():
                        continue  # it may be on its way, and its seq come again for the new one: it goes
                    log.info("outbox: a newer %s replaces queued message %s (coalesced)", key, old.seq)
                    self._delete(old.seq)
            elif kind is Lane.STATUS and self.depth() >= self.limit and not self._drop_oldest(request):
                return None
            payload = codec.to_json(request)
            cursor = self._db.execute(
                "INSERT INTO outbox (action, local_tx, payload, created, attempts, message_id) "
                "VALUES (?, ?, ?, ?, 0, ?)",
                [request.action(), local_tx, payload, created.isoformat(), new_message_id()])
        self.refuses_sessions()
        return int(cursor.lastrowid or 0)

    def _head_seq(self) -> int | None:
        """The next message's seq: the one delivery may have on its way, never replaced nor dropped."""
        row = self._db.execute(f"SELECT seq FROM outbox {_ORDER} LIMIT 1").fetchone()
        return int(row[0]) if row is not None else None

    def _matching(self, action: str, keep: Callable[[Queued], bool]) -> Iterator[Queued]:
        """The queued messages of ``action`` that ``keep`` selects, oldest first."""
        rows = self._db.execute("SELECT * FROM outbox WHERE action = ? ORDER BY seq", [action]).fetchall()
        for row in rows:
            if (queued := self._readable(row)) is not None and keep(queued):
                yield queued

    def _drop_oldest(self, new: Request) -> bool:
        """At the bound, the oldest droppable message makes room for ``new``: a status-lane message
        that no newer one replaces. False when ``new`` is the oldest such, and is dropped itself."""
        head = self._head_seq()
        for row in self._db.execute("SELECT * FROM outbox WHERE local_tx IS NULL ORDER BY seq").fetchall():
            queued = self._readable(row)
            if (queued is None or queued.seq == head or lane(queued.request) is not Lane.STATUS
                    or coalescing_key(queued.request) is not None):
                continue
            log.warning("outbox full (%d messages): oldest %s (message %s, from %s) dropped for %s",
                        self.limit, queued.request.action(), queued.seq, queued.created.isoformat(), new.action())
            self._delete(queued.seq)
            return True
        log.warning("outbox full (%d messages, none of them droppable): %s dropped", self.limit, new.action())
        return False

    def refuses_sessions(self) -> str | None:
        """Why the box offers no new session now, or None: the outbox is near its bound, and a new
        session's transaction messages could not be dropped (DESIGN.md). It offers them again when
        the outbox drains; each change is logged once."""
        depth, threshold = self.depth(), math.ceil(self.limit * SESSION_THRESHOLD)
        refusing = depth >= threshold
        if refusing != self._refusing:
            self._refusing = refusing
            if refusing:
                log.warning("outbox holds %d messages, its limit %d: new sessions are refused until it "
                            "drains", depth, self.limit)
            else:
                log.info("outbox drained to %d messages: new sessions are offered again", depth)
        if not refusing:
            return None
        return f"the outbox holds {depth} messages of at most {self.limit} (storage.outbox_limit)"

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
        """The next message to send, the only one that may be in flight: the oldest transaction
        message, else the oldest status-lane message."""
        while (row := self._db.execute(f"SELECT * FROM outbox {_ORDER} LIMIT 1").fetchone()) is not None:
            if (queued := self._readable(row)) is not None:
                return queued
        return None

    def all(self) -> list[Queued]:
        """Every message, in the order they will be sent."""
        rows = self._db.execute(f"SELECT * FROM outbox {_ORDER}").fetchall()
        return [queued for row in rows if (queued := self._readable(row)) is not None]

    def depth(self) -> int:
        return count(self._db, "outbox")

    def statuses_waiting(self) -> bool:
        """Whether a status-lane message waits: a new one goes after it, never before."""
        return self._db.execute("SELECT 1 FROM outbox WHERE local_tx IS NULL LIMIT 1").fetchone() is not None

    def count_attempt(self, seq: int) -> int | None:
        """One more failed attempt: the attempts so far, or None when the message is no longer
        queued (a status on its way, replaced by a newer one after a transaction message came first)."""
        with atomic(self._db):
            self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", [seq])
            row = self._db.execute("SELECT attempts FROM outbox WHERE seq = ?", [seq]).fetchone()
            return int(row[0]) if row is not None else None

    def remove(self, seq: int) -> None:
        """Acknowledged (or given up on): it is never sent again."""
        self._delete(seq)
        if self._refusing:  # a removal only ever ends a refusal: no count of the queue per message sent
            self.refuses_sessions()  # logs that sessions are offered again once it drained

    def _delete(self, seq: int) -> None:
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
