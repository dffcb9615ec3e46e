"""Conformance, in each SOAP version: every operation (1.5: 25, 1.6: 29), request and confirmation, through
the real binding on real sockets, each message complete (every optional field) and valid against the
OFFICIAL schemas of that version (``official_wsdl``, skipped where ``../shared/spec/wsdl`` is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from lxml import etree
from ocpp_samples import CONFIRMATIONS, CONFIRMATIONS_16, REQUESTS, REQUESTS_16
from soap_helpers import official_schema, post, recording_app, serving

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap.protocol import SoapProtocol
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap.service import central_system_service, charge_point_service
from chargebox.binding.soap15 import SOAP15
from chargebox.binding.soap16 import SOAP16
from chargebox.ocpp.messages import Confirmation, Request

# Each version with its samples, complete in its own terms.
SAMPLES = {SOAP15.name: (REQUESTS, CONFIRMATIONS), SOAP16.name: (REQUESTS_16, CONFIRMATIONS_16)}
PROTOCOLS = (SOAP15, SOAP16)
CENTRAL_SYSTEM_CASES = [pytest.param(p, name, id=f"{p.name}-{name}")
                        for p in PROTOCOLS for name in sorted(p.version.central_system_operations)]
CHARGE_POINT_CASES = [pytest.param(p, name, id=f"{p.name}-{name}")
                      for p in PROTOCOLS for name in sorted(p.version.charge_point_operations)]


@pytest.mark.parametrize(("protocol", "count"), [(SOAP15, 25), (SOAP16, 29)])  # DataTransfer both ways
def test_the_samples_cover_every_operation(protocol: SoapProtocol, count: int) -> None:
    central_system = protocol.version.central_system_operations
    charge_point = protocol.version.charge_point_operations
    operations = set(central_system) | set(charge_point)
    assert len(central_system) + len(charge_point) == count
    requests, confirmations = SAMPLES[protocol.name]
    assert set(requests) == set(confirmations) == operations
    for name in operations:
        op = central_system.get(name) or charge_point[name]
        assert type(requests[name]) is op.request and type(confirmations[name]) is op.confirmation


def assert_official(schema: etree.XMLSchema, element: etree._Element) -> None:
    assert schema.validate(element), f"{etree.QName(element).localname}: {schema.error_log}"


@pytest.mark.parametrize(("protocol", "name"), CENTRAL_SYSTEM_CASES)
async def test_the_box_sends_each_request_and_reads_each_confirmation(protocol: SoapProtocol, name: str,
                                                                      official_wsdl: Path) -> None:
    """Client side (chapter 4): the request arrives complete and valid; the confirmation comes back typed."""
    official = official_schema(official_wsdl, "cs", protocol)
    requests, confirmations = SAMPLES[protocol.name]
    namespace = protocol.cs_namespace
    cs = central_system_service(protocol)
    received: list[bytes] = []
    replies: list[bytes] = []

    async def answer(_http: web.Request, body: bytes) -> web.Response:
        sent = envelope.parse(body, namespace)
        assert sent.body is not None
        parsed = cs.parse(sent.body)
        assert parsed == requests[name]
        headers = envelope.Addressing(action=f"/{name}Response", relates_to=sent.headers.message_id)
        reply = envelope.build(headers, namespace, cs.render(confirmations[name], name))
        replies.append(reply)
        return web.Response(body=reply, content_type=envelope.CONTENT_TYPE)

    async with serving(recording_app(answer, received)) as url:
        client = CentralSystemClient(url, "CB-1", lambda: "https://box.example:8180/", allow_plain_http=True,
                                     service=cs)
        try:
            confirmation = await client.call(requests[name])
        finally:
            await client.close()
    assert confirmation == confirmations[name]
    headers = envelope.parse(received[0], namespace).headers  # 8.1, 8.3: on every request
    assert (headers.charge_box_identity, headers.action, headers.to, headers.from_url) == (
        "CB-1", f"/{name}", url, "https://box.example:8180/")
    assert headers.message_id and headers.message_id.startswith("urn:uuid:")
    request = etree.fromstring(received[0])
    identity = request.find(f"{{{envelope.SOAP12_NAMESPACE}}}Header/{{{namespace}}}chargeBoxIdentity")
    assert identity is not None and identity.text == "CB-1"
    assert_official(official, identity)
    assert_official(official, request.find(f"{{{envelope.SOAP12_NAMESPACE}}}Body")[0])
    assert_official(official, etree.fromstring(replies[0]).find(f"{{{envelope.SOAP12_NAMESPACE}}}Body")[0])


@pytest.mark.parametrize(("protocol", "name"), CHARGE_POINT_CASES)
async def test_the_box_reads_each_request_and_sends_each_confirmation(protocol: SoapProtocol, name: str,
                                                                      official_wsdl: Path) -> None:
    """Server side (chapter 5): the request reaches the handler typed; the confirmation leaves valid."""
    official = official_schema(official_wsdl, "cp", protocol)
    requests, confirmations = SAMPLES[protocol.name]
    namespace = protocol.cp_namespace
    cp = charge_point_service(protocol)
    handled: list[Request] = []

    async def handler(request: Request) -> Confirmation:
        handled.append(request)
        return confirmations[name]

    headers = envelope.Addressing(charge_box_identity="CB-1", action=f"/{name}", message_id="urn:uuid:42",
                                  to="http://box/")
    body = cp.render(requests[name], name)
    assert_official(official, body)
    request = envelope.build(headers, namespace, body)
    async with serving(ChargePointEndpoint("CB-1", handler, service=cp)) as url:
        status, answer = await post(url, request)
    assert status == 200, answer
    assert handled == [requests[name]]
    reply = envelope.parse(answer, namespace)
    assert (reply.headers.action, reply.headers.relates_to) == (f"/{name}Response", "urn:uuid:42")
    assert reply.body is not None
    assert_official(official, reply.body)
    assert cp.parse(reply.body) == confirmations[name]
