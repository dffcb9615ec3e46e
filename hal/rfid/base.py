"""The card reader interface: one abstract base for every RFID reader backend (DESIGN.md, style 1)."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator

from hal.device import Device
from hal.errors import ConfigurationError
from hal.events import CardPresented


class CardReader(Device):
    """A reader that reports cards put on it, one :class:`CardPresented` per presentation.

    Contract for backends:

    - ``_open()`` acquires the device; a device that cannot be reached raises
      :class:`hal.errors.DeviceUnavailable` (wrapping the library error with ``raise ... from err``).
    - ``_close()`` releases it; it is idempotent and never raises for an already closed device.
    - ``_read_uid()`` waits for the next frame and returns the UID it carries, or ``None`` for a frame
      that arrived but is garbled (the base class counts those in :attr:`garbled_frames`). It raises
      :class:`hal.errors.DeviceUnavailable` when the device goes away (unplugged, EOF). It must be
      cancellation-safe: a cancelled call may lose the frame being read, never the reader's state.

    The shared work lives here: readers repeat their frame every ~100-300 ms while a card is held,
    so the same UID seen again within ``hold_window`` seconds of its previous frame (loop clock) is the
    same presentation, not a new one. A card held for a minute is one event; the same card lifted and
    put back after more than ``hold_window`` is two.

    The keyword arguments of a backend's constructor are exactly the options of the site config's
    ``[reader]`` table (see :func:`hal.backends.check_options`), plus ``name``, which the daemon
    supplies itself and which therefore is not a config option (``INJECTED``).
    """

    #: Constructor arguments the daemon fills in itself; hidden from config checking.
    INJECTED: tuple[str, ...] = ("name",)

    def __init__(self, *, hold_window: float = 1.0, name: str = "reader") -> None:
        if hold_window < 0:
            raise ConfigurationError(f"hold_window must be >= 0 seconds, got {hold_window!r}")
        self.hold_window = hold_window
        self.name = name
        #: Frames that arrived but could not be decoded; they are dropped, never fatal.
        self.garbled_frames: int = 0
        # UID -> loop time of its latest frame. Pruned on every frame, so it holds at most the
        # cards seen within the last hold_window: bounded memory however long the daemon runs.
        self._last_seen: dict[bytes, float] = {}

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
        """Every presentation, for ever (until the device fails): ``async for card in reader.cards()``."""
        while True:
            yield await self.next_card()

    # -- hooks for backends --------------------------------------------------------------------



    @abc.abstractmethod
    async def _read_uid(self) -> bytes | None:
        """Return the UID of the next frame, or ``None`` for a garbled frame."""

    # -- internals -----------------------------------------------------------------------------

    def _forget_older_than(self, horizon: float) -> None:
        # "< horizon" so that a frame exactly hold_window after the previous one still counts as held.
        stale = [uid for uid, seen in self._last_seen.items() if seen < horizon]
        for uid in stale:
            del self._last_seen[uid]
