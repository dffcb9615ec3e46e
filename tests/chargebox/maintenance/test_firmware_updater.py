"""UpdateFirmware on the engine's fake box against a real FTP server: scheduled, downloaded, verified,
installed only when idle, the right FirmwareStatusNotification at each step, never lost offline."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from hal.events import CardPresented, PilotState

from chargebox.maintenance.firmware import HOLD, STATE_KEY, FirmwareUpdater
from chargebox.maintenance.settings import FirmwareSettings, TransferSettings
from chargebox.ocpp.enums import FirmwareStatus, Reason
from chargebox.ocpp.messages import FirmwareStatusNotificationRequest, UpdateFirmwareRequest
from tests.chargebox.engine.fakes import Box, FakeCentralSystem
from tests.chargebox.maintenance.ftpserver import FtpServer

INSTALLER = """#!/bin/sh
# $1: where to install, $2: the firmware file; a firmware file saying "broken" fails.
if grep -q broken "$2"; then echo "bad image" >&2; exit 3; fi
cp "$2" "$1"
env > "$1.environment"
echo "installed $CHARGEBOX_VERSION -> new"
"""


@dataclass
class Bench:
    box: Box
    server: FtpServer
    folder: Path
    installed: Path
    restarts: list[str] = field(default_factory=list)
    updater: FirmwareUpdater | None = None

    def make(self, **settings: object) -> FirmwareUpdater:
        script = self.folder / "install.sh"
        script.write_text(INSTALLER)
        defaults: dict[str, object] = {
            "installer": ("sh", str(script), str(self.installed)),
            "transfer": TransferSettings(retries=1, retry_interval=0, timeout=5)}
        self.updater = FirmwareUpdater(self.box.cp, FirmwareSettings(**{**defaults, **settings}),  # type: ignore[arg-type]
                                       self.folder / "downloads", "0.1.0", lambda: self.restarts.append("restart"))
        self.box.cp.add_handlers(self.updater)
        return self.updater

    def publish(self, name: str, data: bytes) -> None:
        (self.server.root / name).write_bytes(data)

    async def update(self, name: str, *, delay: float = 0.0, **fields: object) -> None:
        request = UpdateFirmwareRequest(location=fields.pop("location", None) or self.server.url(name),  # type: ignore[arg-type]
                                        retrieve_date=self.box.cp.clock.now() + timedelta(seconds=delay),
                                        **fields)  # type: ignore[arg-type]
        await self.box.cp.handle(request)

    def statuses(self) -> list[str]:
        return [r.status.value for r in self.box.cs.of("FirmwareStatusNotification")
                if isinstance(r, FirmwareStatusNotificationRequest)]

    async def wait_status(self, count: int) -> list[str]:
        await self.box.cs.wait("FirmwareStatusNotification", count)
        return self.statuses()

    def state(self) -> dict[str, object] | None:
        stored: dict[str, object] | None = self.box.store.settings.load(STATE_KEY)
        return stored


@pytest.fixture
async def bench(tmp_path: Path) -> AsyncIterator[Bench]:
    (tmp_path / "remote").mkdir()
    box = Box(FakeCentralSystem())
    box.start()
    await box.cp.uplink.booted.wait()
    with FtpServer(tmp_path / "remote") as server:
        yield Bench(box, server, tmp_path, tmp_path / "installed.bin")
        await box.stop()


async def test_an_update_downloads_installs_tells_and_restarts(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")  # the daemon's, under systemd
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    bench.make()
    image = os.urandom(300_000)
    bench.publish("fw-0.2.0.bin", image)
    bench.publish("fw-0.2.0.bin.sha256", hashlib.sha256(image).hexdigest().encode() + b"  fw-0.2.0.bin\n")
    await bench.update("fw-0.2.0.bin")
    assert await bench.wait_status(2) == ["Downloaded", "Installed"]
    assert bench.installed.read_bytes() == image
    # The installer gets the daemon's interpreter and version, and cannot notify systemd in its name.
    environment = dict(line.split("=", 1) for line in bench.installed.with_suffix(".bin.environment").read_text()
                       .splitlines() if "=" in line)
    assert environment["CHARGEBOX_VERSION"] == "0.1.0" and "CHARGEBOX_PYTHON" in environment
    assert not {"NOTIFY_SOCKET", "WATCHDOG_USEC"} & environment.keys()
    assert bench.restarts == ["restart"]
    assert bench.state() is None and not list((bench.folder / "downloads").iterdir())
    assert HOLD in bench.box.cp.station.session_holds  # no session starts before the restart


async def test_installation_waits_until_the_running_session_ends(bench: Bench) -> None:
    updater = bench.make()
    assert updater.status() is FirmwareStatus.IDLE  # what a TriggerMessage gets (1.6 5.17, 7.25)
    bench.publish("fw.bin", b"new firmware")
    cp = bench.box.cp
    await bench.box.pilots[0].put(PilotState.B)
    await cp.cards.present(CardPresented(bytes.fromhex("0A0B0C0D")))
    await bench.box.pilots[0].put(PilotState.C)
    await bench.box.relays[0].wait(True)
    await bench.update("fw.bin")
    assert await bench.wait_status(1) == ["Downloaded"]
    await asyncio.sleep(0)
    assert not bench.installed.exists() and HOLD in cp.station.session_holds
    assert cp.free_port() is None  # no new session while the update waits
    assert updater.status() is FirmwareStatus.DOWNLOADED
    await cp.stop(cp.ports[1], Reason.LOCAL, None)
    assert await bench.wait_status(2) == ["Downloaded", "Installed"]
    actions = bench.box.cs.actions()
    assert actions.index("StopTransaction") < len(actions) - 1 - actions[::-1].index("FirmwareStatusNotification")
    assert bench.installed.read_bytes() == b"new firmware"


async def test_a_failed_installation_keeps_the_old_firmware_and_lifts_the_hold(bench: Bench) -> None:
    bench.make()
    bench.publish("fw.bin", b"broken image")
    await bench.update("fw.bin")
    assert await bench.wait_status(2) == ["Downloaded", "InstallationFailed"]
    assert bench.restarts == [] and not bench.installed.exists()
    assert HOLD not in bench.box.cp.station.session_holds and bench.state() is None


@pytest.mark.parametrize(("location", "publish", "expected_log"), [
    ("http://host/fw.bin", None, "unsupported scheme 'http'"),
    ("ftp://box:s3cret!@127.0.0.1:{port}/../fw.bin", None, "leaves its directory"),
    ("ftp://box:wrong@127.0.0.1:{port}/fw.bin", b"x", "login as 'box' refused"),
    ("ftp://box:s3cret!@nowhere.invalid/fw.bin", None, "unknown host"),
    ("ftp://box:s3cret!@127.0.0.1:{port}/missing.bin", None, "550"),
    ("ftp://box:s3cret!@127.0.0.1:{port}/fw.bin", b"x" * 2000, "more than the 1000 allowed"),
])
async def test_bad_input_ends_in_download_failed_with_the_reason_logged(
        bench: Bench, caplog: pytest.LogCaptureFixture, location: str, publish: bytes | None, expected_log: str) -> None:
    bench.make(max_size=1000)
    if publish is not None:
        bench.publish("fw.bin", publish)
    await bench.update("fw.bin", location=location.format(port=bench.server.port), retries=0)
    assert await bench.wait_status(1) == ["DownloadFailed"]
    assert expected_log in caplog.text
    assert "s3cret!" not in caplog.text and ":wrong@" not in caplog.text
    assert bench.state() is None and HOLD not in bench.box.cp.station.session_holds


async def test_a_checksum_mismatch_is_retried_from_scratch_then_fails(bench: Bench, caplog: pytest.LogCaptureFixture,
                                                                      ) -> None:
    bench.make()
    bench.publish("fw.bin", b"the image")
    bench.publish("fw.bin.sha256", b"0" * 64)
    await bench.update("fw.bin", retries=1, retry_interval=0)
    assert await bench.wait_status(1) == ["DownloadFailed"]
    assert "attempt 1 of 2 failed" in caplog.text and "differs from the published" in caplog.text
    assert bench.server.cut.transfers.count(("sent", 9)) == 2  # the whole file again, not a resume


async def test_the_schedule_survives_a_restart(bench: Bench) -> None:
    bench.make()
    bench.publish("fw.bin", b"later")
    asked = asyncio.get_running_loop().time()
    await bench.update("fw.bin", delay=0.5, retries=2, retry_interval=7)
    state = bench.state()
    assert state is not None and state["phase"] == "scheduled" and (state["retries"], state["retry_interval"]) == (2, 7)
    cp = await bench.box.restart()
    await cp.uplink.booted.wait()
    bench.make().resume()
    assert await bench.wait_status(1) == ["Downloaded"]
    assert bench.box.cs.times("FirmwareStatusNotification")[0] >= asked + 0.5  # not before retrieveDate
    await bench.wait_status(2)


async def test_a_notification_made_offline_is_sent_after_the_next_boot(bench: Bench) -> None:
    bench.publish("fw.bin", b"broken")
    bench.box.cs.reachable = False
    bench.box.cp.uplink.online = False
    updater = bench.make()
    await bench.update("fw.bin")
    assert updater.task is not None
    await updater.task
    assert [q.request.action() for q in bench.box.cp.outbox.all()] == ["FirmwareStatusNotification"] * 2
    bench.box.cs.reachable = True
    cp = await bench.box.restart()
    assert await bench.wait_status(2) == ["Downloaded", "InstallationFailed"]
    assert cp.outbox.depth() == 0


@pytest.mark.parametrize(("before", "expected"), [("0.0.9", FirmwareStatus.INSTALLED),
                                                  ("0.1.0", FirmwareStatus.INSTALLATION_FAILED)])
async def test_an_installation_cut_off_by_a_restart_is_judged_by_the_version_that_starts(
        bench: Bench, before: str, expected: FirmwareStatus) -> None:
    bench.box.store.settings.save(STATE_KEY, {
        "location": bench.server.url("fw.bin"), "retrieve_date": "2026-01-01T00:00:00+00:00", "retries": 0,
        "retry_interval": 0, "from_version": before, "phase": "installing", "file": "/nonexistent/fw.bin"})
    bench.make().resume()
    assert await bench.wait_status(1) == [expected.value]
    assert bench.state() is None
