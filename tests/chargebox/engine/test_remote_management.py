"""Central System commands with state (spec chapter 5) on a virtual clock: ChangeAvailability,
ReserveNow / CancelReservation, Reset, UnlockConnector, DataTransfer, RemoteStart on reserved
connectors; what the box does to its hardware, what it persists and announces, and after a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hal.events import CardPresented, PilotState
from hal.lock.base import CableLock
from hal.signal import Signal

from chargebox.clock import Clock, loop_wall_clock
from chargebox.engine.chargepoint import ChargePoint, ConnectorHardware, Identity
from chargebox.engine.configuration import Configuration
from chargebox.engine.station import RESERVATIONS
from chargebox.engine.datatransfer import DataTransfers
from chargebox.engine.management import install
from chargebox.ocpp.datatypes import IdTagInfo
from chargebox.ocpp.enums import (
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    DataTransferStatus,
    Reason,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    UnlockStatus,
)
from chargebox.ocpp.errors import CentralSystemUnreachable, NotSupported
from chargebox.ocpp.messages import (
    CancelReservationRequest,
    ChangeAvailabilityRequest,
    ChangeConfigurationRequest,
    DataTransferConfirmation,
    DataTransferRequest,
    RemoteStartTransactionRequest,
    ReserveNowRequest,
    ResetRequest,
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
    UnlockConnectorRequest,
)
from chargebox.ocpp.versions import OCPP15, OCPP16
from chargebox.store import Store
from tests.chargebox.engine.fakes import EPOCH, Box, FakeCentralSystem, FakeMeter, FakePilot, FakeRelay

pytestmark = pytest.mark.looptime(end=7 * 86400)

RESERVED = CardPresented(bytes.fromhex("0A0B0C0D"))  # idTag 0A0B0C0D
OTHER = CardPresented(bytes.fromhex("01020304"))


def statuses(cs: FakeCentralSystem, connector: int) -> list[str]:
    return [r.status.value for r in cs.of("StatusNotification")
            if isinstance(r, StatusNotificationRequest) and r.connector_id == connector]


async def announced(cs: FakeCentralSystem, connector: int, status: ChargePointStatus) -> None:
    """Until the box has told the Central System ``connector`` is ``status`` (again)."""
    async with cs.received:
        await cs.received.wait_for(lambda: statuses(cs, connector)[-1:] == [status.value])


async def booted(box: Box) -> ChargePoint:
    cp = box.start()
    await cp.uplink.booted.wait()
    cp.uplink.announce_all()
    return cp


def reserve(box: Box, connector: int = 1, reservation_id: int = 5, id_tag: str = "0A0B0C0D",
            parent: str | None = None, minutes: int = 30) -> ReserveNowRequest:
    expiry = box.cp.clock.now() + timedelta(minutes=minutes)
    return ReserveNowRequest(connector_id=connector, expiry_date=expiry, id_tag=id_tag, parent_id_tag=parent,
                             reservation_id=reservation_id)


async def charging(box: Box, connector: int = 1, card: CardPresented = RESERVED) -> None:
    await box.pilots[connector - 1].put(PilotState.B)
    await box.cp.cards.present(card)
    await box.pilots[connector - 1].put(PilotState.C)
    await box.relays[connector - 1].wait(True)


# -- ChangeAvailability (5.2) ----------------------------------------------------------------------

async def test_an_inoperative_connector_is_unavailable_refuses_sessions_and_stays_so_after_a_restart() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = await booted(box)
    conf = await cp.handle(ChangeAvailabilityRequest(connector_id=1, type=AvailabilityType.INOPERATIVE))
    assert conf.status is AvailabilityStatus.ACCEPTED  # type: ignore[attr-defined]
    await announced(cs, 1, ChargePointStatus.UNAVAILABLE)
    await box.pilots[0].put(PilotState.B)
    await cp.cards.present(RESERVED)
    remote = await cp.handle(RemoteStartTransactionRequest(id_tag="0A0B0C0D"))
    assert remote.status is RemoteStartStopStatus.REJECTED  # type: ignore[attr-defined]
    assert "Authorize" not in cs.actions() and "StartTransaction" not in cs.actions()
    assert box.relays[0].history == [False] and box.pilots[0].offered is None  # never offered, never closed
    assert cp.ports[1].machine.status is ChargePointStatus.UNAVAILABLE  # a cable does not make it Preparing
    again = await cp.handle(ChangeAvailabilityRequest(connector_id=1, type=AvailabilityType.INOPERATIVE))
    assert again.status is AvailabilityStatus.ACCEPTED  # type: ignore[attr-defined]  # the state it is in

    cs.sent.clear()
    cp = await box.restart()
    await cp.uplink.booted.wait()
    await announced(cs, 1, ChargePointStatus.UNAVAILABLE)
    await box.pilots[0].put(PilotState.B)  # the new pilot device reads the cable that stayed in
    conf = await cp.handle(ChangeAvailabilityRequest(connector_id=1, type=AvailabilityType.OPERATIVE))
    assert conf.status is AvailabilityStatus.ACCEPTED  # type: ignore[attr-defined]
    await announced(cs, 1, ChargePointStatus.PREPARING)  # the cable is still in
    await cp.cards.present(RESERVED)
    await cs.wait("StartTransaction")
    await box.stop()


async def test_back_to_back_availability_changes_give_one_notification_per_change_in_order() -> None:
    cs = FakeCentralSystem()
    cs.latency = 0.5  # each StatusNotification is still on its way when the next change comes
    box = Box(cs)
    cp = await booted(box)
    await asyncio.sleep(10)  # the statuses at boot are told
    for _ in range(5):
        before = {n: len(statuses(cs, n)) for n in (0, 1)}
        await cp.handle(ChangeAvailabilityRequest(connector_id=0, type=AvailabilityType.INOPERATIVE))
        await asyncio.sleep(0.1)
        await cp.handle(ChangeAvailabilityRequest(connector_id=0, type=AvailabilityType.OPERATIVE))
        await asyncio.sleep(10)  # everything is told
        for n in (0, 1):
            assert statuses(cs, n)[before[n]:] == ["Unavailable", "Available"], (n, statuses(cs, n))
    assert cp.station.box_operative and cp.ports[1].machine.status is ChargePointStatus.AVAILABLE
    await box.stop()


async def test_inoperative_during_a_transaction_is_scheduled_and_applied_when_it_ends() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = await booted(box)
    await charging(box)
    conf = await cp.handle(ChangeAvailabilityRequest(connector_id=1, type=AvailabilityType.INOPERATIVE))
    assert conf.status is AvailabilityStatus.SCHEDULED  # type: ignore[attr-defined]
    assert box.relays[0].closed and cp.ports[1].machine.status is ChargePointStatus.CHARGING
    await cp.cards.present(RESERVED)  # the driver ends the session
    await cs.wait("StopTransaction")
    await announced(cs, 1, ChargePointStatus.UNAVAILABLE)
    assert not cp.journal.running() and not box.relays[0].closed
    await box.stop()


async def test_the_box_set_inoperative_waits_for_its_transactions_then_reports_connector_zero() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2)
    cp = await booted(box)
    await charging(box, 1)
    conf = await cp.handle(ChangeAvailabilityRequest(connector_id=0, type=AvailabilityType.INOPERATIVE))
    assert conf.status is AvailabilityStatus.SCHEDULED  # type: ignore[attr-defined]
    await announced(cs, 2, ChargePointStatus.UNAVAILABLE)  # the idle connector at once
    assert statuses(cs, 0) == []  # the box as a whole still charges
    await cp.cards.present(RESERVED)
    await announced(cs, 1, ChargePointStatus.UNAVAILABLE)
    await announced(cs, 0, ChargePointStatus.UNAVAILABLE)

    cs.sent.clear()
    cp = await box.restart()
    await announced(cs, 0, ChargePointStatus.UNAVAILABLE)
    await announced(cs, 2, ChargePointStatus.UNAVAILABLE)
    unknown = await cp.handle(ChangeAvailabilityRequest(connector_id=3, type=AvailabilityType.OPERATIVE))
    assert unknown.status is AvailabilityStatus.REJECTED  # type: ignore[attr-defined]
    conf = await cp.handle(ChangeAvailabilityRequest(connector_id=0, type=AvailabilityType.OPERATIVE))
    assert conf.status is AvailabilityStatus.ACCEPTED  # type: ignore[attr-defined]
    await announced(cs, 0, ChargePointStatus.AVAILABLE)
    await announced(cs, 2, ChargePointStatus.AVAILABLE)
    await box.stop()


# -- ReserveNow / CancelReservation (5.11, 5.1) ----------------------------------------------------

async def test_a_reserved_connector_refuses_other_cards_and_the_reserved_start_carries_the_reservation_id() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = await booted(box)
    conf = await cp.handle(reserve(box))
    assert conf.status is ReservationStatus.ACCEPTED  # type: ignore[attr-defined]
    await announced(cs, 1, ChargePointStatus.RESERVED)
    await box.pilots[0].put(PilotState.B)
    await cp.cards.present(OTHER)
    remote = await cp.handle(RemoteStartTransactionRequest(id_tag="01020304", connector_id=1))
    assert remote.status is RemoteStartStopStatus.REJECTED  # type: ignore[attr-defined]
    assert "Authorize" not in cs.actions() and box.relays[0].history == [False]
    await cp.cards.present(RESERVED)
    (start,) = await cs.wait("StartTransaction")
    assert isinstance(start, StartTransactionRequest) and start.reservation_id == 5
    assert cp.journal.recent(1)[0].reservation_id == 5
    assert cp.ports[1].machine.reservation is None  # the transaction ended the reservation
    cancel = await cp.handle(CancelReservationRequest(reservation_id=5))
    assert cancel.status is CancelReservationStatus.REJECTED  # type: ignore[attr-defined]
    await box.stop()


async def test_reserve_now_answers_every_status_of_7_32() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2)
    cp = await booted(box)
    assert (await cp.handle(reserve(box, 3))).status is ReservationStatus.REJECTED  # type: ignore[attr-defined]
    assert (await cp.handle(reserve(box, 1, minutes=-1))).status is ReservationStatus.REJECTED  # type: ignore[attr-defined]
    await box.pilots[0].put(PilotState.B)
    assert (await cp.handle(reserve(box, 1))).status is ReservationStatus.OCCUPIED  # type: ignore[attr-defined]
    await box.pilots[0].put(PilotState.E)
    assert (await cp.handle(reserve(box, 1))).status is ReservationStatus.FAULTED  # type: ignore[attr-defined]
    await cp.handle(ChangeAvailabilityRequest(connector_id=2, type=AvailabilityType.INOPERATIVE))
    assert (await cp.handle(reserve(box, 2))).status is ReservationStatus.UNAVAILABLE  # type: ignore[attr-defined]
    # The whole box: Occupied when a connector is busy, Faulted/Unavailable only when all are.
    assert (await cp.handle(reserve(box, 0))).status is ReservationStatus.UNAVAILABLE  # type: ignore[attr-defined]
    await cp.handle(ChangeAvailabilityRequest(connector_id=2, type=AvailabilityType.OPERATIVE))
    assert (await cp.handle(reserve(box, 2, 7, "AAAA"))).status is ReservationStatus.ACCEPTED  # type: ignore[attr-defined]
    assert (await cp.handle(reserve(box, 2, 8, "BBBB"))).status is ReservationStatus.OCCUPIED  # type: ignore[attr-defined]
    assert (await cp.handle(reserve(box, 2, 8, "AAAA"))).status is ReservationStatus.OCCUPIED  # type: ignore[attr-defined]
    await cp.handle(ChangeConfigurationRequest(key="ReservationEnabled", value="false"))
    assert (await cp.handle(reserve(box, 2, 7))).status is ReservationStatus.REJECTED  # type: ignore[attr-defined]
    assert cp.ports[2].machine.reservation is not None and cp.ports[2].machine.reservation.id_tag == "AAAA"
    await box.stop()


async def test_the_same_reservation_id_replaces_the_reservation_and_cancel_frees_the_connector() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2)
    cp = await booted(box)
    await cp.handle(reserve(box, 1, 5))
    await announced(cs, 1, ChargePointStatus.RESERVED)
    conf = await cp.handle(reserve(box, 2, 5, "CCCC"))
    assert conf.status is ReservationStatus.ACCEPTED  # type: ignore[attr-defined]
    await announced(cs, 1, ChargePointStatus.AVAILABLE)
    await announced(cs, 2, ChargePointStatus.RESERVED)
    assert cp.ports[2].machine.reservation is not None and cp.ports[2].machine.reservation.id_tag == "CCCC"
    cancel = await cp.handle(CancelReservationRequest(reservation_id=5))
    assert cancel.status is CancelReservationStatus.ACCEPTED  # type: ignore[attr-defined]
    await announced(cs, 2, ChargePointStatus.AVAILABLE)
    await box.stop()


async def test_a_reservation_ends_at_its_expiry_date_and_on_a_fault() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2)
    cp = await booted(box)
    await cp.handle(reserve(box, 1, 5, minutes=30))
    await cp.handle(reserve(box, 2, 6, minutes=600))
    start = asyncio.get_running_loop().time()
    await announced(cs, 2, ChargePointStatus.RESERVED)
    await announced(cs, 1, ChargePointStatus.AVAILABLE)  # expired
    assert asyncio.get_running_loop().time() - start == pytest.approx(1800, abs=1)
    await box.pilots[1].put(PilotState.E)  # Faulted: the reservation ends (5.11)
    await announced(cs, 2, ChargePointStatus.FAULTED)
    # Saved at once: a power cut now must not bring it back at the next start.
    assert box.store.settings.load(RESERVATIONS) is None
    await box.pilots[1].put(PilotState.A)
    await announced(cs, 2, ChargePointStatus.AVAILABLE)
    assert not box.management.reservations.held()
    await box.stop()


async def test_a_group_reservation_takes_any_card_of_the_group_asking_the_central_system() -> None:
    cs = FakeCentralSystem()
    cs.tags["0A0B0C0D"] = IdTagInfo(AuthorizationStatus.ACCEPTED, parent_id_tag="GROUP")
    cs.tags["01020304"] = IdTagInfo(AuthorizationStatus.ACCEPTED, parent_id_tag="STRANGERS")
    box = Box(cs)
    cp = await booted(box)
    await cp.handle(reserve(box, 1, 9, id_tag="LEADER", parent="GROUP"))
    await box.pilots[0].put(PilotState.B)
    await cp.cards.present(OTHER)  # Authorize: not of the group
    await cs.wait("Authorize")
    assert "StartTransaction" not in cs.actions()
    await cp.cards.present(RESERVED)  # Authorize: parent GROUP
    (start,) = await cs.wait("StartTransaction")
    assert isinstance(start, StartTransactionRequest) and (start.id_tag, start.reservation_id) == ("0A0B0C0D", 9)
    await box.stop()


async def test_a_remote_start_of_a_group_member_learns_its_group_from_the_central_system() -> None:
    cs = FakeCentralSystem()
    cs.tags["MEMBER"] = IdTagInfo(AuthorizationStatus.ACCEPTED, parent_id_tag="GROUP")
    box = Box(cs)
    cp = await booted(box)
    await cp.handle(reserve(box, 1, 9, id_tag="LEADER", parent="GROUP"))
    stranger = await cp.handle(RemoteStartTransactionRequest(id_tag="STRANGER", connector_id=1))
    assert stranger.status is RemoteStartStopStatus.REJECTED  # type: ignore[attr-defined]
    member = await cp.handle(RemoteStartTransactionRequest(id_tag="MEMBER"))
    assert member.status is RemoteStartStopStatus.ACCEPTED  # type: ignore[attr-defined]
    await box.pilots[0].put(PilotState.C)
    (start,) = await cs.wait("StartTransaction")
    assert isinstance(start, StartTransactionRequest) and (start.id_tag, start.reservation_id) == ("MEMBER", 9)
    await box.stop()


async def test_a_reservation_for_connector_zero_keeps_one_connector_and_moves_with_its_tag() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2)
    cp = await booted(box)
    conf = await cp.handle(reserve(box, 0, 11))
    assert conf.status is ReservationStatus.ACCEPTED  # type: ignore[attr-defined]
    await announced(cs, 1, ChargePointStatus.RESERVED)
    await charging(box, 2, OTHER)  # another card takes the other connector
    await cp.cards.present(OTHER)
    await cs.wait("StopTransaction")
    assert "Authorize" in cs.actions() and box.management.reservations.held()[11][0] == 1
    # The reserved card at connector 2, where its cable is: the reservation goes with it.
    await box.pilots[1].put(PilotState.A)
    await box.pilots[1].put(PilotState.B)
    await cp.cards.present(RESERVED)
    starts = await cs.wait("StartTransaction", 2)
    assert isinstance(starts[1], StartTransactionRequest)
    assert (starts[1].connector_id, starts[1].reservation_id) == (2, 11)
    await announced(cs, 1, ChargePointStatus.AVAILABLE)
    await box.stop()


async def test_reservations_survive_a_restart_unless_a_transaction_ended_them() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2)
    cp = await booted(box)
    await cp.handle(reserve(box, 1, 5))
    await cp.handle(reserve(box, 2, 6, "01020304"))
    await charging(box, 2, OTHER)  # ends reservation 6
    await cs.wait("StartTransaction")  # told once its relay has closed
    cs.sent.clear()
    cp = await box.restart()
    await announced(cs, 1, ChargePointStatus.RESERVED)
    assert set(box.management.reservations.held()) == {5}
    await box.pilots[0].put(PilotState.B)
    await cp.cards.present(RESERVED)
    start = next(r for r in await cs.wait("StartTransaction") if r.connector_id == 1)  # type: ignore[attr-defined]
    assert start.reservation_id == 5  # type: ignore[attr-defined]
    await box.stop()


# -- Reset (5.12) ----------------------------------------------------------------------------------

async def test_a_soft_reset_stops_the_transaction_normally_then_restarts() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = await booted(box)
    await charging(box)
    conf = await cp.handle(ResetRequest(type=ResetType.SOFT))
    assert conf.status is ResetStatus.ACCEPTED  # type: ignore[attr-defined]
    (stop,) = await cs.wait("StopTransaction")
    await box.relays[0].wait(False)
    assert isinstance(stop, StopTransactionRequest) and stop.id_tag is None  # stopped by the box (6.43)
    assert cp.journal.recent(1)[0].stop_reason == "SoftReset"
    async with cs.received:
        await cs.received.wait_for(lambda: box.restarts == ["soft"])
    assert cp.outbox.depth() == 0  # the StopTransaction left before the restart
    assert cp.free_port(id_tag="0A0B0C0D") is None  # no new session meanwhile
    await box.stop()


async def test_a_hard_reset_that_does_not_reboot_is_retried_then_reported_as_reset_failure() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, ResetRetries="1")
    cp = await booted(box)
    await cp.handle(ResetRequest(type=ResetType.HARD))
    while box.restarts != ["hard"]:
        await asyncio.sleep(1)
    for expected in (["hard", "hard"], ["hard", "hard"]):  # the board stays up: same boot id
        cs.sent.clear()
        cp = await box.restart()
        await cs.wait("BootNotification")
        await asyncio.sleep(60)
        assert box.restarts == expected
    failure = [r for r in cs.of("StatusNotification") if r.connector_id == 0]  # type: ignore[attr-defined]
    assert [(r.status, r.error_code) for r in failure] == [  # type: ignore[attr-defined]
        (ChargePointStatus.AVAILABLE, ChargePointErrorCode.RESET_FAILURE)]
    await box.stop()


async def test_a_hard_reset_that_rebooted_is_done() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = await booted(box)
    await cp.handle(ResetRequest(type=ResetType.HARD))
    while box.restarts != ["hard"]:
        await asyncio.sleep(1)
    box.boot_id = "boot-2"
    cs.sent.clear()
    await box.restart()
    await cs.wait("BootNotification")
    await asyncio.sleep(60)
    assert box.restarts == ["hard"] and not [r for r in cs.of("StatusNotification") if r.connector_id == 0]  # type: ignore[attr-defined]
    await box.stop()


async def test_reset_is_rejected_without_a_service_to_restart_the_daemon() -> None:
    store = Store.open(":memory:")
    cp = ChargePoint(identity=Identity("chargebox", "test"), client=FakeCentralSystem(), store=store,
                     config=Configuration(store.settings), clock=Clock(loop_wall_clock(EPOCH)),
                     connectors={1: ConnectorHardware(FakePilot(), FakeRelay(), FakeMeter(), 16.0)}, reader=None)
    install(cp, None)
    conf = await cp.handle(ResetRequest(type=ResetType.SOFT))
    assert conf.status is ResetStatus.REJECTED  # type: ignore[attr-defined]


# -- UnlockConnector (5.14) ------------------------------------------------------------------------

async def test_unlock_stops_the_transaction_first() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = await booted(box)
    await charging(box)
    conf = await cp.handle(UnlockConnectorRequest(connector_id=1))
    assert conf.status is UnlockStatus.UNLOCKED  # type: ignore[attr-defined]  # 1.5: Accepted
    assert not box.relays[0].closed and box.pilots[0].offered is None
    assert cp.journal.recent(1)[0].stop_reason == "UnlockCommand"
    await cs.wait("StopTransaction")
    wrong = await cp.handle(UnlockConnectorRequest(connector_id=2))
    assert wrong.status is UnlockStatus.NOT_SUPPORTED  # type: ignore[attr-defined]  # 1.5: Rejected
    await box.stop()


class FakeLock(CableLock):
    def __init__(self, jammed: bool) -> None:
        super().__init__(feedback_timeout=0.5)
        self.jammed = jammed
        self.feedback = Signal(True)

    async def _drive(self, locked: bool) -> None:
        if not self.jammed:
            self.feedback.set(locked)


@pytest.mark.parametrize(("jammed", "status"), [(False, UnlockStatus.UNLOCKED), (True, UnlockStatus.UNLOCK_FAILED)])
async def test_unlock_is_accepted_only_when_the_lock_reports_unlocked(jammed: bool, status: UnlockStatus) -> None:
    box = Box(FakeCentralSystem())
    lock = box.cp.ports[1].hardware.lock = FakeLock(jammed)
    lock.locked = True
    conf = await box.cp.handle(UnlockConnectorRequest(connector_id=1))
    assert conf.status is status  # type: ignore[attr-defined]
    assert lock.feedback is not None and lock.feedback.value is jammed


async def test_unlock_in_1_6_answers_not_supported_without_a_lock_or_connector_and_still_stops_first() -> None:
    """1.6 5.18, 7.46, errata 3.85; the 1.5 wire of the same answers is unchanged."""
    cs = FakeCentralSystem()
    box = Box(cs, version="1.6")
    cp = await booted(box)
    await charging(box)
    conf = await cp.handle(UnlockConnectorRequest(connector_id=1))  # a tethered cable: no lock
    assert conf.status is UnlockStatus.NOT_SUPPORTED  # type: ignore[attr-defined]
    [stop] = await cs.wait("StopTransaction")
    assert stop.reason is Reason.UNLOCK_COMMAND  # type: ignore[attr-defined]
    wrong = await cp.handle(UnlockConnectorRequest(connector_id=2))
    assert wrong.status is UnlockStatus.NOT_SUPPORTED  # type: ignore[attr-defined]
    await box.stop()
    said = {status: (OCPP15.form.say(status), OCPP16.form.say(status)) for status in (
        UnlockStatus.UNLOCKED, UnlockStatus.UNLOCK_FAILED, UnlockStatus.NOT_SUPPORTED)}
    assert said == {UnlockStatus.UNLOCKED: ("Accepted", "Unlocked"),
                    UnlockStatus.UNLOCK_FAILED: ("Rejected", "UnlockFailed"),
                    UnlockStatus.NOT_SUPPORTED: ("Rejected", "NotSupported")}


# -- DataTransfer (4.3, 5.5) -----------------------------------------------------------------------

async def test_data_transfer_from_the_central_system_goes_to_the_vendor_handler() -> None:
    box = Box(FakeCentralSystem())
    cp, transfers = box.cp, box.management.data_transfers
    echo = await cp.handle(DataTransferRequest(vendor_id="chargebox", message_id="Echo", data="ping"))
    assert echo == DataTransferConfirmation(status=DataTransferStatus.ACCEPTED, data="ping")
    vendor = await cp.handle(DataTransferRequest(vendor_id="com.example", message_id="Echo", data="x"))
    assert vendor == DataTransferConfirmation(status=DataTransferStatus.UNKNOWN_VENDOR_ID)  # and no data
    message = await cp.handle(DataTransferRequest(vendor_id="chargebox", message_id="echo"))  # case-sensitive
    assert message == DataTransferConfirmation(status=DataTransferStatus.UNKNOWN_MESSAGE_ID)

    async def anything(data: str | None) -> tuple[DataTransferStatus, str | None]:
        return DataTransferStatus.REJECTED, f"got {data}"

    transfers.register("com.example", None, anything)
    other = await cp.handle(DataTransferRequest(vendor_id="com.example", data="1"))
    assert other == DataTransferConfirmation(status=DataTransferStatus.REJECTED, data="got 1")
    with pytest.raises(ValueError, match="has a handler already"):
        transfers.register("chargebox", "Echo", anything)
    with pytest.raises(ValueError, match="string"):
        transfers.register("", "Echo", anything)
    with pytest.raises(ValueError, match="string"):
        transfers.register("com.example", "M" * 51, anything)


async def test_the_box_sends_data_transfer_once_booted() -> None:
    cs = FakeCentralSystem()
    cs.answers["DataTransfer"] = lambda request: DataTransferConfirmation(status=DataTransferStatus.ACCEPTED, data="ok")
    box = Box(cs)
    transfers: DataTransfers = box.management.data_transfers
    with pytest.raises(CentralSystemUnreachable, match="4.2"):
        await transfers.send("chargebox", "Hello")
    await booted(box)
    conf = await transfers.send("chargebox", "Hello", "data")
    assert conf == DataTransferConfirmation(status=DataTransferStatus.ACCEPTED, data="ok")
    (sent,) = cs.of("DataTransfer")
    assert sent == DataTransferRequest(vendor_id="chargebox", message_id="Hello", data="data")
    await box.stop()


# -- RemoteStartTransaction (5.9) ------------------------------------------------------------------

async def test_a_remote_start_without_connector_takes_the_first_free_one_and_lapses_without_a_cable() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2, ConnectionTimeOut="45")
    cp = await booted(box)
    await charging(box, 1)
    conf = await cp.handle(RemoteStartTransactionRequest(id_tag="REMOTE"))
    assert conf.status is RemoteStartStopStatus.ACCEPTED  # type: ignore[attr-defined]
    await asyncio.sleep(1)  # the meter is read first (a real meterStart), then it is authorized
    assert cp.ports[2].machine.id_tag == "REMOTE"
    await asyncio.sleep(46)
    assert cp.ports[2].machine.id_tag is None and box.relays[1].history == [False]
    await box.stop()


async def test_a_request_without_a_handler_is_not_supported() -> None:
    box = Box(FakeCentralSystem())
    del box.cp._routes[DataTransferRequest]  # as before a handler is registered
    with pytest.raises(NotSupported, match="DataTransfer"):
        await box.cp.handle(DataTransferRequest(vendor_id="chargebox"))
