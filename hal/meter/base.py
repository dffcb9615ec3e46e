"""The kWh meter interface: one abstract base for every meter backend (DESIGN.md, style 1)."""

from __future__ import annotations

import abc
import asyncio
import logging
import math
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

from hal.device import Device
from hal.errors import ConfigurationError, DeviceTimeout, FrameError, HalError, ImplausibleValue
from hal.events import FaultKind, MeterIdentity, MeterReading

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: A meter latches its registers on its own cycle (about once a second for Eastron/ABB meters), not
#: at the instant we read them. Allow this much extra time's worth of energy on top of the loop time
#: elapsed between two readings, so a legitimate reading taken just after a latch is never refused.
CLOCK_SLACK_S = 2.0

#: The largest import energy the box can report: a transaction record carries a meter reading as a
#: signed 32-bit count of Wh (OCPP 1.5 meterStart and meterStop, sections 6.39 and 6.43, are xs:int).
#: A meter past it (about 2,147 MWh; a wrong word order in a map reaches it at once) is refused here
#: rather than making every message that carries its reading impossible to send.
MAX_ENERGY_WH = 2**31 - 1

#: Float32 registers hold ~7 significant digits: a kWh register at 10^5 kWh moves in steps of ~8 Wh.
#: Allow a few steps of that resolution, and never less than 1 Wh, on top of the physical bound.
FLOAT32_STEPS = 4 * 2.0**-23
MIN_MARGIN_WH = 1.0


class Meter(Device):
    """A kWh meter that is polled: :meth:`read` returns one :class:`MeterReading`.

    Contract for backends:

    - ``_open()`` / ``_close()`` acquire and release the device. ``_close()`` is idempotent.
    - ``_read_values()`` reads the meter once and returns measurand name -> value in SI units,
      energy in Wh (names as in :mod:`hal.meter.maps`); it must contain ``"energy_import_wh"``.
      It raises :class:`hal.errors.DeviceUnavailable`, :class:`~hal.errors.DeviceTimeout` or
      :class:`~hal.errors.FrameError` (library errors wrapped with ``raise ... from err``). It may be
      cancelled at any await (the base class enforces the timeout by cancelling it); after a
      cancellation or error the backend must start clean on the next call (e.g. reconnect).
    - ``_read_identity()`` returns the meter's model and serial number, same error rules.

    The shared work lives here: every call is bounded by ``timeout`` (-> :class:`DeviceTimeout`),
    and the import energy register is checked for plausibility before a reading is accepted: it
    is a finite number of Wh from 0 to :data:`MAX_ENERGY_WH`, it never goes backwards, and it never grows faster than ``max_power_w`` could make it grow in the
    loop time since the last accepted reading. A refused reading raises :class:`ImplausibleValue`
    and leaves :attr:`last_good` as the reference, so one glitch cannot move the baseline of a
    transaction. Values other than the import energy that are not finite are left out of the
    reading rather than refusing it.

    Faults (:meth:`~hal.faults.FaultSource.faults`): ``DeviceFault(METER)`` once ``fault_after``
    reads in a row have failed (timeout, CRC, exception response, connection lost) or at once for a
    refused implausible value; ``DeviceFault(METER, active=False)`` at the next good reading.
    :meth:`readings` polls on a period and never raises for the device.

    The keyword arguments of a backend's constructor are the options of the ``[meter]`` table.
    """

    def __init__(self, *, timeout: float = 2.0, max_power_w: float = 50000.0, fault_after: int = 3) -> None:
        super().__init__()
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        if not max_power_w > 0:
            raise ConfigurationError(f"max_power_w must be > 0, got {max_power_w!r}")
        if fault_after < 1:
            raise ConfigurationError(f"fault_after must be >= 1 failed reads, got {fault_after!r}")
        self.timeout = timeout
        self.max_power_w = max_power_w
        self.fault_after = fault_after
        #: Failed reads in a row (reset by a good one).
        self.failed_reads = 0
        self._last_good: MeterReading | None = None
        #: Readings refused as implausible, for diagnostics.
        self.implausible_readings: int = 0

    @property
    def last_good(self) -> MeterReading | None:
        """The last reading that passed the plausibility checks, or ``None`` before the first."""
        return self._last_good

    # -- public API ----------------------------------------------------------------------------

    async def open(self) -> None:
        """Acquire the device, within the timeout."""
        await self._bounded(self._open(), "opening")

    async def read(self) -> MeterReading:
        """Poll the meter once and return a plausible reading.

        Raises :class:`DeviceTimeout`, :class:`hal.errors.DeviceUnavailable`, :class:`FrameError`
        or :class:`ImplausibleValue` (all :class:`hal.errors.HalError`).
        """
        try:
            values = await self._bounded(self._read_values(), "reading")
            taken_at = asyncio.get_running_loop().time()
            energy = values.get("energy_import_wh")
            if energy is None:
                raise FrameError("meter answered without an import energy value")
            self._check_energy(energy, taken_at)
        except HalError as err:
            self.failed_reads += 1
            if isinstance(err, ImplausibleValue) or self.failed_reads >= self.fault_after:
                self._report(FaultKind.METER, True, str(err))
            raise
        reading = _to_reading(values, taken_at)
        self._last_good = reading
        self.failed_reads = 0
        self._report(FaultKind.METER, False)
        return reading

    async def readings(self, interval: float) -> AsyncIterator[MeterReading]:
        """Poll every ``interval`` seconds (loop clock) and yield each good reading, for ever.

        Failed and refused reads are skipped (and reported through ``faults()``), never raised. The
        period is kept from a fixed start, so the cadence does not drift with the read time; a
        poll that overran its slot is not made up for.
        """
        if not interval > 0:
            raise ConfigurationError(f"interval must be > 0 seconds, got {interval!r}")
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            try:
                reading = await self.read()
            except HalError as err:
                log.debug("meter poll failed: %s", err)
            else:
                yield reading
            now = loop.time()
            due = max(due + interval, now)
            await asyncio.sleep(due - now)

    async def identity(self) -> MeterIdentity:
        """The meter's model and serial number (for BootNotification meterType/meterSerialNumber)."""
        return await self._bounded(self._read_identity(), "reading the identity of")

    # -- hooks for backends --------------------------------------------------------------------



    @abc.abstractmethod
    async def _read_values(self) -> dict[str, float]:
        """Read the meter once: measurand name -> SI value, energy in Wh."""

    @abc.abstractmethod
    async def _read_identity(self) -> MeterIdentity:
        """Read the meter's model and serial number."""

    # -- internals -----------------------------------------------------------------------------

    async def _bounded(self, coro: Coroutine[Any, Any, _T], doing: str) -> _T:
        try:
            async with asyncio.timeout(self.timeout):
                return await coro
        except DeviceTimeout:
            raise
        except TimeoutError as err:
            raise DeviceTimeout(f"meter did not answer within {self.timeout} s while {doing} it") from err

    def _check_energy(self, energy: float, now: float) -> None:
        if not math.isfinite(energy) or energy < 0:
            self.implausible_readings += 1
            raise ImplausibleValue(f"meter import energy {energy!r} Wh is not a meter reading")
        if energy > MAX_ENERGY_WH:
            self.implausible_readings += 1
            raise ImplausibleValue(f"meter import energy {energy:.0f} Wh is above {MAX_ENERGY_WH} Wh, "
                                   "more than a transaction record can carry")
        last = self._last_good
        if last is None:
            return
        if energy < last.energy_import_wh:
            self.implausible_readings += 1
            raise ImplausibleValue(
                f"meter import energy went backwards: {energy:.3f} Wh after {last.energy_import_wh:.3f} Wh"
            )
        elapsed = max(0.0, now - last.taken_at)
        allowed = self.max_power_w * (elapsed + CLOCK_SLACK_S) / 3600.0
        allowed += max(MIN_MARGIN_WH, last.energy_import_wh * FLOAT32_STEPS)
        if energy - last.energy_import_wh > allowed:
            self.implausible_readings += 1
            raise ImplausibleValue(
                f"meter import energy jumped by {energy - last.energy_import_wh:.3f} Wh in {elapsed:.3f} s; "
                f"at most {allowed:.3f} Wh is possible at {self.max_power_w:.0f} W"
            )


_PHASES = ("l1", "l2", "l3")


def _phase_tuple(values: dict[str, float], prefix: str) -> tuple[float, ...]:
    # Stop at the first missing phase: a tuple position means a phase, so (L1, L3) must not pass as
    # (L1, L2).
    out: list[float] = []
    for phase in _PHASES:
        value = values.get(f"{prefix}_{phase}")
        if value is None:
            break
        out.append(value)
    return tuple(out)


_FIELDS = {"energy_import_wh", "energy_export_wh", "power_w", "frequency_hz", "temperature_c"}
_FIELDS |= {f"{p}_{ph}" for p in ("current", "voltage") for ph in _PHASES}


def _to_reading(values: dict[str, float], taken_at: float) -> MeterReading:
    finite = {k: v for k, v in values.items() if math.isfinite(v)}
    return MeterReading(
        energy_import_wh=values["energy_import_wh"],
        taken_at=taken_at,
        energy_export_wh=finite.get("energy_export_wh"),
        power_w=finite.get("power_w"),
        current_a=_phase_tuple(finite, "current"),
        voltage_v=_phase_tuple(finite, "voltage"),
        frequency_hz=finite.get("frequency_hz"),
        temperature_c=finite.get("temperature_c"),
        extra={k: v for k, v in finite.items() if k not in _FIELDS},
    )
