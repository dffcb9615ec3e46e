"""Interop, operation by operation, with @voltbras/ts-ocpp 2.7.3 (issue 3's "done when").

The box's client sends each of its 10 operations, every optional field set, to ts-ocpp's Central
System and understands each answer. ts-ocpp sends each of the 15 Central System operations to the
real daemon (on the simulator); every one must decode, validate and reach the engine, which answers
a confirmation or, where its behaviour has not landed yet, Receiver/NotSupported: never a binding
error. Where ts-ocpp itself cannot produce the message in full, the payload says so (see
``tsocpp/README.md``, "Which of the 15 CS->CP operations ts-ocpp 2.7.3 can send").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from lxml import etree
from ocpp_samples import CONFIRMATIONS, REQUESTS
from tsocpp_harness import WAIT, TsOcpp, booted, box_url, missing

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap15 import CHARGE_POINT_WSDL, CP_NAMESPACE
from chargebox.binding.soap.service import schema_of
from chargebox.ocpp import codec
from chargebox.ocpp.versions import OCPP15
from chargebox.site import SimulatedSite
from tests.conftest import OFFICIAL_WSDL

pytestmark = pytest.mark.interop

if missing():
    pytest.skip(missing(), allow_module_level=True)

CLIENT_IDENTITY = "CB-INTEROP-CLIENT"


def leaves(value: Any) -> set[str]:
    """Every scalar in a wire dict or a ts-ocpp payload, as text; timestamps to the second in UTC."""
    if isinstance(value, dict):
        return set().union(*(leaves(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(leaves(v) for v in value)) if value else set()
    if isinstance(value, datetime):
        return {value.strftime("%Y-%m-%dT%H:%M:%S")}
    if isinstance(value, str):
        try:
            return {datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%dT%H:%M:%S")}
        except ValueError:
            return {value}
    if isinstance(value, bool):
        return {str(value).lower()}
    return {str(value)}


# -- the box's 10 operations to ts-ocpp ------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OCPP15.central_system_operations))
async def test_the_box_sends_each_operation_to_tsocpp_and_reads_the_answer(module_tsocpp: TsOcpp, name: str) -> None:
    client = CentralSystemClient(module_tsocpp.url, CLIENT_IDENTITY, lambda: "http://127.0.0.1:9/",
                                 allow_plain_http=True)
    try:
        confirmation = await client.call(REQUESTS[name])
    finally:
        await client.close()
    assert type(confirmation) is type(CONFIRMATIONS[name])
    request = module_tsocpp.wait_event(
        lambda e: e.get("event") == "request" and e.get("chargeBoxId") == CLIENT_IDENTITY and e.get("action") == name,
        WAIT, f"{name} from {CLIENT_IDENTITY}")
    assert request["from"] == "http://127.0.0.1:9/"
    # ts-ocpp got every field the box sent (it validates nothing of 1.5 SOAP, so compare the values).
    assert leaves(codec.to_wire(REQUESTS[name], OCPP15.form)) <= leaves(request["payload"])
    # ... and the box read every field ts-ocpp answered.
    answer = module_tsocpp.response_to(request)
    assert leaves(answer["payload"]) == leaves(codec.to_wire(confirmation, OCPP15.form))


# -- ts-ocpp's 15 operations to the box ------------------------------------------------------------

# Payloads in the WSDL's element order: node-soap writes the keys in the order given (README).
TSOCPP_SENDS: dict[str, dict[str, Any]] = {
    "CancelReservation": {"reservationId": 7},
    "ChangeAvailability": {"connectorId": 0, "type": "Operative"},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "300"},
    "ClearCache": {},
    "DataTransfer": {"vendorId": "com.example.vendor", "messageId": "Msg-1", "data": "hello"},
    "GetConfiguration": {"key": ["HeartbeatInterval", "NoSuchKey"]},
    "GetDiagnostics": {"location": "ftp://127.0.0.1:9/diag/", "startTime": "2026-03-01T12:00:00Z",
                       "stopTime": "2026-03-01T12:15:00Z", "retries": 1, "retryInterval": 30},
    "GetLocalListVersion": {},
    "RemoteStartTransaction": {"idTag": "INTEROP-TAG", "connectorId": 2},  # no connector 2: Rejected, no session
    "RemoteStopTransaction": {"transactionId": 999999},  # no such transaction: Rejected
    "ReserveNow": {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "INTEROP-TAG",
                   "parentIdTag": "INTEROP-PARENT", "reservationId": 7},
    # ts-ocpp validates against the 1.6 JSON schema, which has no 1.5 localAuthorisationList or hash:
    # it can send SendLocalList only without entries (README).
    "SendLocalList": {"updateType": "Full", "listVersion": 1},
    "UnlockConnector": {"connectorId": 1},
    "UpdateFirmware": {"retrieveDate": "2030-01-01T00:00:00Z", "location": "ftp://127.0.0.1:9/fw.bin",
                       "retries": 1, "retryInterval": 30},
    "Reset": {"type": "Soft"},  # last: once the engine resets, the daemon restarts
}
# Operations whose engine behaviour has landed; the others land with issue 7, and their strict
# xfail then fails until they join this set.
ENGINE_HAS = {"RemoteStartTransaction", "RemoteStopTransaction", "ChangeConfiguration", "GetConfiguration",
              "ClearCache", "GetLocalListVersion", "SendLocalList", "CancelReservation", "ChangeAvailability",
              "DataTransfer", "ReserveNow", "UnlockConnector", "Reset", "GetDiagnostics"}
NOT_YET = pytest.mark.xfail(strict=True, reason="engine behaviour: issue 7")


Answers = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="module")
def answers(module_site: SimulatedSite, module_tsocpp: TsOcpp) -> Answers:
    """ts-ocpp's result of each operation, sent once (in TSOCPP_SENDS order) to the booted box."""
    booted(module_site, module_tsocpp)
    results: dict[str, dict[str, Any]] = {}

    def send(name: str) -> dict[str, Any]:
        if name not in results:
            results[name] = module_tsocpp.send(module_site.identity, name, TSOCPP_SENDS[name])
            assert results[name].get("url") == box_url(module_site), "sent to the box's wsa:From"
        return results[name]

    return send


@pytest.fixture(scope="module")
def cp_schema() -> etree.XMLSchema:
    """The official Charge Point schema, or the project's own where the official one is absent."""
    if OFFICIAL_WSDL is None:
        return schema_of(CHARGE_POINT_WSDL)
    return schema_of(OFFICIAL_WSDL / "ocpp_chargepointservice_1.5_final.wsdl")


def test_tsocpp_is_asked_to_send_every_central_system_operation() -> None:
    assert set(TSOCPP_SENDS) == set(OCPP15.charge_point_operations)


def confirmation_of(name: str, result: dict[str, Any], schema: etree.XMLSchema) -> etree._Element:
    """The confirmation element in ts-ocpp's raw response, checked against the schema."""
    assert result.get("httpStatus") == 200, result
    reply = envelope.parse(result["rawResponse"].encode(), CP_NAMESPACE)
    assert reply.body is not None, result
    assert reply.body.tag == f"{{{CP_NAMESPACE}}}{name[0].lower()}{name[1:]}Response"
    assert schema.validate(reply.body), schema.error_log
    assert reply.headers.relates_to, "the answer relates to ts-ocpp's MessageID"
    return reply.body


def test_tsocpp_s_send_local_list_with_entries_is_refused_as_not_ocpp_15(
    answers: Answers, module_site: SimulatedSite, module_tsocpp: TsOcpp,
) -> None:
    """ts-ocpp writes a list under the 1.6 name ``localAuthorizationList`` (1.5: ``localAuthorisationList``),
    which the 1.5 schema does not know: the box answers Sender/ProtocolError, as for any invalid request."""
    answers("ClearCache")  # the box is booted and ts-ocpp knows its address
    result = module_tsocpp.send(module_site.identity, "SendLocalList", {
        "updateType": "Full", "listVersion": 2,
        "localAuthorizationList": [{"idTag": "INTEROP-TAG", "idTagInfo": {"status": "Accepted"}}]})
    assert "<localAuthorizationList>" in result.get("rawRequest", ""), result
    assert (result.get("httpStatus"), result.get("fault", {}).get("subcode", "").rpartition(":")[2]) == (
        400, "ProtocolError"), result


@pytest.mark.parametrize("name", list(TSOCPP_SENDS))
def test_each_tsocpp_request_reaches_the_engine(answers: Answers, name: str, cp_schema: etree.XMLSchema) -> None:
    """A confirmation, or the engine's Receiver/NotSupported: never a fault of the binding."""
    result = answers(name)
    assert f"{name[0].lower()}{name[1:]}Request" in result.get("rawRequest", ""), result
    if result["ok"]:
        confirmation_of(name, result, cp_schema)
    else:
        assert result.get("httpStatus") == 500, result
        fault = result.get("fault") or {}
        assert (fault.get("code", "").rpartition(":")[2], fault.get("subcode", "").rpartition(":")[2]) == (
            "Receiver", "NotSupported"), result


@pytest.mark.parametrize("name", [n if n in ENGINE_HAS else pytest.param(n, marks=NOT_YET) for n in TSOCPP_SENDS])
def test_each_tsocpp_request_gets_a_valid_confirmation(answers: Answers, name: str, cp_schema: etree.XMLSchema) -> None:
    result = answers(name)
    assert result["ok"], result
    confirmation_of(name, result, cp_schema)
