"""GetDiagnostics (5.7, 6.21) and DiagnosticsStatusNotification (4.8, 6.15).

The answer names the file that will be uploaded, ``<identity>-<UTC time>.tar.gz``; it has no file
name when there is nothing to send (a window that starts after it stops, or in the future) or the
location is unusable (then UploadFailed follows at once, so the Central System hears why). The file
is built (:mod:`.collect`) and uploaded in the background into the location taken as a directory,
resumed after an interruption and retried as the request says; then Uploaded or UploadFailed.
A new request replaces one still running.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import platform
import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import chargebox
from chargebox.engine.routing import handles
from chargebox.maintenance.errors import BadLocation, TransferError
from chargebox.maintenance.location import Location, parse_location
from chargebox.maintenance.settings import DiagnosticsSettings
from chargebox.maintenance.status import tell
from chargebox.ocpp import codec
from chargebox.ocpp.enums import DiagnosticsStatus
from chargebox.ocpp.messages import (
    Confirmation,
    DiagnosticsStatusNotificationRequest,
    GetDiagnosticsConfirmation,
    GetDiagnosticsRequest,
)

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint
    from chargebox.maintenance.collect import Window

# collect (tarfile), ftp (ftplib) and importlib.metadata are imported by the request that needs them:
# an idle daemon holds none of them (issue 19, resident memory).

log = logging.getLogger(__name__)

#: Libraries whose versions go into versions.json.
LIBRARIES = ("zeep", "lxml", "aiohttp", "pymodbus", "pyserial", "pyserial-asyncio-fast", "gpiod",
             "RPi.GPIO", "systemd-python")


def file_name(identity: str, when: datetime) -> str:
    """``<identity>-<UTC time>.tar.gz``, the identity reduced to characters safe in any file system."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", identity)
    return f"{safe}-{when.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def versions() -> dict[str, Any]:
    import importlib.metadata

    found: dict[str, Any] = {"chargebox": chargebox.__version__, "python": platform.python_version(),
                             "platform": platform.platform()}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


class DiagnosticsUploader:
    """The GetDiagnostics handler and the upload it runs."""

    def __init__(self, cp: ChargePoint, settings: DiagnosticsSettings, directory: Path, identity: str,
                 site_config: Path | None) -> None:
        self.cp = cp
        self.settings = settings
        self.directory = settings.directory or directory
        self.identity = identity
        self.site_config = site_config
        self._task: asyncio.Task[None] | None = None

    @handles(GetDiagnosticsRequest)
    async def get_diagnostics(self, request: GetDiagnosticsRequest) -> Confirmation:
        try:
            location = parse_location(request.location)
        except BadLocation as err:
            log.error("GetDiagnostics: %s", err)
            self.cp.spawn(self._notify(DiagnosticsStatus.UPLOAD_FAILED))
            return GetDiagnosticsConfirmation()
        from chargebox.maintenance.collect import Window

        window = Window(request.start_time, request.stop_time)
        now = self.cp.clock.now()
        if window.empty(now):
            log.warning("GetDiagnostics: nothing to send for %s..%s", request.start_time, request.stop_time)
            return GetDiagnosticsConfirmation()
        name = file_name(self.identity, now)
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            log.info("the running diagnostics upload is replaced")
        transfer = self.settings.transfer
        retries = transfer.retries if request.retries is None else max(request.retries, 0)
        interval = transfer.retry_interval if request.retry_interval is None else max(request.retry_interval, 0)
        self._task = asyncio.ensure_future(self._upload(location, name, window, retries, interval))
        self.cp.spawn(self._task)
        return GetDiagnosticsConfirmation(file_name=name)

    def status(self) -> DiagnosticsStatus:
        """What a triggered DiagnosticsStatusNotification tells (1.6 5.17, 7.24): Uploading while an
        upload runs, else Idle."""
        busy = self._task is not None and not self._task.done()
        return DiagnosticsStatus.UPLOADING if busy else DiagnosticsStatus.IDLE

    async def _notify(self, status: DiagnosticsStatus) -> None:
        await tell(self.cp, DiagnosticsStatusNotificationRequest(status=status))

    def documents(self) -> dict[str, Any]:
        """The box's state, read on the loop (the database is the loop's)."""
        from chargebox.maintenance import collect

        known, _ = self.cp.config.entries()
        return {
            "versions.json": versions(),
            "site-config.json": self._site_config(),
            "ocpp-configuration.json": collect.redact({key.name: value for key, value in known}),
            "outbox.json": collect.redact([
                {"seq": q.seq, "action": q.request.action(), "local_tx": q.local_tx, "created": q.created,
                 "attempts": q.attempts, "payload": json.loads(codec.to_json(q.request))}
                for q in self.cp.outbox.all()]),
            "transactions.json": collect.redact(
                [dataclasses.asdict(entry) for entry in self.cp.journal.recent(self.settings.transactions)]),
        }

    def _site_config(self) -> Any:
        if self.site_config is None:
            return None
        from chargebox.maintenance import collect

        try:
            return collect.redact(tomllib.loads(self.site_config.read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            return f"cannot read {self.site_config}: {err}"

    async def _upload(self, location: Location, name: str, window: Window, retries: int,
                      interval: float) -> None:
        from chargebox.maintenance import collect, ftp

        archive = self.directory / name
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            lines = collect.log_lines(window, self.settings.log_files, collect.journal_module())
            count = await asyncio.to_thread(collect.write_archive, archive, self.documents(), lines)
            log.info("diagnostics %s: %d log lines, %d bytes", name, count, archive.stat().st_size)
            target = location.child(name)
            await ftp.attempts(f"diagnostics upload to {target}",
                               lambda: ftp.run(target, self.settings.transfer, lambda s: s.upload(archive, target.path)),
                               retries, interval)
        except (TransferError, OSError) as err:
            log.error("diagnostics %s not uploaded: %s", name, err)
            await self._notify(DiagnosticsStatus.UPLOAD_FAILED)
            return
        finally:
            archive.unlink(missing_ok=True)
        await self._notify(DiagnosticsStatus.UPLOADED)
