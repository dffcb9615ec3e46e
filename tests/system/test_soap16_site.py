"""The daemon with ``central_system.protocol = "ocpp1.6-soap"`` against the reference Central System speaking
1.6 SOAP (``hwsim central-system --protocol ocpp1.6-soap``), daemon and simulator in their own processes
(issue 17). The Central System validates every request of the box, and every confirmation the box returns
to its calls, against the official 1.6 WSDLs; the test is skipped where ``../shared/spec`` is absent."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import official_wsdls, operator, running, unplug

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"
PROTOCOL = "ocpp1.6-soap"


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    wsdls = official_wsdls(PROTOCOL)
    if "cs_wsdl" not in wsdls:
        pytest.skip("official OCPP 1.6 WSDLs (../shared/spec/wsdl) not present")
    site = SimulatedSite(sample_interval=1, **wsdls)
    with running(site):
        yield site


def test_a_session_and_the_central_systems_calls_in_16_soap(site: SimulatedSite) -> None:
    site.wait_cs("BootNotification")
    assert operator(site, "status")["central_system"]["protocol"] == PROTOCOL
    shown = subprocess.run([sys.executable, "-m", "chargebox.cli", "status", "--config", str(site.config_path)],
                           capture_output=True, text=True, check=True, timeout=20).stdout
    assert f"central system  http://127.0.0.1:{site.central_system_port}/ ({PROTOCOL})" in shown
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    site.wait_hw("relay", closed=True)
    site.wait_cs("MeterValues", 2)
    site.hw("POST", "/card", {"uid": CARD})
    site.wait_cs("StopTransaction")
    site.wait_hw("relay", closed=False)
    unplug(site)

    # The Central System's calls, each answered with a confirmation valid against the official 1.6 WSDL.
    started = site.call("RemoteStartTransaction", {"idTag": "REMOTE1", "connectorId": 1})
    assert started["ok"] and started["valid"], started
    assert started["payload"] == {"status": "Accepted"}
    site.hw("POST", "/plug", {"connector": 1})
    site.wait_hw("relay", closed=True)
    site.wait_cs("StartTransaction", 2)
    stopped = site.call("RemoteStopTransaction", {"transactionId": 2})
    assert stopped["ok"] and stopped["valid"] and stopped["payload"] == {"status": "Accepted"}, stopped
    site.wait_cs("StopTransaction", 2)
    site.wait_hw("relay", closed=False)
    unlocked = site.call("UnlockConnector", {"connectorId": 1})
    assert unlocked["ok"] and unlocked["valid"], unlocked
    wrong = site.cs("POST", "/call", {"chargeBoxIdentity": "CB-OTHER", "action": "ClearCache", "payload": {},
                                     "url": f"http://127.0.0.1:{site.box_port}/"})
    assert (wrong["fault"]["code"], wrong["fault"]["subcode"]) == ("Sender", "IdentityMismatch")
    # 1.6's subcode is in urn://Ocpp/Cs/2015/10/ (OCPP-S 1.6 chapter 4, errata 3.3), as the CS expects.
    assert wrong["errors"] == [], wrong

    unplug(site)

    record = site.cs("GET", "/record")
    assert all(r["valid"] for r in record), [r["errors"] for r in record if not r["valid"]]
    assert {r["charge_box_identity"] for r in record} == {"CB-SIM-1"}
    assert all(r["from_url"] == f"http://127.0.0.1:{site.box_port}/" for r in record)
    actions = [r["action"] for r in record if r["action"] not in ("StatusNotification", "MeterValues")]
    assert actions == ["BootNotification", "Authorize", "StartTransaction", "StopTransaction",
                       "StartTransaction", "StopTransaction"]
    by_tx = {r["payload"]["transactionId"]: r["payload"] for r in record if r["action"] == "StopTransaction"}
    assert sorted(by_tx) == [1, 2]  # the ids the Central System gave
    assert by_tx[1]["idTag"] == CARD and by_tx[1]["meterStop"] > 0
    # 1.6's MeterValues (6.31, 7.33): meterValue and sampledValue, each value an element of its own.
    samples = [r["payload"] for r in record if r["action"] == "MeterValues"]
    assert all(s["transactionId"] == 1 and s["meterValue"][0]["sampledValue"][0]["value"] for s in samples)
    # 1.6's status model (7.7), each valid against the official WSDL; the lane tells the status as it is
    # when each notification leaves, so quick changes may be coalesced: the connector in use says one of
    # 1.6's in-use statuses, none is Unsendable (1.5's Occupied is no 1.6 word), and it ends Available.
    statuses = [r["payload"]["status"] for r in record if r["action"] == "StatusNotification"]
    assert statuses[0] == statuses[-1] == "Available", statuses
    assert {"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"} & set(statuses), statuses
    assert "cannot be sent in OCPP 1.6" not in site.log("chargebox")
