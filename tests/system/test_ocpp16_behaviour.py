"""OCPP 1.6's behaviour of the engine through the real processes (issue 17): the daemon with
``central_system.protocol = "ocpp1.6-json"`` against ``hwsim central-system --protocol ocpp1.6-json``
validating everything against the official 1.6 JSON schemas: BootNotification Pending (4.2),
TriggerMessage (5.17), StopTransaction's reason (6.49) and UnlockConnector's 1.6 statuses (5.18)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chargebox.site import SimulatedSite
from tests.conftest import OFFICIAL_WSDL
from tests.system.sitetools import operator, running, wait_until

pytestmark = pytest.mark.system

OFFICIAL_JSON = None if OFFICIAL_WSDL is None else OFFICIAL_WSDL.parent / "json" / "v16"
CARD = "04A2B3C4D5E680"


class Json16Site(SimulatedSite):
    """The simulated site speaking OCPP-J 1.6 with the reference Central System, which validates
    against the official schemas and answers the first BootNotification with ``boot_status``."""

    def __init__(self, schemas: Path, boot_status: str, key: str | None = None) -> None:
        # key: the HTTP Basic password both sides start with (security profile 1)
        super().__init__(protocol="ocpp1.6-json", json_schemas=schemas, sample_interval=3600,
                         authorization_key=key)
        self._boot_status = boot_status

    def start_daemon(self) -> subprocess.Popen[str]:
        self.cs("POST", "/behaviour", {"boot_status": self._boot_status})
        return super().start_daemon()


def answer(site: SimulatedSite, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    result = site.call(action, payload)
    assert result["ok"] and result["valid"], result
    found: dict[str, Any] = result["payload"]
    return found


def test_pending_trigger_message_unlock_and_stop_reason_over_ocpp_j() -> None:
    if OFFICIAL_JSON is None or not OFFICIAL_JSON.is_dir():
        pytest.skip("the official OCPP 1.6 JSON schemas (../shared/spec/json/v16) are not present")
    with running(Json16Site(OFFICIAL_JSON, boot_status="Pending")) as site:
        site.wait_cs("BootNotification")
        # Pending (4.2): a cable comes in, and the box tells nothing of it...
        site.hw("POST", "/plug", {"connector": 1})
        wait_until(lambda: operator(site, "status")["connectors"][0]["phase"] == "PLUGGED")
        # ...until the Central System triggers it (5.17): the answer, then the message.
        assert answer(site, "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}) == {
            "status": "Accepted"}
        [status] = site.wait_cs("StatusNotification")
        assert status["payload"]["status"] == "Preparing" and status["payload"]["connectorId"] == 1
        assert answer(site, "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 7}) == {
            "status": "Rejected"}  # a connector the box lacks
        # A triggered BootNotification, now Accepted: the status lanes and the outbox run.
        site.cs("POST", "/behaviour", {"boot_status": "Accepted"})
        assert answer(site, "TriggerMessage", {"requestedMessage": "BootNotification"}) == {"status": "Accepted"}
        site.wait_cs("BootNotification", 2)
        assert [r["action"] for r in site.cs("GET", "/record")][:3] == [
            "BootNotification", "StatusNotification", "BootNotification"]
        # Once Accepted, another BootNotification is not asked for (errata 3.35).
        assert answer(site, "TriggerMessage", {"requestedMessage": "BootNotification"}) == {"status": "Rejected"}

        site.hw("POST", "/card", {"uid": CARD})
        [start] = site.wait_cs("StartTransaction")
        transaction_id = start["response"]["transactionId"]
        assert answer(site, "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}) == {
            "status": "Accepted"}
        [triggered] = site.wait_cs("MeterValues")
        assert triggered["payload"]["transactionId"] == transaction_id
        assert {v["context"] for v in triggered["payload"]["meterValue"][0]["sampledValue"]} == {"Trigger"}
        assert answer(site, "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"}) == {
            "status": "Accepted"}
        assert site.wait_cs("FirmwareStatusNotification")[0]["payload"] == {"status": "Idle"}

        # UnlockConnector (5.18): the transaction is stopped first, with reason UnlockCommand.
        assert answer(site, "UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
        [stop] = site.wait_cs("StopTransaction")
        assert stop["payload"]["reason"] == "UnlockCommand" and stop["payload"]["transactionId"] == transaction_id
        assert answer(site, "UnlockConnector", {"connectorId": 2}) == {"status": "NotSupported"}  # errata 3.85

        record = site.cs("GET", "/record")
        assert [r for r in record if not r["valid"]] == []  # all valid against the official schemas
        assert site.stop_daemon() == 0


def test_a_new_authorization_key_is_used_at_once_and_never_shown() -> None:
    """Security whitepaper A01: the Central System sets AuthorizationKey; the box disconnects and
    connects with the new password (this Central System still wants the old one: it refuses it)."""
    if OFFICIAL_JSON is None or not OFFICIAL_JSON.is_dir():
        pytest.skip("the official OCPP 1.6 JSON schemas (../shared/spec/json/v16) are not present")
    old, new = "0123456789abcdef0123", "fedcba9876543210fedc"
    with running(Json16Site(OFFICIAL_JSON, boot_status="Accepted", key=old)) as site:
        site.wait_cs("BootNotification")
        listed = answer(site, "GetConfiguration", {})["configurationKey"]
        assert "AuthorizationKey" not in {k["key"] for k in listed}
        assert {k["key"]: k["value"] for k in listed}["WebSocketPingInterval"] == "60"
        assert answer(site, "ChangeConfiguration", {"key": "AuthorizationKey", "value": new}) == {
            "status": "Accepted"}
        wait_until(lambda: "credentials refused (401)" in site.log("chargebox"))
        assert old not in site.log("chargebox") and new not in site.log("chargebox")
        assert site.stop_daemon() == 0


def test_a_send_local_list_as_long_as_the_site_sets_fits_a_frame() -> None:
    """OCPP-J has no endpoint.max_body: the site's SendLocalListMaxLength is kept and the WebSocket's frame
    bound follows it, so a Full list that long (over 1 MiB here) reaches the engine (issue 19)."""
    most = 8000
    schemas = OFFICIAL_JSON if OFFICIAL_JSON is not None and OFFICIAL_JSON.is_dir() else None
    with running(SimulatedSite(protocol="ocpp1.6-json", json_schemas=schemas, sample_interval=3600,
                               ocpp={"SendLocalListMaxLength": most})) as site:
        site.wait_cs("BootNotification")
        (key,) = answer(site, "GetConfiguration", {"key": ["SendLocalListMaxLength"]})["configurationKey"]
        assert key["value"] == str(most)
        longest = {"status": "Accepted", "expiryDate": "2099-12-31T23:59:59.999Z", "parentIdTag": "P" * 20}
        entries = [{"idTag": f"{n:020d}", "idTagInfo": longest} for n in range(most + 1)]
        assert len(json.dumps(entries[:most])) > 1 << 20  # past the link's own bound and aiohttp's default
        full = {"updateType": "Full", "listVersion": 7, "localAuthorizationList": entries[:most]}
        assert answer(site, "SendLocalList", full) == {"status": "Accepted"}
        assert answer(site, "GetLocalListVersion", {}) == {"listVersion": 7}
        too_long = {"updateType": "Full", "listVersion": 8, "localAuthorizationList": entries}
        assert answer(site, "SendLocalList", too_long) == {"status": "Failed"}  # the engine's answer (5.15)
        assert answer(site, "GetLocalListVersion", {}) == {"listVersion": 7}
