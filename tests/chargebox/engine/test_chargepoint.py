"""The charge point shell on a virtual clock (looptime): boot, heartbeats, sessions, metering, the
clock; hours of protocol time in milliseconds with fake hardware and a fake Central System."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from hal.events import CardPresented, PilotState

from chargebox.ocpp.versions import OCPP15
from chargebox.engine.hardware import DEVICE_STOP_TIMEOUT
from chargebox.ocpp.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    ConfigurationStatus,
    Measurand,
    ReadingContext,
    RegistrationStatus,
)
from chargebox.ocpp.messages import (
    ChangeConfigurationRequest,
    MeterValuesRequest,
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
)
from tests.chargebox.engine.fakes import EPOCH, Box, FakeCentralSystem

# A test that waits for something that never comes fails at a virtual week instead of hanging.
pytestmark = pytest.mark.looptime(end=7 * 86400)

CARD = CardPresented(bytes.fromhex("0A0B0C0D"))


async def plug_and_start(box: Box, connector: int = 1, card: CardPresented = CARD) -> None:
    await box.pilots[connector - 1].put(PilotState.B)
    await box.cp.cards.present(card)
    await box.pilots[connector - 1].put(PilotState.C)
    await box.relays[connector - 1].wait(True)


async def test_boot_is_retried_until_accepted_and_nothing_is_sent_before() -> None:
    cs = FakeCentralSystem(boot=[RegistrationStatus.REJECTED])
    cs.reachable = False
    box = Box(cs)
    box.start()
    await box.pilots[0].put(PilotState.B)  # an event while offline must not leak out before boot
    await asyncio.sleep(3600)
    cs.reachable = True
    await cs.wait("StatusNotification")
    await box.stop()
    boots = cs.times("BootNotification")
    assert cs.actions()[:2] == ["BootNotification", "BootNotification"]  # Rejected, then Accepted
    assert boots[0] >= 3600 and boots[1] - boots[0] >= 120 * 0.8  # the interval the CS gave
    assert cs.actions()[2:] == ["StatusNotification"]
    assert box.cp.config.integer("HeartBeatInterval") == 120 and box.cp.clock.synced


async def test_boot_retries_grow_with_jitter_while_unreachable() -> None:
    cs = FakeCentralSystem()
    cs.reachable = False
    attempts: list[float] = []
    real_call = cs.call

    async def counting(request, message_id=None):  # type: ignore[no-untyped-def]
        attempts.append(asyncio.get_running_loop().time())
        return await real_call(request, message_id)

    cs.call = counting  # type: ignore[method-assign]
    box = Box(cs)
    box.start()
    await asyncio.sleep(2000)
    await box.stop()
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    # 10, 20, 40, 80, 160, 320 s each ±20 %, then at most boot_retry_max (600 s).
    assert all(b > a for a, b in zip(gaps[:6], gaps[1:6])) and max(gaps) <= 600 * 1.2
    assert gaps[0] == pytest.approx(10, rel=0.21) and len(set(gaps)) == len(gaps)


async def test_heartbeats_follow_the_interval_and_a_change_applies_at_once() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = box.start()
    await cs.wait("Heartbeat", 2)
    conf = await cp.handle(ChangeConfigurationRequest(key="HeartBeatInterval", value="30"))
    assert conf.status is ConfigurationStatus.ACCEPTED  # type: ignore[attr-defined]
    await cs.wait("Heartbeat", 4)
    await box.stop()
    times = cs.times("Heartbeat")
    assert round(times[1] - times[0]) == 120 and round(times[3] - times[2]) == 30


async def test_a_heartbeat_is_skipped_when_other_traffic_went_out() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, MeterValueSampleInterval="50")
    box.start()
    await cs.wait("BootNotification")
    await plug_and_start(box)
    await cs.wait("MeterValues", 5)  # every 50 s, so never 120 s of silence
    await box.stop()
    assert cs.of("Heartbeat") == []


async def test_a_session_is_journalled_sent_in_order_and_metered() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, StopTxnSampledData="Energy.Active.Import.Register,Power.Active.Import")
    cp = box.start()
    await cs.wait("BootNotification")
    await plug_and_start(box)
    (start,) = await cs.wait("StartTransaction")
    box.meters[0].energy_wh = 1500.5
    await cs.wait("MeterValues", 2)
    await cp.cards.present(CardPresented(bytes.fromhex("0a0b0c0d")))  # same card, other case: it stops
    (stop,) = await cs.wait("StopTransaction")
    await box.stop()
    assert isinstance(start, StartTransactionRequest) and isinstance(stop, StopTransactionRequest)
    assert start.meter_start == 1000 and stop.meter_stop == 1500 and stop.transaction_id == 78
    assert box.relays[0].history[:3] == [False, True, False]
    samples = [r for r in cs.of("MeterValues") if isinstance(r, MeterValuesRequest)]
    assert all(s.transaction_id == 78 for s in samples)
    assert round(cs.times("MeterValues")[1] - cs.times("MeterValues")[0]) == 60
    value = samples[0].values[0].values[0]
    assert (value.measurand, value.context, value.unit, value.value) == (
        Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, ReadingContext.SAMPLE_PERIODIC, "Wh", "1500")
    # StopTxnSampledData: begin, each sample and end, with the measurands asked for.
    contexts = [mv.values[0].context for mv in stop.transaction_data[0].values]
    assert contexts[0] is ReadingContext.TRANSACTION_BEGIN and contexts[-1] is ReadingContext.TRANSACTION_END
    assert ReadingContext.SAMPLE_PERIODIC in contexts
    assert {v.measurand for v in stop.transaction_data[0].values[0].values} == {
        Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, Measurand.POWER_ACTIVE_IMPORT}
    assert cs.actions().index("StartTransaction") < cs.actions().index("StopTransaction")
    assert cp.journal.recent(1)[0].meter_stop == 1500 and cp.outbox.depth() == 0


async def test_sampling_interval_zero_sends_no_meter_values() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, MeterValueSampleInterval="0")
    box.start()
    await cs.wait("BootNotification")
    await plug_and_start(box)
    await asyncio.sleep(3600)
    await box.stop()
    assert cs.of("MeterValues") == [] and cs.of("StartTransaction")


async def test_clock_aligned_values_land_on_wall_clock_boundaries() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, ClockAlignedDataInterval="900", MeterValueSampleInterval="0")
    # The meter's answer takes a quarter of a second (binary-exact, so loop times stay round): the
    # sample is still the boundary's, to the microsecond.
    box.meters[0].delay = 0.25
    box.start()
    await asyncio.sleep(100)  # the box starts 100 s past midnight: boundaries at 900, 1800...
    await plug_and_start(box)
    samples = await cs.wait("MeterValues", 3)
    await box.stop()
    stamps = [r.values[0].timestamp for r in samples if isinstance(r, MeterValuesRequest)]
    assert stamps == [datetime.fromtimestamp(EPOCH + 900 * n, timezone.utc) for n in (1, 2, 3)]
    assert [s.values[0].values[0].context for s in samples] == [ReadingContext.SAMPLE_CLOCK] * 3  # type: ignore[attr-defined]
    assert all(s.transaction_id == 78 for s in samples)  # type: ignore[attr-defined]


async def test_an_authorization_without_a_cable_lapses_after_connection_timeout() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, ConnectionTimeOut="45")
    cp = box.start()
    await cs.wait("BootNotification")
    await cp.cards.present(CARD)
    await asyncio.sleep(46)
    await box.pilots[0].put(PilotState.B)
    await asyncio.sleep(5)
    await box.stop()
    assert cs.of("StartTransaction") == [] and True not in box.relays[0].history


async def test_a_meter_that_stops_answering_is_reported_and_never_ends_up_in_meter_stop() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = box.start()
    await cs.wait("BootNotification")
    await plug_and_start(box)
    box.meters[0].energy_wh = 1200.0
    await cs.wait("MeterValues", 1)  # the journal holds 1200
    box.meters[0].broken = True
    await asyncio.sleep(3 * 60 + 30)  # three samples fail: the meter reports itself faulty (fault_after)
    await cp.cards.present(CARD)
    (stop,) = await cs.wait("StopTransaction")
    await box.stop()
    statuses = [r for r in cs.of("StatusNotification") if isinstance(r, StatusNotificationRequest)]
    failure = [s for s in statuses if s.error_code is ChargePointErrorCode.POWER_METER_FAILURE]
    assert failure and failure[0].status is ChargePointStatus.CHARGING  # charging went on
    assert stop.meter_stop == 1200  # type: ignore[attr-defined]


async def test_timestamps_taken_before_the_clock_was_set_are_corrected() -> None:
    cs = FakeCentralSystem(clock_skew=7200.0)  # the box's own clock is two hours behind
    cs.reachable = False
    box = Box(cs, AllowOfflineTxForUnknownId="true")
    cp = box.start()
    await plug_and_start(box)  # offline, unknown card allowed
    await asyncio.sleep(600)
    cs.reachable = True
    (start,) = await cs.wait("StartTransaction")
    await box.stop()
    entry = cp.journal.recent(1)[0]
    assert entry.start_time_synced
    expected = datetime.fromtimestamp(EPOCH + 7200.0, timezone.utc)
    assert abs((start.timestamp - expected).total_seconds()) < 5  # type: ignore[attr-defined]


async def test_a_connector_whose_meter_never_answered_is_faulted_and_refuses_cards(
        caplog: pytest.LogCaptureFixture) -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    box.meters[0].broken = True  # it never answers, from the start
    cp = box.start()
    await box.pilots[0].put(PilotState.B)
    await asyncio.sleep(60)
    await cp.cards.present(CARD)
    await asyncio.sleep(60)
    told = [r for r in cs.of("StatusNotification")
            if isinstance(r, StatusNotificationRequest) and r.connector_id == 1]
    assert [(r.status, r.error_code) for r in told][-1:] == [
        (ChargePointStatus.FAULTED, ChargePointErrorCode.POWER_METER_FAILURE)]  # not available for charging
    assert cs.of("StartTransaction") == [] and True not in box.relays[0].history
    assert "card …0C0D refused: the meter of connector 1 cannot be read" in caplog.text
    box.meters[0].broken = False  # it answers again: within meter_retry the connector is usable
    await asyncio.sleep(11)
    assert cp.ports[1].machine.status is ChargePointStatus.PREPARING  # a cable in, no transaction
    await cp.cards.present(CARD)
    (start,) = await cs.wait("StartTransaction")
    await asyncio.sleep(60)
    await box.stop()
    assert isinstance(start, StartTransactionRequest) and start.meter_start == 1000
    assert cs.of("StopTransaction") == []


@pytest.mark.parametrize("again", [False, True], ids=["held", "presented-again-during-slow-work"])
async def test_one_presentation_is_one_action_however_slow_the_work_it_triggers(again: bool) -> None:
    cs = FakeCentralSystem()
    box = Box(cs, reader=True)
    box.meters[0].delay = 1.75  # a slow meter, just within its 2 s timeout
    box.start()
    await cs.wait("StatusNotification")
    await box.pilots[0].put(PilotState.B)
    assert box.reader is not None
    await box.reader.hold(CARD.uid, 0.3)  # frames at 0 and 0.2 s: one presentation
    if again:
        await asyncio.sleep(0.5)  # lifted for longer than the hold window, and back while the start is slow
        await box.reader.hold(CARD.uid, 0.3)
    await asyncio.sleep(60)
    await box.stop()
    assert len(cs.of("StartTransaction")) == 1 and cs.of("StopTransaction") == []


async def test_a_device_that_hangs_at_shutdown_does_not_hold_up_the_stop(caplog: pytest.LogCaptureFixture) -> None:
    """A stop ends within seconds whatever a device's library does (README, The service): the relay
    opens, a pilot whose close never returns is given DEVICE_STOP_TIMEOUT, named in the log, and the
    devices after it are closed all the same."""
    cs = FakeCentralSystem()
    box = Box(cs)
    never, meter_closed = asyncio.Event(), asyncio.Event()

    async def hang() -> None:
        await never.wait()

    async def close_meter() -> None:
        meter_closed.set()

    box.pilots[0]._close = hang  # type: ignore[method-assign]
    box.meters[0]._close = close_meter  # type: ignore[method-assign]
    box.start()
    await cs.wait("BootNotification")
    await plug_and_start(box)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await box.stop()
    assert loop.time() - began == pytest.approx(DEVICE_STOP_TIMEOUT, abs=0.5)
    assert box.relays[0].history[-1] is False and meter_closed.is_set()
    assert f"FakePilot of connector 1 did not answer within {DEVICE_STOP_TIMEOUT} s" in caplog.text


async def test_a_status_change_the_binding_cannot_tell_is_no_notification() -> None:
    """1.5 says Occupied for Preparing, Charging, SuspendedEV, SuspendedEVSE and Finishing (1.6 4.9):
    a session is Available, Occupied, Available on its wire, never Occupied twice in a row."""
    cs = FakeCentralSystem()
    box = Box(cs, told_as=OCPP15.form.say)
    cp = box.start()
    await cs.wait("BootNotification")
    await plug_and_start(box)
    await box.pilots[0].put(PilotState.B)  # the EV pauses: SuspendedEV
    await cp.cards.present(CARD)  # Finishing
    await cs.wait("StopTransaction")
    await box.pilots[0].put(PilotState.A)
    await asyncio.sleep(10)
    await box.stop()
    told = [r.status for r in cs.of("StatusNotification")
            if isinstance(r, StatusNotificationRequest) and r.connector_id == 1]
    assert [OCPP15.form.say(s) for s in told] == ["Available", "Occupied", "Available"], told
