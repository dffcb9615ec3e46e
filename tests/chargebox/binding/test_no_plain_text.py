"""Every request gets a SOAP answer (issue 14, item 8): a required string element present but empty,
in every Central System -> Charge Point operation, and a body that claims gzip but is not, get a
Sender fault (HTTP 400); a body too large or too slow a Sender fault with HTTP 413 or 408, unread
beyond the limit; a bug of ours anywhere, not only in the engine's handler, gets a Receiver fault and
leaves its cause in the log (type and traceback; not its message, which may repeat an idTag).
Never aiohttp's plain-text "500 Server got itself in trouble"."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest
from lxml import etree
from ocpp_samples import CONFIRMATIONS, REQUESTS
from soap_helpers import REMOTE_START, REMOTE_START_BODY, fault_of, post, read_response, request_xml, serving

from chargebox.binding.soap import envelope
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap.service import Service, charge_point_service
from chargebox.ocpp.messages import Confirmation, RemoteStartTransactionRequest, Request
from chargebox.ocpp.versions import OCPP15

SERVICE = charge_point_service()
CHARGE_POINT_OPERATIONS = OCPP15.charge_point_operations  # the 1.5 WSDL's


async def answer(request: Request) -> Confirmation:
    return CONFIRMATIONS[request.action()]


@pytest.fixture
async def box() -> AsyncIterator[str]:
    async with serving(ChargePointEndpoint("CB-1", answer)) as url:
        yield url


def valid(element: etree._Element) -> bool:
    try:
        SERVICE.validate(element)
    except ValueError:
        return False
    return True


def empty_required_strings() -> list[tuple[str, str, etree._Element]]:
    """(operation, element, request) for each leaf of each complete sample request (every optional
    field present) that the project's schema requires (the request is invalid without it) yet lets be
    empty (valid with it emptied): the requests the schema passes through with a required string empty."""
    cases = []
    for name in sorted(CHARGE_POINT_OPERATIONS):
        request = SERVICE.render(REQUESTS[name], name)
        for index, leaf in enumerate(request.iter()):
            if len(leaf) or leaf is request:
                continue
            emptied, removed = copy.deepcopy(request), copy.deepcopy(request)
            [*_, target] = [e for i, e in enumerate(emptied.iter()) if i == index]
            target.text = None
            [*_, gone] = [e for i, e in enumerate(removed.iter()) if i == index]
            gone.getparent().remove(gone)
            if valid(emptied) and not valid(removed):
                cases.append((name, etree.QName(leaf).localname, emptied))
    return cases


CASES = empty_required_strings()


def test_the_schema_has_the_empty_strings_of_the_issue() -> None:
    """The enumeration finds what issue 14 reported (so it enumerates something real)."""
    found = {element for _, element, _ in CASES}
    assert {"idTag", "location", "key", "value", "vendorId"} <= found


@pytest.mark.parametrize(("name", "element", "request_element"), CASES, ids=[f"{n}-{e}" for n, e, _ in CASES])
async def test_an_empty_required_string_is_a_sender_fault(box: str, name: str, element: str,
                                                           request_element: etree._Element) -> None:
    body = request_xml(etree.tostring(request_element).decode(), action=f"/{name}")
    status, answer_body = await post(box, body)
    assert (status, fault_of(answer_body)) == (400, ("Sender", "ProtocolError"))
    assert element.encode() in answer_body  # the reason names the empty element


async def test_a_body_that_claims_gzip_and_is_not_is_a_sender_fault(box: str, caplog: pytest.LogCaptureFixture
                                                                    ) -> None:
    headers = {"Content-Type": envelope.CONTENT_TYPE}
    async with aiohttp.ClientSession() as session:
        async with session.post(box, data=b"plain text, not gzip" * 50,
                                headers={**headers, "Content-Encoding": "gzip"}) as response:
            assert (response.status, fault_of(await response.read())) == (400, ("Sender", "ProtocolError"))
            assert response.headers["Connection"] == "close"  # where the next request would start is unknown
        async with session.post(box, data=REMOTE_START, headers=headers) as response:
            assert response.status == 200
    assert not [r for r in caplog.records if r.exc_info], "no traceback for the caller's bad body"


async def partial_request(url: str, content_length: int, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the box's answer to a request that announces ``content_length``
    bytes of body and sends only ``body``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", urlsplit(url).port)
    writer.write(b"POST / HTTP/1.1\r\nHost: box\r\nContent-Type: application/soap+xml\r\n"
                 b"Content-Length: %d\r\n\r\n" % content_length + body)
    try:
        return await asyncio.wait_for(read_response(reader), 5)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_body_too_large_is_a_sender_fault_with_413_answered_before_the_rest_is_sent() -> None:
    handled: list[Request] = []

    async def recording(request: Request) -> Confirmation:
        handled.append(request)
        return await answer(request)

    async with serving(ChargePointEndpoint("CB-1", recording, max_body=4096)) as url:
        status, headers, body = await partial_request(url, 10_000_000, REMOTE_START + b" " * 5000)
        assert (status, fault_of(body)) == (413, ("Sender", "ProtocolError"))
        assert headers["content-type"].startswith(envelope.CONTENT_TYPE)
        assert b"4096" in body  # the reason names the limit
        assert (await post(url, REMOTE_START))[0] == 200
    assert len(handled) == 1  # the oversized request never reached the handler


async def test_a_body_too_slow_is_a_sender_fault_with_408() -> None:
    async with serving(ChargePointEndpoint("CB-1", answer, read_timeout=0.2)) as url:
        status, headers, body = await partial_request(url, len(REMOTE_START), REMOTE_START[:100])
    assert (status, fault_of(body)) == (408, ("Sender", "ProtocolError"))
    assert headers["content-type"].startswith(envelope.CONTENT_TYPE)


class BrokenService(Service):
    """The project's service with a bug in its parsing."""

    def parse(self, element: etree._Element) -> Request | Confirmation:
        raise KeyError("a bug of ours")


async def test_a_bug_of_ours_is_a_receiver_fault_logged_with_its_cause(caplog: pytest.LogCaptureFixture) -> None:
    service = BrokenService(SERVICE.wsdl, SERVICE.namespace, SERVICE.operations)
    async with serving(ChargePointEndpoint("CB-1", answer, service=service)) as url:
        status, answer_body = await post(url, REMOTE_START)
    assert (status, fault_of(answer_body)) == (500, ("Receiver", "InternalError"))
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "RemoteStartTransaction" in record.getMessage()
    assert "KeyError" in record.getMessage() and ", in parse\n" in record.getMessage()  # what, and where


ID_TAG = "04A2B3C4D5E6F7"


async def test_a_handler_bug_is_logged_with_its_cause_but_never_the_id_tag_its_message_repeats(
        caplog: pytest.LogCaptureFixture) -> None:
    async def failing(request: Request) -> Confirmation:
        assert isinstance(request, RemoteStartTransactionRequest)
        raise LookupError(f"no session for card {request.id_tag}")

    caplog.set_level(logging.DEBUG)
    async with serving(ChargePointEndpoint("CB-1", failing)) as url:
        status, answer_body = await post(url, request_xml(REMOTE_START_BODY.replace("ABC", ID_TAG)))
    assert (status, fault_of(answer_body)) == (500, ("Receiver", "InternalError"))
    assert ID_TAG not in caplog.text
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "handling RemoteStartTransaction failed" in record.getMessage()
    assert "LookupError" in record.getMessage()  # what
    assert f'File "{__file__}"' in record.getMessage() and ", in failing\n" in record.getMessage()  # where
