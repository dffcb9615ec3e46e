"""The SOAP binding on real sockets: what the box's endpoint answers to good and bad requests, and
how its client classifies what the Central System does. Faults are checked on the wire."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from lxml import etree

from chargebox.binding import CallFailed, CentralSystemUnreachable
from chargebox.binding.soap15 import envelope
from chargebox.binding.soap15.client import CentralSystemClient
from chargebox.binding.soap15.faults import NotSupported, ProtocolError
from chargebox.binding.soap15.server import ChargePointEndpoint
from chargebox.binding.soap15.service import CP_NAMESPACE, CS_NAMESPACE, schema_of
from chargebox.ocpp.enums import RegistrationStatus, RemoteStartStopStatus
from chargebox.ocpp.messages import (
    BootNotificationConfirmation,
    BootNotificationRequest,
    Confirmation,
    RemoteStartTransactionConfirmation,
    RemoteStartTransactionRequest,
    Request,
)

S = envelope.SOAP12_NAMESPACE
REMOTE_START = f"""<?xml version="1.0"?>
<s:Envelope xmlns:s="{S}" xmlns:a="{envelope.WSA_NAMESPACE}" xmlns:o="{CP_NAMESPACE}">
 <s:Header><o:chargeBoxIdentity>{{identity}}</o:chargeBoxIdentity><a:Action>/RemoteStartTransaction</a:Action>
 <a:MessageID>urn:uuid:1</a:MessageID><a:To>http://box/</a:To></s:Header>
 <s:Body><o:remoteStartTransactionRequest><o:idTag>{{tag}}</o:idTag><o:connectorId>1</o:connectorId>
 </o:remoteStartTransactionRequest></s:Body></s:Envelope>"""


async def handler(request: Request) -> Confirmation:
    if isinstance(request, RemoteStartTransactionRequest):
        return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)
    raise NotSupported(f"{request.action()} not here")


@pytest.fixture
async def box() -> AsyncIterator[str]:
    endpoint = ChargePointEndpoint("CB-1", handler, max_body=8 * 1024)
    runner = web.AppRunner(endpoint.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    await runner.cleanup()


async def post(url: str, body: bytes, content_type: str = envelope.CONTENT_TYPE,
               headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.post(
        url, data=body, headers={"Content-Type": content_type, **(headers or {})}
    ) as response:
        return response.status, await response.read()


def fault_of(body: bytes) -> tuple[str, str]:
    root = etree.fromstring(body)
    value = root.findtext(f".//{{{S}}}Code/{{{S}}}Value")
    subcode = root.findtext(f".//{{{S}}}Subcode/{{{S}}}Value")
    assert value and subcode, body
    prefix = subcode.split(":")[0]
    fault = root.find(f".//{{{S}}}Fault")
    assert fault is not None
    assert fault.nsmap.get(prefix) == envelope.FAULT_SUBCODE_NAMESPACE  # 8.2: urn://Ocpp/2012/02/
    return value.split(":")[-1], subcode.split(":")[-1]


async def test_a_valid_request_is_answered_with_relates_to(box: str) -> None:
    status, body = await post(box, REMOTE_START.format(identity="cb-1", tag="ABC").encode())
    assert status == 200
    answer = envelope.parse(body, CP_NAMESPACE)
    assert answer.headers.relates_to == "urn:uuid:1"
    assert answer.headers.action == "/RemoteStartTransactionResponse"
    assert answer.body is not None and answer.body.findtext(f"{{{CP_NAMESPACE}}}status") == "Accepted"


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (REMOTE_START.format(identity="CB-2", tag="ABC"), envelope.CONTENT_TYPE, ("Sender", "IdentityMismatch")),
    (REMOTE_START.format(identity="CB-1", tag="X" * 21), envelope.CONTENT_TYPE, ("Sender", "ProtocolError")),
    (REMOTE_START.replace("<o:chargeBoxIdentity>{identity}</o:chargeBoxIdentity>", "").format(tag="A"),
     envelope.CONTENT_TYPE, ("Sender", "ProtocolError")),
    (REMOTE_START.format(identity="CB-1", tag="A").replace("<o:connectorId>1", "<o:connectorId>one"),
     envelope.CONTENT_TYPE, ("Sender", "ProtocolError")),
    (REMOTE_START.format(identity="CB-1", tag="A").replace(S, envelope.SOAP11_NAMESPACE), "text/xml",
     ("Sender", "ProtocolError")),
    ("this is not XML", envelope.CONTENT_TYPE, ("Sender", "ProtocolError")),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     + REMOTE_START.format(identity="CB-1", tag="&b;").split("?>", 1)[1], envelope.CONTENT_TYPE,
     ("Sender", "ProtocolError")),
    (REMOTE_START.format(identity="CB-1", tag="A").replace("remoteStartTransactionRequest", "resetRequest")
     .replace("<o:idTag>A</o:idTag><o:connectorId>1</o:connectorId>", "<o:type>Soft</o:type>"),
     envelope.CONTENT_TYPE, ("Sender", "ProtocolError")),  # Action says RemoteStart, body says Reset
])
async def test_bad_requests_get_the_spec_fault(box: str, body: str, content_type: str,
                                               expected: tuple[str, str]) -> None:
    status, answer = await post(box, body.encode(), content_type)
    assert status == 400
    assert fault_of(answer) == expected


async def test_an_unimplemented_operation_is_receiver_not_supported(box: str) -> None:
    body = REMOTE_START.format(identity="CB-1", tag="A").replace("/RemoteStartTransaction", "/Reset") \
        .replace("remoteStartTransactionRequest", "resetRequest") \
        .replace("<o:idTag>A</o:idTag><o:connectorId>1</o:connectorId>", "<o:type>Soft</o:type>")
    status, answer = await post(box, body.encode())
    assert (status, fault_of(answer)) == (500, ("Receiver", "NotSupported"))


async def test_gzip_requests_are_accepted_and_oversized_bodies_refused_before_parsing(box: str) -> None:
    body = REMOTE_START.format(identity="CB-1", tag="GZ").encode()
    status, _ = await post(box, gzip.compress(body), headers={"Content-Encoding": "gzip"})
    assert status == 200
    status, _ = await post(box, b"<" * (9 * 1024))
    assert status == 413


async def test_the_box_serves_its_wsdl(box: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(box + "?wsdl") as response:
        assert response.status == 200
        wsdl = etree.fromstring(await response.read())
    assert wsdl.get("targetNamespace") == CP_NAMESPACE


# -- the client -------------------------------------------------------------------------------------

BOOT = BootNotificationRequest(charge_point_vendor="chargebox", charge_point_model="m", firmware_version="1")


@pytest.fixture
async def central(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A stub Central System answering with ``request.param(received body) -> (status, body)``."""
    received: list[bytes] = []
    answer = request.param

    async def soap(http: web.Request) -> web.Response:
        body = await http.read()
        received.append(body)
        status, reply = answer(body)
        return web.Response(status=status, body=reply, content_type="application/soap+xml")

    app = web.Application()
    app.router.add_post("/", soap)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/", received
    await runner.cleanup()


def accepted(body: bytes) -> tuple[int, bytes]:
    sent = envelope.parse(body, CS_NAMESPACE)
    reply = etree.fromstring(
        f'<o:bootNotificationResponse xmlns:o="{CS_NAMESPACE}"><o:status>Accepted</o:status>'
        f"<o:currentTime>2026-01-01T00:00:00Z</o:currentTime><o:heartbeatInterval>60</o:heartbeatInterval>"
        f"</o:bootNotificationResponse>")
    headers = envelope.Addressing(action="/BootNotificationResponse", relates_to=sent.headers.message_id)
    return 200, envelope.build(headers, CS_NAMESPACE, reply)


@pytest.mark.parametrize("central", [accepted], indirect=True)
async def test_client_sends_identity_and_addressing_and_reads_the_confirmation(
    central: tuple[str, list[bytes]], official_wsdl: Path,
) -> None:
    url, received = central
    client = CentralSystemClient(url, "CB-1", lambda: "http://10.1.2.3:8180/", compress_threshold=None)
    try:
        conf = await client.call(BOOT)
    finally:
        await client.close()
    assert conf == BootNotificationConfirmation(
        status=RegistrationStatus.ACCEPTED, current_time=datetime(2026, 1, 1, tzinfo=timezone.utc), heartbeat_interval=60)
    sent = envelope.parse(received[0], CS_NAMESPACE)
    assert (sent.headers.charge_box_identity, sent.headers.action, sent.headers.to, sent.headers.from_url) == (
        "CB-1", "/BootNotification", url, "http://10.1.2.3:8180/")
    assert sent.headers.message_id and sent.headers.message_id.startswith("urn:uuid:")
    official = schema_of(official_wsdl / "ocpp_centralsystemservice_1.5_final.wsdl")
    assert sent.body is not None and official.validate(sent.body), official.error_log


@pytest.mark.parametrize("central", [accepted], indirect=True)
async def test_client_compresses_large_requests(central: tuple[str, list[bytes]]) -> None:
    url, received = central
    client = CentralSystemClient(url, "CB-1", lambda: None, compress_threshold=10)
    try:
        await client.call(BOOT)
    finally:
        await client.close()
    assert envelope.parse(received[0], CS_NAMESPACE).headers.action == "/BootNotification"


@pytest.mark.parametrize(("central", "error"), [
    (lambda body: (500, envelope.build(envelope.Addressing(), CS_NAMESPACE, fault=ProtocolError("no"))), ProtocolError),
    (lambda body: (200, b"<html>not soap</html>"), CallFailed),
    (lambda body: (503, b""), CallFailed),
    (lambda body: (200, accepted(body)[1].replace(b">60<", b">sixty<")), ProtocolError),
], indirect=["central"])
async def test_a_central_system_that_does_not_process_the_message_is_a_call_failure(
    central: tuple[str, list[bytes]], error: type[Exception],
) -> None:
    client = CentralSystemClient(central[0], "CB-1", lambda: None)
    try:
        with pytest.raises(error):
            await client.call(BOOT)
    finally:
        await client.close()


async def test_an_unreachable_central_system_is_not_a_call_failure() -> None:
    client = CentralSystemClient("http://127.0.0.1:9/", "CB-1", lambda: None, timeout=2)
    try:
        with pytest.raises(CentralSystemUnreachable):
            await client.call(BOOT)
    finally:
        await client.close()
