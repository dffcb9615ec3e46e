"""The cellular modem interface: one abstract base for every modem backend (DESIGN.md, style 1)."""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import AsyncIterator

from hal.device import Device
from hal.errors import ConfigurationError, DeviceTimeout, DeviceUnavailable, HalError
from hal.events import FaultKind, ModemIdentity, SignalQuality, SmsReceived

log = logging.getLogger(__name__)

#: A weak signal clears only this far above the threshold (two AT+CSQ steps), so a signal that
#: hovers at the threshold does not raise and clear the fault at every poll.
HYSTERESIS_DB = 4


class Modem(Device):
    """A cellular modem: the short messages it receives, its SIM's identity and its signal quality.

    Contract for backends:

    - ``_open()`` acquires and initialises the modem; it is idempotent and safe to call from two
      tasks at once. A modem that cannot be reached *or does not answer* raises
      :class:`hal.errors.DeviceUnavailable`. ``_close()`` is idempotent.
    - ``_list_messages()`` returns every received message in the modem's storages (read or not;
      never one the modem stores to send); ``_read_message(storage, index)`` one, or ``None`` if
      that slot is empty or holds no received message; ``_delete_message(sms)`` removes one from
      the storage it was read from; ``_next_indication()`` waits for the modem to announce a newly
      stored message and returns ``(storage, index)`` (:class:`DeviceUnavailable` if the port goes
      away); ``_read_signal()`` returns ``(rssi_dbm, ber)`` (``None`` for unknown);
      ``_read_identity()`` the SIM's ICCID and IMSI. Each bounds its own exchange by ``timeout``
      (:class:`hal.errors.DeviceTimeout`); an error answer is a :class:`hal.errors.HalError`.

    The shared work lives here. :meth:`messages` runs the modem: it yields every message, first
    those stored while nobody listened (the daemon was down, the modem was not answering), then each
    one the modem announces, and deletes each once the consumer has taken it (a message is never
    lost, at worst delivered twice after a crash). Between messages it polls the signal quality
    every ``poll_interval`` seconds (loop clock), which is also how a modem that stopped answering
    is noticed.

    Faults (:meth:`~hal.faults.FaultSource.faults`): ``DeviceFault(WEAK_SIGNAL)`` while the signal
    is below ``weak_signal_dbm`` (or unknown: no network), cleared once it is
    :data:`HYSTERESIS_DB` above; ``DeviceFault(MODEM)`` when the port goes away or ``max_silent``
    exchanges in a row time out: the modem is then closed and reopened every ``reopen_interval``
    seconds until it answers, the fault is cleared and its storage is listed again.

    The keyword arguments of a backend's constructor are the options of the ``[modem]`` table,
    except ``name`` (``INJECTED``).
    """

    INJECTED: tuple[str, ...] = ("name",)

    def __init__(
        self, *, timeout: float = 5.0, poll_interval: float = 60.0, weak_signal_dbm: int = -101,
        max_silent: int = 2, reopen_interval: float = 10.0, name: str = "modem",
    ) -> None:
        super().__init__()
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        if not poll_interval > 0:
            raise ConfigurationError(f"poll_interval must be > 0 seconds, got {poll_interval!r}")
        if not -113 <= weak_signal_dbm <= -51:
            raise ConfigurationError(
                f"weak_signal_dbm must be between -113 and -51 dBm (what AT+CSQ can tell), got {weak_signal_dbm!r}"
            )
        if max_silent < 1:
            raise ConfigurationError(f"max_silent must be >= 1, got {max_silent!r}")
        if not reopen_interval > 0:
            raise ConfigurationError(f"reopen_interval must be > 0 seconds, got {reopen_interval!r}")
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.weak_signal_dbm = weak_signal_dbm
        self.max_silent = max_silent
        self.reopen_interval = reopen_interval
        self.name = name
        self.last_signal: SignalQuality | None = None
        self._identity: ModemIdentity | None = None
        self._silent = 0

    def __str__(self) -> str:
        """How the log names the modem (backends add where it is)."""
        return self.name

    # -- public API ----------------------------------------------------------------------------

    async def identity(self) -> ModemIdentity:
        """The SIM's ICCID and IMSI (read once per opening). Opens the modem if it is not open."""
        if self._identity is None:
            await self.open()
            self._identity = await self._read_identity()
        return self._identity

    async def signal(self) -> SignalQuality:
        """Poll the signal quality now; raises or clears the weak-signal fault."""
        rssi, ber = await self._read_signal()
        quality = SignalQuality(rssi, ber, asyncio.get_running_loop().time())
        self.last_signal = quality
        if rssi is None or rssi < self.weak_signal_dbm:
            heard = "no network" if rssi is None else f"{rssi} dBm"
            self._report(FaultKind.WEAK_SIGNAL, True, f"signal {heard}, below {self.weak_signal_dbm} dBm")
        elif rssi >= self.weak_signal_dbm + HYSTERESIS_DB:
            self._report(FaultKind.WEAK_SIGNAL, False)
        return quality

    async def messages(self) -> AsyncIterator[SmsReceived]:
        """Every message the modem receives, for ever (see the class docstring). Never raises for
        the device."""
        loop = asyncio.get_running_loop()
        relist = True
        next_poll = loop.time()
        while True:
            try:
                await self.open()
                if relist:
                    relist = False
                    for sms in await self._list_messages():
                        yield sms
                        await self._delete_message(sms)
                if loop.time() >= next_poll:
                    next_poll = loop.time() + self.poll_interval
                    await self.signal()
                self._silent = 0
                indication = await self._indication_before(next_poll)
                if indication is None:
                    continue
                announced = await self._read_message(*indication)
                if announced is not None:
                    yield announced
                    await self._delete_message(announced)
            except DeviceTimeout as err:
                # Whatever was being read is still stored: list the storage again once it answers.
                relist = True
                self._silent += 1
                if self._silent >= self.max_silent:
                    await self._recover(err)
                    next_poll = loop.time()
            except DeviceUnavailable as err:
                relist = True
                await self._recover(err)
                next_poll = loop.time()
            except HalError as err:  # an error answer or a garbled one: try again later, not in a loop
                log.warning("%s: %s; trying again in %s s", self.name, err, self.reopen_interval)
                relist = True
                await asyncio.sleep(self.reopen_interval)

    # -- hooks for backends --------------------------------------------------------------------

    @abc.abstractmethod
    async def _list_messages(self) -> list[SmsReceived]:
        """Every received message in storage."""

    @abc.abstractmethod
    async def _read_message(self, storage: str, index: int) -> SmsReceived | None:
        """The received message at ``index`` of ``storage``, or ``None`` for an empty slot."""

    @abc.abstractmethod
    async def _delete_message(self, sms: SmsReceived) -> None:
        """Remove ``sms`` from the storage it was read from."""

    @abc.abstractmethod
    async def _next_indication(self) -> tuple[str, int]:
        """Wait for the modem to announce a new message; ``(storage, index)`` where it is."""

    @abc.abstractmethod
    async def _read_signal(self) -> tuple[int | None, int | None]:
        """``(rssi_dbm, ber)``, ``None`` where unknown."""

    @abc.abstractmethod
    async def _read_identity(self) -> ModemIdentity:
        """The SIM's ICCID and IMSI."""

    # -- internals -----------------------------------------------------------------------------

    async def _indication_before(self, deadline: float) -> tuple[str, int] | None:
        """The next announced ``(storage, index)``, or ``None`` when ``deadline`` (loop time) comes first."""
        try:
            async with asyncio.timeout_at(deadline) as scope:
                return await self._next_indication()
        except TimeoutError:
            if scope.expired():
                return None
            raise

    async def _recover(self, err: HalError) -> None:
        """Report the modem lost, then reopen it every ``reopen_interval`` until it answers."""
        self._report(FaultKind.MODEM, True, str(err))
        log.warning("%s lost (%s); reopening every %s s", self.name, err, self.reopen_interval)
        while True:
            await self.close()
            self._identity = None  # the SIM may have been swapped meanwhile
            # A retry period on the loop clock: nothing signals that a modem has come back.
            await asyncio.sleep(self.reopen_interval)
            try:
                await self.open()
            except DeviceUnavailable:
                continue
            self._silent = 0
            self._report(FaultKind.MODEM, False)
            log.info("%s is back", self)
            return
