"""Logging under systemd and on a terminal: journal fields from ``extra=``, the native protocol,
and which of the two a process gets."""

from __future__ import annotations

import importlib
import io
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from chargebox.logfields import fields, set_id_tag_masking
from chargebox.service.journal import (
    Entry,
    JournalHandler,
    NativeJournal,
    TerminalFormatter,
    encode,
    journal_connected,
    journal_name,
    setup_logging,
    systemd_send,
)


def parse(datagram: bytes) -> dict[str, str]:
    """journald's side of the native protocol."""
    found: dict[str, str] = {}
    rest = datagram
    while rest:
        line, _, after = rest.partition(b"\n")
        if b"=" in line:
            key, _, value = line.partition(b"=")
            found[key.decode()] = value.decode()
            rest = after
        else:
            (size,) = struct.unpack("<Q", after[:8])
            found[line.decode()] = after[8:8 + size].decode()
            assert after[8 + size:9 + size] == b"\n"
            rest = after[9 + size:]
    return found


def record(message: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "chargebox.engine", "levelno": level, "levelname": logging.getLevelName(level),
                                  "msg": message, "pathname": "/x/engine.py", "lineno": 7, "funcName": "begin",
                                  **extra})


@pytest.fixture(autouse=True)
def masking_on() -> Iterator[None]:
    set_id_tag_masking(True)
    yield
    set_id_tag_masking(True)


def test_a_record_becomes_one_entry_with_its_extra_fields() -> None:
    sent: list[Entry] = []
    handler = JournalHandler(sent.append)
    handler.emit(record("transaction started", **fields(connector=1, transaction=42, id_tag="04A2B3C4D5E680")))
    (entry,) = sent
    assert entry["MESSAGE"] == "transaction started"
    assert entry["PRIORITY"] == "6" and entry["SYSLOG_IDENTIFIER"] == "chargebox"
    assert (entry["LOGGER"], entry["CODE_FILE"], entry["CODE_LINE"], entry["CODE_FUNC"]) == (
        "chargebox.engine", "/x/engine.py", 7, "begin")
    assert (entry["CONNECTOR"], entry["TRANSACTION"], entry["ID_TAG"]) == ("1", "42", "…E680")


def test_levels_map_to_syslog_priorities() -> None:
    sent: list[Entry] = []
    handler = JournalHandler(sent.append)
    for level in (logging.DEBUG, logging.WARNING, logging.ERROR, logging.CRITICAL):
        handler.emit(record("x", level))
    assert [e["PRIORITY"] for e in sent] == ["7", "4", "3", "2"]


def test_field_names_are_made_valid_for_the_journal() -> None:
    assert journal_name("local_tx") == "LOCAL_TX"
    assert journal_name("meter-wh") == "METER_WH"
    assert journal_name("_trusted") == "TRUSTED"  # a leading _ is the journal's own
    assert journal_name("1st") == "ST"
    assert journal_name("__") == "FIELD"


def test_the_native_protocol_carries_multiline_values_with_their_length() -> None:
    fields_sent: Entry = {"MESSAGE": "failed\nTraceback (most recent call last):\n  boom", "PRIORITY": "3", "ID_TAG": "…E680"}
    assert parse(encode(fields_sent)) == fields_sent
    assert encode({"A": "1"}) == b"A=1\n"


def test_entries_reach_a_journald_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "journal")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as journald:
        journald.bind(path)
        journald.settimeout(5)
        journal = NativeJournal(path)
        handler = JournalHandler(journal)
        try:
            handler.emit(record("relay closed", **fields(connector=2)))
        finally:
            journal.close()
        entry = parse(journald.recv(65536))
    assert entry["MESSAGE"] == "relay closed" and entry["CONNECTOR"] == "2"


def test_when_journald_cannot_take_an_entry_the_line_goes_to_stderr() -> None:
    def refuse(_: Entry) -> None:
        raise OSError(90, "Message too long")

    stream = io.StringIO()
    JournalHandler(refuse, fallback=stream).emit(record("a very long message"))
    assert stream.getvalue() == "a very long message\n"


def test_on_a_terminal_the_fields_follow_the_message() -> None:
    line = TerminalFormatter().format(record("authorized", **fields(connector=1, id_tag="04A2B3C4D5E680")))
    assert line.endswith("INFO chargebox.engine: authorized [connector=1 id_tag=…E680]")
    assert TerminalFormatter().format(record("plain")).endswith("INFO chargebox.engine: plain")


def test_the_journal_is_used_only_when_stderr_is_the_stream_systemd_gave(tmp_path: Path) -> None:
    with open(tmp_path / "stream", "w") as stream, open(tmp_path / "other", "w") as other:
        stat = os.fstat(stream.fileno())
        environ = {"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"}
        assert journal_connected(environ, stream)
        assert not journal_connected(environ, other)  # stderr redirected by the service
        assert not journal_connected({}, stream)
        assert not journal_connected({"JOURNAL_STREAM": "garbage"}, stream)
        handler = setup_logging("DEBUG", mask_id_tags=False, environ=environ, stream=stream)
        try:
            assert isinstance(handler, JournalHandler)
            assert logging.getLogger().handlers == [handler] and logging.getLogger().level == logging.DEBUG
            handler = setup_logging("INFO", mask_id_tags=True, environ={}, stream=other)
            assert isinstance(handler.formatter, TerminalFormatter)
        finally:
            logging.getLogger().removeHandler(handler)


def test_entries_carry_the_types_python_systemd_accepts() -> None:
    """python-systemd's ``journal.send`` takes ``MESSAGE``, ``CODE_FILE`` and ``CODE_FUNC`` as str and
    ``CODE_LINE`` as int (``{:d}``); any other field may be str."""
    sent: list[Entry] = []
    JournalHandler(sent.append).emit(record("stopped", **fields(connector=1, transaction=42, local_tx=3,
                                                               id_tag="04A2B3C4D5E680", action="StopTransaction")))
    (entry,) = sent
    assert isinstance(entry["CODE_LINE"], int)
    assert all(isinstance(value, str) for key, value in entry.items() if key != "CODE_LINE")


def real_journal() -> ModuleType:
    try:
        return importlib.import_module("systemd.journal")
    except ImportError:
        pytest.skip("python-systemd is not installed (apt python3-systemd, or pip systemd-python with "
                    "libsystemd-dev and pkg-config; .ci/run installs it)")


class Strict(JournalHandler):
    """Raises what the handler would otherwise hand to logging's handleError (a traceback on stderr)."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        raise  # noqa: PLE0704 - re-raises the exception emit() caught


def test_the_real_python_systemd_send_takes_our_entries() -> None:
    """What the README's Pi install runs: apt's python3-systemd under the journal handler. Without a
    journald (no socket) libsystemd drops the entry silently; a wrong field type raises before that."""
    real_journal()
    send = systemd_send()
    assert send is not None
    Strict(send).emit(record("transaction 42 started", **fields(connector=1, transaction=42, local_tx=3,
                                                                 id_tag="04A2B3C4D5E680", action="StartTransaction")))
    Strict(send).emit(record("failed\nTraceback (most recent call last):\n  boom", logging.ERROR))


# Runs in a private mount namespace where /run/systemd/journal/socket is this script's own socket,
# so it receives what libsystemd's sd_journal_sendv (hard-wired to that path) sends to journald.
_CAPTURE = textwrap.dedent("""
    import logging, socket, sys
    from chargebox.logfields import fields
    from chargebox.service.journal import JournalHandler, systemd_send
    journald = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journald.bind("/run/systemd/journal/socket")
    journald.setblocking(False)  # sd_journal_sendv has sent the datagram when emit() returns, or never will
    logging.raiseExceptions = False  # a rejected entry must show as no datagram, not as a printed traceback
    send = systemd_send()
    record = logging.makeLogRecord({"name": "chargebox.engine", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "transaction 42 started", "pathname": "/x/engine.py", "lineno": 7,
                                    "funcName": "begin", **fields(connector=1, transaction=42, local_tx=3,
                                                                  id_tag="04A2B3C4D5E680", action="StartTransaction")})
    JournalHandler(send).emit(record)
    sys.stdout.buffer.write(journald.recv(1 << 20))
""")


def test_the_real_python_systemd_send_delivers_our_fields_to_journald() -> None:
    real_journal()
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to give the test its own /run/systemd/journal")
    script = f"mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && exec {sys.executable} -c \"$0\""
    run = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, _CAPTURE],
                         capture_output=True, timeout=60)
    if run.returncode != 0 and b"unshare" in run.stderr and b"Operation not permitted" in run.stderr:
        pytest.skip(f"no private mount namespace here: {run.stderr.decode().strip()}")
    assert run.returncode == 0, run.stderr.decode()
    entry = parse(run.stdout)
    assert entry["MESSAGE"] == "transaction 42 started" and entry["PRIORITY"] == "6"
    assert (entry["CODE_FILE"], entry["CODE_LINE"], entry["CODE_FUNC"]) == ("/x/engine.py", "7", "begin")
    assert (entry["CONNECTOR"], entry["TRANSACTION"], entry["LOCAL_TX"], entry["ID_TAG"], entry["ACTION"]) == (
        "1", "42", "3", "…E680", "StartTransaction")


def test_a_url_password_never_reaches_the_log_whoever_logged_it() -> None:
    """A safety net under every log call: a reply address or a Central System URL with credentials."""
    leaky = record("reply to http://cs:pw-0123@cs.example/ocpp not delivered")
    sent: list[Entry] = []
    JournalHandler(sent.append).emit(leaky)
    assert sent[0]["MESSAGE"] == "reply to http://cs:***@cs.example/ocpp not delivered"
    assert TerminalFormatter().format(leaky).endswith("reply to http://cs:***@cs.example/ocpp not delivered")
