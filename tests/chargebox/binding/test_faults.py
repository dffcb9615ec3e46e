"""What the box's endpoint answers to requests it cannot take: one test per fault case, each checking
the SOAP 1.2 Code and the OCPP Subcode (8.2) on the wire, and the HTTP status of the SOAP 1.2 HTTP
binding (400 for a Sender fault, 500 for a Receiver fault). The env:MustUnderstand fault of a
mandatory header the box does not understand is tested in test_must_understand.py."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
from soap_helpers import REMOTE_START, REMOTE_START_BODY, fault_of, post, request_xml, serving

from chargebox.binding.soap import envelope, faults
from chargebox.binding.soap.faults import IdentityMismatch, MustUnderstand
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap15 import CS_NAMESPACE
from chargebox.ocpp.enums import ConfigurationStatus, RemoteStartStopStatus
from chargebox.ocpp.errors import (
    FormationViolation,
    GenericError,
    InternalError,
    NotImplementedAction,
    NotSupported,
    OccurenceConstraintViolation,
    OcppError,
    PropertyConstraintViolation,
    ProtocolError,
    SecurityError,
    TypeConstraintViolation,
)
from chargebox.ocpp.messages import (
    ChangeConfigurationConfirmation,
    ClearCacheRequest,
    Confirmation,
    RemoteStartTransactionConfirmation,
    RemoteStartTransactionRequest,
    Request,
    UnlockConnectorRequest,
)

SENDER, RECEIVER = "Sender", "Receiver"


async def handler(request: Request) -> Confirmation:
    if isinstance(request, RemoteStartTransactionRequest):
        return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)
    if isinstance(request, UnlockConnectorRequest):
        raise RuntimeError("the engine broke")
    if isinstance(request, ClearCacheRequest):  # NotSupported is no ClearCacheStatus: the schema refuses it
        return ChangeConfigurationConfirmation(status=ConfigurationStatus.NOT_SUPPORTED)
    raise NotSupported(f"{request.action()} not here")


@pytest.fixture
async def box() -> AsyncIterator[str]:
    async with serving(ChargePointEndpoint("CB-1", handler)) as url:
        yield url


def remote_start(inner: str) -> bytes:
    return request_xml(f"<o:remoteStartTransactionRequest>{inner}</o:remoteStartTransactionRequest>")


async def assert_fault(url: str, body: bytes, expected: tuple[str, str], content_type: str = envelope.CONTENT_TYPE,
                       **headers: str) -> None:
    status, answer = await post(url, body, content_type, headers)
    assert fault_of(answer) == expected
    assert status == (400 if expected[0] == SENDER else 500)


async def test_the_reference_request_is_accepted(box: str) -> None:
    status, answer = await post(box, REMOTE_START)
    assert status == 200, answer


# -- Sender/ProtocolError: the message breaks the schema (chapters 6-7) ---------------------------

async def test_a_missing_element(box: str) -> None:
    await assert_fault(box, remote_start("<o:connectorId>1</o:connectorId>"), (SENDER, "ProtocolError"))


async def test_an_unknown_element(box: str) -> None:
    await assert_fault(box, remote_start("<o:idTag>A</o:idTag><o:connectorId>1</o:connectorId><o:x>1</o:x>"),
                       (SENDER, "ProtocolError"))


async def test_misordered_elements(box: str) -> None:
    await assert_fault(box, remote_start("<o:connectorId>1</o:connectorId><o:idTag>A</o:idTag>"),
                       (SENDER, "ProtocolError"))


async def test_a_wrong_enum_value(box: str) -> None:
    body = request_xml("<o:resetRequest><o:type>Medium</o:type></o:resetRequest>", action="/Reset")
    await assert_fault(box, body, (SENDER, "ProtocolError"))


async def test_an_id_token_over_20_characters(box: str) -> None:
    await assert_fault(box, remote_start(f"<o:idTag>{'X' * 21}</o:idTag>"), (SENDER, "ProtocolError"))


async def test_a_parent_id_tag_over_20_characters(box: str) -> None:
    body = request_xml(
        "<o:reserveNowRequest><o:connectorId>1</o:connectorId><o:expiryDate>2026-01-01T00:00:00Z</o:expiryDate>"
        f"<o:idTag>A</o:idTag><o:parentIdTag>{'P' * 21}</o:parentIdTag><o:reservationId>1</o:reservationId>"
        "</o:reserveNowRequest>", action="/ReserveNow")
    await assert_fault(box, body, (SENDER, "ProtocolError"))


async def test_a_value_of_the_wrong_type(box: str) -> None:
    await assert_fault(box, remote_start("<o:idTag>A</o:idTag><o:connectorId>one</o:connectorId>"),
                       (SENDER, "ProtocolError"))


async def test_an_unknown_body_element(box: str) -> None:
    await assert_fault(box, request_xml("<o:fooRequest/>", action="/Foo"), (SENDER, "ProtocolError"))


async def test_a_central_system_service_request_sent_to_the_box(box: str) -> None:
    body = request_xml("<o:heartbeatRequest/>", action="/Heartbeat", namespace=CS_NAMESPACE)
    await assert_fault(box, body, (SENDER, "ProtocolError"))


async def test_a_confirmation_sent_as_a_request(box: str) -> None:
    body = request_xml("<o:resetResponse><o:status>Accepted</o:status></o:resetResponse>", action="/Reset")
    await assert_fault(box, body, (SENDER, "ProtocolError"))


async def test_an_action_that_does_not_match_the_body(box: str) -> None:
    await assert_fault(box, request_xml(REMOTE_START_BODY, action="/Reset"), (SENDER, "ProtocolError"))


# -- Sender/ProtocolError: not a SOAP 1.2 message ------------------------------------------------

async def test_a_soap_11_envelope(box: str) -> None:
    body = REMOTE_START.replace(envelope.SOAP12_NAMESPACE.encode(), envelope.SOAP11_NAMESPACE.encode())
    await assert_fault(box, body, (SENDER, "ProtocolError"))


async def test_a_soap_11_content_type(box: str) -> None:
    await assert_fault(box, REMOTE_START, (SENDER, "ProtocolError"), content_type="text/xml")


async def test_a_body_that_is_not_xml(box: str) -> None:
    await assert_fault(box, b"this is not XML", (SENDER, "ProtocolError"))


async def test_an_empty_body(box: str) -> None:
    await assert_fault(box, b"", (SENDER, "ProtocolError"))


async def test_an_empty_soap_body(box: str) -> None:
    await assert_fault(box, request_xml(""), (SENDER, "ProtocolError"))


async def test_a_document_type_declaration(box: str) -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + REMOTE_START.split(b"?>", 1)[1]
    await assert_fault(box, body, (SENDER, "ProtocolError"))


async def test_an_addressing_header_given_twice(box: str) -> None:
    body = request_xml(REMOTE_START_BODY, headers="<a:MessageID>urn:uuid:2</a:MessageID>")
    await assert_fault(box, body, (SENDER, "ProtocolError"))


async def test_addressing_headers_without_an_action(box: str) -> None:
    await assert_fault(box, REMOTE_START.replace(b"<a:Action>/RemoteStartTransaction</a:Action>", b""),
                       (SENDER, "ProtocolError"))


async def test_a_missing_charge_box_identity(box: str) -> None:
    await assert_fault(box, request_xml(REMOTE_START_BODY, identity=None), (SENDER, "ProtocolError"))


async def test_a_corrupt_gzip_body(box: str) -> None:
    await assert_fault(box, b"\x1f\x8b\x08\x00garbage", (SENDER, "ProtocolError"), **{"Content-Encoding": "gzip"})


# -- Sender/IdentityMismatch (8.1) ---------------------------------------------------------------

async def test_another_charge_box_identity(box: str) -> None:
    await assert_fault(box, request_xml(REMOTE_START_BODY, identity="CB-2"), (SENDER, "IdentityMismatch"))


async def test_the_identity_and_its_header_name_compare_case_insensitively(box: str) -> None:
    status, _ = await post(box, request_xml(REMOTE_START_BODY, identity="cb-1"))
    assert status == 200
    renamed = request_xml(REMOTE_START_BODY).replace(b"chargeBoxIdentity>", b"ChargeBoxIDENTITY>")
    status, _ = await post(box, renamed)
    assert status == 200


# -- The allow-list (a caller outside it is closed as it connects: test_connections.py) ------------

async def test_a_caller_inside_the_allow_list() -> None:
    endpoint = ChargePointEndpoint("CB-1", handler, allow=[ipaddress.ip_network("127.0.0.0/8")])
    async with serving(endpoint) as url:
        status, _ = await post(url, REMOTE_START)
    assert status == 200


# -- Receiver faults -----------------------------------------------------------------------------

async def test_an_operation_the_engine_does_not_support(box: str) -> None:
    body = request_xml("<o:resetRequest><o:type>Soft</o:type></o:resetRequest>", action="/Reset")
    await assert_fault(box, body, (RECEIVER, "NotSupported"))


async def test_an_engine_that_fails(box: str) -> None:
    body = request_xml("<o:unlockConnectorRequest><o:connectorId>1</o:connectorId></o:unlockConnectorRequest>",
                       action="/UnlockConnector")
    await assert_fault(box, body, (RECEIVER, "InternalError"))


async def test_an_engine_answer_that_breaks_the_schema_is_never_sent(box: str) -> None:
    await assert_fault(box, request_xml("<o:clearCacheRequest/>", action="/ClearCache"), (RECEIVER, "InternalError"))


# -- The engine's protocol errors in their 8.2 form: only the binding knows the wire (issue 16) ----

@pytest.mark.parametrize(("error", "expected"), [
    (NotImplementedAction, (RECEIVER, "NotSupported")),
    (NotSupported, (RECEIVER, "NotSupported")),
    (InternalError, (RECEIVER, "InternalError")),
    (GenericError, (RECEIVER, "InternalError")),
    (ProtocolError, (SENDER, "ProtocolError")),
    (FormationViolation, (SENDER, "ProtocolError")),
    (PropertyConstraintViolation, (SENDER, "ProtocolError")),
    (OccurenceConstraintViolation, (SENDER, "ProtocolError")),
    (TypeConstraintViolation, (SENDER, "ProtocolError")),
    (SecurityError, (SENDER, "SecurityError")),
])
async def test_a_protocol_error_of_the_engine_goes_out_as_its_fault(
        error: type[OcppError], expected: tuple[str, str]) -> None:
    async def refusing(request: Request) -> Confirmation:
        raise error(f"{request.action()} refused")

    async with serving(ChargePointEndpoint("CB-1", refusing)) as url:
        await assert_fault(url, REMOTE_START, expected)


@pytest.mark.parametrize(("code", "subcode", "error"), [
    (SENDER, "SecurityError", SecurityError),
    (SENDER, "IdentityMismatch", IdentityMismatch),
    (SENDER, "ProtocolError", ProtocolError),
    (RECEIVER, "InternalError", InternalError),
    (RECEIVER, "NotSupported", NotSupported),
    ("MustUnderstand", "", MustUnderstand),
])
def test_a_fault_read_off_the_wire_is_its_protocol_error(code: str, subcode: str, error: type[OcppError]) -> None:
    read = faults.fault_for(code, subcode, "why")
    assert (type(read), read.reason, faults.wire_code(read)) == (error, "why", (code, subcode))


def test_a_fault_of_no_known_subcode_is_a_generic_error_naming_it() -> None:
    read = faults.fault_for(RECEIVER, "Busy", "try later")
    assert (type(read), str(read)) == (GenericError, "GenericError: Receiver/Busy: try later")


# -- HTTP errors before any SOAP -----------------------------------------------------------------

async def test_an_oversized_body_is_refused_before_it_is_parsed() -> None:
    parsed: list[Request] = []

    async def recording(request: Request) -> Confirmation:
        parsed.append(request)
        return await handler(request)

    async with serving(ChargePointEndpoint("CB-1", recording, max_body=4096)) as url:
        padded = REMOTE_START.replace(b"<s:Body>", b"<s:Body>" + b" " * 5000)
        status, _ = await post(url, padded)
        assert status == 413
        status, _ = await post(url, REMOTE_START)
        assert status == 200
    assert len(parsed) == 1
