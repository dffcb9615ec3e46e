"""Opening the database and creating its tables."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

SCHEMA_VERSION = 1


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the box's database. ``":memory:"`` gives a throw-away one."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db = sqlite_utils.Database(connection)
    # WAL + FULL: a committed transaction survives a power cut; readers never block the writer.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    _create(db)
    return db


def _create(db: sqlite_utils.Database) -> None:
    db.table("transactions").create(
        {
            "local_id": int,  # ours, known before the Central System answers
            "connector_id": int,
            "id_tag": str,
            "parent_id_tag": str,
            "reservation_id": int,
            "meter_start": int,  # Wh
            "start_time": str,  # ISO 8601 UTC
            "start_time_synced": int,  # 0 when taken before the clock was synchronised
            "transaction_id": int,  # the Central System's, once StartTransaction.conf arrived
            "meter_last": int,  # Wh, last good reading: what a power cut stops with
            "last_seen": str,  # time of the last sign of life while running
            "meter_stop": int,
            "stop_time": str,
            "stop_reason": str,
            "stop_id_tag": str,
        },
        pk="local_id",
        not_null={"connector_id", "id_tag", "meter_start", "start_time"},
        if_not_exists=True,
    )
    db.table("outbox").create(
        {
            "seq": int,
            "action": str,
            "local_tx": int,  # the transaction a message belongs to, if any
            "payload": str,  # the message in the codec's plain form, as JSON
            "created": str,
            "attempts": int,
        },
        pk="seq",
        defaults={"attempts": 0},
        if_not_exists=True,
    )
    db.table("transaction_values").create(
        {"id": int, "local_tx": int, "payload": str},  # a MeterValue for StopTransaction's transactionData
        pk="id", foreign_keys=[("local_tx", "transactions", "local_id")], if_not_exists=True,
    )
    db.execute("CREATE INDEX IF NOT EXISTS transaction_values_tx ON transaction_values(local_tx)")
    db.table("settings").create({"key": str, "value": str}, pk="key", if_not_exists=True)
    tag = {"key": str, "id_tag": str, "status": str, "expiry": str, "parent_id_tag": str}
    db.table("local_list").create(tag, pk="key", if_not_exists=True)
    db.table("auth_cache").create({**tag, "stamp": int}, pk="key", if_not_exists=True)
    db.table("settings").upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")


@contextlib.contextmanager
def atomic(db: sqlite_utils.Database) -> Iterator[None]:
    """One SQLite transaction around the block; nested blocks join the outer one.

    The connection is in autocommit mode, so a lone statement is already atomic; this groups
    several (a journal entry and its StartTransaction) so a power cut keeps all or none.
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
