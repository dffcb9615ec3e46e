"""Interop: the chargebox daemon against an independent Central System, @voltbras/ts-ocpp 2.7.3.

The Central System is ``tests/interop/tsocpp/central_system.js`` (see its README): a Node process
that answers the box's OCPP 1.5 SOAP requests with canned answers, reports every request on stdout
as a JSON line and sends requests to the box when told so on stdin. The box runs as an OS process
on the hardware simulator (:class:`chargebox.site.SimulatedSite`), pointed at ts-ocpp.
"""

from __future__ import annotations

import urllib.error
from typing import Any

import pytest
from tsocpp_harness import WAIT, TsOcpp, booted, box_url, missing

from chargebox.service.reset import SOFT_RESET_EXIT_STATUS
from chargebox.site import SimulatedSite

pytestmark = pytest.mark.interop

if missing():
    pytest.skip(missing(), allow_module_level=True)

CARD = "04A2B3C4D5E680"  # the simulator's reader reports the UID in upper-case hex; it is the idTag


def wait_relay(site: SimulatedSite, closed: bool, timeout: float = WAIT) -> dict[str, Any]:
    try:
        return site.wait_hw("relay", timeout=timeout, closed=closed)
    except urllib.error.HTTPError as err:
        if err.code == 504:
            raise AssertionError(f"the relay did not {'close' if closed else 'open'} within {timeout} s; "
                                 f"hardware events: {site.hw('GET', '/events')}") from None
        raise



def test_card_session(site: SimulatedSite, tsocpp: TsOcpp) -> None:
    """Plug, card, charge, card again, unplug: what ts-ocpp receives is one complete transaction."""
    boot = booted(site, tsocpp)

    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    authorize = tsocpp.wait_request("Authorize")
    start = tsocpp.wait_request("StartTransaction")
    transaction_id = tsocpp.response_to(start)["payload"]["transactionId"]
    wait_relay(site, closed=True)
    meter_values = tsocpp.wait_request("MeterValues")  # sampled every 2 s

    site.hw("POST", "/card", {"uid": CARD})
    stop = tsocpp.wait_request("StopTransaction")
    wait_relay(site, closed=False)
    available = [r for r in tsocpp.requests("StatusNotification")
                 if r["payload"].get("connectorId") == 1 and r["payload"].get("status") == "Available"]
    site.hw("POST", "/unplug", {"connector": 1})
    tsocpp.wait_request("StatusNotification", count=len(available) + 1, connectorId=1, status="Available")

    assert tsocpp.position(boot) < tsocpp.position(authorize) < tsocpp.position(start) < tsocpp.position(stop)
    assert authorize["payload"]["idTag"] == CARD
    assert start["chargeBoxId"] == stop["chargeBoxId"] == site.identity
    assert start["payload"]["idTag"] == CARD
    assert start["payload"]["connectorId"] == 1
    assert stop["payload"]["transactionId"] == transaction_id
    assert stop["payload"]["meterStop"] > start["payload"]["meterStart"]
    assert meter_values["payload"]["connectorId"] == 1
    assert meter_values["payload"]["transactionId"] == transaction_id
    assert tsocpp.response_to(stop)["payload"]["idTagInfo"]["status"] == "Accepted"
    assert not [e for e in tsocpp.events if e.get("event") in ("error", "non-json") or "error" in e]


def test_remote_start_and_stop(site: SimulatedSite, tsocpp: TsOcpp) -> None:
    """ts-ocpp starts and stops a transaction remotely, calling the box back at its wsa:From."""
    booted(site, tsocpp)
    known = tsocpp.result(tsocpp.command("chargePoints"))
    assert known["payload"] == {site.identity: box_url(site)}

    id_tag = "REMOTE-0001"
    started = tsocpp.send(site.identity, "RemoteStartTransaction", {"idTag": id_tag, "connectorId": 1})
    assert started["url"] == box_url(site)
    assert f"<idTag>{id_tag}</idTag><connectorId>1</connectorId>" in started.get("rawRequest", ""), started
    assert started["ok"], started
    assert started["payload"]["status"] == "Accepted", started

    site.hw("POST", "/plug", {"connector": 1})
    start = tsocpp.wait_request("StartTransaction", idTag=id_tag)
    assert start["payload"]["connectorId"] == 1
    transaction_id = tsocpp.response_to(start)["payload"]["transactionId"]
    wait_relay(site, closed=True)

    stopped = tsocpp.send(site.identity, "RemoteStopTransaction", {"transactionId": transaction_id})
    assert stopped["ok"], stopped
    assert stopped["payload"]["status"] == "Accepted", stopped
    stop = tsocpp.wait_request("StopTransaction", transactionId=transaction_id)
    wait_relay(site, closed=False)
    assert stop["payload"]["meterStop"] >= start["payload"]["meterStart"]
    assert tsocpp.position(start) < tsocpp.position(stop)
    site.hw("POST", "/unplug", {"connector": 1})


def test_a_soft_reset_from_tsocpp_restarts_the_box(site: SimulatedSite, tsocpp: TsOcpp) -> None:
    """ts-ocpp resets the box: Accepted, the daemon stops for its service to restart it (exit 75),
    and, started again as systemd would, it boots to ts-ocpp once more."""
    booted(site, tsocpp)
    reset = tsocpp.send(site.identity, "Reset", {"type": "Soft"})
    assert reset["ok"], reset
    assert reset["payload"]["status"] == "Accepted", reset
    assert site.processes["chargebox"].wait(WAIT) == SOFT_RESET_EXIT_STATUS
    site.start_daemon()
    tsocpp.wait_request("BootNotification", count=2, timeout=20, charge_box_id=site.identity)
