"""Opening the database and creating its tables.

The standard library's sqlite3, nothing over it: the store is a handful of plain statements, and a
layer such as sqlite-utils brings its command-line tooling (click, pluggy, dateutil) into the
daemon's memory, about 4 MB of a 60 MB budget (issue 4, bench/sessions.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 4

# The tables whose ``payload`` holds a message in the codec's plain form, as JSON.
_PAYLOAD_TABLES = ("outbox", "outbox_aside", "transaction_values")

Database = sqlite3.Connection

#: SQLite's page cache per connection (its default is 2 MB). A SendLocalList of 50,000 entries filled
#: all of it and it stayed, 2 MB of the 10 % the daemon may keep after a burst (issue 19); lookups
#: walk a few pages of an index, and the pages it no longer holds are in the system's file cache.
CACHE_KIB = 256

_TABLES = """
CREATE TABLE IF NOT EXISTS transactions (
    local_id INTEGER PRIMARY KEY,    -- ours, known before the Central System answers
    connector_id INTEGER NOT NULL,
    id_tag TEXT NOT NULL,
    parent_id_tag TEXT,
    reservation_id INTEGER,
    meter_start INTEGER NOT NULL,    -- Wh
    start_time TEXT NOT NULL,        -- ISO 8601 UTC
    start_time_synced INTEGER,       -- 0 when taken before the clock was synchronised
    transaction_id INTEGER,          -- the Central System's, once StartTransaction.conf arrived
    meter_last INTEGER,              -- Wh, last good reading: what a power cut stops with
    last_seen TEXT,                  -- time of the last sign of life while running
    meter_stop INTEGER,
    stop_time TEXT,
    stop_reason TEXT,
    stop_id_tag TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    action TEXT,
    local_tx INTEGER,                -- the transaction a message belongs to, if any
    payload TEXT,                    -- the message in the codec's plain form, as JSON
    created TEXT,
    attempts INTEGER DEFAULT 0,
    message_id TEXT                  -- the transport's message id, the same for every attempt
);
-- The delivery order (outbox.py's _ORDER): the head is one index step, not a sort of the whole queue
-- for every message sent (issue 19: 10 % of a 10,000-message drain).
CREATE INDEX IF NOT EXISTS outbox_order ON outbox(local_tx IS NULL, seq);
CREATE TABLE IF NOT EXISTS outbox_aside (  -- messages that can never be sent, kept for the operator
    id INTEGER PRIMARY KEY,
    seq INTEGER,                     -- the outbox seq it had (an outbox seq may come again later)
    action TEXT,
    local_tx INTEGER,
    payload TEXT,
    created TEXT,
    attempts INTEGER,
    message_id TEXT,
    reason TEXT,                     -- why it cannot be sent
    moved TEXT                       -- when it was moved aside
);
CREATE TABLE IF NOT EXISTS transaction_values (  -- MeterValues for StopTransaction's transactionData
    id INTEGER PRIMARY KEY,
    local_tx INTEGER REFERENCES transactions(local_id),
    payload TEXT
);
CREATE INDEX IF NOT EXISTS transaction_values_tx ON transaction_values(local_tx);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS local_list (
    key TEXT PRIMARY KEY, id_tag TEXT, status TEXT, expiry TEXT, parent_id_tag TEXT
);
CREATE TABLE IF NOT EXISTS auth_cache (
    key TEXT PRIMARY KEY, id_tag TEXT, status TEXT, expiry TEXT, parent_id_tag TEXT, stamp INTEGER
);
"""


def open_database(path: Path | str) -> Database:
    """Open (creating if needed) the box's database. ``":memory:"`` gives a throw-away one.

    Autocommit mode: a lone statement is atomic and durable on return; :func:`atomic` groups several.
    Rows come back as :class:`sqlite3.Row`, readable by column name.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 whatever the umask of whoever runs the daemon: it holds idTags, and nothing
        # but the daemon reads it (chargebox status and queue ask it over its socket). SQLite gives
        # the -wal and -shm files the database's own mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    # WAL + FULL: a committed transaction survives a power cut; readers never block the writer.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")  # negative: KiB (sqlite.org/pragma.html#pragma_cache_size)
    db.executescript(_TABLES)  # each statement idempotent: nothing to lose if cut halfway
    _migrate(db)
    return db


def _migrate(db: Database) -> None:
    """Bring a database of an earlier schema up to this one, once: each step idempotent, all in one
    transaction with the new ``schema_version``, and nothing written when it is already current."""
    with atomic(db):
        row = db.execute("SELECT value FROM settings WHERE key = 'schema_version'").fetchone()
        version = int(row["value"]) if row is not None else 0  # 0: new, or older than the setting
        if version == SCHEMA_VERSION:
            return
        columns = {row["name"] for row in db.execute("PRAGMA table_info(outbox)")}
        if "message_id" not in columns:  # schema 1: messages queued before message ids were kept
            db.execute("ALTER TABLE outbox ADD COLUMN message_id TEXT")
            for (seq,) in db.execute("SELECT seq FROM outbox").fetchall():
                db.execute("UPDATE outbox SET message_id = ? WHERE seq = ?", [new_message_id(), seq])
        if version < 3:  # schemas 1-2 stored a SampledValue's text under zeep's name, ``_value_1``
            for table in _PAYLOAD_TABLES:
                _rewrite_payloads(db, table)
        if version < 4:
            _add_charging_profiles(db)
        db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('schema_version', ?)",
                   [str(SCHEMA_VERSION)])


def _add_charging_profiles(db: Database) -> None:
    """Schema 4 (issue 18): the installed charging profiles, which survive a restart and a power cut
    (errata 3.37). A profile is the neutral form of chargebox.engine.charging's ChargingProfile as JSON
    (chargebox/store/profiles.py); the columns beside it are what ClearChargingProfile filters on."""
    db.execute("""
        CREATE TABLE IF NOT EXISTS charging_profiles (
            seq INTEGER PRIMARY KEY,                           -- installation order
            charging_profile_id INTEGER NOT NULL UNIQUE,
            connector_id INTEGER NOT NULL,                     -- 0: the box
            purpose TEXT NOT NULL,                             -- chargingProfilePurpose
            stack_level INTEGER NOT NULL,
            profile TEXT NOT NULL,                             -- the whole profile, JSON
            UNIQUE (connector_id, purpose, stack_level)        -- 3.13.2: one per purpose and level
        )""")


def _rewrite_payloads(db: Database, table: str) -> None:
    """A table's stored messages with zeep's ``_value_1`` renamed to the plain ``value``. A payload
    that is not JSON stays as it is: the outbox moves it aside when it reads it."""
    rows = db.execute(f"SELECT rowid, payload FROM {table} WHERE instr(payload, '_value_1')").fetchall()
    for rowid, payload in rows:
        try:
            message = json.loads(payload)
        except ValueError:
            continue
        db.execute(f"UPDATE {table} SET payload = ? WHERE rowid = ?",
                   [json.dumps(_plain_names(message), separators=(",", ":")), rowid])


def _plain_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {("value" if key == "_value_1" else key): _plain_names(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_names(item) for item in value]
    return value


def new_message_id() -> str:
    """A message id unique to one message and kept for all its attempts: a UUID, which fits every
    binding (WS-Addressing's wsa:MessageID as urn:uuid, OCPP-J's 36-character UniqueId)."""
    return str(uuid.uuid4())


def count(db: Database, table: str) -> int:
    """The number of rows of one of the box's tables (a name from this module, never input)."""
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@contextlib.contextmanager
def atomic(db: Database, *, durable: bool = True) -> Iterator[None]:
    """One SQLite transaction around the block; nested blocks join the outer one.

    The connection is in autocommit mode, so a lone statement is already atomic; this groups
    several (a journal entry and its StartTransaction) so a power cut keeps all or none.

    ``durable=False`` commits without waiting for the disk (synchronous=NORMAL in WAL mode): a power
    cut may undo it, never tear it, and never undo it without also undoing every later commit (the WAL
    is replayed in order up to its last synced frame), so it suits only writes whose loss is harmless,
    such as the acknowledgement of a MeterValues, which is then sent once more (issue 19). The next
    durable commit, or a checkpoint, makes it durable too. Nested in an outer block, the outer block's
    choice holds.
    """
    if db.in_transaction:
        yield
        return
    if not durable:  # SQLite changes the safety level only outside a transaction
        db.execute("PRAGMA synchronous=NORMAL")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        if not durable:
            db.execute("PRAGMA synchronous=FULL")
