"""Offline operation end to end: the daemon, the simulator and the reference Central System in
separate processes; the network is cut by the Central System dropping every connection.

One site per protocol serves the module; each test leaves it online, unplugged and idle.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import (
    configure,
    count,
    each_protocol,
    last_seq,
    network,
    official_wsdls,
    present_again,
    queued,
    registers,
    running,
    session,
    transactions,
    unplug,
    wait_until,
)

pytestmark = pytest.mark.system
LISTED, CACHED, UNKNOWN, MEMBER = "04A2B3C4D5E680", "0A0B0C0D", "DEADBEEF", "11223344"
#: The error the Central System answers an injected failure with: a SOAP fault (code/subcode), or
#: OCPP-J's CALLERROR code (4.2.3).
INTERNAL_ERROR = ("Receiver/InternalError", "InternalError")


@pytest.fixture(scope="module", params=each_protocol())
def site(request: pytest.FixtureRequest) -> Iterator[SimulatedSite]:
    with running(SimulatedSite(**official_wsdls(request.param), sample_interval=1, ocpp={
            "TransactionMessageAttempts": 2, "TransactionMessageRetryInterval": 1, "OfflineRetryInterval": 1})) as site:
        site.wait_cs("BootNotification")
        yield site


def test_offline_a_listed_card_charges_and_the_session_arrives_in_order_after(site: SimulatedSite) -> None:
    # 1.5 spells the list localAuthorisationList (6.37), 1.6 localAuthorizationList (6.41).
    field = "localAuthorisationList" if site.protocol == "ocpp1.5-soap" else "localAuthorizationList"
    answer = site.call("SendLocalList", {"updateType": "Full", "listVersion": 3, field: [
        {"idTag": LISTED, "idTagInfo": {"status": "Accepted"}}]})
    assert answer["payload"]["status"] == "Accepted"
    assert site.call("GetLocalListVersion", {})["payload"] == {"listVersion": 3}
    since, stops = last_seq(site), count(site, "StopTransaction")
    network(site, False)
    assert session(site, LISTED)
    assert [m["action"] for m in queued(site)][0] == "StartTransaction"  # held, in order
    network(site, True)
    site.wait_cs("StopTransaction", count=stops + 1, timeout=60)
    ((start, stop),) = transactions(site, since)
    assert stop is not None and start["idTag"] == LISTED and stop["meterStop"] >= start["meterStart"]
    record = [r for r in site.cs("GET", "/record") if r["seq"] > since]
    assert "Authorize" not in [r["action"] for r in record]


def test_offline_a_cached_card_charges(site: SimulatedSite) -> None:
    since = last_seq(site)
    assert session(site, CACHED)  # online: Authorize, and the answer is cached
    assert "Authorize" in [r["action"] for r in site.cs("GET", "/record") if r["seq"] > since]
    network(site, False)
    try:
        assert session(site, CACHED)
    finally:
        network(site, True)


def test_offline_an_unknown_card_charges_only_when_allowed(site: SimulatedSite) -> None:
    network(site, False)
    try:
        assert not session(site, UNKNOWN)
    finally:
        network(site, True)
    configure(site, AllowOfflineTxForUnknownId="true")
    network(site, False)
    try:
        assert session(site, UNKNOWN)
    finally:
        network(site, True)
        configure(site, AllowOfflineTxForUnknownId="false")


def test_an_outage_keeps_meter_values_in_order_and_the_stop_gets_the_new_id(site: SimulatedSite) -> None:
    since = last_seq(site)
    mark = site.hw_seq()
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": LISTED})
    site.wait_hw("relay", closed=True, after=mark)
    network(site, False)
    # Meter values pile up while the network is down (with 1.6's status changes beside them).
    wait_until(lambda: [m["action"] for m in queued(site)].count("MeterValues") >= 4)
    present_again(site, LISTED, mark)
    unplug(site)
    stops = count(site, "StopTransaction")
    network(site, True)
    site.wait_cs("StopTransaction", count=stops + 1, timeout=60)
    ((start, stop),) = transactions(site, since)
    assert stop is not None
    record = [r for r in site.cs("GET", "/record") if r["seq"] > since]
    values = [r["payload"] for r in record if r["action"] == "MeterValues"]
    assert len(values) >= 4 and all(v["transactionId"] == stop["transactionId"] for v in values)
    energy = [value for mv in values for value in registers(mv)]
    assert energy == sorted(energy) and start["meterStart"] <= energy[0] <= stop["meterStop"]
    order = [r["action"] for r in record if r["action"] in ("StartTransaction", "MeterValues", "StopTransaction")]
    assert order[0] == "StartTransaction" and order[-1] == "StopTransaction"


def test_a_stop_transaction_the_central_system_faults_on_is_retried_then_skipped(site: SimulatedSite) -> None:
    since, stops = last_seq(site), count(site, "StopTransaction")
    site.cs("POST", "/behaviour", {"fail_next": {"StopTransaction": 2}})
    assert session(site, LISTED)
    assert session(site, LISTED)  # the next session is not held up behind it for ever
    site.wait_cs("StopTransaction", count=stops + 3)  # two faulted attempts, then the next session's
    pairs = transactions(site, since)
    assert len(pairs) == 2 and pairs[0][1] is None and pairs[1][1] is not None  # the first given up on
    faulted = [r for r in site.cs("GET", "/record") if r["seq"] > since and r["action"] == "StopTransaction"
               and r["fault"] in INTERNAL_ERROR]
    assert len(faulted) == 2  # TransactionMessageAttempts


def test_a_card_of_the_same_group_stops_the_session(site: SimulatedSite) -> None:
    site.cs("POST", "/behaviour", {"id_tag_parents": {CACHED: "FLEET-7", MEMBER: "FLEET-7"}})
    since, stops = last_seq(site), count(site, "StopTransaction")
    assert session(site, CACHED, stop_card=MEMBER)
    site.wait_cs("StopTransaction", count=stops + 1)
    ((_, stop),) = transactions(site, since)
    assert stop is not None and stop["idTag"] == MEMBER


def test_a_deauthorized_offline_start_is_stopped_when_the_central_system_says_so(site: SimulatedSite) -> None:
    configure(site, AllowOfflineTxForUnknownId="true", StopTransactionOnInvalidId="true")
    site.cs("POST", "/behaviour", {"id_tags": {"FEEDF00D": "Invalid"}})
    since = last_seq(site)
    network(site, False)
    mark = site.hw_seq()
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": "FEEDF00D"})
    site.wait_hw("relay", closed=True, after=mark)  # unknown offline: allowed
    network(site, True)
    site.wait_hw("relay", closed=False, after=mark)  # Invalid in StartTransaction.conf: stopped
    unplug(site)
    configure(site, AllowOfflineTxForUnknownId="false")
    site.wait_cs("StopTransaction", count=count(site, "StopTransaction"))
    ((start, stop),) = transactions(site, since)
    assert start["idTag"] == "FEEDF00D" and stop is not None
