"""WS-Addressing (8.3, WS-Addressing 1.0 Core 3.4): every answer relates to its request, and a
request's non-anonymous ReplyTo (or FaultTo, for a fault) gets HTTP 202 and the answer posted there
through the box's client; strangers never make the box post anywhere."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from soap_helpers import REMOTE_START_BODY, fault_of, post, request_xml, serving

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap15 import CP_NAMESPACE
from chargebox.ocpp.enums import RemoteStartStopStatus
from chargebox.ocpp.errors import NotSupported
from chargebox.ocpp.messages import (
    Confirmation,
    RemoteStartTransactionConfirmation,
    RemoteStartTransactionRequest,
    Request,
)

RESET_BODY = "<o:resetRequest><o:type>Soft</o:type></o:resetRequest>"


async def handler(request: Request) -> Confirmation:
    if isinstance(request, RemoteStartTransactionRequest):
        return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)
    raise NotSupported(request.action())


def reference(name: str, url: str) -> str:
    return f"<a:{name}><a:Address>{url}</a:Address></a:{name}>"


@dataclass
class Mailbox:
    """The Central System's reply address: records each posted message, signals its arrival."""

    url: str = ""
    messages: list[tuple[str, bytes]] = field(default_factory=list)  # (path, body)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self, http: web.Request) -> web.Response:
        self.messages.append((http.path, await http.read()))
        self.arrived.set()
        return web.Response(status=202)


@dataclass
class Box:
    url: str
    mailbox: Mailbox
    client: CentralSystemClient


@pytest.fixture
async def box() -> AsyncIterator[Box]:
    mailbox = Mailbox()
    app = web.Application()
    app.router.add_post("/{tail:.*}", mailbox.receive)
    async with serving(app) as mailbox_url:
        mailbox.url = mailbox_url
        client = CentralSystemClient(mailbox_url, "CB-1", lambda: None, allow_plain_http=True)
        try:
            async with serving(ChargePointEndpoint("CB-1", handler, replies=client)) as url:
                yield Box(url, mailbox, client)
        finally:
            await client.close()


async def test_an_answer_and_a_fault_relate_to_the_request(box: Box) -> None:
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, message_id="urn:uuid:ok"))
    answer = envelope.parse(body, CP_NAMESPACE)
    assert (status, answer.headers.relates_to, answer.headers.to) == (200, "urn:uuid:ok", envelope.WSA_ANONYMOUS)
    assert answer.headers.message_id and answer.headers.message_id != "urn:uuid:ok"
    status, body = await post(box.url, request_xml(RESET_BODY, action="/Reset", message_id="urn:uuid:no"))
    fault = envelope.parse(body, CP_NAMESPACE)
    assert (status, fault.headers.relates_to, fault.headers.action) == (500, "urn:uuid:no", "/Fault")


async def test_an_anonymous_reply_to_is_answered_on_the_http_response(box: Box) -> None:
    status, _ = await post(box.url, request_xml(REMOTE_START_BODY, headers=reference("ReplyTo", envelope.WSA_ANONYMOUS)))
    assert status == 200
    assert box.mailbox.messages == []


async def test_a_reply_to_gets_202_and_the_answer_posted_there(box: Box) -> None:
    reply_to = box.mailbox.url + "replies"
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, message_id="urn:uuid:r1",
                                                   headers=reference("ReplyTo", reply_to)))
    assert (status, body) == (202, b"")
    await asyncio.wait_for(box.mailbox.arrived.wait(), 5)
    [(path, message)] = box.mailbox.messages
    reply = envelope.parse(message, CP_NAMESPACE)
    assert path == "/replies"
    assert (reply.headers.to, reply.headers.relates_to, reply.headers.action) == (
        reply_to, "urn:uuid:r1", "/RemoteStartTransactionResponse")
    assert reply.body is not None and reply.body.findtext(f"{{{CP_NAMESPACE}}}status") == "Accepted"


async def test_a_fault_goes_to_fault_to(box: Box) -> None:
    headers = reference("ReplyTo", box.mailbox.url + "replies") + reference("FaultTo", box.mailbox.url + "faults")
    status, _ = await post(box.url, request_xml(RESET_BODY, action="/Reset", headers=headers))
    assert status == 202
    await asyncio.wait_for(box.mailbox.arrived.wait(), 5)
    [(path, message)] = box.mailbox.messages
    assert path == "/faults"
    assert fault_of(message) == ("Receiver", "NotSupported")


async def test_a_reply_to_of_none_gets_202_and_no_answer(box: Box) -> None:
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, headers=reference("ReplyTo", envelope.WSA_NONE)))
    assert (status, body) == (202, b"")
    # Another request with a ReplyTo proves, by its arrival, that nothing was posted for the first.
    await post(box.url, request_xml(REMOTE_START_BODY, headers=reference("ReplyTo", box.mailbox.url)))
    await asyncio.wait_for(box.mailbox.arrived.wait(), 5)
    assert len(box.mailbox.messages) == 1


async def test_a_stranger_s_reply_to_is_ignored_and_the_fault_answered_inline(box: Box) -> None:
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, identity="CB-2",
                                                   headers=reference("ReplyTo", box.mailbox.url)))
    assert (status, fault_of(body)) == (400, ("Sender", "IdentityMismatch"))
    assert box.mailbox.messages == []


async def test_a_plain_http_reply_to_is_refused_where_plain_http_is_not_allowed(box: Box) -> None:
    client = CentralSystemClient("https://cs.example/", "CB-1", lambda: None)
    try:
        async with serving(ChargePointEndpoint("CB-1", handler, replies=client)) as url:
            status, body = await post(url, request_xml(REMOTE_START_BODY, headers=reference("ReplyTo", box.mailbox.url)))
    finally:
        await client.close()
    assert (status, fault_of(body)) == (400, ("Sender", "SecurityError"))


@pytest.mark.parametrize("address", ["ftp://cs.example/replies", "not a url", ""])
async def test_a_reply_to_that_is_not_an_http_url_is_a_protocol_error(box: Box, address: str) -> None:
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, headers=reference("ReplyTo", address)))
    if address:
        assert (status, fault_of(body)) == (400, ("Sender", "ProtocolError"))
    else:  # an empty Address is no address: the answer comes inline
        assert status == 200


async def test_an_endpoint_without_a_reply_channel_refuses_a_reply_to() -> None:
    async with serving(ChargePointEndpoint("CB-1", handler)) as url:
        status, body = await post(url, request_xml(REMOTE_START_BODY, headers=reference("ReplyTo", "http://cs/")))
    assert (status, fault_of(body)) == (400, ("Sender", "ProtocolError"))


async def test_an_endpoint_reference_without_an_address_is_a_protocol_error(box: Box) -> None:
    status, body = await post(box.url, request_xml(REMOTE_START_BODY, headers="<a:ReplyTo>http://cs/</a:ReplyTo>"))
    assert (status, fault_of(body)) == (400, ("Sender", "ProtocolError"))


def test_headers_are_written_as_xml_text_and_read_back_unchanged() -> None:
    """The envelope's headers are written as text (issue 19): markup characters in a value are
    escaped, and a value XML cannot carry is refused before anything is sent, as lxml refused it."""
    sent = envelope.Addressing(charge_box_identity='box <1> & "2"\r', action="/Heartbeat",
                               message_id="urn:uuid:1", to="http://cs/?a=1&b=2", from_url="http://box/?c=<3>",
                               reply_to="http://r/&", fault_to="http://f/>", relates_to="urn:uuid:0")
    read = envelope.parse(envelope.build(sent, CP_NAMESPACE), CP_NAMESPACE).headers
    assert read == dataclasses.replace(sent, charge_box_identity='box <1> & "2"')  # the header is stripped
    with pytest.raises(ValueError, match="XML compatible"):
        envelope.build(envelope.Addressing(action="/Heartbeat", message_id="urn:uuid:\x01"), CP_NAMESPACE)
