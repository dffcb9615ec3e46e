"""Hostile and malformed bodies against the real endpoint on a real socket (property-based).

Entity bombs, external entities, deep nesting, huge text, invalid UTF-8, random bytes, compression
bombs and mutations of a valid request: each gets an answer in time (a SOAP fault, an HTTP error, or
for a mutation that stays valid, the confirmation), nothing is logged as an unhandled error, and the
endpoint answers a valid request after every one of them.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soap_helpers import REMOTE_START, REMOTE_START_BODY, fault_of, request_xml, serving

from chargebox.binding.soap import envelope
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap15 import CP_NAMESPACE
from chargebox.ocpp.enums import RemoteStartStopStatus
from chargebox.ocpp.errors import NotSupported, ProtocolError
from chargebox.ocpp.messages import Confirmation, RemoteStartTransactionConfirmation, RemoteStartTransactionRequest, Request

MAX_BODY = 64 * 1024
PROLOGUE = b'<?xml version="1.0" encoding="utf-8"?>'
ENVELOPE = REMOTE_START.split(b"?>", 1)[1]


async def handler(request: Request) -> Confirmation:
    if isinstance(request, RemoteStartTransactionRequest):
        return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)
    raise NotSupported(request.action())


def entity_bomb(depth: int) -> bytes:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "lol"}">' for i in range(depth))
    return PROLOGUE + f"<!DOCTYPE s:Envelope [{entities}]>".encode() + ENVELOPE.replace(b"ABC", f"&e{depth - 1};".encode())


def external_entity(target: str) -> bytes:
    return (PROLOGUE + f'<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "{target}">]>'.encode()
            + ENVELOPE.replace(b"ABC", b"&x;"))


def nested(depth: int) -> bytes:
    return request_xml("<o:x>" * depth + "</o:x>" * depth)


def huge_text(size: int) -> bytes:
    return request_xml(f"<o:remoteStartTransactionRequest><o:idTag>{'A' * size}</o:idTag>"
                       "</o:remoteStartTransactionRequest>")


def with_invalid_utf8(junk: bytes, at: int) -> bytes:
    position = REMOTE_START.index(b"ABC") + at % 3
    return REMOTE_START[:position] + junk + REMOTE_START[position:]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid request with a few random cuts, insertions, duplications and byte flips."""
    data = bytearray(REMOTE_START)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["cut", "insert", "duplicate", "flip"]))
        if kind == "cut":
            del data[at:at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([b"<", b">", b"&", b"]]>", b"<o:x/>", b"\x00", b"\xff\xfe", b"&amp;"]))
        elif kind == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 60))]
        else:
            data[at] = draw(st.integers(0, 255))
        if not data:
            data = bytearray(b"<")
    return bytes(data)


BODIES = st.one_of(
    st.integers(1, 12).map(entity_bomb),
    st.sampled_from(["file:///etc/passwd", "http://127.0.0.1:9/x", "/dev/random", "expect://id"]).map(external_entity),
    st.integers(1, 30_000).map(nested),
    st.integers(21, 3 * MAX_BODY).map(huge_text),
    st.builds(with_invalid_utf8, st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]),
              st.integers(0, 2)),
    st.binary(max_size=2048),
    mutated(),
)


@pytest.fixture
async def box() -> AsyncIterator[str]:
    async with serving(ChargePointEndpoint("CB-1", handler, max_body=MAX_BODY, read_timeout=5)) as url:
        yield url


async def send(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    timeout = aiohttp.ClientTimeout(total=10)  # an endpoint that hangs fails the test here
    async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
        url, data=body, headers={"Content-Type": envelope.CONTENT_TYPE, **(headers or {})}
    ) as response:
        return response.status, await response.read()


async def assert_answered(url: str, body: bytes, headers: dict[str, str] | None = None) -> None:
    status, answer = await send(url, body, headers)
    if status == 413:
        assert len(body) > MAX_BODY or headers, "413 only for what is too large"
    elif status == 200:  # a mutation that is still a valid request
        reply = envelope.parse(answer, CP_NAMESPACE)
        assert reply.body is not None and reply.body.tag == f"{{{CP_NAMESPACE}}}remoteStartTransactionResponse"
    else:
        code, _subcode = fault_of(answer)
        assert (status, code) in ((400, "Sender"), (500, "Receiver")), (status, answer[:300])
    status, _ = await send(url, REMOTE_START)
    assert status == 200, "the endpoint keeps serving"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
async def test_hostile_bodies_get_an_answer_and_the_endpoint_keeps_serving(
    box: str, body: bytes, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        await assert_answered(box, body)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compression_bomb_is_refused_at_the_size_limit(box: str, encoding: str) -> None:
    bomb = request_xml(REMOTE_START_BODY.replace("ABC", " " * (64 * MAX_BODY)))
    compressed = gzip.compress(bomb) if encoding == "gzip" else zlib.compress(bomb)
    assert len(compressed) < MAX_BODY
    status, answer = await send(box, compressed, {"Content-Encoding": encoding})
    assert (status, fault_of(answer)) == (413, ("Sender", "ProtocolError"))
    status, _ = await send(box, REMOTE_START)
    assert status == 200


@pytest.mark.parametrize(("body", "reason"), [
    (entity_bomb(2), "DOCTYPE"),  # small enough to parse: refused for its DOCTYPE, nothing expanded
    (entity_bomb(10), "amplification"),  # libxml2 stops a bomb while it reads the DTD
    (external_entity("file:///etc/passwd"), "DOCTYPE"),
    (PROLOGUE + b'<!DOCTYPE s:Envelope SYSTEM "http://127.0.0.1:9/x.dtd">' + ENVELOPE, "DOCTYPE"),
])
def test_the_parser_expands_no_entity_and_loads_no_dtd(body: bytes, reason: str) -> None:
    """The check under the endpoint, on its own: a document with a DOCTYPE is refused, whatever it holds."""
    with pytest.raises(ProtocolError, match=reason):
        envelope.parse(body, CP_NAMESPACE)
