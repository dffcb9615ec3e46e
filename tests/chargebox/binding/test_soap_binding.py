"""The SOAP binding on real sockets: the endpoint's plain answers and its WSDL, and how the client
classifies what the Central System does (a failure to process versus no answer at all)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from lxml import etree
from soap_helpers import REMOTE_START, Answer, official_schema, post, recording_app, serving

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import MAX_RESPONSE_BYTES, CentralSystemClient
from chargebox.binding.soap.faults import IdentityMismatch
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap15 import CP_NAMESPACE, CS_NAMESPACE
from chargebox.binding.soap.service import central_system_service, charge_point_service, redact_values
from chargebox.ocpp.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    RegistrationStatus,
    RemoteStartStopStatus,
)
from chargebox.ocpp.errors import CallFailed, CentralSystemUnreachable, ProtocolError, SecurityError, Unsendable
from chargebox.ocpp.messages import (
    BootNotificationConfirmation,
    BootNotificationRequest,
    Confirmation,
    RemoteStartTransactionConfirmation,
    Request,
    StartTransactionRequest,
    StatusNotificationRequest,
)


async def accept(request: Request) -> Confirmation:
    return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)


# -- the endpoint ----------------------------------------------------------------------------------

async def test_a_valid_request_is_answered_with_its_confirmation() -> None:
    async with serving(ChargePointEndpoint("CB-1", accept)) as url:
        status, body = await post(url, REMOTE_START)
    assert status == 200
    answer = envelope.parse(body, CP_NAMESPACE)
    assert answer.headers.action == "/RemoteStartTransactionResponse"
    assert answer.body is not None and answer.body.findtext(f"{{{CP_NAMESPACE}}}status") == "Accepted"


async def test_the_box_serves_its_wsdl_and_only_that_on_get() -> None:
    async with serving(ChargePointEndpoint("CB-1", accept)) as url, aiohttp.ClientSession() as session:
        async with session.get(url + "?wsdl") as response:
            assert response.status == 200
            wsdl = etree.fromstring(await response.read())
        async with session.get(url) as response:
            assert response.status == 405
    assert wsdl.get("targetNamespace") == CP_NAMESPACE


# -- the client ------------------------------------------------------------------------------------

BOOT = BootNotificationRequest(charge_point_vendor="chargebox", charge_point_model="m", firmware_version="1")
BOOT_REPLY = (f'<o:bootNotificationResponse xmlns:o="{CS_NAMESPACE}"><o:status>Accepted</o:status>'
              f"<o:currentTime>2026-01-01T00:00:00Z</o:currentTime><o:heartbeatInterval>60</o:heartbeatInterval>"
              f"</o:bootNotificationResponse>")


def boot_reply(body: bytes, payload: str = BOOT_REPLY, relates_to: str | None = None) -> bytes:
    sent = envelope.parse(body, CS_NAMESPACE)
    headers = envelope.Addressing(action="/BootNotificationResponse", relates_to=relates_to or sent.headers.message_id)
    return envelope.build(headers, CS_NAMESPACE, etree.fromstring(payload))


def answering(reply: Callable[[bytes], tuple[int, bytes]]) -> Answer:
    async def answer(_http: web.Request, body: bytes) -> web.Response:
        status, data = reply(body)
        return web.Response(status=status, body=data, content_type="application/soap+xml")
    return answer


async def call(reply: Callable[[bytes], tuple[int, bytes]], received: list[bytes] | None = None,
               **options: Any) -> Confirmation:
    async with serving(recording_app(answering(reply), received if received is not None else [])) as url:
        client = CentralSystemClient(url, "CB-1", lambda: "http://10.1.2.3:8180/", allow_plain_http=True,
                                     **options)
        try:
            return await client.call(BOOT)
        finally:
            await client.close()


async def test_client_sends_identity_and_addressing_and_reads_the_confirmation(official_wsdl: Path) -> None:
    received: list[bytes] = []
    conf = await call(lambda body: (200, boot_reply(body)), received, compression=None)
    assert conf == BootNotificationConfirmation(
        status=RegistrationStatus.ACCEPTED, current_time=datetime(2026, 1, 1, tzinfo=timezone.utc), heartbeat_interval=60)
    sent = envelope.parse(received[0], CS_NAMESPACE)
    assert sent.headers.charge_box_identity == "CB-1"
    assert sent.headers.action == "/BootNotification"
    assert sent.headers.to and sent.headers.to.startswith("http://127.0.0.1:")
    assert sent.headers.from_url == "http://10.1.2.3:8180/"
    assert sent.headers.message_id and sent.headers.message_id.startswith("urn:uuid:")
    assert sent.body is not None and official_schema(official_wsdl, "cs").validate(sent.body)


@pytest.mark.parametrize(("reply", "error"), [
    (lambda body: (500, envelope.build(envelope.Addressing(), CS_NAMESPACE, fault=IdentityMismatch("no"))),
     IdentityMismatch),
    (lambda body: (200, b"<html>not soap</html>"), ProtocolError),
    (lambda body: (200, b"not even XML"), ProtocolError),
    (lambda body: (200, b""), ProtocolError),
    (lambda body: (503, b""), CallFailed),
    (lambda body: (404, b"<html>no such service</html>"), ProtocolError),
    (lambda body: (200, boot_reply(body).replace(b">60<", b">sixty<")), ProtocolError),
    (lambda body: (200, boot_reply(body).replace(b"Accepted", b"Welcome")), ProtocolError),
    (lambda body: (200, boot_reply(body).replace(b"<o:heartbeatInterval>60</o:heartbeatInterval>", b"")),
     ProtocolError),
    (lambda body: (200, boot_reply(body, relates_to="urn:uuid:another")), ProtocolError),
    (lambda body: (200, boot_reply(body, payload=f'<o:heartbeatResponse xmlns:o="{CS_NAMESPACE}">'
                                                 "<o:currentTime>2026-01-01T00:00:00Z</o:currentTime>"
                                                 "</o:heartbeatResponse>")), ProtocolError),
    (lambda body: (200, boot_reply(body).replace(envelope.SOAP12_NAMESPACE.encode(),
                                                 envelope.SOAP11_NAMESPACE.encode())), ProtocolError),
    (lambda body: (200, boot_reply(body)[:-40]), ProtocolError),
    (lambda body: (200, b"<x>" + b" " * MAX_RESPONSE_BYTES + b"</x>"), ProtocolError),
])
async def test_a_central_system_that_does_not_process_the_message_is_a_call_failure(
    reply: Callable[[bytes], tuple[int, bytes]], error: type[Exception],
) -> None:
    """Faults, HTTP errors and malformed responses are CallFailed (an attempt that counts), never
    CentralSystemUnreachable."""
    with pytest.raises(error) as caught:
        await call(reply)
    assert isinstance(caught.value, CallFailed) and not isinstance(caught.value, CentralSystemUnreachable)


async def test_a_response_that_is_not_http_is_a_call_failure() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SOAP/9 nonsense\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = CentralSystemClient(f"http://127.0.0.1:{port}/", "CB-1", lambda: None, allow_plain_http=True)
    try:
        with pytest.raises(CallFailed) as caught:
            await client.call(BOOT)
        assert not isinstance(caught.value, CentralSystemUnreachable)
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_an_unreachable_central_system_is_not_a_call_failure() -> None:
    client = CentralSystemClient("http://127.0.0.1:9/", "CB-1", lambda: None, timeout=2, allow_plain_http=True)
    try:
        with pytest.raises(CentralSystemUnreachable):
            await client.call(BOOT)
    finally:
        await client.close()


def test_a_queued_message_keeps_its_message_id_and_one_the_schema_refuses_is_unsendable() -> None:
    client = CentralSystemClient("http://cs.example/", "CB-1", lambda: None, allow_plain_http=True)
    message_id = "6f1c2a4e-3b7d-4c1a-9e55-0d2f8b1a7c90"
    _, sent = client.encode(BOOT, message_id)
    assert sent.message_id == f"urn:uuid:{message_id}"
    assert client.encode(BOOT)[1].message_id != client.encode(BOOT)[1].message_id  # fresh ones otherwise
    start = StartTransactionRequest(connector_id=1, id_tag="04A2B3C4", timestamp=datetime.now(timezone.utc),
                                    meter_start=2**31)  # above xs:int
    with pytest.raises(Unsendable, match="meterStart"):
        client.encode(start, message_id)


@pytest.mark.parametrize(("status", "wire"), [
    (ChargePointStatus.PREPARING, "Occupied"), (ChargePointStatus.CHARGING, "Occupied"),
    (ChargePointStatus.SUSPENDED_EV, "Occupied"), (ChargePointStatus.SUSPENDED_EVSE, "Occupied"),
    (ChargePointStatus.FINISHING, "Occupied"), (ChargePointStatus.AVAILABLE, "Available"),
    (ChargePointStatus.RESERVED, "Reserved"), (ChargePointStatus.UNAVAILABLE, "Unavailable"),
    (ChargePointStatus.FAULTED, "Faulted"),
])
def test_the_engines_statuses_go_on_the_1_5_wire_as_1_5_says_them(status: ChargePointStatus, wire: str) -> None:
    """1.6's five statuses of a connector in use are 1.5's Occupied (1.6 4.9); the rendered message is valid."""
    request = StatusNotificationRequest(connector_id=1, status=status, error_code=ChargePointErrorCode.NO_ERROR)
    element = central_system_service().render(request, "StatusNotification")
    assert element.findtext(f"{{{CS_NAMESPACE}}}status") == wire


def test_plain_http_is_refused_unless_allowed() -> None:
    with pytest.raises(SecurityError):
        CentralSystemClient("http://cs.example/", "CB-1", lambda: None)
    with pytest.raises(ProtocolError):
        CentralSystemClient("ftp://cs.example/", "CB-1", lambda: None)


@pytest.mark.parametrize(("root", "inner", "kept"), [
    ("getDiagnosticsRequest", "<location>ftp://box:pw-0123@h:99999999999999999999/up/</location>",
     "is not a valid value of the atomic type 'xs:anyURI'"),
    ("resetRequest", "<type>pw-0123</type>", "is not an element of the set"),
])
def test_a_schema_error_does_not_repeat_the_offending_value(root: str, inner: str, kept: str) -> None:
    """libxml2 quotes the value it refuses; it may be a location's password or an idTag, and the
    message reaches the log and the fault (issue 14, item 6)."""
    element = etree.fromstring(f'<{root} xmlns="{CP_NAMESPACE}">{inner}</{root}>')
    with pytest.raises(ProtocolError) as raised:
        charge_point_service().validate(element)
    assert "pw-0123" not in str(raised.value) and kept in str(raised.value) and "'***'" in str(raised.value)


def test_older_libxml2_length_messages_lose_their_value_too() -> None:
    # libxml2 before 2.11 wrote "The value 'X' has a length of ..." (later ones leave the value out).
    message = ("Element '{urn://Ocpp/Cp/2012/06/}idTag': [facet 'maxLength'] The value 'SECRET-TAG-0123456789' "
               "has a length of '21'; this exceeds the allowed maximum length of '20'.")
    assert redact_values(message) == (
        "Element '{urn://Ocpp/Cp/2012/06/}idTag': [facet 'maxLength'] The value '***' has a length of '21'; "
        "this exceeds the allowed maximum length of '20'.")
    assert redact_values("Element 'x': 'it''s' is not a valid value of the atomic type 'xs:int'.") == (
        "Element 'x': '***' is not a valid value of the atomic type 'xs:int'.")
