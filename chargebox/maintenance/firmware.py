"""UpdateFirmware (5.15, 6.47) and FirmwareStatusNotification (4.10, 6.17).

The request is accepted at once and persisted (``settings`` table), so the update survives a restart
in any phase:

1. ``scheduled``: at retrieveDate the file is downloaded into ``[firmware] directory``, resumed after
   an interruption and retried as the request's retries and retryInterval say (the site config's
   defaults when absent), then checked: size, SHA-256 when the server publishes one. All attempts
   failed: DownloadFailed.
2. ``downloaded``: Downloaded is told. The signature is checked when a public key is configured.
   Then a session hold stops new sessions and the update waits until no transaction runs: a box
   never installs under a car.
3. ``installing``: the installer command runs with the file as its last argument. Exit 0: Installed,
   then the daemon restarts (or the board reboots, ``after_install``) and the next BootNotification
   carries the new firmwareVersion. Any other outcome: InstallationFailed, the hold is lifted and the
   old firmware keeps running. A restart in the middle of it is judged by the version that starts.

A new UpdateFirmware replaces a pending one, except while an installer runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from chargebox.engine.routing import handles
from chargebox.logfields import mask_url
from chargebox.maintenance.errors import BadLocation, TransferError
from chargebox.maintenance.location import Location, parse_location
from chargebox.maintenance.settings import FirmwareSettings
from chargebox.maintenance.status import tell
from chargebox.maintenance.verify import SignatureInvalid, check_sha256, check_signature
from chargebox.ocpp.enums import FirmwareStatus
from chargebox.ocpp.messages import (
    Confirmation,
    FirmwareStatusNotificationRequest,
    UpdateFirmwareConfirmation,
    UpdateFirmwareRequest,
)
from chargebox.service.notify import child_environment

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint
    from chargebox.maintenance import ftp  # imported by a download: an idle daemon holds no ftplib (issue 19)

log = logging.getLogger(__name__)

STATE_KEY = "firmware_update"
HOLD = "firmware update"
#: Longest single wait for retrieveDate: the wall clock may be corrected (synchronised) meanwhile.
LONGEST_NAP = 3600.0
#: Installer output lines kept for the log.
OUTPUT_LINES = 20

Phase = Literal["scheduled", "downloaded", "installing"]


@dataclass(slots=True)
class Update:
    """A pending update as persisted. ``location`` is kept as sent, password included: the
    download may start after a restart, and the database is the box's own (mode 0750)."""

    location: str
    retrieve_date: str
    retries: int
    retry_interval: float
    from_version: str
    phase: Phase = "scheduled"
    file: str | None = None


class InstallationFailed(Exception):
    """The installer did not report success."""


class FirmwareUpdater:
    """The UpdateFirmware handler and the update it runs; ``resume()`` once at start."""

    def __init__(self, cp: ChargePoint, settings: FirmwareSettings, directory: Path, version: str,
                 restart: Callable[[], object] | None) -> None:
        self.cp = cp
        self.settings = settings
        self.directory = settings.directory or directory
        self.version = version
        self._restart = restart
        self._task: asyncio.Task[None] | None = None

    # -- the request ---------------------------------------------------------------------------

    @handles(UpdateFirmwareRequest)
    async def update_firmware(self, request: UpdateFirmwareRequest) -> Confirmation:
        """5.15: the box answers at once and retrieves the firmware "as soon as possible after
        retrieve-date"."""
        pending = self._load()
        if pending is not None and pending.phase == "installing":
            log.warning("UpdateFirmware from %s ignored: an installation is running", mask_url(request.location))
            return UpdateFirmwareConfirmation()
        await self._cancel()
        transfer = self.settings.transfer
        update = Update(
            location=request.location, retrieve_date=request.retrieve_date.isoformat(),
            retries=transfer.retries if request.retries is None else max(request.retries, 0),
            retry_interval=transfer.retry_interval if request.retry_interval is None else max(request.retry_interval, 0),
            from_version=self.version,
        )
        self._save(update)
        log.info("firmware update from %s scheduled for %s (%d retries, %s s apart)", mask_url(update.location),
                 update.retrieve_date, update.retries, update.retry_interval)
        self._start(update)
        return UpdateFirmwareConfirmation()

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The update running now, if any."""
        return self._task

    def status(self) -> FirmwareStatus:
        """What a triggered FirmwareStatusNotification tells (1.6 5.17, 4.5 errata 3.47, 7.25): the
        step of the update under way, Idle when none is (also while it waits for retrieveDate)."""
        update = self._load()
        if update is None or self._task is None or self._task.done():
            return FirmwareStatus.IDLE
        if update.phase == "installing":
            return FirmwareStatus.INSTALLING
        if update.phase == "downloaded":
            return FirmwareStatus.DOWNLOADED
        due = self.cp.clock.now() >= datetime.fromisoformat(update.retrieve_date)
        return FirmwareStatus.DOWNLOADING if due else FirmwareStatus.IDLE

    def resume(self) -> None:
        """Carry on with an update persisted before the daemon stopped."""
        update = self._load()
        if update is not None:
            log.info("firmware update from %s: carrying on (%s)", mask_url(update.location), update.phase)
            self._start(update)

    def _start(self, update: Update) -> None:
        self._task = asyncio.ensure_future(self._run(update))
        self.cp.spawn(self._task)  # cancelled when the charge point stops

    async def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            log.info("the pending firmware update is replaced")

    # -- persistence ---------------------------------------------------------------------------

    def _load(self) -> Update | None:
        stored = self.cp.store.settings.load(STATE_KEY)
        return None if stored is None else Update(**stored)

    def _save(self, update: Update) -> None:
        self.cp.store.settings.save(STATE_KEY, asdict(update))

    def _clear(self) -> None:
        self.cp.store.settings.delete(STATE_KEY)

    # -- the update ----------------------------------------------------------------------------

    async def _notify(self, status: FirmwareStatus) -> None:
        await tell(self.cp, FirmwareStatusNotificationRequest(status=status))

    async def _run(self, update: Update) -> None:
        restarting = False
        try:
            if update.phase == "installing":
                await self._judge_interrupted(update)
                return
            if update.phase == "scheduled":
                try:
                    await self._until(datetime.fromisoformat(update.retrieve_date))
                    update.file = str(await self._download(update))
                except TransferError as err:
                    log.error("firmware download failed: %s", err)
                    self._clear()
                    self._remove(update)
                    await self._notify(FirmwareStatus.DOWNLOAD_FAILED)
                    return
                update.phase = "downloaded"
                self._save(update)
                await self._notify(FirmwareStatus.DOWNLOADED)
            restarting = await self._install(update)
        finally:
            if not restarting:
                self.cp.station.session_holds.discard(HOLD)

    async def _until(self, when: datetime) -> None:
        while (wait := (when - self.cp.clock.now()).total_seconds()) > 0:
            await asyncio.sleep(min(wait, LONGEST_NAP))

    def _paths(self, location: Location) -> tuple[Path, Path, Path]:
        """The downloaded file, its part while it downloads, and its signature."""
        file = self.directory / location.name
        return file, file.with_name(file.name + ".part"), file.with_name(file.name + ".sig")

    async def _download(self, update: Update) -> Path:
        from chargebox.maintenance import ftp

        location = parse_location(update.location)
        if not location.name:
            raise BadLocation(f"{location}: no file name in the path")
        file, part, signature = self._paths(location)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise BadLocation(f"{self.directory}: cannot create the download folder ({err.strerror})") from err
        signed = self.settings.public_key is not None

        def fetch(session: ftp.Session) -> tuple[bytes | None, bytes | None]:
            session.download(location.path, part, self.settings.max_size)
            sig = session.read_small(location.path + ".sig") if signed else None
            return session.read_small(location.path + ".sha256"), sig

        async def attempt() -> None:
            checksum, sig = await ftp.run(location, self.settings.transfer, fetch)
            if checksum is None:
                log.info("%s: no .sha256 beside it on the server; its size is checked", location.name)
            else:
                try:
                    await asyncio.to_thread(check_sha256, part, checksum)
                except TransferError:
                    part.unlink(missing_ok=True)  # the next attempt starts from scratch
                    raise
            if sig is not None:
                signature.write_bytes(sig)

        await ftp.attempts(f"firmware download from {location}", attempt, update.retries, update.retry_interval)
        part.replace(file)
        return file

    def _remove(self, update: Update) -> None:
        with contextlib.suppress(BadLocation):
            for path in self._paths(parse_location(update.location)):
                path.unlink(missing_ok=True)

    async def _install(self, update: Update) -> bool:
        """Installs; True when the daemon restarts to run the new firmware."""
        assert update.file is not None
        file = Path(update.file)
        try:
            if self.settings.public_key is not None:
                signature = file.with_name(file.name + ".sig")
                await asyncio.to_thread(check_signature, file, signature.read_bytes() if signature.exists() else None,
                                        self.settings.public_key)
                log.info("%s: signature verified", file.name)
            self.cp.station.session_holds.add(HOLD)
            if not self.cp.station.idle:
                log.info("firmware %s downloaded; installing when the running transactions have ended", file.name)
            await self.cp.wait_idle()
            update.phase = "installing"
            self._save(update)
            await self._run_installer(file)
        except (SignatureInvalid, InstallationFailed, OSError) as err:
            log.error("firmware installation failed, the running firmware stays: %s", err)
            self._clear()
            self._remove(update)
            await self._notify(FirmwareStatus.INSTALLATION_FAILED)
            return False
        self._clear()
        self._remove(update)
        await self._notify(FirmwareStatus.INSTALLED)
        if self._restart is None:
            log.warning("firmware installed; restart the daemon to run it")
            return False
        log.info("firmware installed; %s to run it", "rebooting" if self.settings.after_install == "reboot"
                 else "restarting")
        self._restart()
        return True

    async def _run_installer(self, file: Path) -> None:
        assert self.settings.installer is not None
        command = [*self.settings.installer, str(file)]
        log.info("installing %s: %s", file.name, " ".join(command))
        env = child_environment(CHARGEBOX_PYTHON=sys.executable, CHARGEBOX_VERSION=self.version)
        try:
            process = await asyncio.create_subprocess_exec(*command, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                           stdout=asyncio.subprocess.PIPE,
                                                           stderr=asyncio.subprocess.STDOUT)
        except OSError as err:
            raise InstallationFailed(f"cannot run {command[0]}: {err.strerror or err}") from err
        try:
            async with asyncio.timeout(self.settings.install_timeout):
                output, _ = await process.communicate()
        except (TimeoutError, asyncio.CancelledError) as err:
            # No half-run installer left behind; a stopped daemon judges the update at its next start.
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            if isinstance(err, asyncio.CancelledError):
                raise
            raise InstallationFailed(f"{command[0]} did not finish within {self.settings.install_timeout} s") from None
        tail = "\n".join(output.decode(errors="replace").strip().splitlines()[-OUTPUT_LINES:])
        if process.returncode != 0:
            raise InstallationFailed(f"{command[0]} exited with {process.returncode}: {tail}")
        log.info("installer output: %s", tail)

    async def _judge_interrupted(self, update: Update) -> None:
        """The daemon stopped while the installer ran: what starts now tells how it went."""
        self._clear()
        self._remove(update)
        if self.version != update.from_version:
            log.info("firmware %s is running (was %s): installed", self.version, update.from_version)
            await self._notify(FirmwareStatus.INSTALLED)
        else:
            log.error("the firmware installation was interrupted; %s is still running", self.version)
            await self._notify(FirmwareStatus.INSTALLATION_FAILED)
