"""The contactor that switches power to the connector, with an optional feedback contact."""

from __future__ import annotations

import abc
import asyncio
import contextlib

from hal.device import Device
from hal.errors import ConfigurationError, HalError
from hal.events import FaultKind
from hal.signal import Signal
from hal.tasks import cancel_and_wait


class PowerSwitchFailure(HalError):
    """The contactor did not follow its command (welded, or stuck open)."""


class Relay(Device):
    """``set(closed)`` switches the contactor; backends implement ``_write`` and may give feedback.

    The lifecycle is :class:`~hal.device.Device`'s: ``open()``/``close()`` acquire and release the
    device and never switch the contact (only :meth:`set` does). Backends implement
    ``_open``/``_close`` (default: nothing).

    Feedback: a backend whose board wires the contactor's auxiliary contact back sets
    :attr:`feedback` to a :class:`~hal.signal.Signal` of the contact's state (True = closed) in
    ``_open``. Then :meth:`set` waits up to ``feedback_timeout`` seconds for the contact to follow
    the command; if it does not, it reports ``DeviceFault(POWER_SWITCH)`` (detail: "welded" when it
    stays closed, "stuck open" when it does not close) and raises :class:`PowerSwitchFailure`. While
    open, a contact that changes on its own (welds after opening) is reported the same way;
    the fault clears (``active=False``) as soon as the contact matches the command again.
    """

    def __init__(self, *, feedback_timeout: float = 0.5) -> None:
        super().__init__()
        if not feedback_timeout > 0:
            raise ConfigurationError(f"feedback_timeout must be > 0 seconds, got {feedback_timeout!r}")
        self.feedback_timeout = feedback_timeout
        self.closed = False
        self.feedback: Signal[bool] | None = None
        self._commanding = False
        self._watch: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Acquire the device; start watching the feedback contact, if there is one."""
        await super().open()
        if self.feedback is not None and self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watch_feedback(self.feedback))

    async def close(self) -> None:
        """Release the device. Safe to call twice."""
        watch, self._watch = self._watch, None
        await cancel_and_wait(watch)
        await super().close()

    async def set(self, closed: bool) -> None:
        """Command the contactor; with feedback, confirm it followed (else PowerSwitchFailure)."""
        self._commanding = True
        try:
            await self._write(closed)
            self.closed = closed
            if self.feedback is not None:
                await self._confirm(self.feedback)
        finally:
            self._commanding = False

    async def _confirm(self, feedback: Signal[bool]) -> None:
        if await feedback.wait_for(lambda v: v == self.closed, self.feedback_timeout):
            self._report(FaultKind.POWER_SWITCH, False)
            return
        detail = "relay welded: contact stays closed" if feedback.value else "relay stuck open: contact does not close"
        self._report(FaultKind.POWER_SWITCH, True, detail)
        raise PowerSwitchFailure(detail)

    async def _watch_feedback(self, feedback: Signal[bool]) -> None:
        while True:
            await feedback.changed()
            if not self._commanding:
                with contextlib.suppress(PowerSwitchFailure):
                    await self._confirm(feedback)

    async def _open(self) -> None:
        """Acquire the device (and set :attr:`feedback`); default: nothing to acquire."""

    async def _close(self) -> None:
        """Release the device; default: nothing to release."""

    @abc.abstractmethod
    async def _write(self, closed: bool) -> None: ...
