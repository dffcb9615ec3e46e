"""Conformance: every one of the 25 operations, request and confirmation, through the real binding on
real sockets, each message complete (every optional field) and valid against the OFFICIAL OCPP 1.5
schemas (``official_wsdl``, skipped where ``../shared/spec/wsdl`` is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from lxml import etree
from ocpp_samples import CONFIRMATIONS, REQUESTS
from soap_helpers import official_schema, post, recording_app, serving

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap15 import CP_NAMESPACE, CS_NAMESPACE
from chargebox.binding.soap.service import central_system_service, charge_point_service
from chargebox.ocpp.messages import Confirmation, Request
from chargebox.ocpp.versions import OCPP15

# The operations of the 1.5 WSDLs.
CENTRAL_SYSTEM_OPERATIONS = OCPP15.central_system_operations
CHARGE_POINT_OPERATIONS = OCPP15.charge_point_operations


def test_the_samples_cover_all_25_operations() -> None:
    operations = set(CENTRAL_SYSTEM_OPERATIONS) | set(CHARGE_POINT_OPERATIONS)
    assert len(CENTRAL_SYSTEM_OPERATIONS) + len(CHARGE_POINT_OPERATIONS) == 25  # DataTransfer both ways
    assert set(REQUESTS) == set(CONFIRMATIONS) == operations
    for name in operations:
        op = CENTRAL_SYSTEM_OPERATIONS.get(name) or CHARGE_POINT_OPERATIONS[name]
        assert type(REQUESTS[name]) is op.request and type(CONFIRMATIONS[name]) is op.confirmation


def assert_official(schema: etree.XMLSchema, element: etree._Element) -> None:
    assert schema.validate(element), f"{etree.QName(element).localname}: {schema.error_log}"


@pytest.mark.parametrize("name", sorted(CENTRAL_SYSTEM_OPERATIONS))
async def test_the_box_sends_each_request_and_reads_each_confirmation(name: str, official_wsdl: Path) -> None:
    """Client side (chapter 4): the request arrives complete and valid; the confirmation comes back typed."""
    official = official_schema(official_wsdl, "cs")
    cs = central_system_service()
    received: list[bytes] = []
    replies: list[bytes] = []

    async def answer(_http: web.Request, body: bytes) -> web.Response:
        sent = envelope.parse(body, CS_NAMESPACE)
        assert sent.body is not None
        parsed = cs.parse(sent.body)
        assert parsed == REQUESTS[name]
        reply = envelope.build(envelope.Addressing(action=f"/{name}Response", relates_to=sent.headers.message_id),
                               CS_NAMESPACE, cs.render(CONFIRMATIONS[name], name))
        replies.append(reply)
        return web.Response(body=reply, content_type=envelope.CONTENT_TYPE)

    async with serving(recording_app(answer, received)) as url:
        client = CentralSystemClient(url, "CB-1", lambda: "https://box.example:8180/", allow_plain_http=True)
        try:
            confirmation = await client.call(REQUESTS[name])
        finally:
            await client.close()
    assert confirmation == CONFIRMATIONS[name]
    headers = envelope.parse(received[0], CS_NAMESPACE).headers  # 8.1, 8.3: on every request
    assert (headers.charge_box_identity, headers.action, headers.to, headers.from_url) == (
        "CB-1", f"/{name}", url, "https://box.example:8180/")
    assert headers.message_id and headers.message_id.startswith("urn:uuid:")
    request = etree.fromstring(received[0])
    identity = request.find(f"{{{envelope.SOAP12_NAMESPACE}}}Header/{{{CS_NAMESPACE}}}chargeBoxIdentity")
    assert identity is not None and identity.text == "CB-1"
    assert_official(official, identity)
    assert_official(official, request.find(f"{{{envelope.SOAP12_NAMESPACE}}}Body")[0])
    assert_official(official, etree.fromstring(replies[0]).find(f"{{{envelope.SOAP12_NAMESPACE}}}Body")[0])


@pytest.mark.parametrize("name", sorted(CHARGE_POINT_OPERATIONS))
async def test_the_box_reads_each_request_and_sends_each_confirmation(name: str, official_wsdl: Path) -> None:
    """Server side (chapter 5): the request reaches the handler typed; the confirmation leaves valid."""
    official = official_schema(official_wsdl, "cp")
    cp = charge_point_service()
    handled: list[Request] = []

    async def handler(request: Request) -> Confirmation:
        handled.append(request)
        return CONFIRMATIONS[name]

    headers = envelope.Addressing(charge_box_identity="CB-1", action=f"/{name}", message_id="urn:uuid:42",
                                  to="http://box/")
    body = cp.render(REQUESTS[name], name)
    assert_official(official, body)
    request = envelope.build(headers, CP_NAMESPACE, body)
    async with serving(ChargePointEndpoint("CB-1", handler)) as url:
        status, answer = await post(url, request)
    assert status == 200, answer
    assert handled == [REQUESTS[name]]
    reply = envelope.parse(answer, CP_NAMESPACE)
    assert (reply.headers.action, reply.headers.relates_to) == (f"/{name}Response", "urn:uuid:42")
    assert reply.body is not None
    assert_official(official, reply.body)
    assert cp.parse(reply.body) == CONFIRMATIONS[name]
