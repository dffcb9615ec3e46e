"""The box's small durable values, one row per key: configuration keys (``ocpp:<Key>``), the local
list's version, availability, reservations, a pending reset or firmware update."""

from __future__ import annotations

import json
from typing import Any

from chargebox.store.database import Database


class Settings:
    """Text or JSON values by key. Saving the value already held, or deleting one that is not
    there, writes nothing: code may save its state whenever it might have changed without wearing
    the flash or breaking the idle box's silence (bench/sessions.py: no writes while idle)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        if self.get(key) != value:
            self._db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, value])

    def delete(self, key: str) -> None:
        if self.get(key) is not None:
            self._db.execute("DELETE FROM settings WHERE key = ?", [key])

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """The values whose key starts with ``prefix``, by the rest of the key."""
        rows = self._db.execute("SELECT key, value FROM settings WHERE substr(key, 1, ?) = ?", [len(prefix), prefix])
        return {str(key)[len(prefix):]: str(value) for key, value in rows}

    def load(self, key: str) -> Any:
        """The JSON value saved under ``key``; None when there is none."""
        text = self.get(key)
        return None if text is None else json.loads(text)

    def save(self, key: str, value: Any) -> None:
        self.put(key, json.dumps(value, sort_keys=True))
