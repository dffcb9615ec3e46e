"""The card reader interface: one abstract base for every RFID reader backend (DESIGN.md, style 1)."""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import AsyncIterator

from hal.device import Device
from hal.errors import ConfigurationError, DeviceUnavailable
from hal.events import CardPresented, FaultKind

log = logging.getLogger(__name__)

class CardReader(Device):
    """A reader that reports cards put on it, one :class:`CardPresented` per presentation.

    Contract for backends:

    - ``_open()`` acquires the device; a device that cannot be reached raises
      :class:`hal.errors.DeviceUnavailable` (wrapping the library error with ``raise ... from err``).
      It is idempotent: on an open device it does nothing.
    - ``_close()`` releases it; it is idempotent and never raises for an already closed device.
    - ``_read_uid()`` waits for the next frame and returns the UID it carries, or ``None`` for a frame
      that arrived but is garbled (the base class counts those in :attr:`garbled_frames`). It raises
      :class:`hal.errors.DeviceUnavailable` when the device goes away (unplugged, EOF). It must be
      cancellation-safe: a cancelled call may lose the frame being read, never the reader's state.

    The shared work lives here: readers repeat their frame every ~100-300 ms while a card is held,
    so the same UID seen again within ``hold_window`` seconds of its previous frame (loop clock) is the
    same presentation, not a new one. A card held for a minute is one event; the same card lifted and
    put back after more than ``hold_window`` is two.

    A reader that goes away (USB adapter unplugged, device node gone, a reader that stops answering)
    is a fault, not an end: :meth:`cards` reports ``DeviceFault(READER)`` through
    :meth:`~hal.faults.FaultSource.faults`, tries to reopen the device every ``reopen_interval``
    seconds (loop clock) and, once it is back, reports ``DeviceFault(READER, active=False)`` and
    goes on yielding cards. :meth:`next_card` is the single-shot form and raises instead.

    The keyword arguments of a backend's constructor are exactly the options of the site config's
    ``[reader]`` table (see :func:`hal.backends.check_options`), plus ``name``, which the daemon
    supplies itself and which therefore is not a config option (``INJECTED``).
    """

    #: Constructor arguments the daemon fills in itself; hidden from config checking.
    INJECTED: tuple[str, ...] = ("name",)

    def __init__(self, *, hold_window: float = 1.0, reopen_interval: float = 1.0, name: str = "reader") -> None:
        super().__init__()
        if not hold_window >= 0:  # not "< 0": TOML's nan must not pass
            raise ConfigurationError(f"hold_window must be >= 0 seconds, got {hold_window!r}")
        if not reopen_interval > 0:
            raise ConfigurationError(f"reopen_interval must be > 0 seconds, got {reopen_interval!r}")
        self.hold_window = hold_window
        self.reopen_interval = reopen_interval
        self.name = name
        #: Frames that arrived but could not be decoded; they are dropped, never fatal.
        self.garbled_frames: int = 0
        # UID -> loop time of its latest frame. Pruned on every frame, so it holds at most the
        # cards seen within the last hold_window: bounded memory however long the daemon runs.
        self._last_seen: dict[bytes, float] = {}

    def __str__(self) -> str:
        """How the log names the reader (backends add where it is)."""
        return f"card reader {self.name!r}"

    # -- public API ----------------------------------------------------------------------------

    async def next_card(self) -> CardPresented:
        """Wait for the next presentation of a card and return it.

        Repeated frames of a held card and garbled frames are consumed silently (the latter counted).
        Raises :class:`hal.errors.DeviceUnavailable` if the reader goes away.
        """
        loop = asyncio.get_running_loop()
        while True:
            uid = await self._read_uid()
            if uid is None:
                self.garbled_frames += 1
                continue
            now = loop.time()
            self._forget_older_than(now - self.hold_window)
            # Measured from the last frame of this UID, not from the first: a card held for a long
            # time keeps refreshing its entry and so never produces a second event.
            held = uid in self._last_seen
            self._last_seen[uid] = now
            if not held:
                return CardPresented(uid=uid, reader=self.name)

    async def cards(self) -> AsyncIterator[CardPresented]:
        """Every presentation, for ever: ``async for card in reader.cards()``.

        Opens the reader if it is not open. Never ends because of the device: a lost reader is
        reported as a fault and reopened (see the class docstring).
        """
        while True:
            try:
                await self.open()  # a no-op when open (backends' _open is idempotent)
                card = await self.next_card()
            except DeviceUnavailable as err:
                # Logged here once per outage, with the path and the reason (the error says both);
                # the retries below are silent until the reader is back.
                log.warning("%s; trying again every %s s", err, self.reopen_interval)
                self._report(FaultKind.READER, True, str(err))
                await self._reopen()
                continue
            yield card

    # -- hooks for backends --------------------------------------------------------------------


    @abc.abstractmethod
    async def _read_uid(self) -> bytes | None:
        """Return the UID of the next frame, or ``None`` for a garbled frame."""

    # -- internals -----------------------------------------------------------------------------

    async def _reopen(self) -> None:
        """Close, then try to open every ``reopen_interval`` until the device is back."""
        await self.close()
        while True:
            # A retry period on the loop clock, not a wait for an event: nothing signals that a
            # USB adapter was plugged back in, so the device node is tried periodically.
            await asyncio.sleep(self.reopen_interval)
            try:
                await self.open()
            except DeviceUnavailable:
                continue
            self._last_seen.clear()  # a card held across the outage is a new presentation
            log.info("%s is back", self)
            self._report(FaultKind.READER, False)
            return

    def _forget_older_than(self, horizon: float) -> None:
        # "< horizon" so that a frame exactly hold_window after the previous one still counts as held.
        stale = [uid for uid, seen in self._last_seen.items() if seen < horizon]
        for uid in stale:
            del self._last_seen[uid]
