"""The connector machine: pilot events and authorization in, effects out, status computed."""

from __future__ import annotations

from hal.events import PilotState as P

from chargebox.engine.connector import (
    BeginTransaction,
    Connector,
    EndTransaction,
    OfferCurrent,
    Phase,
    SwitchRelay,
)
from chargebox.ocpp.enums import ChargePointErrorCode, ChargePointStatus


def test_plug_then_card_starts_and_the_relay_follows_the_ev() -> None:
    c = Connector(1, 16.0)
    assert c.on_pilot(P.B) == [] and c.status is ChargePointStatus.OCCUPIED
    assert c.on_authorized("TAG", None) == [BeginTransaction("TAG", None), OfferCurrent(16.0)]
    assert c.on_pilot(P.C) == [SwitchRelay(True)]
    assert c.on_pilot(P.B) == [SwitchRelay(False)] and c.phase is Phase.SUSPENDED
    assert c.on_pilot(P.C) == [SwitchRelay(True)]
    assert c.on_stop("Local", "TAG") == [SwitchRelay(False), OfferCurrent(None), EndTransaction("Local", "TAG")]
    assert c.phase is Phase.FINISHING and c.status is ChargePointStatus.OCCUPIED
    assert c.on_pilot(P.A) == [] and c.status is ChargePointStatus.AVAILABLE


def test_card_then_plug_starts_and_the_relay_never_closes_before_the_transaction() -> None:
    c = Connector(1, 32.0)
    assert c.on_authorized("TAG", "GROUP") == [] and c.phase is Phase.AUTHORIZED
    assert c.status is ChargePointStatus.AVAILABLE
    effects = c.on_pilot(P.C)
    assert effects == [BeginTransaction("TAG", "GROUP"), OfferCurrent(32.0), SwitchRelay(True)]


def test_an_authorization_without_a_cable_lapses() -> None:
    c = Connector(1, 16.0)
    c.on_authorized("TAG", None)
    c.on_connection_timeout()
    assert c.phase is Phase.IDLE and c.on_pilot(P.B) == []


def test_unplugging_mid_session_ends_it_with_the_relay_open_first() -> None:
    c = Connector(1, 16.0)
    c.on_pilot(P.B)
    c.on_authorized("TAG", None)
    c.on_pilot(P.C)
    assert c.on_pilot(P.A) == [SwitchRelay(False), OfferCurrent(None), EndTransaction("EVDisconnected", None)]
    assert c.phase is Phase.IDLE


def test_a_pilot_fault_stops_the_session_and_faults_the_connector_until_it_clears() -> None:
    c = Connector(1, 16.0)
    c.on_pilot(P.B)
    c.on_authorized("TAG", None)
    c.on_pilot(P.C)
    effects = c.on_pilot(P.E)
    assert effects[:2] == [SwitchRelay(False), OfferCurrent(None)] and isinstance(effects[2], EndTransaction)
    assert c.status is ChargePointStatus.FAULTED and c.fault and c.fault.code is ChargePointErrorCode.MODE3_ERROR
    assert c.on_authorized("OTHER", None) == []  # no session on a faulted connector
    c.on_pilot(P.A)
    assert c.status is ChargePointStatus.AVAILABLE


def test_stop_without_a_transaction_does_nothing() -> None:
    assert Connector(1, 16.0).on_stop("Remote", None) == []
