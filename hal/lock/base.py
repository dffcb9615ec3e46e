"""The cable lock of a socket outlet (IEC 61851-1: the plug is locked while power may flow)."""

from __future__ import annotations

import abc

from hal.device import Device
from hal.errors import ConfigurationError, HalError
from hal.events import FaultKind
from hal.signal import Signal


class LockFailure(HalError):
    """The cable lock did not reach the commanded position (jammed, no plug, motor failure)."""


class CableLock(Device):
    """``lock()`` / ``unlock()`` drive the actuator; with feedback, they confirm the position.

    Lifecycle :class:`~hal.device.Device`'s ``open()``/``close()`` (backends: ``_open``/``_close``);
    backends implement ``_drive(locked)`` and, if the board reads the lock's position switch, set
    :attr:`feedback` (a :class:`~hal.signal.Signal`, True = locked) in ``_open``.

    With feedback, a lock that does not reach the position within ``feedback_timeout`` seconds is
    reported as ``DeviceFault(CONNECTOR_LOCK)`` and :class:`LockFailure` is raised; the next
    command that succeeds clears the fault. Without feedback the command is trusted.
    """

    def __init__(self, *, feedback_timeout: float = 1.0) -> None:
        super().__init__()
        if not feedback_timeout > 0:
            raise ConfigurationError(f"feedback_timeout must be > 0 seconds, got {feedback_timeout!r}")
        self.feedback_timeout = feedback_timeout
        self.locked = False
        self.feedback: Signal[bool] | None = None

    async def lock(self) -> None:
        await self._move(True)

    async def unlock(self) -> None:
        await self._move(False)

    async def _move(self, locked: bool) -> None:
        await self._drive(locked)
        self.locked = locked
        if self.feedback is None:
            return
        if await self.feedback.wait_for(lambda v: v == locked, self.feedback_timeout):
            self._report(FaultKind.CONNECTOR_LOCK, False)
            return
        detail = f"cable lock did not {'lock' if locked else 'unlock'} within {self.feedback_timeout} s"
        self._report(FaultKind.CONNECTOR_LOCK, True, detail)
        raise LockFailure(detail)

    async def _open(self) -> None:
        """Acquire the device (and set :attr:`feedback`); default: nothing to acquire."""

    async def _close(self) -> None:
        """Release the device; default: nothing to release."""

    @abc.abstractmethod
    async def _drive(self, locked: bool) -> None: ...
