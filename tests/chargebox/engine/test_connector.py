"""The connector machine: pilot events and authorization in, effects out, status computed."""

from __future__ import annotations

from datetime import datetime, timezone

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
from chargebox.engine.pilot import PilotEvent as E
from chargebox.ocpp.enums import AvailabilityStatus, ChargePointErrorCode, ChargePointStatus, ReservationStatus


def test_plug_then_card_starts_and_the_relay_follows_the_ev() -> None:
    c = Connector(1, 16.0)
    assert c.on_pilot(E.PLUGGED) == [] and c.status is ChargePointStatus.PREPARING
    assert c.on_authorized("TAG", None) == [OfferCurrent(16.0), BeginTransaction("TAG", None)]
    assert c.on_pilot(E.EV_READY) == [SwitchRelay(True)] and c.status is ChargePointStatus.CHARGING
    assert c.on_pilot(E.EV_PAUSED) == [SwitchRelay(False)] and c.phase is Phase.SUSPENDED
    assert c.status is ChargePointStatus.SUSPENDED_EV
    assert c.on_pilot(E.EV_READY) == [SwitchRelay(True)]
    assert c.on_stop("Local", "TAG") == [SwitchRelay(False), OfferCurrent(None), EndTransaction("Local", "TAG")]
    assert c.phase is Phase.FINISHING and c.status is ChargePointStatus.FINISHING
    assert c.on_pilot(E.UNPLUGGED) == [] and c.status is ChargePointStatus.AVAILABLE


def test_card_then_plug_starts_and_the_relay_never_closes_before_the_transaction() -> None:
    c = Connector(1, 32.0)
    assert c.on_authorized("TAG", "GROUP") == [] and c.phase is Phase.AUTHORIZED
    assert c.status is ChargePointStatus.AVAILABLE
    effects = c.on_pilot(E.PLUGGED) + c.on_pilot(E.EV_READY)  # A to C: both events
    assert effects == [OfferCurrent(32.0), BeginTransaction("TAG", "GROUP"), SwitchRelay(True)]


def test_an_authorization_without_a_cable_lapses() -> None:
    c = Connector(1, 16.0)
    c.on_authorized("TAG", None)
    c.on_connection_timeout()
    assert c.phase is Phase.IDLE and c.on_pilot(E.PLUGGED) == []


def test_unplugging_mid_session_ends_it_with_the_relay_open_first() -> None:
    c = Connector(1, 16.0)
    c.on_pilot(E.PLUGGED)
    c.on_authorized("TAG", None)
    c.on_pilot(E.EV_READY)
    assert c.on_pilot(E.UNPLUGGED) == [SwitchRelay(False), OfferCurrent(None), EndTransaction("EVDisconnected", None)]
    assert c.phase is Phase.IDLE


def test_a_pilot_fault_stops_the_session_and_faults_the_connector_until_it_clears() -> None:
    c = Connector(1, 16.0)
    c.on_pilot(E.PLUGGED)
    c.on_authorized("TAG", None)
    c.on_pilot(E.EV_READY)
    effects = c.on_pilot(E.ERROR)
    assert effects[:2] == [SwitchRelay(False), OfferCurrent(None)] and isinstance(effects[2], EndTransaction)
    assert c.status is ChargePointStatus.FAULTED and c.fault and c.fault.code is ChargePointErrorCode.MODE3_ERROR
    assert c.on_authorized("OTHER", None) == []  # no session on a faulted connector
    assert c.on_pilot(E.ERROR_CLEARED) == [] and c.on_pilot(E.UNPLUGGED) == []
    assert c.status is ChargePointStatus.AVAILABLE


def test_stop_without_a_transaction_does_nothing() -> None:
    assert Connector(1, 16.0).on_stop("Remote", None) == []


def _reservation(rid: int = 5, id_tag: str = "TAG", parent: str | None = None) -> Reservation:
    return Reservation(rid, 1, id_tag, parent, datetime(2030, 1, 1, tzinfo=timezone.utc))


def test_a_reservation_admits_its_tag_or_its_group_case_insensitively() -> None:
    r = _reservation(parent="GROUP")
    assert r.admits("tag", None) and r.admits("GROUP", None) and r.admits("MEMBER", "group")
    assert not r.admits("OTHER", None) and not r.admits("OTHER", "ELSEWHERE")
    assert r.may_admit("OTHER")  # a group reservation: only authorization tells
    assert not _reservation().may_admit("OTHER")
    assert _reservation().admits("OTHER", "TAG")  # a card whose parent id-tag is the reserved id-tag


def test_a_reserved_connector_refuses_other_tags_and_the_start_ends_the_reservation() -> None:
    c = Connector(1, 16.0)
    assert c.on_reserve(_reservation()) is ReservationStatus.ACCEPTED and c.status is ChargePointStatus.RESERVED
    assert c.on_reserve(_reservation(6)) is ReservationStatus.OCCUPIED  # reserved already
    assert c.on_reserve(_reservation(5, "NEW")) is ReservationStatus.ACCEPTED  # the same id replaces it
    assert not c.may_start("TAG") and c.may_start("NEW") and not c.may_start(None)
    assert c.on_authorized("TAG", None) == [] and c.phase is Phase.IDLE
    c.on_pilot(E.PLUGGED)
    assert c.status is ChargePointStatus.PREPARING and c.reservation is not None
    assert c.on_authorized("NEW", None)[1] == BeginTransaction("NEW", None, 5)
    assert c.reservation is None


def test_a_fault_or_unavailability_ends_a_reservation() -> None:
    c = Connector(1, 16.0)
    c.on_reserve(_reservation())
    c.on_fault(Fault(ChargePointErrorCode.GROUND_FAILURE))
    assert c.reservation is None and c.on_reserve(_reservation()) is ReservationStatus.FAULTED
    c.on_fault_cleared(ChargePointErrorCode.GROUND_FAILURE)
    c.on_reserve(_reservation())
    assert c.on_availability(False) is AvailabilityStatus.ACCEPTED and c.reservation is None
    assert c.status is ChargePointStatus.UNAVAILABLE and c.on_reserve(_reservation()) is ReservationStatus.UNAVAILABLE


def test_availability_changes_during_a_transaction_wait_for_its_end() -> None:
    c = Connector(1, 16.0)
    c.on_pilot(E.PLUGGED)
    c.on_authorized("TAG", None)
    assert c.on_availability(True) is AvailabilityStatus.ACCEPTED  # the state it is in
    assert c.on_availability(False) is AvailabilityStatus.SCHEDULED
    assert c.operative and c.status is ChargePointStatus.SUSPENDED_EV
    c.on_stop("Local", "TAG")
    assert not c.operative and c.status is ChargePointStatus.UNAVAILABLE and not c.can_start
    assert c.on_availability(True) is AvailabilityStatus.ACCEPTED and c.status is ChargePointStatus.FINISHING


def test_an_authorization_waiting_for_its_cable_lapses_when_the_connector_becomes_unavailable() -> None:
    c = Connector(1, 16.0)
    c.on_authorized("TAG", None)
    assert c.on_availability(False) is AvailabilityStatus.ACCEPTED
    assert c.phase is Phase.IDLE and c.on_pilot(E.PLUGGED) == []


def test_a_socket_outlet_holds_the_cable_from_before_the_offer_until_the_transaction_has_ended() -> None:
    c = Connector(1, 16.0, cable_lock=True)
    c.on_pilot(E.PLUGGED)
    assert c.on_authorized("TAG", None) == [LockCable(True), OfferCurrent(16.0), BeginTransaction("TAG", None)]
    assert c.on_stop("Local", "TAG") == [SwitchRelay(False), OfferCurrent(None), EndTransaction("Local", "TAG"),
                                         LockCable(False)]
    assert c.on_pilot(E.UNPLUGGED) == []  # released once, with the transaction's end


def test_a_lock_that_fails_ends_the_session_before_it_begins_and_leaves_the_cable_alone() -> None:
    c = Connector(1, 16.0, cable_lock=True)
    c.on_pilot(E.PLUGGED)
    c.on_authorized("TAG", None)
    # What replaces the offer and the BeginTransaction after the failed LockCable: no unlock of a
    # cable that was never held (4.9: relay open first).
    assert c.on_lock_failed(True, "jammed") == [SwitchRelay(False), OfferCurrent(None), EndTransaction("Other", None)]
    assert c.status is ChargePointStatus.FAULTED and c.fault == Fault(ChargePointErrorCode.CONNECTOR_LOCK_FAILURE,
                                                                      "jammed")
    assert c.on_lock_failed(False, "jammed") == []  # a release that fails changes nothing here


def test_a_deauthorized_transaction_is_suspended_by_the_box_even_while_the_ev_asks() -> None:
    """1.6 4.9: the EVSE withholds energy (StartTransaction.conf not Accepted), so SuspendedEVSE, which
    takes precedence over SuspendedEV; a charging connector is Charging until then."""
    c = Connector(1, 16.0)
    c.on_pilot(E.PLUGGED)
    c.on_authorized("TAG", None)
    c.on_pilot(E.EV_READY)
    assert c.status is ChargePointStatus.CHARGING
    assert c.on_deauthorized(stop=False) == [SwitchRelay(False), OfferCurrent(None)]
    assert c.status is ChargePointStatus.SUSPENDED_EVSE
    c.on_pilot(E.EV_PAUSED)
    assert c.status is ChargePointStatus.SUSPENDED_EVSE


def test_a_limit_below_6_a_suspends_the_session_by_the_evse_and_a_higher_one_resumes_it() -> None:
    c = Connector(1, 16.0)
    assert c.on_limit(10.0) == []  # no session: its next one starts with it
    c.on_pilot(E.PLUGGED)
    assert c.on_authorized("TAG", None)[0] == OfferCurrent(10.0)
    c.on_pilot(E.EV_READY)
    assert c.on_limit(None) == [OfferCurrent(None)] and c.status is ChargePointStatus.SUSPENDED_EVSE
    assert c.on_limit(None) == []  # no change, nothing to do
    assert c.on_limit(12.0) == [OfferCurrent(12.0)] and c.status is ChargePointStatus.CHARGING
    c.on_deauthorized(stop=False)
    assert c.on_limit(16.0) == []  # a deauthorized transaction gets no energy whatever the limit
