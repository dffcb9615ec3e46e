"""Each hardware fault end to end: injected at the simulator's wire, reported by the daemon in a
StatusNotification with its error code (7.7), the session stopped or kept as the rules say, nothing
lost, and the connector back to Available when the fault clears.

One site serves the module; each case leaves it unplugged, idle and without faults.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import last_seq, operator, present_again, running, transactions, unplug, wait_until

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"


@pytest.fixture(scope="module")
def site() -> Iterator[SimulatedSite]:
    with running(SimulatedSite(sample_interval=1, ocpp={"LocalPreAuthorize": True})) as site:
        site.wait_cs("BootNotification")
        site.call("SendLocalList", {"updateType": "Full", "listVersion": 1, "localAuthorisationList": [
            {"idTag": CARD, "idTagInfo": {"status": "Accepted"}}]})
        yield site


def statuses(site: SimulatedSite, since: int, connector: int) -> list[dict[str, Any]]:
    return [r["payload"] for r in site.cs("GET", "/record")
            if r["seq"] > since and r["action"] == "StatusNotification" and r["payload"]["connectorId"] == connector]


def wait_status(site: SimulatedSite, since: int, connector: int, error_code: str, status: str | None = None) -> None:
    def told() -> bool:
        return any(s["errorCode"] == error_code and (status is None or s["status"] == status)
                   for s in statuses(site, since, connector))

    wait_until(told, timeout=20)


def fault(site: SimulatedSite, name: str, active: bool) -> None:
    site.hw("POST", "/fault", {"fault": name, "connector": 1, "active": active})


def start(site: SimulatedSite) -> int:
    mark = site.hw_seq()
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    site.wait_hw("relay", closed=True, after=mark)
    site.wait_hw("card_removed", after=mark)
    time.sleep(0.5)  # the card is away for longer than the reader's hold window
    return mark


#: fault, error code, connector it is reported on, whether the session stops, the status meanwhile.
CASES = [
    ("pilot_short", "Mode3Error", 1, True, "Faulted"),
    ("rcd_trip", "GroundFailure", 1, True, "Faulted"),
    ("overtemp", "HighTemperature", 1, True, "Faulted"),
    ("meter_silent", "PowerMeterFailure", 1, False, "Occupied"),
    ("meter_exception", "PowerMeterFailure", 1, False, "Occupied"),
    ("meter_garbled", "PowerMeterFailure", 1, False, "Occupied"),
    ("meter_backwards", "PowerMeterFailure", 1, False, "Occupied"),
    ("reader_unplugged", "ReaderFailure", 0, False, "Available"),
]


@pytest.mark.parametrize(("name", "code", "connector", "stops", "status"), CASES, ids=[c[0] for c in CASES])
def test_a_fault_during_a_session(site: SimulatedSite, name: str, code: str, connector: int, stops: bool,
                                  status: str) -> None:
    since = last_seq(site)
    mark = start(site)
    before = site.hw("GET", "/state")["connectors"]["1"]["energy_wh"]
    fault(site, name, True)
    wait_status(site, since, connector, code, status)
    if stops:
        site.wait_hw("relay", closed=False, after=mark)
        wait_until(lambda: len(transactions(site, since)) == 1 and transactions(site, since)[0][1] is not None)
    else:
        assert operator(site, "status")["transactions"], "the session goes on"
    fault(site, name, False)
    wait_status(site, since, connector, "NoError")
    if not stops:
        present_again(site, CARD, mark)
    unplug(site)
    wait_until(lambda: len(transactions(site, since)) == 1 and transactions(site, since)[0][1] is not None)
    ((begin, end),) = transactions(site, since)
    assert end is not None and begin["meterStart"] <= end["meterStop"]
    if name.startswith("meter"):
        # Never a refused reading in meterStop: at least what the meter counted before it failed.
        assert end["meterStop"] >= round(before) - 1
    assert statuses(site, since, 1)[-1]["status"] == "Available"
    assert all(f["fault"] != name for f in site.hw("GET", "/faults")["active"])


def test_a_welded_relay_is_reported_when_the_session_ends_and_blocks_the_next(site: SimulatedSite) -> None:
    since = last_seq(site)
    mark = start(site)
    fault(site, "relay_welded", True)
    site.hw("POST", "/unplug", {"connector": 1})  # the session ends; the contact stays closed
    wait_status(site, since, 1, "PowerSwitchFailure", "Faulted")
    wait_until(lambda: transactions(site, since)[0][1] is not None)
    mark = site.hw_seq()
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    site.wait_hw("card_removed", after=mark)
    time.sleep(0.5)  # the card is away for longer than the reader's hold window
    assert len(transactions(site, since)) == 1  # no new session on a faulted connector
    fault(site, "relay_welded", False)
    wait_status(site, since, 1, "NoError")
    unplug(site)


def test_a_jammed_lock_stops_the_session_before_it_begins(site: SimulatedSite) -> None:
    since = last_seq(site)
    fault(site, "lock_jammed", True)
    mark = site.hw_seq()
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    wait_status(site, since, 1, "ConnectorLockFailure", "Faulted")
    site.wait_hw("card_removed", after=mark)
    assert transactions(site, since) == []  # nothing journalled, nothing sent
    assert not any(e["kind"] == "relay" and e["closed"] for e in site.hw("GET", "/events") if e["seq"] > mark)
    fault(site, "lock_jammed", False)
    unplug(site)
