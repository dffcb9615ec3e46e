"""Logging: to the journal with structured fields under systemd, as readable lines on a terminal.

Fields come from the ``extra=`` of a log record (see :func:`chargebox.logfields.fields`): each
becomes an upper-case journal field (``CONNECTOR=1``), beside the journal's own ``MESSAGE``,
``PRIORITY``, ``SYSLOG_IDENTIFIER`` and ``CODE_*`` fields (systemd.journal-fields(7)). The journal is
used when stderr is the journal stream systemd set up (``$JOURNAL_STREAM``, sd_journal_stream_fd(3));
records go through python-systemd when installed, else over journald's native protocol.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import socket
import struct
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from chargebox.logfields import mask_url, set_id_tag_masking

JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "chargebox"

# What every LogRecord carries; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_FIELD_NAME = re.compile(r"[^A-Z0-9_]")

# syslog priorities (sd-daemon(3)) for the logging levels.
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

#: A journal entry: field name to value. python-systemd's ``journal.send`` formats ``CODE_LINE``
#: with ``{:d}`` and raises on a string, so numbers the journal documents as numbers stay ``int``.
Entry = dict[str, str | int]
Send = Callable[[Entry], None]


def extra_fields(record: logging.LogRecord) -> dict[str, object]:
    """The ``extra=`` values of a record, by their given names."""
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD and not key.startswith("_")}


def journal_name(key: str) -> str:
    """A valid journal field name: upper case letters, digits and ``_``, not starting with ``_``
    (those are the journal's trusted fields) or a digit."""
    return _FIELD_NAME.sub("_", key.upper()).lstrip("_0123456789") or "FIELD"


def encode(fields: Mapping[str, str | int]) -> bytes:
    """journald's native protocol: ``KEY=value`` lines, or ``KEY``, a 64-bit little-endian length
    and the raw value for values holding a newline (a traceback)."""
    out = bytearray()
    for key, value in fields.items():
        data = str(value).encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


class NativeJournal:
    """Writes entries to journald's socket; no compiled module needed."""

    def __init__(self, path: str = JOURNAL_SOCKET) -> None:
        self._path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def __call__(self, fields: Entry) -> None:
        self._sock.sendto(encode(fields), self._path)

    def close(self) -> None:
        self._sock.close()


def systemd_send() -> Send | None:
    """python-systemd's ``journal.send``, when installed."""
    try:
        journal = importlib.import_module("systemd.journal")  # by name, as in chargebox.service.notify
    except ImportError:
        return None

    def send(fields: Entry) -> None:
        journal.send(**fields)

    return send


class JournalHandler(logging.Handler):
    """One journal entry per record, with the record's ``extra=`` fields."""

    def __init__(self, send: Send, fallback: TextIO | None = None) -> None:
        super().__init__()
        self._send = send
        self._fallback = fallback

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # A URL's password never reaches a log, whoever logged it (a safety net under every call).
            message = mask_url(self.format(record))
            fields: Entry = {
                "MESSAGE": message,
                "PRIORITY": str(_PRIORITY.get(record.levelno, 6)),
                "SYSLOG_IDENTIFIER": IDENTIFIER,
                "LOGGER": record.name,
                "CODE_FILE": record.pathname,
                "CODE_LINE": record.lineno,
                "CODE_FUNC": record.funcName,
            }
            fields.update({journal_name(key): str(value) for key, value in extra_fields(record).items()})
            try:
                self._send(fields)
            except OSError:
                # Too big for one datagram, or journald is restarting: the line still reaches the
                # journal through stderr, without its fields.
                if self._fallback is None:
                    raise
                self._fallback.write(message + "\n")
                self._fallback.flush()
        except Exception:  # noqa: BLE001 - logging must never take the daemon down (logging.Handler contract)
            self.handleError(record)


class TerminalFormatter(logging.Formatter):
    """``time level logger: message [connector=1 transaction=42]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = mask_url(super().format(record))  # as in JournalHandler.emit
        extra = extra_fields(record)
        if not extra:
            return line
        head, newline, rest = line.partition("\n")
        return head + " [" + " ".join(f"{key}={value}" for key, value in extra.items()) + "]" + newline + rest


def journal_connected(environ: Mapping[str, str], stream: TextIO) -> bool:
    """Whether ``stream`` is the journal stream systemd gave the service (``$JOURNAL_STREAM`` is
    ``device:inode`` of it; a stream redirected elsewhere by the service does not match)."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        stat = os.fstat(stream.fileno())
        return (stat.st_dev, stat.st_ino) == (int(device), int(inode))
    except (ValueError, OSError):
        return False


def setup_logging(level: str, *, mask_id_tags: bool, environ: Mapping[str, str] = os.environ,
                  stream: TextIO = sys.stderr) -> logging.Handler:
    """The root logger's one handler: the journal under systemd, readable lines otherwise."""
    set_id_tag_masking(mask_id_tags)
    handler: logging.Handler
    if journal_connected(environ, stream):
        handler = JournalHandler(systemd_send() or NativeJournal(), fallback=stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(TerminalFormatter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
