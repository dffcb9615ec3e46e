"""A large body is read off lxml's tree, not through an object per element (issue 19): a SendLocalList
of 50,000 entries, validated against the schema, becomes the same message within the 2 s that the whole
call through the endpoint may take (its CPU time, which a loaded machine does not stretch much; zeep's
parse alone took 4-8 s)."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from lxml import etree
from soap_helpers import post, request_xml, serving

from chargebox.binding.memory import LARGE_BODY
from chargebox.binding.soap import server
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap.service import charge_point_service
from chargebox.ocpp import codec
from chargebox.ocpp.datatypes import AuthorisationData, IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus, UpdateStatus, UpdateType
from chargebox.ocpp.errors import ProtocolError
from chargebox.ocpp.messages import Confirmation, Request, SendLocalListConfirmation, SendLocalListRequest


def test_a_list_of_50000_entries_is_read_whole_and_quickly() -> None:
    service = charge_point_service()
    request = SendLocalListRequest(update_type=UpdateType.FULL, list_version=3, local_authorisation_list=[
        AuthorisationData(f"{n:08X}", IdTagInfo(AuthorizationStatus.ACCEPTED if n % 2 else AuthorizationStatus.BLOCKED))
        for n in range(50_000)])
    body = etree.tostring(service.render(request, "SendLocalList"))
    start = time.process_time()
    parsed = service.parse(etree.fromstring(body))
    assert time.process_time() - start < 2.0
    assert parsed == request


def test_a_large_list_is_still_validated() -> None:
    service = charge_point_service()
    request = SendLocalListRequest(update_type=UpdateType.FULL, list_version=3, local_authorisation_list=[
        AuthorisationData(f"{n:08X}", IdTagInfo(AuthorizationStatus.ACCEPTED)) for n in range(1000)])
    element = service.render(request, "SendLocalList")
    element[-1][0].text = "X" * 21  # the last entry's idTag: longer than IdToken's 20 characters
    with pytest.raises(ProtocolError, match="does not match the OCPP 1.5 schema"):
        service.parse(element)


async def test_the_tables_a_large_body_needs_are_built_before_it_is_read() -> None:
    """Tables built while a large list fills the heap keep its memory resident after it is freed
    (issue 19): reading the list, handling it and answering it build none, the endpoint built them
    when the body's length announced it."""
    service = charge_point_service()
    request = SendLocalListRequest(update_type=UpdateType.FULL, list_version=3, local_authorisation_list=[
        AuthorisationData(f"{n:08X}", IdTagInfo(AuthorizationStatus.ACCEPTED)) for n in range(5000)])
    body = request_xml(etree.tostring(service.render(request, "SendLocalList")).decode(), action="/SendLocalList")
    assert len(body) >= LARGE_BODY
    codec.prepare.cache_clear()  # as in a daemon that has not read a SendLocalList yet
    codec.wire_fields.cache_clear()
    built: list[int] = []

    async def handler(received: Request) -> Confirmation:
        assert received == request
        built.append(codec.wire_fields.cache_info().misses)
        return SendLocalListConfirmation(status=UpdateStatus.ACCEPTED, hash="0" * 40)

    async with serving(ChargePointEndpoint("CB-1", handler, service=service)) as url:
        status, _ = await post(url, body)
    assert status == 200 and built
    assert codec.wire_fields.cache_info().misses == built[0]  # the answer's tables were there


async def test_a_large_body_is_let_go_before_memory_is_given_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiohttp's request.read() keeps the body in the request until after the answer is written, so
    memory given back once the handler is done left the body resident (a second list of 50,000 kept
    +7 MB, issue 19): when the endpoint gives memory back, nothing holds the body any more."""
    service = charge_point_service()
    request = SendLocalListRequest(update_type=UpdateType.FULL, list_version=3, local_authorisation_list=[
        AuthorisationData(f"{n:08X}", IdTagInfo(AuthorizationStatus.ACCEPTED)) for n in range(20_000)])
    body = request_xml(etree.tostring(service.render(request, "SendLocalList")).decode(), action="/SendLocalList")
    held: list[int] = []
    monkeypatch.setattr(server, "give_back_memory", lambda: held.append(tracemalloc.get_traced_memory()[0]))

    async def handler(received: Request) -> Confirmation:
        return SendLocalListConfirmation(status=UpdateStatus.ACCEPTED, hash="0" * 40)

    async with serving(ChargePointEndpoint("CB-1", handler, service=service, max_body=4 << 20)) as url:
        tracemalloc.start()
        try:
            status, _ = await post(url, body)  # answered after the endpoint has given memory back
        finally:
            tracemalloc.stop()
    assert status == 200 and len(held) == 1
    assert held[0] < len(body) // 4, f"{held[0]:,} bytes traced while giving back after a {len(body):,}-byte body"
