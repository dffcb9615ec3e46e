"""Soft and hard reset (OCPP 1.5 Reset, 6.35) as a systemd service does them.

The engine's Reset handler answers Reset.conf, stops the running transactions as in Stop
Transaction, then calls :meth:`Restarter.soft` or :meth:`Restarter.hard`. Both stop the daemon the
way SIGTERM does (relays open, database closed); then

- soft: the daemon exits with :data:`SOFT_RESET_EXIT_STATUS`, which the unit restarts after
  ``RestartSec=`` (``RestartForceExitStatus=``) and does not count as a failure (``SuccessExitStatus=``);
- hard: the daemon runs the reboot command (``[service] reboot_command``, ``systemctl reboot``) and
  exits 0 while systemd takes the board down. Where the reboot is refused (no polkit rule, no
  systemd), it falls back to a soft reset and says so in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from chargebox.service.notify import child_environment

log = logging.getLogger(__name__)

#: EX_TEMPFAIL (sysexits.h): "try again", which is what a restart is.
SOFT_RESET_EXIT_STATUS = 75
REBOOT_TIMEOUT = 30.0  # seconds for the reboot command to hand the reboot to systemd


class Restarter:
    """``stop`` ends the daemon's main task; :meth:`finish` runs after the clean stop and gives the exit status."""

    def __init__(self, stop: Callable[[], object], reboot_command: Sequence[str]) -> None:
        self._stop = stop
        self._reboot_command = tuple(reboot_command)
        self.requested: str | None = None

    def soft(self) -> None:
        log.info("soft reset: stopping; systemd restarts the daemon")
        self.requested = "soft"
        self._stop()

    def hard(self) -> None:
        log.info("hard reset: stopping, then rebooting with %s", " ".join(self._reboot_command))
        self.requested = "hard"
        self._stop()

    async def finish(self) -> int:
        """The exit status, after rebooting if a hard reset was asked for."""
        if self.requested is None:
            return 0
        if self.requested == "hard" and await self._reboot():
            return 0
        return SOFT_RESET_EXIT_STATUS

    async def _reboot(self) -> bool:
        command = " ".join(self._reboot_command)
        try:
            process = await asyncio.create_subprocess_exec(
                *self._reboot_command, env=child_environment(), stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
        except OSError as err:
            log.error("hard reset: cannot run %s (%s); restarting the daemon instead", command, err)
            return False
        try:
            async with asyncio.timeout(REBOOT_TIMEOUT):
                output, _ = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            log.error("hard reset: %s did not finish in %s s; restarting the daemon instead", command, REBOOT_TIMEOUT)
            return False
        if process.returncode != 0:
            log.error("hard reset: %s failed with %s: %s; restarting the daemon instead",
                      command, process.returncode, output.decode(errors="replace").strip())
            return False
        return True
