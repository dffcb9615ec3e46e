"""Meter readings as OCPP meter values (spec 4.7, 6.9.1, 7.22) and the clock-aligned schedule.

The HAL gives a :class:`~hal.events.MeterReading` in SI units; this module picks the measurands a
configuration key asks for (MeterValuesSampledData and the like) from what the meter offers, and
sets context, unit and location on each. OCPP 1.5 has no phase attribute (7.22), so per-phase
values become one value each: the highest phase current (what limits the charge) and the mean
phase voltage; in 1.6 (``per_phase``) each phase has its own value with its phase (7.31-7.34:
Current.Import L1, L2, L3; Voltage L1-N...). Current.Offered is the pilot's offer, Frequency the
meter's (1.6 only: the configuration never asks 1.5 for them). A measurand the meter does not offer
is left out, never invented.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from hal.events import MeterReading

from chargebox.ocpp.datatypes import MeterValue, SampledValue
from chargebox.ocpp.enums import Location, Measurand, Phase, ReadingContext, UnitOfMeasure

DAY = 86400


def whole_wh(reading: MeterReading) -> int:
    """meterStart and meterStop are whole Wh, rounded the same way at both ends (6.26, 6.28)."""
    return int(round(reading.energy_import_wh))


def _value(reading: MeterReading, measurand: Measurand) -> tuple[str, UnitOfMeasure] | None:
    r = reading
    if measurand is Measurand.ENERGY_ACTIVE_IMPORT_REGISTER:
        return str(whole_wh(r)), UnitOfMeasure.WH
    if measurand is Measurand.ENERGY_ACTIVE_EXPORT_REGISTER and r.energy_export_wh is not None:
        return str(int(round(r.energy_export_wh))), UnitOfMeasure.WH
    if measurand is Measurand.ENERGY_REACTIVE_IMPORT_REGISTER and "energy_reactive_import_varh" in r.extra:
        return str(int(round(r.extra["energy_reactive_import_varh"]))), UnitOfMeasure.VARH
    if measurand is Measurand.ENERGY_REACTIVE_EXPORT_REGISTER and "energy_reactive_export_varh" in r.extra:
        return str(int(round(r.extra["energy_reactive_export_varh"]))), UnitOfMeasure.VARH
    if measurand is Measurand.POWER_ACTIVE_IMPORT and r.power_w is not None:
        return f"{max(r.power_w, 0.0):.0f}", UnitOfMeasure.W
    if measurand is Measurand.POWER_ACTIVE_EXPORT and r.power_w is not None:
        return f"{max(-r.power_w, 0.0):.0f}", UnitOfMeasure.W
    if measurand is Measurand.POWER_REACTIVE_IMPORT and "power_reactive_var" in r.extra:
        return f"{r.extra['power_reactive_var']:.0f}", UnitOfMeasure.VAR
    if measurand is Measurand.CURRENT_IMPORT and r.current_a:
        return f"{max(r.current_a):.2f}", UnitOfMeasure.AMP
    if measurand is Measurand.VOLTAGE and r.voltage_v:
        return f"{sum(r.voltage_v) / len(r.voltage_v):.1f}", UnitOfMeasure.VOLT
    if measurand is Measurand.TEMPERATURE and r.temperature_c is not None:
        return f"{r.temperature_c:.1f}", UnitOfMeasure.CELSIUS
    return None


_PHASES = (Phase.L1, Phase.L2, Phase.L3)
_TO_NEUTRAL = (Phase.L1_N, Phase.L2_N, Phase.L3_N)


def _values(reading: MeterReading, measurand: Measurand, interval_start: MeterReading | None,
            per_phase: bool, offered: float | None) -> list[tuple[str, UnitOfMeasure | None, Phase | None]]:
    r = reading
    if measurand is Measurand.ENERGY_ACTIVE_IMPORT_INTERVAL and interval_start is not None:
        return [(str(whole_wh(r) - whole_wh(interval_start)), UnitOfMeasure.WH, None)]
    if per_phase and measurand is Measurand.CURRENT_IMPORT:
        return [(f"{amps:.2f}", UnitOfMeasure.AMP, phase) for phase, amps in zip(_PHASES, r.current_a)]
    if per_phase and measurand is Measurand.VOLTAGE:
        return [(f"{volts:.1f}", UnitOfMeasure.VOLT, phase) for phase, volts in zip(_TO_NEUTRAL, r.voltage_v)]
    if measurand is Measurand.CURRENT_OFFERED:
        return [] if offered is None else [(f"{offered:.1f}", UnitOfMeasure.AMP, None)]
    if measurand is Measurand.FREQUENCY:
        # 1.6 7.45 has no unit for hertz: the measurand says what the number is.
        return [] if r.frequency_hz is None else [(f"{r.frequency_hz:.2f}", None, None)]
    found = _value(r, measurand)
    return [] if found is None else [(found[0], found[1], None)]


def meter_value(reading: MeterReading, measurands: Iterable[Measurand], context: ReadingContext,
                timestamp: datetime, interval_start: MeterReading | None = None, *, per_phase: bool = False,
                offered: float | None = None) -> MeterValue | None:
    """One MeterValue with the requested measurands the reading has; None when it has none of them.

    ``interval_start`` is the reading at the start of the interval, for the Interval energies;
    ``per_phase``: a value per phase (1.6); ``offered``: the current the pilot offers (Current.Offered).
    """
    values = []
    for measurand in measurands:
        location = Location.BODY if measurand is Measurand.TEMPERATURE else Location.OUTLET
        for text, unit, phase in _values(reading, measurand, interval_start, per_phase, offered):
            values.append(SampledValue(text, context=context, measurand=measurand, phase=phase,
                                       location=location, unit=unit))
    return MeterValue(timestamp, values) if values else None


def next_aligned(now: datetime, interval: int) -> datetime:
    """The next boundary of ``interval``-second periods counted from midnight UTC (6.9.1)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    periods = int(elapsed // interval) + 1
    boundary = midnight + timedelta(seconds=periods * interval)
    # The last period of a day ends at midnight when the interval does not divide the day.
    return min(boundary, midnight + timedelta(seconds=DAY))
