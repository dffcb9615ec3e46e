"""Remote management across processes: the reference Central System calls the daemon (on the
simulator) with each Central System command and the tests check what the box did to the hardware,
what it announced, what it persisted, and what is left after the daemon restarts.

One site for the module, in test order: each test leaves the box idle, Available and unreserved.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chargebox.daemon import LOCAL_LIST_ENTRY_BYTES
from chargebox.engine.configuration import keys_of
from chargebox.site import SimulatedSite
from tests.system.sitetools import official_wsdls, running

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"
OTHER = "0411223344"
READER_HOLD_WINDOW = 0.45


def booted_site(**options: Any) -> Iterator[SimulatedSite]:
    """A site whose Central System checks against the official schemas where present, once booted;
    the daemon's log is printed at the end (pytest shows it for a failed test)."""
    with running(SimulatedSite(**{**official_wsdls(), **options})) as site:
        site.wait_cs("BootNotification")
        yield site


@pytest.fixture(scope="module")
def site() -> Iterator[SimulatedSite]:
    yield from booted_site()


def call(site: SimulatedSite, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The box's answer to ``action``, checked against the schema by the Central System."""
    result: dict[str, Any] = site.cs("POST", "/call", {"chargeBoxIdentity": site.identity, "action": action,
                                                       "payload": payload})
    assert result["ok"] and result["valid"], result
    return dict(result["payload"])


def record(site: SimulatedSite, action: str) -> list[dict[str, Any]]:
    return [r["payload"] for r in site.cs("GET", "/record") if r["action"] == action]


def wait_status(site: SimulatedSite, connector: int, status: str, error: str = "NoError") -> None:
    """Until the box has announced that ``connector`` is ``status`` (its latest StatusNotification)."""
    count = len(record(site, "StatusNotification")) + 1
    while True:
        last = [p for p in record(site, "StatusNotification") if p["connectorId"] == connector]
        if last and (last[-1]["status"], last[-1]["errorCode"]) == (status, error):
            return
        site.wait_cs("StatusNotification", count)
        count += 1


def restart(site: SimulatedSite) -> None:
    """The daemon stopped (SIGTERM) and started again on the same database; until it booted."""
    boots = len(record(site, "BootNotification"))
    assert site.stop_daemon(signal.SIGTERM) == 0
    site.start_daemon()
    site.wait_cs("BootNotification", boots + 1)


def card(site: SimulatedSite, uid: str) -> None:
    """A card presented and taken away again, so the next one is a new presentation."""
    events = site.hw("GET", "/events")
    site.hw("POST", "/card", {"uid": uid})
    site.wait_hw("card_removed", uid=uid, after=events[-1]["seq"] if events else 0)
    # The box's reader counts a card as gone hold_window (0.4 s in the site config) after its last
    # frame; the reader has no event to wait on for that, so its documented constant is waited out.
    time.sleep(READER_HOLD_WINDOW)


def expiry(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_get_configuration_on_a_fresh_box_lists_every_key_with_its_value_and_readonly_flag(site: SimulatedSite) -> None:
    answer = call(site, "GetConfiguration", {})
    listed = {k["key"]: k for k in answer["configurationKey"]}
    assert set(listed) == {key.name for key in keys_of("1.5")}
    assert all("value" in k for k in listed.values())
    readonly = {name for name, k in listed.items() if str(k["readonly"]).lower() == "true"}
    assert readonly == {key.name for key in keys_of("1.5") if key.readonly}
    assert listed["ChargePointId"]["value"] == site.identity and listed["NumberOfConnectors"]["value"] == "1"
    assert listed["MeterValueSampleInterval"]["value"] == "2"  # the site config's [ocpp] default
    some = call(site, "GetConfiguration", {"key": ["connectiontimeout", "NoSuchKey"]})
    assert [k["key"] for k in some["configurationKey"]] == ["ConnectionTimeOut"] and some["unknownKey"] == ["NoSuchKey"]


def test_a_send_local_list_as_long_as_the_box_takes_fits_its_endpoint(site: SimulatedSite) -> None:
    (key,) = call(site, "GetConfiguration", {"key": ["SendLocalListMaxLength"]})["configurationKey"]
    most = int(key["value"])
    assert most == (1 << 20) // LOCAL_LIST_ENTRY_BYTES  # what the default endpoint.max_body holds
    longest = {"status": "Accepted", "expiryDate": "2099-12-31T23:59:59.999Z", "parentIdTag": "P" * 20}
    entries = [{"idTag": f"{n:020d}", "idTagInfo": longest} for n in range(most + 1)]
    full = {"updateType": "Full", "listVersion": 7, "localAuthorisationList": entries[:most]}
    assert call(site, "SendLocalList", full)["status"] == "Accepted"  # through the real endpoint
    assert call(site, "GetLocalListVersion", {}) == {"listVersion": 7}
    too_long = {"updateType": "Full", "listVersion": 8, "localAuthorisationList": entries}
    assert call(site, "SendLocalList", too_long)["status"] == "Failed"
    assert call(site, "GetLocalListVersion", {}) == {"listVersion": 7}


def test_change_configuration_is_checked_persisted_and_effective_at_once(site: SimulatedSite) -> None:
    assert call(site, "ChangeConfiguration", {"key": "NoSuchKey", "value": "1"}) == {"status": "NotSupported"}
    assert call(site, "ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "soon"}) == {"status": "Rejected"}
    assert call(site, "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "2"}) == {"status": "Rejected"}
    assert call(site, "ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "2"}) == {"status": "Accepted"}
    restart(site)
    (key,) = call(site, "GetConfiguration", {"key": ["ConnectionTimeOut"]})["configurationKey"]
    assert key["value"] == "2"


def test_change_availability_makes_the_connector_unavailable_across_a_restart(site: SimulatedSite) -> None:
    assert call(site, "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {"status": "Accepted"}
    wait_status(site, 1, "Unavailable")
    assert call(site, "ChangeAvailability", {"connectorId": 2, "type": "Inoperative"}) == {"status": "Rejected"}
    restart(site)
    wait_status(site, 1, "Unavailable")  # announced again after the boot
    authorizations = len(record(site, "Authorize"))
    site.hw("POST", "/plug", {"connector": 1})
    card(site, CARD)
    assert call(site, "RemoteStartTransaction", {"idTag": CARD, "connectorId": 1}) == {"status": "Rejected"}
    state = site.hw("GET", "/state")["connectors"]["1"]
    assert not state["relay_closed"] and state["duty"] in (100, 100.0, None), state
    assert len(record(site, "Authorize")) == authorizations  # the card was not even asked about
    assert call(site, "ChangeAvailability", {"connectorId": 1, "type": "Operative"}) == {"status": "Accepted"}
    wait_status(site, 1, "Occupied")  # the cable is in
    site.hw("POST", "/unplug", {"connector": 1})
    wait_status(site, 1, "Available")


def test_the_box_inoperative_during_a_session_is_scheduled_until_it_ends(site: SimulatedSite) -> None:
    site.hw("POST", "/plug", {"connector": 1})
    card(site, CARD)
    site.wait_hw("relay", closed=True)
    assert call(site, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}) == {"status": "Scheduled"}
    assert site.hw("GET", "/state")["connectors"]["1"]["relay_closed"]  # the session goes on
    card(site, CARD)
    site.wait_hw("relay", closed=False)
    wait_status(site, 1, "Unavailable")
    wait_status(site, 0, "Unavailable")
    assert call(site, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}) == {"status": "Accepted"}
    site.hw("POST", "/unplug", {"connector": 1})
    assert call(site, "ChangeAvailability", {"connectorId": 0, "type": "Operative"}) == {"status": "Accepted"}
    wait_status(site, 0, "Available")
    wait_status(site, 1, "Available")


def test_a_reservation_refuses_other_cards_survives_a_restart_and_its_start_carries_its_id(
        site: SimulatedSite) -> None:
    answer = call(site, "ReserveNow", {"connectorId": 1, "expiryDate": expiry(600), "idTag": CARD,
                                       "reservationId": 42})
    assert answer == {"status": "Accepted"}
    wait_status(site, 1, "Reserved")
    restart(site)
    wait_status(site, 1, "Reserved")
    authorizations = len(record(site, "Authorize"))
    site.hw("POST", "/plug", {"connector": 1})
    card(site, OTHER)
    assert call(site, "RemoteStartTransaction", {"idTag": OTHER, "connectorId": 1}) == {"status": "Rejected"}
    assert len(record(site, "Authorize")) == authorizations
    assert not site.hw("GET", "/state")["connectors"]["1"]["relay_closed"]
    starts = len(record(site, "StartTransaction"))
    card(site, CARD)
    site.wait_hw("relay", closed=True)
    start = site.wait_cs("StartTransaction", starts + 1)[-1]["payload"]
    assert (start["idTag"], start["reservationId"]) == (CARD, 42)
    assert call(site, "CancelReservation", {"reservationId": 42}) == {"status": "Rejected"}  # it has ended
    card(site, CARD)
    site.wait_hw("relay", closed=False)
    site.hw("POST", "/unplug", {"connector": 1})
    wait_status(site, 1, "Available")


def test_a_reservation_is_cancelled_or_expires_and_the_statuses_of_7_32(site: SimulatedSite) -> None:
    reserve = {"connectorId": 1, "expiryDate": expiry(600), "idTag": CARD, "reservationId": 7}
    assert call(site, "ReserveNow", reserve) == {"status": "Accepted"}
    assert call(site, "ReserveNow", {**reserve, "reservationId": 8}) == {"status": "Occupied"}
    assert call(site, "CancelReservation", {"reservationId": 7}) == {"status": "Accepted"}
    wait_status(site, 1, "Available")
    assert call(site, "CancelReservation", {"reservationId": 7}) == {"status": "Rejected"}
    assert call(site, "ReserveNow", {**reserve, "connectorId": 0, "expiryDate": expiry(3)}) == {"status": "Accepted"}
    wait_status(site, 1, "Reserved")  # a reservation of the box holds its one connector
    wait_status(site, 1, "Available")  # expired after 3 s
    site.hw("POST", "/fault", {"fault": "pilot_short", "connector": 1, "active": True})
    wait_status(site, 1, "Faulted", "Mode3Error")
    assert call(site, "ReserveNow", reserve) == {"status": "Faulted"}
    site.hw("POST", "/fault", {"fault": "pilot_short", "connector": 1, "active": False})
    wait_status(site, 1, "Available")
    assert call(site, "ChangeConfiguration", {"key": "ReservationEnabled", "value": "false"}) == {"status": "Accepted"}
    assert call(site, "ReserveNow", reserve) == {"status": "Rejected"}
    assert call(site, "ChangeConfiguration", {"key": "ReservationEnabled", "value": "true"}) == {"status": "Accepted"}


def test_unlock_connector_stops_the_session_first(site: SimulatedSite) -> None:
    site.hw("POST", "/plug", {"connector": 1})
    card(site, CARD)
    site.wait_hw("relay", closed=True)
    stops = len(record(site, "StopTransaction"))
    assert call(site, "UnlockConnector", {"connectorId": 1}) == {"status": "Accepted"}
    assert not site.hw("GET", "/state")["connectors"]["1"]["relay_closed"]  # opened before the answer
    stop = site.wait_cs("StopTransaction", stops + 1)[-1]["payload"]
    assert "idTag" not in stop
    assert call(site, "UnlockConnector", {"connectorId": 9}) == {"status": "Rejected"}
    site.hw("POST", "/unplug", {"connector": 1})
    wait_status(site, 1, "Available")


def test_data_transfer_reaches_the_vendor_handler_or_says_what_is_unknown(site: SimulatedSite) -> None:
    assert call(site, "DataTransfer", {"vendorId": "chargebox", "messageId": "Echo", "data": "ping"}) == {
        "status": "Accepted", "data": "ping"}
    assert call(site, "DataTransfer", {"vendorId": "com.example", "messageId": "Echo", "data": "x"}) == {
        "status": "UnknownVendorId"}
    assert call(site, "DataTransfer", {"vendorId": "chargebox", "messageId": "Nope"}) == {
        "status": "UnknownMessageId"}
