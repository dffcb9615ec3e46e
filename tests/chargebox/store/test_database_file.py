"""The database file is the daemon's alone: created 0600 whatever the umask of whoever starts the
daemon (the unit's UMask=0027 would give 0640; by hand a 022 umask gave 0644, issue 14 item 10)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargebox.store.database import CACHE_KIB, open_database


@pytest.fixture
def open_umask() -> Iterator[None]:
    saved = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(saved)


@pytest.mark.usefixtures("open_umask")
def test_a_new_database_and_its_journal_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "state" / "box.db"
    db = open_database(path)
    try:
        db.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
        files = [path, path.with_name("box.db-wal"), path.with_name("box.db-shm")]
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
    finally:
        db.close()


@pytest.mark.usefixtures("open_umask")
def test_an_existing_database_keeps_its_mode_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "box.db"
    db = open_database(path)
    db.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
    db.close()
    path.chmod(0o640)  # an installer's choice (a group that reads backups)
    db = open_database(path)
    try:
        assert db.execute("SELECT value FROM settings WHERE key = 'k'").fetchone()[0] == "v"
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        db.close()


def test_the_page_cache_is_bounded_below_sqlites_default(tmp_path: Path) -> None:
    # SQLite's default 2 MB cache stayed full after a SendLocalList of 50,000 entries (issue 19).
    db = open_database(tmp_path / "box.db")
    try:
        kib = -db.execute("PRAGMA cache_size").fetchone()[0]  # negative: KiB; positive would be pages
        assert 0 < kib == CACHE_KIB <= 256
    finally:
        db.close()
