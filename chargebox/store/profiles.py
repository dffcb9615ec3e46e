"""The installed charging profiles (issue 18), which survive a restart and a power cut (errata 3.37).

A profile is stored in its neutral form, chargebox.engine.charging.profiles.to_plain's (the
specification's field names, enums as text, times as ISO 8601), as JSON: no binding's form, and the store
needs no engine type (the engine imports the store, never the reverse). Each change is one SQLite
transaction, so a power cut keeps the set as it was before the change or as it is after, never half.
Which profiles to install or clear is the engine's decision (chargebox.engine.charging.installed); the
store keeps the result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chargebox.store.database import Database, atomic


class ProfileStore:
    """The installed profiles as (connector id, neutral profile), in the order they were installed."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self) -> list[tuple[int, dict[str, Any]]]:
        rows = self._db.execute("SELECT connector_id, profile FROM charging_profiles ORDER BY seq").fetchall()
        return [(int(row["connector_id"]), json.loads(row["profile"])) for row in rows]

    def install(self, connector_id: int, profile: Mapping[str, Any]) -> None:
        """Install ``profile`` on ``connector_id``, replacing the profile with its chargingProfileId and
        the one with its purpose and stackLevel on that connector (5.16.3-4), in one transaction: a power
        cut keeps the old one or the new one, never both nor neither."""
        key = (profile["chargingProfileId"], profile["chargingProfilePurpose"], profile["stackLevel"])
        with atomic(self._db):
            self._db.execute(
                "DELETE FROM charging_profiles WHERE charging_profile_id = ?"
                " OR (connector_id = ? AND purpose = ? AND stack_level = ?)",
                [key[0], connector_id, *key[1:]])
            self._db.execute(
                "INSERT INTO charging_profiles"
                " (charging_profile_id, connector_id, purpose, stack_level, profile) VALUES (?, ?, ?, ?, ?)",
                [key[0], connector_id, *key[1:], json.dumps(profile, separators=(",", ":"), sort_keys=True)])

    def remove(self, charging_profile_id: int) -> bool:
        """Remove the profile with this id (ClearChargingProfile.req by id, 6.13); False when there is
        none."""
        cursor = self._db.execute("DELETE FROM charging_profiles WHERE charging_profile_id = ?",
                                  [charging_profile_id])
        return cursor.rowcount > 0

    def clear(self, *, connector_id: int | None = None, purpose: str | None = None,
              stack_level: int | None = None) -> int:
        """Remove every profile matching all the given fields (none given: all of them), as
        ClearChargingProfile.req without an id (6.13, errata 3.25); how many went. A TxProfile ends with its
        transaction (3.13.1): ``clear(connector_id=c, purpose="TxProfile")``."""
        cursor = self._db.execute(
            "DELETE FROM charging_profiles WHERE (?1 IS NULL OR connector_id = ?1)"
            " AND (?2 IS NULL OR purpose = ?2) AND (?3 IS NULL OR stack_level = ?3)",
            [connector_id, purpose, stack_level])
        return cursor.rowcount
