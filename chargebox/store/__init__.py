"""Persistence in SQLite: the transaction journal, the outbox, the box's settings.

Everything that must survive a power cut is written here before it takes effect (DESIGN.md,
invariants): SQLite in WAL mode with ``synchronous=FULL``, so a committed row is on flash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chargebox.store.authorization import AuthorizationCache, LocalList
from chargebox.store.database import Database, open_database
from chargebox.store.outbox import DEFAULT_LIMIT, Outbox
from chargebox.store.profiles import ProfileStore
from chargebox.store.settings import Settings
from chargebox.store.transactions import TransactionJournal


@dataclass(frozen=True, slots=True)
class Store:
    """Everything the box keeps, over one database connection."""

    db: Database
    journal: TransactionJournal
    outbox: Outbox
    local_list: LocalList
    cache: AuthorizationCache
    settings: Settings
    profiles: ProfileStore

    @classmethod
    def open(cls, path: Path | str, outbox_limit: int = DEFAULT_LIMIT) -> Store:
        db = open_database(path)
        settings = Settings(db)
        return cls(db, TransactionJournal(db), Outbox(db, outbox_limit), LocalList(db, settings),
                   AuthorizationCache(db), settings, ProfileStore(db))
