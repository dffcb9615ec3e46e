"""The Local Authorization List and the Authorization Cache, kept apart (OCPP 1.6 section 3.5).

Both are keyed by the idTag folded to one case: IdToken is case-insensitive (7.16). The list is the
Central System's, changed only by SendLocalList (5.13); the cache is the box's own memory of every
IdTagInfo it was given, bounded, and cleared by ClearCache (5.4).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chargebox.ocpp.datatypes import AuthorisationData, IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus
from chargebox.store.database import Database, atomic, count
from chargebox.store.settings import Settings

_VERSION_KEY = "local_list_version"


def _upsert(table: str, *extra: str) -> str:
    """The statement adding or replacing one idTag's row (names are this module's own, never input)."""
    columns = ("key", "id_tag", "status", "expiry", "parent_id_tag", *extra)
    return f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


def _row(id_tag: str, info: IdTagInfo) -> dict[str, Any]:
    return {
        "key": id_tag.casefold(), "id_tag": id_tag, "status": info.status.value,
        "expiry": info.expiry_date.isoformat() if info.expiry_date else None,
        "parent_id_tag": info.parent_id_tag,
    }


def _info(row: sqlite3.Row) -> IdTagInfo:
    return IdTagInfo(
        AuthorizationStatus(row["status"]),
        datetime.fromisoformat(row["expiry"]) if row["expiry"] else None,
        row["parent_id_tag"],
    )


def _listed(info: IdTagInfo) -> IdTagInfo:
    """An entry's IdTagInfo as the list keeps it: ConcurrentTx only describes the tag's state when the
    Central System answered; in a list it means the tag is valid (spec 4.8, 4.10)."""
    if info.status is AuthorizationStatus.CONCURRENT_TX:
        return IdTagInfo(AuthorizationStatus.ACCEPTED, info.expiry_date, info.parent_id_tag)
    return info


def _lookup(db: Database, table: str, id_tag: str) -> IdTagInfo | None:
    row = db.execute(f"SELECT status, expiry, parent_id_tag FROM {table} WHERE key = ?", [id_tag.casefold()]).fetchone()
    return None if row is None else _info(row)


class LocalList:
    """The Local Authorization List and its version (0 when empty, 4.x GetLocalListVersion)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    @property
    def version(self) -> int:
        stored = self._settings.get(_VERSION_KEY)
        # Whether the list has an entry, not how many: a count(*) walks all of a 50,000 list's pages,
        # which the bounded page cache no longer holds, at every GetLocalListVersion (issue 19).
        return int(stored) if stored and self._db.execute("SELECT 1 FROM local_list LIMIT 1").fetchone() else 0

    @property
    def size(self) -> int:
        return count(self._db, "local_list")

    def get(self, id_tag: str) -> IdTagInfo | None:
        return _lookup(self._db, "local_list", id_tag)

    def replace(self, version: int, entries: Sequence[AuthorisationData]) -> None:
        """A Full update: the list becomes exactly ``entries``."""
        with atomic(self._db):
            self._db.execute("DELETE FROM local_list")
            self._apply(version, entries)

    def update(self, version: int, entries: Sequence[AuthorisationData]) -> None:
        """A Differential update: an entry with idTagInfo is added or replaced, one without is removed."""
        with atomic(self._db):
            self._apply(version, entries)

    def size_after(self, entries: list[AuthorisationData]) -> int:
        """How many entries a Differential update would leave, to refuse one past the maximum."""
        keys = {e.id_tag.casefold() for e in entries}
        present = {row["key"] for row in self._db.execute(
            f"SELECT key FROM local_list WHERE key IN ({','.join('?' * len(keys))})", list(keys))} if keys else set()
        added = {e.id_tag.casefold() for e in entries if e.id_tag_info is not None} - present
        removed = {e.id_tag.casefold() for e in entries if e.id_tag_info is None} & present
        return self.size + len(added) - len(removed)

    def _apply(self, version: int, entries: Sequence[AuthorisationData]) -> None:
        # The rows go to executemany one at a time, made as it asks for them: a list of all of them (a
        # dict per entry, 50,000 of a Full list) filled pymalloc arenas beside objects that outlive the
        # update, which kept those arenas resident once the list was written (issue 19).
        self._db.executemany("DELETE FROM local_list WHERE key = ?",
                             ((entry.id_tag.casefold(),) for entry in entries if entry.id_tag_info is None))
        self._db.executemany(_upsert("local_list"),
                             (_row(entry.id_tag, _listed(entry.id_tag_info))
                              for entry in entries if entry.id_tag_info is not None))
        self._settings.put(_VERSION_KEY, str(version))

    def digest(self) -> str:
        """SHA-1 over the list in a canonical form (idTag order), sent back as SendLocalList.conf's
        hash. 1.5 leaves the method open (4.x Send Local List); the Central System may compare."""
        sha = hashlib.sha1()
        for row in self._db.execute("SELECT key, status, expiry, parent_id_tag FROM local_list ORDER BY key"):
            sha.update("|".join(str(row[k] or "") for k in ("key", "status", "expiry", "parent_id_tag")).encode())
            sha.update(b"\n")
        return sha.hexdigest()


class AuthorizationCache:
    """Every IdTagInfo received, latest first; the least useful entries go when it is full (1.6 3.5.1):
    entries that are not valid first, then the ones updated longest ago."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def size(self) -> int:
        return count(self._db, "auth_cache")

    def get(self, id_tag: str) -> IdTagInfo | None:
        return _lookup(self._db, "auth_cache", id_tag)

    def put(self, id_tag: str, info: IdTagInfo, *, max_entries: int) -> None:
        with atomic(self._db):
            row = _row(id_tag, info)
            row["stamp"] = self._next_stamp()
            self._db.execute(_upsert("auth_cache", "stamp"), row)
            excess = self.size - max_entries
            if excess > 0:
                self._db.execute(
                    "DELETE FROM auth_cache WHERE key IN (SELECT key FROM auth_cache "
                    "ORDER BY status = 'Accepted', stamp LIMIT ?)", [excess])

    def _next_stamp(self) -> int:
        # A counter, not a clock: the order of updates is what matters, and it never goes backwards.
        return int(self._db.execute("SELECT coalesce(max(stamp), 0) + 1 FROM auth_cache").fetchone()[0])

    def clear(self) -> None:
        self._db.execute("DELETE FROM auth_cache")
