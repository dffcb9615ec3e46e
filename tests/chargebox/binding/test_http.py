"""HTTP under the binding: gzip and deflate both ways (chapter 8, a MUST), the box's own compression
and its threshold, one kept-alive connection, and timeouts on both sides."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from ocpp_samples import T0
from soap_helpers import REMOTE_START, heartbeat_reply, post, recording_app, serving

from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient, Compression
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap15 import CP_NAMESPACE, CS_NAMESPACE
from chargebox.ocpp.enums import RemoteStartStopStatus
from chargebox.ocpp.errors import CentralSystemUnreachable
from chargebox.ocpp.messages import (
    Confirmation,
    HeartbeatConfirmation,
    HeartbeatRequest,
    RemoteStartTransactionConfirmation,
    Request,
)

ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,  # RFC 9110: "deflate" is the zlib format ...
    "raw deflate": lambda data: zlib.compress(data)[2:-4],  # ... though some peers send bare deflate
}
DECODERS: dict[str, Callable[[bytes], bytes]] = {"gzip": gzip.decompress, "deflate": zlib.decompress}


async def accept(request: Request) -> Confirmation:
    return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
async def test_the_endpoint_accepts_compressed_requests(encoding: str) -> None:
    async with serving(ChargePointEndpoint("CB-1", accept)) as url:
        status, body = await post(url, ENCODERS[encoding](REMOTE_START),
                                  headers={"Content-Encoding": encoding.split()[-1]})
    assert status == 200, body
    assert envelope.parse(body, CP_NAMESPACE).headers.action == "/RemoteStartTransactionResponse"


@pytest.mark.parametrize(("accept_encoding", "threshold", "expected"), [
    ("gzip", 0, "gzip"), ("deflate", 0, "deflate"), ("gzip", 100_000, None), ("identity", 0, None),
])
async def test_the_endpoint_compresses_answers_the_caller_accepts(
    accept_encoding: str, threshold: int, expected: str | None,
) -> None:
    endpoint = ChargePointEndpoint("CB-1", accept, compress_threshold=threshold)
    async with serving(endpoint) as url, aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.post(url, data=REMOTE_START, headers={
            "Content-Type": envelope.CONTENT_TYPE, "Accept-Encoding": accept_encoding,
        }) as response:
            assert response.status == 200
            raw = await response.read()
            encoding = response.headers.get("Content-Encoding")
    assert encoding == expected
    body = DECODERS[encoding](raw) if encoding else raw
    assert envelope.parse(body, CP_NAMESPACE).headers.action == "/RemoteStartTransactionResponse"


class StubCentralSystem:
    """Answers Heartbeat; records the request headers, raw bodies and the peer of each request."""

    def __init__(self, response_encoding: str | None = None) -> None:
        self.received: list[bytes] = []
        self.encodings: list[str | None] = []
        self.peers: list[object] = []
        self._response_encoding = response_encoding

    async def answer(self, http: web.Request, body: bytes) -> web.Response:
        self.encodings.append(http.headers.get("Content-Encoding"))
        assert http.transport is not None
        self.peers.append(http.transport.get_extra_info("peername"))
        reply = heartbeat_reply(body)
        headers = {"Content-Type": envelope.CONTENT_TYPE}
        if self._response_encoding:
            reply = ENCODERS[self._response_encoding](reply)
            headers["Content-Encoding"] = self._response_encoding
        return web.Response(body=reply, headers=headers)

    def app(self) -> web.Application:
        return recording_app(self.answer, self.received)


async def heartbeats(stub: StubCentralSystem, count: int = 1, **options: Any) -> None:
    async with serving(stub.app()) as url:
        client = CentralSystemClient(url, "CB-1", lambda: None, allow_plain_http=True, **options)
        try:
            for _ in range(count):
                assert await client.call(HeartbeatRequest()) == HeartbeatConfirmation(current_time=T0)
        finally:
            await client.close()


@pytest.mark.parametrize(("compression", "threshold", "expected"), [
    ("gzip", 10, "gzip"), ("deflate", 10, "deflate"), ("gzip", 100_000, None), (None, 0, None),
])
async def test_the_client_compresses_its_requests_from_a_threshold(
    compression: Compression | None, threshold: int, expected: str | None,
) -> None:
    stub = StubCentralSystem()
    await heartbeats(stub, compression=compression, compress_threshold=threshold)
    assert stub.encodings == [expected]
    assert envelope.parse(stub.received[0], CS_NAMESPACE).headers.action == "/Heartbeat"  # server decompressed


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_the_client_accepts_compressed_responses(encoding: str) -> None:
    await heartbeats(StubCentralSystem(response_encoding=encoding))


async def test_the_client_keeps_one_connection_alive_between_calls() -> None:
    stub = StubCentralSystem()
    await heartbeats(stub, count=3)
    assert len(stub.peers) == 3 and len(set(stub.peers)) == 1


async def test_a_central_system_that_does_not_answer_in_time_is_unreachable() -> None:
    released = asyncio.Event()  # set once the client gave up, so the stub's handler can end

    async def silent(_http: web.Request, _body: bytes) -> web.Response:
        await released.wait()
        return web.Response(status=204)

    async with serving(recording_app(silent, [])) as url:
        client = CentralSystemClient(url, "CB-1", lambda: None, allow_plain_http=True, timeout=0.2)
        try:
            with pytest.raises(CentralSystemUnreachable):
                await client.call(HeartbeatRequest())
        finally:
            released.set()
            await client.close()


async def test_the_endpoint_gives_up_on_a_body_that_never_arrives() -> None:
    async with serving(ChargePointEndpoint("CB-1", accept, read_timeout=0.2)) as url:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: box\r\nContent-Type: application/soap+xml\r\n"
                     b"Content-Length: 1000\r\n\r\n<s:Envelope")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        await writer.wait_closed()
    assert status_line.split()[1] == b"408"
