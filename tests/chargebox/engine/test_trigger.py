"""TriggerMessage (1.6 5.17) and BootNotification Pending (1.6 4.2) on a virtual clock."""

from __future__ import annotations

import asyncio

import pytest
from hal.events import CardPresented, PilotState

from chargebox.engine.chargepoint import ChargePoint
from chargebox.ocpp.enums import (
    ChargePointStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    Measurand,
    MessageTrigger,
    ReadingContext,
    RegistrationStatus,
    RemoteStartStopStatus,
    TriggerMessageStatus,
)
from chargebox.ocpp.messages import (
    DiagnosticsStatusNotificationRequest,
    FirmwareStatusNotificationRequest,
    MeterValuesRequest,
    RemoteStartTransactionRequest,
    RemoteStopTransactionRequest,
    StatusNotificationRequest,
    TriggerMessageConfirmation,
    TriggerMessageRequest,
)
from chargebox.ocpp.versions import OCPP15, OCPP16
from tests.chargebox.engine.fakes import Box, FakeCentralSystem

pytestmark = pytest.mark.looptime(end=7 * 86400)

CARD = CardPresented(bytes.fromhex("0A0B0C0D"))


async def trigger(cp: ChargePoint, kind: MessageTrigger,
                  connector: int | None = None) -> TriggerMessageStatus:
    conf = await cp.handle(TriggerMessageRequest(requested_message=kind, connector_id=connector))
    assert isinstance(conf, TriggerMessageConfirmation)
    return conf.status


async def settled(box: Box) -> ChargePoint:
    """Booted, and every status told."""
    cp = box.start()
    await cp.uplink.booted.wait()
    await box.cs.wait("StatusNotification", len(box.pilots))  # the box starts as told: Available
    return cp


def told(cs: FakeCentralSystem) -> list[tuple[int, str]]:
    return [(r.connector_id, r.status.value) for r in cs.of("StatusNotification")
            if isinstance(r, StatusNotificationRequest)]


async def test_a_triggered_status_notification_goes_after_the_answer_even_unchanged() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2)
    cp = await settled(box)
    before = len(told(cs))
    assert await trigger(cp, MessageTrigger.STATUS_NOTIFICATION, 2) is TriggerMessageStatus.ACCEPTED
    assert len(told(cs)) == before  # the answer first (5.17)
    await cs.wait("StatusNotification", before + 1)
    assert told(cs)[before:] == [(2, "Available")]
    # Without connectorId: the box and each connector (5.17).
    assert await trigger(cp, MessageTrigger.STATUS_NOTIFICATION) is TriggerMessageStatus.ACCEPTED
    await cs.wait("StatusNotification", before + 4)
    assert told(cs)[before + 1:] == [(0, "Available"), (1, "Available"), (2, "Available")]
    # A connector the box lacks is Rejected, and nothing is sent.
    assert await trigger(cp, MessageTrigger.STATUS_NOTIFICATION, 3) is TriggerMessageStatus.REJECTED
    assert await trigger(cp, MessageTrigger.METER_VALUES, 3) is TriggerMessageStatus.REJECTED
    await asyncio.sleep(60)
    assert len(told(cs)) == before + 4 and not cs.of("MeterValues")
    await box.stop()


async def test_triggered_meter_values_are_a_fresh_reading_of_the_sampled_measurands() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, MeterValuesSampledData="Energy.Active.Import.Register,Power.Active.Import",
              MeterValueSampleInterval="0")
    cp = await settled(box)
    assert await trigger(cp, MessageTrigger.METER_VALUES) is TriggerMessageStatus.ACCEPTED
    [idle] = await cs.wait("MeterValues")
    assert isinstance(idle, MeterValuesRequest) and idle.transaction_id is None and idle.connector_id == 1
    await box.pilots[0].put(PilotState.B)
    await cp.cards.present(CARD)
    await box.pilots[0].put(PilotState.C)
    await cs.wait("StartTransaction")
    await asyncio.sleep(60)
    box.meters[0].energy_wh = 1061.4  # 3.68 kW for a minute
    assert await trigger(cp, MessageTrigger.METER_VALUES, 1) is TriggerMessageStatus.ACCEPTED
    [_, running] = await cs.wait("MeterValues", 2)
    assert isinstance(running, MeterValuesRequest) and running.transaction_id == cs.next_transaction_id
    [value] = running.values
    assert [(v.measurand, v.value, v.context) for v in value.values] == [
        (Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, "1061", ReadingContext.TRIGGER),
        (Measurand.POWER_ACTIVE_IMPORT, "3680", ReadingContext.TRIGGER)]
    await box.stop()


async def test_heartbeat_firmware_and_diagnostics_status_on_demand() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = await settled(box)
    assert await trigger(cp, MessageTrigger.HEARTBEAT) is TriggerMessageStatus.ACCEPTED
    await cs.wait("Heartbeat")
    assert await trigger(cp, MessageTrigger.FIRMWARE_STATUS_NOTIFICATION, 1) is TriggerMessageStatus.ACCEPTED
    assert await trigger(cp, MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION) is TriggerMessageStatus.ACCEPTED
    [firmware] = await cs.wait("FirmwareStatusNotification")
    [diagnostics] = await cs.wait("DiagnosticsStatusNotification")
    # Nothing under way: Idle (7.24, 7.25).
    assert isinstance(firmware, FirmwareStatusNotificationRequest) and firmware.status is FirmwareStatus.IDLE
    assert isinstance(diagnostics, DiagnosticsStatusNotificationRequest)
    assert diagnostics.status is DiagnosticsStatus.IDLE
    box.management.triggers.firmware = lambda: FirmwareStatus.DOWNLOADING
    assert await trigger(cp, MessageTrigger.FIRMWARE_STATUS_NOTIFICATION) is TriggerMessageStatus.ACCEPTED
    [_, downloading] = await cs.wait("FirmwareStatusNotification", 2)
    assert downloading.status is FirmwareStatus.DOWNLOADING  # type: ignore[attr-defined]
    # Once Accepted, a new BootNotification is Rejected (errata 3.35).
    assert await trigger(cp, MessageTrigger.BOOT_NOTIFICATION) is TriggerMessageStatus.REJECTED
    await asyncio.sleep(60)
    assert len(cs.of("BootNotification")) == 1
    await box.stop()


def test_only_1_6_routes_trigger_message() -> None:
    assert "TriggerMessage" in OCPP16.charge_point_operations
    assert "TriggerMessage" not in OCPP15.charge_point_operations


# -- BootNotification Pending (1.6 4.2) ------------------------------------------------------------

async def test_while_pending_the_box_sends_only_what_is_triggered_and_boots_again_at_the_interval() -> None:
    cs = FakeCentralSystem(boot=[RegistrationStatus.PENDING] * 3)  # the fake's interval: 120 s
    box = Box(cs)
    cp = box.start()
    await cs.wait("BootNotification")
    # A cable comes in, but its status does not leave while Pending.
    await box.pilots[0].put(PilotState.B)
    await cs.wait("BootNotification", 2)
    assert cs.actions() == ["BootNotification"] * 2
    first, second = cs.times("BootNotification")
    assert 120 <= second - first <= 144  # never before the interval (4.2), jittered up to 20 %
    assert cp.uplink.registration is RegistrationStatus.PENDING and not cp.uplink.booted.is_set()
    # Not allowed while Pending (4.2): the box refuses them.
    start = await cp.handle(RemoteStartTransactionRequest(id_tag="0A0B0C0D", connector_id=1))
    stop = await cp.handle(RemoteStopTransactionRequest(transaction_id=1))
    assert start.status is stop.status is RemoteStartStopStatus.REJECTED  # type: ignore[attr-defined]
    # The Central System asks for a status: it is sent now (the status lanes still wait).
    assert await trigger(cp, MessageTrigger.STATUS_NOTIFICATION, 1) is TriggerMessageStatus.ACCEPTED
    await cs.wait("StatusNotification")
    assert told(cs) == [(1, ChargePointStatus.PREPARING.value)]
    # A triggered BootNotification goes at once, in place of the retry; Accepted, everything follows.
    pending_at = asyncio.get_running_loop().time()
    assert await trigger(cp, MessageTrigger.BOOT_NOTIFICATION) is TriggerMessageStatus.ACCEPTED
    await cs.wait("BootNotification", 3)
    assert cs.times("BootNotification")[-1] == pending_at
    assert cp.uplink.registration is RegistrationStatus.PENDING  # the fake's third answer
    assert await trigger(cp, MessageTrigger.BOOT_NOTIFICATION) is TriggerMessageStatus.ACCEPTED
    await cp.uplink.booted.wait()
    assert cs.times("BootNotification")[-1] == pending_at
    await cs.wait("StatusNotification", 2)  # the lanes run now
    assert told(cs)[1:] == [(1, ChargePointStatus.PREPARING.value)]
    assert len(cs.of("BootNotification")) == 4
    await box.stop()
