"""Reset (spec 5.12, 6.35): Soft and Hard, ResetRetries (6.9.1), ResetFailure (7.7).

On Reset.req the box answers Accepted, lets no new session start, stops every running transaction
as in Stop Transaction (idTag omitted, 6.43; journal reason ``SoftReset`` or ``HardReset``), gives
their StopTransactions a few seconds to leave (they are in the outbox anyway), and then

- Soft: the daemon stops cleanly and the service restarts it (:meth:`Restarter.soft
  <chargebox.service.reset.Restarter.soft>`): it boots again from its initial state;
- Hard: the daemon stops cleanly and reboots the board (:meth:`Restarter.hard
  <chargebox.service.reset.Restarter.hard>`, ``service.reboot_command``).

A Hard reset is recorded before it starts (``settings`` key ``reset``, with the kernel's boot id).
When the daemon starts again on the same boot, the board did not reboot (the command was refused,
and the service restarted the daemon instead): the reset is retried ResetRetries times, then
reported as a StatusNotification for connector 0 with errorCode ResetFailure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from chargebox.engine.configuration import Configuration
from chargebox.engine.connector import Fault
from chargebox.engine.hardware import Sessions
from chargebox.engine.routing import handles
from chargebox.ocpp.enums import ChargePointErrorCode, Reason, ResetStatus, ResetType
from chargebox.ocpp.messages import Confirmation, ResetConfirmation, ResetRequest
from chargebox.store.outbox import Outbox
from chargebox.store.settings import Settings

log = logging.getLogger(__name__)

SETTING = "reset"
HOLD = "reset"  # the session hold while a reset is under way
REASONS = {ResetType.SOFT: Reason.SOFT_RESET, ResetType.HARD: Reason.HARD_RESET}
#: Seconds the stopped transactions' messages get to reach a reachable Central System before the restart.
DRAIN_TIMEOUT = 10.0
DRAIN_POLL = 0.1
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class Restart(Protocol):
    """What carries a reset out (:class:`chargebox.service.reset.Restarter`)."""

    def soft(self) -> None: ...

    def hard(self) -> None: ...


class Link(Protocol):
    """The link to the Central System as a reset sees it (:class:`~chargebox.engine.uplink.Uplink`)."""

    booted: asyncio.Event
    online: bool


def read_boot_id() -> str:
    """The kernel's id of this boot: it changes when the board reboots."""
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


class Resets:
    """Answers Reset.req; ``restart`` is None where the box cannot restart itself (then Rejected).
    ``sessions`` stops the sessions (under ``holds``, the station's session holds), ``box_fault``
    reports ResetFailure; ``spawn`` runs a reset beside the loops."""

    def __init__(self, *, sessions: Sessions, holds: set[str], link: Link, config: Configuration,
                 box_fault: Callable[[Fault, bool], None], spawn: Callable[[Awaitable[Any]], None],
                 settings: Settings, outbox: Outbox, restart: Restart | None,
                 boot_id: Callable[[], str] = read_boot_id) -> None:
        self.sessions = sessions
        self.holds = holds
        self.link = link
        self.config = config
        self._box_fault = box_fault
        self._spawn = spawn
        self.settings = settings
        self.outbox = outbox
        self.restart = restart
        self.boot_id = boot_id
        self.resetting = False
        stored = settings.load(SETTING)
        if stored is not None:
            settings.delete(SETTING)
            spawn(self._after_restart(stored))

    @handles(ResetRequest)
    async def reset(self, request: ResetRequest) -> Confirmation:
        if self.restart is None:
            log.warning("%s reset refused: this daemon runs without a service to restart it", request.type.value)
            return ResetConfirmation(status=ResetStatus.REJECTED)
        if not self.resetting:  # a second Reset.req during a reset changes nothing
            self.resetting = True
            self._spawn(self._reset(request.type, attempt=1))
        return ResetConfirmation(status=ResetStatus.ACCEPTED)

    async def _reset(self, kind: ResetType, attempt: int) -> None:
        assert self.restart is not None
        log.info("%s reset (attempt %s): stopping the transactions", kind.value, attempt)
        self.holds.add(HOLD)
        for port in self.sessions.ports.values():
            await self.sessions.lapse(port)  # an authorization waiting for its cable lapses
            await self.sessions.stop(port, REASONS[kind], None)
        await self._drain()
        if kind is ResetType.HARD:
            record = {"type": kind.value, "attempt": attempt, "boot_id": self.boot_id()}
            self.settings.save(SETTING, record)
            self.restart.hard()
        else:
            self.restart.soft()

    async def _drain(self) -> None:
        """Until the outbox is empty, the Central System unreachable, or DRAIN_TIMEOUT passed: the
        courier has no completion event to wait on, so its depth is polled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_TIMEOUT
        while self.outbox.depth() and self.link.online and loop.time() < deadline:
            await asyncio.sleep(DRAIN_POLL)

    async def _after_restart(self, record: dict[str, object]) -> None:
        """A Hard reset recorded before this start: on the same boot, it failed (6.9.1 ResetRetries, 7.7)."""
        await self.link.booted.wait()
        if record.get("boot_id") != self.boot_id():
            log.info("hard reset done: the board rebooted")
            return
        attempt = int(str(record.get("attempt", 1)))
        retries = self.config.integer("ResetRetries")
        if attempt <= retries and not self.resetting:
            log.warning("hard reset: the board did not reboot; retry %s of %s", attempt, retries)
            self.resetting = True
            await self._reset(ResetType.HARD, attempt + 1)
            return
        log.error("hard reset: the board did not reboot after %s attempt(s); reporting ResetFailure", attempt)
        failure = Fault(ChargePointErrorCode.RESET_FAILURE, f"hard reset failed {attempt} time(s)")
        self._box_fault(failure, True)
