"""GetDiagnostics on the engine's fake box against a real FTP server: one compressed file with the
logs of the window, the redacted site config and the box's state, uploaded; bad input told."""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from chargebox.maintenance import collect
from chargebox.maintenance.diagnostics import DiagnosticsUploader, file_name
from chargebox.maintenance.errors import DiskFull
from chargebox.maintenance.settings import DiagnosticsSettings, TransferSettings
from chargebox.ocpp.messages import (
    DiagnosticsStatusNotificationRequest,
    GetDiagnosticsConfirmation,
    GetDiagnosticsRequest,
)
from tests.chargebox.engine.fakes import Box, FakeCentralSystem
from tests.chargebox.maintenance.ftpserver import FtpServer

SITE_CONFIG = """\
[chargebox]
identity = "CB/7"
[central_system]
url = "https://box:cs-password@cs.example.com/ocpp"
[modem]
sim_pin = "1234"
apn_password = "apn-secret"
[[connector]]
id = 1
[connector.relay]
pin = "gpiochip0:17"
"""

LOG = """\
2025-12-31 23:00:00,000 INFO chargebox.daemon: too early
2026-01-01 00:30:00,000 INFO chargebox.engine: in the window
2026-01-01 00:31:00,000 ERROR chargebox.engine: failed
Traceback (most recent call last):
  ValueError: part of the record above
2026-01-01 02:00:00,000 INFO chargebox.engine: too late
"""

# Enough incompressible lines in the window for an upload that can be cut mid-way.
ROTATED = "".join(f"2026-01-01 00:{n // 1000:02d}:00,000 DEBUG chargebox.x: {os.urandom(40).hex()}\n"
                  for n in range(8000))


@dataclass
class Bench:
    box: Box
    server: FtpServer
    uploader: DiagnosticsUploader

    async def ask(self, location: str | None = None, **fields: Any) -> GetDiagnosticsConfirmation:
        answer = await self.box.cp.handle(GetDiagnosticsRequest(location=location or self.server.url("upload/"),
                                                                **fields))
        assert isinstance(answer, GetDiagnosticsConfirmation)
        return answer

    async def status(self) -> str:
        (request,) = await self.box.cs.wait("DiagnosticsStatusNotification")
        assert isinstance(request, DiagnosticsStatusNotificationRequest)
        return request.status.value


def local(text: str) -> datetime:
    """A log line's time stamp (local time) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").astimezone()


@pytest.fixture
async def bench(tmp_path: Path) -> AsyncIterator[Bench]:
    (tmp_path / "remote" / "upload").mkdir(parents=True)
    (tmp_path / "site.toml").write_text(SITE_CONFIG)
    (tmp_path / "chargebox.log").write_text(LOG)
    (tmp_path / "chargebox-rotated.log").write_text(ROTATED)
    os.utime(tmp_path / "chargebox-rotated.log", (0, 0))  # older: it comes first
    box = Box(FakeCentralSystem())
    box.start()
    await box.cp.uplink.booted.wait()
    settings = DiagnosticsSettings(log_files=(str(tmp_path / "chargebox*.log"),),
                                   transfer=TransferSettings(retries=1, retry_interval=0, timeout=5))
    uploader = DiagnosticsUploader(box.cp, settings, tmp_path / "diagnostics", "CB/7", tmp_path / "site.toml")
    box.cp.add_handlers(uploader)
    with FtpServer(tmp_path / "remote") as server:
        yield Bench(box, server, uploader)
        await box.stop()


def archive(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers()}  # type: ignore[union-attr]


async def test_the_file_is_named_uploaded_and_holds_the_window_and_the_state_redacted(bench: Bench) -> None:
    bench.server.cut.after = 100_000  # the link drops once: resumed
    answer = await bench.ask(start_time=local("2026-01-01 00:00:00"), stop_time=local("2026-01-01 01:00:00"))
    assert answer.file_name is not None and answer.file_name.startswith("CB_7-2026") and answer.file_name.endswith(
        "Z.tar.gz")
    assert await bench.status() == "Uploaded"
    uploaded = bench.server.root / "upload" / answer.file_name
    (_, first), (_, resumed) = bench.server.cut.transfers
    assert first >= 100_000 and first + resumed == uploaded.stat().st_size
    content = archive(uploaded)
    assert sorted(content) == ["logs/chargebox.log", "ocpp-configuration.json", "outbox.json", "site-config.json",
                               "transactions.json", "versions.json"]
    assert content["logs/chargebox.log"].decode() == ROTATED + "".join(LOG.splitlines(keepends=True)[1:5])
    site = json.loads(content["site-config.json"])
    assert site["modem"] == {"sim_pin": "<redacted>", "apn_password": "<redacted>"}
    assert site["central_system"]["url"] == "https://box:***@cs.example.com/ocpp"
    assert site["connector"][0]["relay"]["pin"] == "gpiochip0:17"  # wiring is no secret
    assert json.loads(content["ocpp-configuration.json"])["HeartBeatInterval"] == "120"
    assert json.loads(content["versions.json"])["chargebox"]
    for secret in (b"cs-password", b"apn-secret", b"s3cret"):
        assert all(secret not in data for data in content.values())
    assert b"1234" not in content["site-config.json"]
    assert not list((bench.server.root.parent / "diagnostics").iterdir())  # nothing left behind


async def test_a_bad_location_gets_no_file_name_and_upload_failed(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    answer = await bench.ask("ftp://box:pw@host/../up/")
    assert answer.file_name is None
    assert await bench.status() == "UploadFailed"
    assert "leaves its directory" in caplog.text and ":pw@" not in caplog.text


async def test_an_empty_window_has_nothing_to_send(bench: Bench) -> None:
    now = bench.box.cp.clock.now()
    assert (await bench.ask(start_time=now + timedelta(hours=1))).file_name is None
    assert (await bench.ask(start_time=now - timedelta(hours=1), stop_time=now - timedelta(hours=2))).file_name is None
    assert bench.box.cs.of("DiagnosticsStatusNotification") == []


async def test_refused_credentials_end_in_upload_failed(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    answer = await bench.ask(bench.server.url("upload/", password="nope"), retries=3)
    assert answer.file_name is not None
    assert await bench.status() == "UploadFailed"
    assert "login as 'box' refused" in caplog.text and "attempt" not in caplog.text


def test_a_full_disk_while_building_the_file_is_told(tmp_path: Path) -> None:
    target = tmp_path / "diag.tar.gz"
    target.symlink_to("/dev/full")
    with pytest.raises(DiskFull, match="cannot write the diagnostics file"):
        collect.write_archive(target, {"versions.json": {}}, iter(["a line\n"] * 10_000))


def test_journal_entries_of_the_window_are_read_through_python_systemd() -> None:
    start = datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc)
    entries = [{"__REALTIME_TIMESTAMP": start + timedelta(minutes=m), "MESSAGE": f"m{m} ftp://u:pw@h/x",
                "PRIORITY": 6, "LOGGER": "chargebox.engine", "CONNECTOR": 1} for m in (10, 20, 90)]

    class Reader:
        def __init__(self) -> None:
            self.matches: dict[str, str] = {}
            self.entries = entries

        def add_match(self, **match: str) -> None:
            self.matches.update(match)

        def seek_realtime(self, when: datetime) -> None:
            self.entries = [e for e in entries if e["__REALTIME_TIMESTAMP"] >= when]

        def __iter__(self) -> Any:
            assert self.matches == {"SYSLOG_IDENTIFIER": "chargebox"}
            return iter(self.entries)

    journal = type("journal", (), {"Reader": Reader})
    window = collect.Window(start + timedelta(minutes=15), start + timedelta(hours=1))
    lines = list(collect.log_lines(window, (), journal))
    assert lines == ["2026-01-01T00:20:00+00:00 6 chargebox.engine: m20 ftp://u:***@h/x [connector=1]\n"]


def test_file_names_are_safe_and_say_the_box_and_the_time() -> None:
    when = datetime(2026, 3, 4, 10, 15, 2, tzinfo=timezone.utc)
    assert file_name("CB-PI 0001/ä", when) == "CB-PI_0001__-20260304T101502Z.tar.gz"


def test_redaction_masks_secrets_id_tags_and_url_passwords() -> None:
    data = {"password": "x", "Token": "y", "nested": [{"idTag": "04A2B3C4D5E680", "url": "ftp://a:b@c/"}],
            "pin": "gpiochip0:4", "count": 3}
    assert collect.redact(data) == {"password": "<redacted>", "Token": "<redacted>",
                                    "nested": [{"idTag": "…E680", "url": "ftp://a:***@c/"}],
                                    "pin": "gpiochip0:4", "count": 3}
