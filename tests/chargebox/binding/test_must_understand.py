"""Mandatory SOAP 1.2 header blocks (SOAP 1.2 Part 1 2.6, 5.2.2, 5.2.3, 5.4.8), on the wire.

A header block targeted at the box (no role, or role next or ultimateReceiver) marked mustUnderstand
that the box does not understand stops the request before anything is processed: the answer is an
env:MustUnderstand fault (no OCPP subcode, HTTP 500 by SOAP 1.2 Part 2 7.5.2.2) with one
env:NotUnderstood header block per such header. Optional blocks and blocks for other roles are
ignored; the headers the box does understand (chargeBoxIdentity, WS-Addressing) may be marked
mandatory. A response from the Central System with such a header is not taken as a confirmation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from lxml import etree
from ocpp_samples import T0
from soap_helpers import (
    REMOTE_START,
    REMOTE_START_BODY,
    S,
    fault_of,
    heartbeat_reply,
    post,
    recording_app,
    request_xml,
    serving,
)

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap.faults import MustUnderstand
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap15 import CP_NAMESPACE, CS_NAMESPACE
from chargebox.ocpp.enums import RemoteStartStopStatus
from chargebox.ocpp.errors import CallFailed, CentralSystemUnreachable, ProtocolError
from chargebox.ocpp.messages import (
    Confirmation,
    HeartbeatConfirmation,
    HeartbeatRequest,
    RemoteStartTransactionConfirmation,
    Request,
)

VENDOR = "urn:example:vendor"
ROLE = f"{S}/role"


def vendor_header(name: str = "Tariff", must: str | None = "true", role: str | None = None) -> str:
    """A header block the box does not know, in a namespace of its own."""
    attributes = "".join(f' s:{key}="{value}"' for key, value in (("mustUnderstand", must), ("role", role))
                         if value is not None)
    return f'<v:{name} xmlns:v="{VENDOR}"{attributes}>2</v:{name}>'


@dataclass
class Box:
    url: str
    handled: list[Request]


@pytest.fixture
async def box() -> AsyncIterator[Box]:
    handled: list[Request] = []

    async def handler(request: Request) -> Confirmation:
        handled.append(request)
        return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)

    async with serving(ChargePointEndpoint("CB-1", handler)) as url:
        yield Box(url, handled)


def must_understand_fault(status: int, body: bytes) -> list[str]:
    """The names ({namespace}local) in the NotUnderstood blocks of a MustUnderstand fault on the wire."""
    root = etree.fromstring(body)
    assert status == 500, body
    value = root.find(f"{{{S}}}Body/{{{S}}}Fault/{{{S}}}Code/{{{S}}}Value")
    assert value is not None and value.text is not None, body
    prefix, _, local = value.text.partition(":")
    assert (value.nsmap.get(prefix), local) == (S, "MustUnderstand"), body  # env:MustUnderstand (5.4.6)
    assert root.find(f".//{{{S}}}Subcode") is None, body  # 8.2 defines no OCPP subcode for it
    names = []
    for block in root.iterfind(f"{{{S}}}Header/{{{S}}}NotUnderstood"):
        qname_prefix, _, qname_local = block.get("qname", "").rpartition(":")
        names.append(str(etree.QName(block.nsmap.get(qname_prefix or None), qname_local)))
    return names


# -- the endpoint ----------------------------------------------------------------------------------

@pytest.mark.parametrize("must", ["true", "1", " true "])
async def test_an_unknown_mandatory_header_is_a_must_understand_fault(box: Box, must: str) -> None:
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, headers=vendor_header(must=must)))
    assert must_understand_fault(status, body) == [f"{{{VENDOR}}}Tariff"]
    assert box.handled == []


async def test_each_unknown_mandatory_header_is_named_and_optional_ones_are_not(box: Box) -> None:
    headers = vendor_header("Tariff") + vendor_header("Display", must="false") + vendor_header("Locale", must="1")
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, headers=headers))
    assert must_understand_fault(status, body) == [f"{{{VENDOR}}}Tariff", f"{{{VENDOR}}}Locale"]
    assert box.handled == []


@pytest.mark.parametrize("role", [f"{ROLE}/next", f"{ROLE}/ultimateReceiver"])
async def test_the_roles_the_box_acts_in(box: Box, role: str) -> None:
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, headers=vendor_header(role=role)))
    assert must_understand_fault(status, body) == [f"{{{VENDOR}}}Tariff"]


@pytest.mark.parametrize("header", [
    vendor_header(must="false"),
    vendor_header(must="0"),
    vendor_header(must=None),
    vendor_header(role=f"{ROLE}/none"),
    vendor_header(role="http://proxy.example/role/billing"),
], ids=["false", "0", "absent", "role-none", "custom-role"])
async def test_optional_headers_and_headers_for_other_roles_are_ignored(box: Box, header: str) -> None:
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, headers=header))
    assert status == 200, body
    assert len(box.handled) == 1


async def test_the_headers_the_box_understands_may_be_mandatory(box: Box) -> None:
    """zeep and many Central Systems mark the WS-Addressing headers mustUnderstand."""
    body = REMOTE_START
    for name in (b"o:chargeBoxIdentity", b"a:Action", b"a:MessageID", b"a:To"):
        body = body.replace(b"<" + name + b">", b"<" + name + b' s:mustUnderstand="true">')
    reply_to = '<a:ReplyTo s:mustUnderstand="1"><a:Address>' + envelope.WSA_ANONYMOUS + "</a:Address></a:ReplyTo>"
    body = body.replace(b"</s:Header>", reply_to.encode() + b"</s:Header>")
    assert body.count(b"s:mustUnderstand=") == 5
    status, answer = await post(box.url, body)
    assert status == 200, answer
    assert envelope.parse(answer, CP_NAMESPACE).headers.relates_to == "urn:uuid:1"
    assert len(box.handled) == 1


async def test_a_header_the_box_knows_is_not_read_when_it_is_for_another_role(box: Box) -> None:
    body = REMOTE_START.replace(b"<o:chargeBoxIdentity>", f'<o:chargeBoxIdentity s:role="{ROLE}/none">'.encode())
    status, answer = await post(box.url, body)
    assert (status, fault_of(answer)) == (400, ("Sender", "ProtocolError"))  # no chargeBoxIdentity for the box
    assert b"missing chargeBoxIdentity" in answer


async def test_the_check_comes_before_identity_and_reply_address(box: Box) -> None:
    """Nothing of the request is processed: no IdentityMismatch, no ReplyTo honoured (this box has no
    reply channel, so a non-anonymous ReplyTo would be a ProtocolError)."""
    headers = vendor_header() + "<a:ReplyTo><a:Address>https://cs.example/replies</a:Address></a:ReplyTo>"
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, identity="CB-2", headers=headers))
    assert must_understand_fault(status, body) == [f"{{{VENDOR}}}Tariff"]
    assert box.handled == []


@pytest.mark.parametrize("must", ["yes", "TRUE", "", "2"])
async def test_a_must_understand_value_that_is_not_a_boolean_is_a_sender_fault(box: Box, must: str) -> None:
    for header in (vendor_header(must=must), vendor_header(must=must, role=f"{ROLE}/none")):
        status, body = await post(box.url, request_xml(REMOTE_START_BODY, headers=header))
        assert (status, fault_of(body)) == (400, ("Sender", "ProtocolError"))
        assert b"is not an xs:boolean" in body
    assert box.handled == []


# -- the client ------------------------------------------------------------------------------------

async def heartbeat(header: str = "", fault: MustUnderstand | None = None) -> Confirmation:
    """One Heartbeat to a Central System that confirms it with ``header`` added, or answers ``fault``."""

    async def answer(_http: web.Request, body: bytes) -> web.Response:
        if fault is not None:
            return web.Response(body=envelope.build(envelope.Addressing(), CS_NAMESPACE, fault=fault), status=500,
                                content_type=envelope.CONTENT_TYPE)
        confirmation = heartbeat_reply(body).replace(b"</s:Header>", header.encode() + b"</s:Header>")
        return web.Response(body=confirmation, content_type=envelope.CONTENT_TYPE)

    async with serving(recording_app(answer, [])) as url:
        client = CentralSystemClient(url, "CB-1", lambda: None, allow_plain_http=True)
        try:
            return await client.call(HeartbeatRequest())
        finally:
            await client.close()


async def test_a_response_with_an_unknown_mandatory_header_is_not_a_confirmation() -> None:
    with pytest.raises(ProtocolError, match=r"mandatory header not understood: \{urn:example:vendor\}Tariff") as caught:
        await heartbeat(vendor_header())
    assert isinstance(caught.value, CallFailed) and not isinstance(caught.value, CentralSystemUnreachable)


@pytest.mark.parametrize("header", [
    vendor_header(must="false"),
    vendor_header(role=f"{ROLE}/none"),
    '<a:ReplyTo s:mustUnderstand="true"><a:Address>' + envelope.WSA_ANONYMOUS + "</a:Address></a:ReplyTo>",
], ids=["optional", "role-none", "understood"])
async def test_a_response_with_headers_the_box_may_ignore_is_a_confirmation(header: str) -> None:
    assert await heartbeat(header) == HeartbeatConfirmation(current_time=T0)


async def test_a_central_system_that_does_not_understand_a_header_of_the_box() -> None:
    """The Central System's own MustUnderstand fault (with its NotUnderstood blocks) is read back as one."""
    with pytest.raises(MustUnderstand, match="not understood here") as caught:
        await heartbeat(fault=MustUnderstand("not understood here", [f"{{{VENDOR}}}Tariff"]))
    assert isinstance(caught.value, CallFailed) and not isinstance(caught.value, CentralSystemUnreachable)
