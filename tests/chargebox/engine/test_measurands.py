"""Meter values per measurand and phase (1.6 7.31-7.34, 9.1 MeterValuesSampledData), and 1.5 asked
only for what 1.5 has."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hal.events import CardPresented, MeterReading, PilotState

from chargebox.engine.configuration import Configuration
from chargebox.engine.metering import meter_value
from chargebox.ocpp.enums import ConfigurationStatus, Measurand, Phase, ReadingContext, UnitOfMeasure
from chargebox.ocpp.messages import MeterValuesRequest
from chargebox.store import Store
from tests.chargebox.engine.fakes import Box, FakeCentralSystem

WHEN = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
THREE_PHASES = MeterReading(energy_import_wh=1500.4, taken_at=0.0, power_w=11000.0, current_a=(16.0, 15.5, 16.2),
                            voltage_v=(230.1, 229.8, 231.0), frequency_hz=49.98)
ASKED = [Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, Measurand.CURRENT_IMPORT, Measurand.VOLTAGE,
         Measurand.FREQUENCY, Measurand.CURRENT_OFFERED]


def said(reading: MeterReading, per_phase: bool, offered: float | None) -> list[tuple[object, ...]]:
    value = meter_value(reading, ASKED, ReadingContext.SAMPLE_PERIODIC, WHEN, per_phase=per_phase, offered=offered)
    assert value is not None
    return [(v.measurand, v.phase, v.value, v.unit) for v in value.values]


def test_in_1_6_each_phase_has_its_value_and_current_offered_and_frequency_are_read() -> None:
    assert said(THREE_PHASES, per_phase=True, offered=16.0) == [
        (Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, None, "1500", UnitOfMeasure.WH),
        (Measurand.CURRENT_IMPORT, Phase.L1, "16.00", UnitOfMeasure.AMP),
        (Measurand.CURRENT_IMPORT, Phase.L2, "15.50", UnitOfMeasure.AMP),
        (Measurand.CURRENT_IMPORT, Phase.L3, "16.20", UnitOfMeasure.AMP),
        (Measurand.VOLTAGE, Phase.L1_N, "230.1", UnitOfMeasure.VOLT),
        (Measurand.VOLTAGE, Phase.L2_N, "229.8", UnitOfMeasure.VOLT),
        (Measurand.VOLTAGE, Phase.L3_N, "231.0", UnitOfMeasure.VOLT),
        (Measurand.FREQUENCY, None, "49.98", None),  # 1.6 7.45 has no unit for hertz
        (Measurand.CURRENT_OFFERED, None, "16.0", UnitOfMeasure.AMP),
    ]


def test_without_phases_one_value_each_and_nothing_the_meter_does_not_offer() -> None:
    single = MeterReading(energy_import_wh=10.0, taken_at=0.0, current_a=(6.0,), voltage_v=(230.0,))
    assert said(THREE_PHASES, per_phase=False, offered=None)[1:3] == [
        (Measurand.CURRENT_IMPORT, None, "16.20", UnitOfMeasure.AMP),  # the highest phase
        (Measurand.VOLTAGE, None, "230.3", UnitOfMeasure.VOLT)]  # the mean
    assert [m for m, *_ in said(single, per_phase=True, offered=None)] == [
        Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, Measurand.CURRENT_IMPORT, Measurand.VOLTAGE]  # no frequency


@pytest.mark.parametrize(("version", "status"), [("1.5", ConfigurationStatus.REJECTED),
                                                 ("1.6", ConfigurationStatus.ACCEPTED)])
def test_1_5_is_never_asked_for_a_measurand_it_lacks(version: str, status: ConfigurationStatus) -> None:
    config = Configuration(Store.open(":memory:").settings, version=version)
    assert config.change("MeterValuesSampledData", "Energy.Active.Import.Register,Frequency") is status
    # A site default naming one: a 1.5 box leaves it out rather than set the message aside.
    site = Configuration(Store.open(":memory:").settings, {"StopTxnSampledData": "Current.Offered,Voltage"},
                         version=version)
    expected = [Measurand.VOLTAGE] if version == "1.5" else [Measurand.CURRENT_OFFERED, Measurand.VOLTAGE]
    assert site.measurands("StopTxnSampledData") == expected


@pytest.mark.looptime(end=7 * 86400)
async def test_a_1_6_box_samples_per_phase_with_the_offer() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, version="1.6", MeterValuesSampledData="Current.Import,Voltage,Current.Offered")
    box.start()
    await cs.wait("StatusNotification")
    await box.pilots[0].put(PilotState.B)
    await box.cp.cards.present(CardPresented(bytes.fromhex("0A0B0C0D")))
    await box.pilots[0].put(PilotState.C)
    [sample] = await cs.wait("MeterValues")
    await box.stop()
    assert isinstance(sample, MeterValuesRequest)
    assert [(v.measurand, v.phase, v.value) for v in sample.values[0].values] == [
        (Measurand.CURRENT_IMPORT, Phase.L1, "16.00"), (Measurand.VOLTAGE, Phase.L1_N, "230.0"),
        (Measurand.CURRENT_OFFERED, None, "16.0")]
