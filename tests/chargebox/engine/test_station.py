"""The station core: events and requests in, effects out, with no event loop (plain functions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hal.events import PilotState

from chargebox.engine.connector import (
    BeginTransaction,
    Connector,
    EndTransaction,
    Fault,
    LockCable,
    OfferCurrent,
    Phase,
    Reservation,
    SwitchRelay,
)
from chargebox.engine.station import (
    AVAILABILITY,
    RESERVATIONS,
    Announce,
    CancelTimer,
    ConnectionTimeout,
    On,
    ReservationExpiry,
    Save,
    StartTimer,
    Station,
)
from chargebox.ocpp.enums import AvailabilityStatus, ChargePointErrorCode, ChargePointStatus, ReservationStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def station(connectors: int = 1, *, cable_lock: bool = False) -> Station:
    return Station({n: Connector(n, 16.0, cable_lock=cable_lock) for n in range(1, connectors + 1)})


def reservation(rid: int = 5, connector: int = 1, id_tag: str = "TAG", minutes: int = 30) -> Reservation:
    return Reservation(rid, connector, id_tag, None, NOW + timedelta(minutes=minutes))


def test_a_session_from_plug_to_unplug_gives_its_device_effects_and_statuses() -> None:
    s = station()
    assert s.on_pilot(1, PilotState.B) == [Announce(1)]
    assert s.status(1) == (ChargePointStatus.PREPARING, None)
    assert s.authorize(1, "TAG", None, connection_timeout=60) == [
        CancelTimer(ConnectionTimeout(1)), On(1, OfferCurrent(16.0)), On(1, BeginTransaction("TAG", None)),
        Announce(1)]
    assert s.on_pilot(1, PilotState.C) == [On(1, SwitchRelay(True)), Announce(1)]
    assert s.status(1)[0] is ChargePointStatus.CHARGING and not s.idle
    assert s.stopped_by("tag") == 1  # idTags compare case-insensitively (7.20)
    assert s.stop(1, "Local", "TAG") == [
        On(1, SwitchRelay(False)), On(1, OfferCurrent(None)), On(1, EndTransaction("Local", "TAG")), Announce(1)]
    assert s.status(1)[0] is ChargePointStatus.FINISHING and s.idle
    assert s.on_pilot(1, PilotState.A) == [Announce(1)]
    assert s.status(1)[0] is ChargePointStatus.AVAILABLE


def test_an_authorization_waits_for_its_cable_on_a_timer_and_lapses_when_it_fires() -> None:
    s = station()
    assert s.authorize(1, "TAG", None, connection_timeout=60) == [
        StartTimer(ConnectionTimeout(1), delay=60), Announce(1)]
    assert s.connectors[1].phase is Phase.AUTHORIZED
    assert s.on_timer(ConnectionTimeout(1), NOW) == [CancelTimer(ConnectionTimeout(1)), Announce(1)]
    assert s.connectors[1].phase is Phase.IDLE and s.on_pilot(1, PilotState.B) == [Announce(1)]  # no session


def test_a_cable_lock_that_fails_ends_the_session_before_it_begins() -> None:
    s = station(cable_lock=True)
    s.on_pilot(1, PilotState.B)
    effects = s.authorize(1, "TAG", None, connection_timeout=60)
    assert effects[1] == On(1, LockCable(True))  # held before any current is offered
    # The shell dropped the effects after the lock, so no transaction was journalled for the end to close.
    assert s.on_lock_failed(1, True, "stuck") == [
        On(1, SwitchRelay(False)), On(1, OfferCurrent(None)), On(1, EndTransaction("Other", None))]
    assert s.status(1) == (ChargePointStatus.FAULTED, Fault(ChargePointErrorCode.CONNECTOR_LOCK_FAILURE, "stuck"))


def test_unlock_connector_stops_the_session_then_releases_the_cable_as_effects() -> None:
    s = station(cable_lock=True)
    s.on_pilot(1, PilotState.B)
    s.authorize(1, "TAG", None, connection_timeout=60)
    # 5.14: the transaction ends first (its own release after the EndTransaction), then the lock
    # is released again whatever the session did: a plug stuck in the socket.
    assert s.unlock(1) == [
        On(1, SwitchRelay(False)), On(1, OfferCurrent(None)), On(1, EndTransaction("UnlockCommand", None)),
        On(1, LockCable(False)), Announce(1), On(1, LockCable(False))]
    assert s.unlock(1) == [Announce(1), On(1, LockCable(False))]  # no session: only the lock


def test_a_card_presented_again_while_its_presentation_is_handled_is_the_same_action() -> None:
    s = station()
    assert s.presentations.begin("0A0B0C0D")
    assert not s.presentations.begin("0a0b0c0d")  # the same card, other case (7.20)
    assert s.presentations.begin("OTHER")  # another card is an action of its own
    s.presentations.end("0a0b0c0d")
    assert s.presentations.begin("0A0B0C0D")  # handled: presented again, a new action


def test_a_reservation_is_saved_timed_and_ends_at_its_expiry() -> None:
    s = station(2)
    status, effects = s.reserve(reservation(), NOW)
    assert status is ReservationStatus.ACCEPTED
    assert effects[0] == StartTimer(ReservationExpiry(), at=NOW + timedelta(minutes=30))
    assert Save(RESERVATIONS, s.reservation_rows()) in effects and Announce(1) in effects
    assert s.status(1)[0] is ChargePointStatus.RESERVED
    assert s.free_connector(1, "OTHER") == (None, [])  # 5.11: reserved for another id-tag
    effects = s.on_timer(ReservationExpiry(), NOW + timedelta(minutes=30))
    assert effects[0] == CancelTimer(ReservationExpiry()) and Save(RESERVATIONS, None) in effects
    assert s.status(1)[0] is ChargePointStatus.AVAILABLE


def test_a_replacement_that_cannot_be_placed_leaves_the_reservation_standing() -> None:
    s = station(2)
    s.reserve(reservation(5, 1), NOW)
    s.on_pilot(2, PilotState.B)
    status, _ = s.reserve(reservation(5, 2, "NEW"), NOW)  # connector 2 is occupied
    assert status is ReservationStatus.OCCUPIED
    assert s.held() == {5: (1, reservation(5, 1))}
    assert s.reserve(reservation(6, 3), NOW)[0] is ReservationStatus.REJECTED  # no connector 3
    assert s.reserve(reservation(7, 2, minutes=-1), NOW)[0] is ReservationStatus.REJECTED  # expired already
    assert s.cancel_reservation(8) is None
    assert s.cancel_reservation(5) is not None and s.held() == {}


def test_a_reservation_for_any_connector_moves_where_its_id_tag_starts() -> None:
    s = station(2)
    s.reserve(reservation(5, 0), NOW)
    assert s.held()[5][0] == 1  # held on one connector that can take it
    s.on_pilot(2, PilotState.B)
    found, effects = s.free_connector(None, "TAG")
    assert found == 2 and Announce(1) in effects and Announce(2) in effects
    assert s.held()[5][0] == 2 and Save(RESERVATIONS, s.reservation_rows()) in effects
    assert s.authorize(2, "TAG", None, connection_timeout=60)[2] == On(2, BeginTransaction("TAG", None, 5))
    assert s.held() == {}


def test_a_fault_ends_a_reservation_and_has_it_saved_at_once() -> None:
    s = station()
    s.reserve(reservation(), NOW)
    effects = s.on_fault(1, Fault(ChargePointErrorCode.GROUND_FAILURE), active=True)
    assert effects == [Announce(1), Save(RESERVATIONS, None)]
    assert s.status(1)[0] is ChargePointStatus.FAULTED
    assert s.on_fault(1, Fault(ChargePointErrorCode.GROUND_FAILURE), active=False) == [Announce(1)]
    assert s.status(1) == (ChargePointStatus.AVAILABLE, None)


def test_the_box_set_inoperative_during_a_transaction_follows_once_it_ends() -> None:
    s = station(2)
    s.on_pilot(1, PilotState.C)
    s.authorize(1, "TAG", None, connection_timeout=60)
    status, effects = s.change_availability(0, operative=False)
    assert status is AvailabilityStatus.SCHEDULED
    assert effects[0] == Save(AVAILABILITY, {"0": False})
    assert s.status(0)[0] is ChargePointStatus.AVAILABLE and s.status(2)[0] is ChargePointStatus.UNAVAILABLE
    effects = s.stop(1, "Local", None)
    assert s.status(0)[0] is ChargePointStatus.UNAVAILABLE and s.status(1)[0] is ChargePointStatus.UNAVAILABLE
    assert Announce(0) in effects
    assert s.change_availability(3, operative=True) == (AvailabilityStatus.REJECTED, [])
    assert s.change_availability(0, operative=True)[0] is AvailabilityStatus.ACCEPTED
    assert s.status(0)[0] is ChargePointStatus.AVAILABLE and s.status(1)[0] is ChargePointStatus.FINISHING


def test_what_was_asked_before_a_restart_is_restored() -> None:
    s = station(2)
    rows = [{"held_on": 1, "reservation_id": 5, "connector_id": 1, "id_tag": "TAG", "parent_id_tag": None,
             "expiry": (NOW + timedelta(hours=1)).isoformat()},
            {"held_on": 2, "reservation_id": 6, "connector_id": 2, "id_tag": "TAG", "parent_id_tag": None,
             "expiry": (NOW + timedelta(hours=1)).isoformat()}]
    assert s.restore_reservations(rows, used={6}) == [6]  # a transaction ended reservation 6
    effects = s.restore_availability({1: False})
    assert s.held() == {} and effects == [Save(RESERVATIONS, None)]  # Unavailable ends it (5.11)
    assert s.status(1)[0] is ChargePointStatus.UNAVAILABLE and s.status(2)[0] is ChargePointStatus.AVAILABLE


def test_holds_box_faults_and_a_meter_that_cannot_be_read() -> None:
    s = station()
    s.session_holds.add("reset")
    assert s.free_connector() == (None, [])
    s.session_holds.clear()
    assert s.box_fault(Fault(ChargePointErrorCode.READER_FAILURE), active=True) == [Announce(0)]
    assert s.status(0) == (ChargePointStatus.AVAILABLE, Fault(ChargePointErrorCode.READER_FAILURE))
    assert s.on_meter(1, "timeout", in_transaction=False) == [Announce(1)]
    assert s.status(1)[0] is ChargePointStatus.FAULTED and s.free_connector(None, "TAG") == (None, [])
    assert s.on_meter(1, None, in_transaction=False) == [Announce(1)]
    assert s.status(1) == (ChargePointStatus.AVAILABLE, None) and s.on_meter(1, None, False) == []
