"""What a diagnostics file holds (5.7: "a single compressed file", its format not prescribed): a
gzip'd tar of

- ``logs/chargebox.log``: the daemon's log for startTime..stopTime, from the journal through
  python-systemd when the daemon logs there, else from the log files the site config names;
- ``site-config.json``: the site config, secrets redacted;
- ``ocpp-configuration.json``, ``outbox.json``, ``transactions.json``, ``versions.json``: the box's
  state, idTags masked as in the log (``[log] mask_id_tags``).

Logs are streamed line by line through a file, so memory stays flat however long they are.
"""

from __future__ import annotations

import glob
import importlib
import io
import json
import logging
import os
import re
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from chargebox.logfields import mask_id_tag, mask_url
from chargebox.maintenance.errors import DiskFull

log = logging.getLogger(__name__)

REDACTED = "<redacted>"
#: Key names whose values are secrets (a modem's SIM PIN, an APN password, a token...). GPIO ``pin``
#: keys name wiring, which diagnostics need, so a bare ``pin`` is not one of them.
SECRET_KEY = re.compile(r"pass(word|wd|phrase)?|secret|token|psk|private|credential|sim_pin|puk", re.IGNORECASE)
ID_TAG_KEY = re.compile(r"^(parent_?)?id_?tag$", re.IGNORECASE)
JOURNAL_IDENTIFIER = "chargebox"  # SYSLOG_IDENTIFIER of the daemon's entries (chargebox.service.journal)
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")  # logging's asctime, local time


@dataclass(frozen=True, slots=True)
class Window:
    """startTime..stopTime of GetDiagnostics (6.21); an open end includes everything that way."""

    start: datetime | None = None
    stop: datetime | None = None

    def empty(self, now: datetime) -> bool:
        return self.start is not None and (self.start > now or (self.stop is not None and self.start > self.stop))

    def __contains__(self, when: datetime) -> bool:
        return (self.start is None or when >= self.start) and (self.stop is None or when <= self.stop)


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with secrets replaced, idTags masked and URL passwords hidden."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, key) for item in value]
    if SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return mask_id_tag(value) if ID_TAG_KEY.match(key) else mask_url(value)
    return value


def _file_lines(patterns: Iterable[str], window: Window) -> Iterator[str]:
    """Lines of the log files in the window; a line without a time stamp (a traceback) goes with
    the record it follows. Rotated files come oldest first (by modification time)."""
    paths = sorted({Path(p) for pattern in patterns for p in glob.glob(pattern)}, key=lambda p: p.stat().st_mtime)
    for path in paths:
        include = window.start is None
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                for line in file:
                    if _STAMP.match(line):
                        when = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").astimezone()
                        include = when in window
                    if include:
                        yield mask_url(line)
        except OSError as err:
            log.warning("diagnostics: cannot read %s: %s", path, err.strerror)


def _journal_lines(journal: Any, window: Window) -> Iterator[str]:
    """The daemon's journal entries in the window (python-systemd's ``systemd.journal`` module)."""
    reader = journal.Reader()
    reader.add_match(SYSLOG_IDENTIFIER=JOURNAL_IDENTIFIER)
    if window.start is not None:
        reader.seek_realtime(window.start)
    for entry in reader:
        when = entry["__REALTIME_TIMESTAMP"]
        when = when.astimezone() if when.tzinfo is None else when
        if window.stop is not None and when > window.stop:
            break
        extra = " ".join(f"{k.lower()}={v}" for k, v in entry.items() if k in ("CONNECTOR", "TRANSACTION", "LOCAL_TX",
                                                                                "ID_TAG", "ACTION"))
        yield mask_url(f"{when.isoformat()} {entry.get('PRIORITY', '')} {entry.get('LOGGER', '')}: "
                       f"{entry.get('MESSAGE', '')}{f' [{extra}]' if extra else ''}\n")


def journal_module() -> Any | None:
    """python-systemd's journal, when the daemon logs to the journal and the module is installed."""
    if not os.environ.get("JOURNAL_STREAM"):
        return None
    try:
        return importlib.import_module("systemd.journal")
    except ImportError:
        return None


def log_lines(window: Window, log_files: Iterable[str], journal: Any | None) -> Iterator[str]:
    return _journal_lines(journal, window) if journal is not None else _file_lines(log_files, window)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(timezone.utc).timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def write_archive(path: Path, documents: dict[str, Any], lines: Iterable[str]) -> int:
    """The tar.gz at ``path``: each document as JSON, and the log lines; how many lines went in.
    A full disk is :class:`DiskFull`."""
    try:
        with tempfile.TemporaryFile("w+b", dir=path.parent) as logs:
            count = 0
            text = io.TextIOWrapper(logs, encoding="utf-8", write_through=True)
            for line in lines:
                text.write(line)
                count += 1
            text.flush()
            size = logs.tell()
            logs.seek(0)
            with tarfile.open(path, "w:gz") as tar:
                for name, document in documents.items():
                    _add_bytes(tar, name, json.dumps(document, indent=2, default=str).encode())
                info = tarfile.TarInfo("logs/chargebox.log")
                info.size, info.mode = size, 0o644
                info.mtime = int(datetime.now(timezone.utc).timestamp())
                tar.addfile(info, logs)
            text.detach()
    except OSError as err:
        path.unlink(missing_ok=True)
        raise DiskFull(f"{path}: cannot write the diagnostics file ({err.strerror or err})") from err
    return count
