"""The outbox table: each message keeps one message id for all its attempts, a database of schema 1
gets ids for what it holds, and a message that cannot be read back is moved aside, not in the way."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from chargebox.ocpp.enums import FirmwareStatus
from chargebox.ocpp.messages import FirmwareStatusNotificationRequest
from chargebox.store import Store

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
INSTALLED = FirmwareStatusNotificationRequest(status=FirmwareStatus.INSTALLED)


def test_a_message_keeps_its_id_across_attempts_and_restarts(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "box.db")
    seq = store.outbox.put(INSTALLED, local_tx=None, created=NOW)
    other = store.outbox.put(INSTALLED, local_tx=None, created=NOW)
    head = store.outbox.head()
    assert head is not None and head.seq == seq
    store.outbox.count_attempt(seq)
    store.db.close()
    again = Store.open(tmp_path / "box.db")
    first, second = again.outbox.all()
    assert first.message_id == head.message_id and first.attempts == 1
    assert second.seq == other and len({first.message_id, second.message_id}) == 2


def test_a_database_of_schema_1_gets_a_message_id_for_each_waiting_message(tmp_path: Path) -> None:
    path = tmp_path / "box.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE outbox (seq INTEGER PRIMARY KEY, action TEXT, local_tx INTEGER, payload TEXT, "
                "created TEXT, attempts INTEGER DEFAULT 0)")
    old.execute("INSERT INTO outbox (action, payload, created) VALUES ('FirmwareStatusNotification', "
                "'{\"status\": \"Installed\"}', ?)", [NOW.isoformat()])
    old.commit()
    old.close()
    (queued,) = Store.open(path).outbox.all()
    assert queued.request == INSTALLED and len(queued.message_id) == 36


def test_a_message_that_cannot_be_read_back_is_moved_aside(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "box.db")
    store.db.execute("INSERT INTO outbox (action, payload, created, message_id) VALUES "
                     "('NoSuchAction', '{}', ?, 'x')", [NOW.isoformat()])
    seq = store.outbox.put(INSTALLED, local_tx=None, created=NOW)
    assert [q.seq for q in store.outbox.all()] == [seq]  # the operator's listing too
    head = store.outbox.head()
    assert head is not None and head.seq == seq and head.request == INSTALLED
    (kept,) = store.outbox.aside()
    assert kept.action == "NoSuchAction" and kept.reason.startswith("unreadable")
