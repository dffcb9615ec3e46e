"""The endpoint under a flood of connections (issue 14, item 7), on real loopback sockets: strangers
(outside endpoint.allow, here 127.0.0.2 against an allow-list of 127.0.0.1) and connections over
endpoint.max_connections are closed as they are accepted, before a byte is read, unless the oldest
idle connection can be closed to make room for them; idle and slow-header connections are closed
after endpoint.idle_timeout; accept() failing for want of descriptors (EMFILE)
costs one log line, no traceback, and the box answers again once descriptors are free. Closes are
awaited as EOF on the caller's side, never slept for."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import resource
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from soap_helpers import REMOTE_START, post, read_response, serving
from tls_pki import caller, make_pki

from chargebox import tls
from chargebox.binding.soap import envelope, listener
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.ocpp.enums import RemoteStartStopStatus
from chargebox.ocpp.messages import Confirmation, RemoteStartTransactionConfirmation, Request

STRANGER = "127.0.0.2"  # Linux routes all of 127.0.0.0/8 to the loopback interface
FLOOD = 1000


async def accept(_request: Request) -> Confirmation:
    return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)


@contextlib.contextmanager
def fd_limit(spare: int) -> Iterator[None]:
    """This process may open only ``spare`` more descriptors for the block (RLIMIT_NOFILE's soft limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = len(os.listdir("/proc/self/fd")) + spare
    if hard != resource.RLIM_INFINITY and limit > hard:
        pytest.skip(f"needs {limit} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def connect(url: str, source: str = "127.0.0.1") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port_of(url), local_addr=(source, 0))


async def closed_by_box(reader: asyncio.StreamReader, within: float) -> bytes:
    """What the box sent before it closed the connection (EOF or reset) within ``within`` seconds."""
    try:
        return await asyncio.wait_for(reader.read(), within)
    except ConnectionResetError:
        return b""


def endpoint_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name in (listener.log.name, "asyncio")]


async def test_a_stranger_is_closed_before_anything_is_read_wsdl_included() -> None:
    endpoint = ChargePointEndpoint("CB-1", accept, allow=[ipaddress.ip_network("127.0.0.1/32")])
    async with serving(endpoint) as url:
        reader, writer = await connect(url, STRANGER)
        assert await closed_by_box(reader, 5) == b""  # nothing sent: refused without reading
        writer.close()
        reader, writer = await connect(url, STRANGER)
        with contextlib.suppress(ConnectionError):
            writer.write(b"GET /?wsdl HTTP/1.1\r\nHost: box\r\n\r\n")
        assert await closed_by_box(reader, 5) == b""  # no WSDL for a stranger
        writer.close()
        async with aiohttp.ClientSession() as session, session.get(url + "?wsdl") as response:
            assert response.status == 200  # the allowed caller gets it


async def test_a_flood_of_strangers_leaves_the_box_answering_meanwhile(caplog: pytest.LogCaptureFixture) -> None:
    endpoint = ChargePointEndpoint("CB-1", accept, allow=[ipaddress.ip_network("127.0.0.1/32")])
    caplog.set_level(logging.INFO)
    async with serving(endpoint) as url:
        flood = []
        with fd_limit(FLOOD + 200):  # the strangers' ends, not the box's: it holds none of them
            for _ in range(FLOOD):
                flood.append(await connect(url, STRANGER))
            status, _ = await post(url, REMOTE_START)
            assert status == 200
            for reader, writer in flood:
                assert await closed_by_box(reader, 5) == b""
                writer.close()
    lines = endpoint_records(caplog)
    assert 1 <= len(lines) <= 2 and not any(r.exc_info for r in lines), lines  # one line per 10 s, counted


async def test_idle_connections_over_the_cap_are_closed_at_once_and_the_rest_after_idle_timeout() -> None:
    endpoint = ChargePointEndpoint("CB-1", accept, max_connections=64, idle_timeout=0.5)
    async with serving(endpoint) as url:
        with fd_limit(FLOOD + 64 + 200):
            flood = [await connect(url) for _ in range(FLOOD)]
            ends = await asyncio.gather(*(closed_by_box(reader, 10) for reader, _ in flood))
            assert set(ends) == {b""}  # all closed: over the cap at once, the 64 idle ones after 0.5 s
            for _, writer in flood:
                writer.close()
            status, _ = await post(url, REMOTE_START)
            assert status == 200


WSDL_GET = b"GET /?wsdl HTTP/1.1\r\nHost: box\r\n\r\n"
POST_HEAD = (b"POST / HTTP/1.1\r\nHost: box\r\nContent-Type: application/soap+xml\r\n"
             b"Content-Length: %d\r\n\r\n" % len(REMOTE_START))
HALF = len(REMOTE_START) // 2


def slow_bodies_counted(endpoint: ChargePointEndpoint, count: int) -> asyncio.Event:
    """Set once ``count`` requests reached the endpoint's app: their heads are complete, so each of
    their connections has a request in progress while its body is still on the way."""
    started = asyncio.Event()
    heads: list[web.Request] = []

    @web.middleware
    async def counted(request: web.Request, handler: Handler) -> web.StreamResponse:
        heads.append(request)
        if len(heads) == count:
            started.set()
        return await handler(request)

    endpoint.app.middlewares.append(counted)
    return started


async def test_at_the_cap_the_oldest_idle_connection_makes_room_for_a_request() -> None:
    """Idle connections held at endpoint.max_connections do not keep the Central System out: the
    oldest idle one (between two requests) is closed for its request, which is answered at once; an
    older connection busy with a request, and the newer idle ones, are left alone."""
    endpoint = ChargePointEndpoint("CB-1", accept, max_connections=4, idle_timeout=60, read_timeout=60)
    busy_started = slow_bodies_counted(endpoint, 1)
    async with serving(endpoint) as url:
        busy_reader, busy = await connect(url)  # the oldest: its request's body is on the way
        busy.write(POST_HEAD + REMOTE_START[:HALF])
        await asyncio.wait_for(busy_started.wait(), 5)
        kept_reader, kept = await connect(url)  # answered once, then idle between requests
        kept.write(WSDL_GET)
        assert (await read_response(kept_reader))[0] == 200
        partial_reader, partial = await connect(url)  # idle before its first complete head
        partial.write(b"GET /?wsdl HTTP/1.1\r\n")
        fresh_reader, fresh = await connect(url)  # idle, nothing sent yet

        status, _ = await asyncio.wait_for(post(url, REMOTE_START), 5)
        assert status == 200
        assert await closed_by_box(kept_reader, 5) == b""
        partial.write(b"Host: box\r\n\r\n")
        assert (await read_response(partial_reader))[0] == 200
        fresh.write(WSDL_GET)
        assert (await read_response(fresh_reader))[0] == 200
        busy.write(REMOTE_START[HALF:])
        assert (await read_response(busy_reader))[0] == 200
        for writer in (busy, kept, partial, fresh):
            writer.close()


async def test_at_the_cap_with_every_connection_busy_a_newcomer_is_closed_before_it_is_read() -> None:
    endpoint = ChargePointEndpoint("CB-1", accept, max_connections=2, idle_timeout=60, read_timeout=60)
    both_started = slow_bodies_counted(endpoint, 2)
    async with serving(endpoint) as url:
        held = [await connect(url) for _ in range(2)]
        for _, writer in held:
            writer.write(POST_HEAD + REMOTE_START[:HALF])
        await asyncio.wait_for(both_started.wait(), 5)
        reader, writer = await connect(url)
        assert await closed_by_box(reader, 5) == b""
        writer.close()
        for held_reader, held_writer in held:  # the busy ones were left alone
            held_writer.write(REMOTE_START[HALF:])
            assert (await read_response(held_reader))[0] == 200
            held_writer.close()


async def test_slow_headers_and_idle_connections_are_closed_after_idle_timeout() -> None:
    endpoint = ChargePointEndpoint("CB-1", accept, idle_timeout=0.5)
    async with serving(endpoint) as url:
        idle_reader, idle = await connect(url)
        slow_reader, slow = await connect(url)

        async def trickle() -> None:  # a header line every 0.1 s: never a complete request head
            slow.write(b"POST / HTTP/1.1\r\nHost: box\r\n")
            for n in range(100):
                await asyncio.sleep(0.1)
                slow.write(b"X-Slow-%d: 1\r\n" % n)

        trickling = asyncio.create_task(trickle())
        try:
            assert await closed_by_box(slow_reader, 5) == b""
            assert await closed_by_box(idle_reader, 5) == b""
        finally:
            trickling.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await trickling
        # And between two requests (HTTP keep-alive): after an answer, idle again.
        kept_reader, kept = await connect(url)
        kept.write(b"GET /?wsdl HTTP/1.1\r\nHost: box\r\n\r\n")
        assert (await closed_by_box(kept_reader, 5)).startswith(b"HTTP/1.1 200")
        for writer in (idle, slow, kept):
            writer.close()


async def test_a_tls_handshake_that_never_starts_is_closed_after_idle_timeout(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    server = tls.server_context(pki.box_server.cert, pki.box_server.key)
    async with serving(ChargePointEndpoint("CB-1", accept, idle_timeout=0.5), server) as url:
        reader, writer = await connect(url)
        assert await closed_by_box(reader, 5) == b""
        writer.close()


async def test_at_the_cap_a_tls_handshake_that_never_starts_makes_room_for_a_central_system(tmp_path: Path) -> None:
    """The box serves HTTPS on the open internet: connections that never start their TLS handshake
    are idle and make room too."""
    pki = make_pki(tmp_path)
    server = tls.server_context(pki.box_server.cert, pki.box_server.key)
    async with serving(ChargePointEndpoint("CB-1", accept, max_connections=2, idle_timeout=60), server) as url:
        held = [await connect(url) for _ in range(2)]
        async with aiohttp.ClientSession() as session, session.post(
                url, data=REMOTE_START, ssl=caller(pki, None), headers={"Content-Type": envelope.CONTENT_TYPE},
                timeout=aiohttp.ClientTimeout(total=5)) as response:
            assert response.status == 200
        assert await closed_by_box(held[0][0], 5) == b""  # the oldest made room
        for _, writer in held:
            writer.close()


@pytest.fixture
def accept_failed() -> Iterator[asyncio.Event]:
    """Set when the endpoint logs that accept() failed."""
    failed = asyncio.Event()

    class Watcher(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "cannot accept" in record.getMessage():
                failed.set()

    watcher = Watcher()
    listener.log.addHandler(watcher)
    yield failed
    listener.log.removeHandler(watcher)


async def test_accepting_survives_running_out_of_descriptors_with_one_log_line(
        caplog: pytest.LogCaptureFixture, accept_failed: asyncio.Event) -> None:
    endpoint = ChargePointEndpoint("CB-1", accept, max_connections=1000, idle_timeout=60)
    caplog.set_level(logging.INFO)
    async with serving(endpoint) as url:
        callers: list[socket.socket] = []
        try:
            with fd_limit(20):
                # Connected in the kernel's backlog, each costs this side one descriptor; the box
                # can then accept only a few before accept() fails with EMFILE.
                with contextlib.suppress(OSError):
                    for _ in range(20):
                        callers.append(socket.create_connection(("127.0.0.1", port_of(url))))
                assert len(callers) >= 10
                await asyncio.wait_for(accept_failed.wait(), 5)
        finally:
            for sock in callers:
                sock.close()
        status, _ = await post(url, REMOTE_START)  # accepting again once descriptors are free
        assert status == 200
    lines = endpoint_records(caplog)
    assert len(lines) == 1 and not lines[0].exc_info, lines
    assert "Too many open files" in lines[0].getMessage()


def test_an_ipv4_caller_of_a_dual_stack_socket_is_checked_as_ipv4() -> None:
    networks = [ipaddress.ip_network("10.0.0.0/8")]
    assert listener.allowed("::ffff:10.1.2.3", networks)
    assert not listener.allowed("::ffff:192.168.1.1", networks)
    assert not listener.allowed("not an address", networks)
    assert listener.allowed("2001:db8::1", [])  # no allow-list: everyone
