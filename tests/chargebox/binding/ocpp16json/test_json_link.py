"""The OCPP-J client's connection and RPC rules against a hand-driven WebSocket Central System: bad frames
answered with the right CALLERROR, one CALL in flight, the link down as CentralSystemUnreachable,
reconnection, pings, the subprotocol, HTTP Basic (security profiles 1 and 2) and TLS (profiles 2 and 3)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from json_central import Central, basic, central_system
from tls_pki import Pki, make_pki

from chargebox import tls
from chargebox.binding.ocpp16json import client as json_client
from chargebox.binding.ocpp16json.client import JsonClient
from chargebox.binding.ocpp16json.connection import Backoff, connection_url
from chargebox.ocpp.enums import ResetStatus
from chargebox.ocpp.errors import (
    CentralSystemUnreachable,
    FormationViolation,
    GenericError,
    ProtocolError,
    SecurityError,
    TypeConstraintViolation,
)
from chargebox.ocpp.messages import Confirmation, HeartbeatConfirmation, HeartbeatRequest, Request, ResetConfirmation

KEY = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def handler(request: Request) -> Confirmation:
    """A stub engine: Reset accepted; ClearCache fails as a bug of ours would."""
    if request.action() == "ClearCache":
        raise RuntimeError("a secret detail of ours")
    return ResetConfirmation(status=ResetStatus.ACCEPTED)


def client_for(url: str, **options: Any) -> JsonClient:
    options.setdefault("allow_plain", True)
    options.setdefault("timeout", 5)
    options.setdefault("connect_timeout", 2)
    return JsonClient(url, "CP1", handler=handler, backoff=Backoff(0.01, 0.05), **options)


@pytest.fixture
async def central() -> AsyncIterator[Central]:
    async with central_system() as served:
        yield served


@pytest.fixture
async def client(central: Central) -> AsyncIterator[JsonClient]:
    box = client_for(central.url)
    try:
        yield box
    finally:
        await box.close()


async def connected(client: JsonClient, central: Central) -> web.WebSocketResponse:
    client.start()
    async with asyncio.timeout(5):
        return await central.connected.get()


async def frame(socket: web.WebSocketResponse) -> Any:
    async with asyncio.timeout(5):
        message = await socket.receive()
    assert message.type is WSMsgType.TEXT, message
    return json.loads(message.data)


async def answer_heartbeat(socket: web.WebSocketResponse) -> str:
    """Take the box's next CALL (a Heartbeat) and confirm it; its message id."""
    kind, message_id, action, payload = await frame(socket)
    assert (kind, action, payload) == (2, "Heartbeat", {})
    await socket.send_str(json.dumps([3, message_id, {"currentTime": "2026-12-03T08:00:00Z"}]))
    return str(message_id)


def test_the_connection_url_appends_the_percent_encoded_identity() -> None:
    # OCPP-J 1.6 3.1.1, examples 1 and 2.
    assert connection_url("ws://centralsystem.example.com/ocpp", "CP001") == "ws://centralsystem.example.com/ocpp/CP001"
    assert connection_url("wss://centralsystem.example.com/ocppj/", "RDAM 123") == \
        "wss://centralsystem.example.com/ocppj/RDAM%20123"


async def test_bad_frames_get_the_callerror_of_their_fault(client: JsonClient, central: Central,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    socket = await connected(client, central)
    expected = [
        ("not json", ["-1", "FormationViolation"]),
        ('[2,"c1",{}]', ["c1", "FormationViolation"]),
        ('[2,"c2","Reset"]', ["c2", "FormationViolation"]),
        ('[2,"c3","Frobnicate",{}]', ["c3", "NotImplemented"]),
        ('[2,"c4","Reset",{"type":"Sideways"}]', ["c4", "PropertyConstraintViolation"]),
        ('[2,"c5","Reset",{}]', ["c5", "ProtocolError"]),
        ('[2,"c6","ClearCache",{}]', ["c6", "InternalError"]),
        ('[2,"c7","GetDiagnostics",{"location":"ftp://x/","startTime":5}]', ["c7", "TypeConstraintViolation"]),
    ]
    for text, (message_id, code) in expected:
        await socket.send_str(text)
        answer = await frame(socket)
        assert answer[:3] == [4, message_id, code], text
        assert isinstance(answer[3], str) and answer[4] == {}
    assert "secret" not in json.dumps(answer)  # a failure of ours: its cause in our log, not on the wire
    assert "RuntimeError" in caplog.text
    # Ignored without an answer: an unknown message type (4.1.3), an answer nobody waits for.
    await socket.send_str('[5,"c7","Reset",{}]')
    await socket.send_str('[3,"c8",{}]')
    await socket.send_str('[2,"c9","Reset",{"type":"Soft"}]')
    assert await frame(socket) == [3, "c9", {"status": "Accepted"}]


async def test_a_callerror_for_our_call_is_the_neutral_error(client: JsonClient, central: Central) -> None:
    socket = await connected(client, central)
    call = asyncio.create_task(client.call(HeartbeatRequest()))
    _, message_id, _, _ = await frame(socket)
    # Errata 3.8: a Central System answers a box it has not accepted with SecurityError.
    await socket.send_str(json.dumps([4, message_id, "SecurityError", "not accepted yet", {}]))
    with pytest.raises(SecurityError, match="not accepted yet"):
        await call
    call = asyncio.create_task(client.call(HeartbeatRequest()))
    _, message_id, _, _ = await frame(socket)
    await socket.send_str(json.dumps([3, message_id, {}]))  # currentTime missing
    with pytest.raises(ProtocolError):
        await call
    call = asyncio.create_task(client.call(HeartbeatRequest()))
    _, message_id, _, _ = await frame(socket)
    await socket.send_str(json.dumps([3, message_id, {"currentTime": 5}]))  # not a dateTime
    with pytest.raises(TypeConstraintViolation):
        await call
    # Errata 5.2's corrected spelling, which some 1.6 Central Systems send; a code outside table 7.
    for code, error in (("FormatViolation", FormationViolation), ("Whatever", GenericError)):
        call = asyncio.create_task(client.call(HeartbeatRequest()))
        _, message_id, _, _ = await frame(socket)
        await socket.send_str(json.dumps([4, message_id, code, "", {}]))
        with pytest.raises(error):
            await call


async def test_one_call_in_flight_while_the_central_systems_calls_are_answered(
        client: JsonClient, central: Central) -> None:
    socket = await connected(client, central)
    first = asyncio.create_task(client.call(HeartbeatRequest()))
    second = asyncio.create_task(client.call(HeartbeatRequest()))
    _, first_id, _, _ = await frame(socket)
    # 4.1.1: the second CALL waits; the Central System's CALL is answered meanwhile.
    await socket.send_str('[2,"cs1","Reset",{"type":"Hard"}]')
    assert await frame(socket) == [3, "cs1", {"status": "Accepted"}]
    assert not second.done()
    await socket.send_str(json.dumps([3, first_id, {"currentTime": "2026-12-03T08:00:00Z"}]))
    second_id = await answer_heartbeat(socket)
    assert second_id != first_id
    assert isinstance(await first, HeartbeatConfirmation) and isinstance(await second, HeartbeatConfirmation)


async def test_message_ids_are_the_engines_once_per_connection(client: JsonClient, central: Central) -> None:
    socket = await connected(client, central)
    given = "2f1c5a44-1f8e-4f7e-9a43-0a3b1a2e9c10"
    call = asyncio.create_task(client.call(HeartbeatRequest(), given))
    assert await answer_heartbeat(socket) == given
    await call
    # The outbox's retry on the same connection: 4.1.4 wants a new id there.
    call = asyncio.create_task(client.call(HeartbeatRequest(), given))
    assert await answer_heartbeat(socket) != given
    await call
    await socket.close()
    socket = await central.connected.get()
    call = asyncio.create_task(client.call(HeartbeatRequest(), given))  # a new connection: the id again
    assert await answer_heartbeat(socket) == given
    await call


async def test_no_answer_in_time_is_unreachable_and_the_next_call_goes(central: Central) -> None:
    box = client_for(central.url, timeout=0.2)
    try:
        socket = await connected(box, central)
        with pytest.raises(CentralSystemUnreachable, match="no answer"):
            await box.call(HeartbeatRequest())
        _, late_id, _, _ = await frame(socket)
        await socket.send_str(json.dumps([3, late_id, {"currentTime": "2026-12-03T08:00:00Z"}]))  # dropped
        call = asyncio.create_task(box.call(HeartbeatRequest()))
        assert await answer_heartbeat(socket) != late_id
        assert isinstance(await call, HeartbeatConfirmation)
    finally:
        await box.close()


async def test_a_dropped_connection_fails_the_waiting_call_and_comes_back(client: JsonClient, central: Central) -> None:
    socket = await connected(client, central)
    call = asyncio.create_task(client.call(HeartbeatRequest()))
    await frame(socket)
    await socket.close()
    with pytest.raises(CentralSystemUnreachable):
        await call
    socket = await central.connected.get()  # reconnected after the backoff's delay
    call = asyncio.create_task(client.call(HeartbeatRequest()))
    await answer_heartbeat(socket)
    assert isinstance(await call, HeartbeatConfirmation)
    assert client.link.connections == 2


async def test_without_a_central_system_a_call_is_unreachable() -> None:
    async with central_system() as gone:
        url = gone.url
    box = client_for(url)
    try:
        with pytest.raises(CentralSystemUnreachable, match="not connected"):
            await box.call(HeartbeatRequest())
    finally:
        await box.close()


async def test_a_server_without_the_ocpp16_subprotocol_is_refused() -> None:
    async with central_system(protocols=("ocpp1.5",)) as other:
        box = client_for(other.url, connect_timeout=0.5)
        try:
            with pytest.raises(CentralSystemUnreachable):
                await box.call(HeartbeatRequest())
            assert other.paths  # it tried, and did not take the connection (3.1.2, 3.2)
            assert box.link.connections == 0
        finally:
            await box.close()


async def test_pings_go_at_the_websocket_ping_interval(central: Central) -> None:
    async with central_system(autoping=False) as quiet:
        box = client_for(quiet.url, ping_interval=lambda: 0.05)
        try:
            socket = await connected(box, quiet)
            async with asyncio.timeout(5):
                message = await socket.receive()
            assert message.type is WSMsgType.PING
        finally:
            await box.close()


async def test_a_frame_over_the_bound_closes_the_connection(central: Central) -> None:
    box = client_for(central.url, max_frame=1000)
    try:
        socket = await connected(box, central)
        await socket.send_str(json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * 2000}]))
        async with asyncio.timeout(5):
            message = await socket.receive()
        assert message.type is WSMsgType.CLOSE and message.data == 1009  # RFC 6455 7.4.1: message too big
    finally:
        await box.close()


async def test_memory_is_given_back_once_a_large_frame_is_answered(central: Central,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: as the SOAP endpoint after a large body, the client after a CALL of 1 MiB or more (a
    long SendLocalList); not after every small one. By then nothing holds the frame (the link's reader
    held it until the next one came)."""
    given = asyncio.Event()
    calls: list[int] = []

    def give_back() -> None:
        calls.append(tracemalloc.get_traced_memory()[0])
        given.set()

    monkeypatch.setattr(json_client, "give_back_memory", give_back)
    box = client_for(central.url, max_frame=4 << 20)
    try:
        socket = await connected(box, central)
        await socket.send_str(json.dumps([2, "small", "Reset", {"type": "Soft"}]))
        assert (await frame(socket))[:2] == [3, "small"]
        large = json.dumps([2, "large", "DataTransfer", {"vendorId": "x", "data": "y" * (1 << 20)}])
        tracemalloc.start()
        await socket.send_str(large)
        assert (await frame(socket))[:2] == [4, "large"]  # answered (the stub engine's InternalError)
        async with asyncio.timeout(5):
            await given.wait()
        assert len(calls) == 1
        assert calls[0] < len(large) // 4, f"{calls[0]:,} bytes traced after a frame of {len(large):,}"
    finally:
        tracemalloc.stop()
        await box.close()


async def test_plain_ws_needs_allow_plain_http(central: Central) -> None:
    with pytest.raises(SecurityError):
        JsonClient(central.url, "CP1", allow_plain=False)


async def test_basic_auth_accepted_and_refused_and_the_key_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with central_system(password=KEY) as guarded:
        box = client_for(guarded.url, authorization_key=lambda: KEY)
        try:
            socket = await connected(box, guarded)
            call = asyncio.create_task(box.call(HeartbeatRequest()))
            await answer_heartbeat(socket)
            await call
        finally:
            await box.close()
        assert guarded.authorizations == [basic("CP1", KEY)]  # whitepaper 2.3: <ChargePointId>:<AuthorizationKey>
        wrong = client_for(guarded.url, authorization_key=lambda: "f" * 40, connect_timeout=0.5)
        try:
            with pytest.raises(CentralSystemUnreachable):
                await wrong.call(HeartbeatRequest())
        finally:
            await wrong.close()
    assert "credentials refused (401)" in caplog.text
    assert KEY not in caplog.text and "f" * 40 not in caplog.text and basic("CP1", KEY)[6:] not in caplog.text


async def test_tls_with_the_server_certificate_checked(pki: Pki) -> None:
    server = tls.server_context(pki.cs_server.cert, pki.cs_server.key)
    async with central_system(ssl_context=server, password=KEY) as secure:
        assert secure.url.startswith("wss://")
        box = client_for(secure.url, allow_plain=False, authorization_key=lambda: KEY,
                         ssl_context=tls.client_context(ca_file=pki.ca.cert_file))
        try:
            await connected(box, secure)  # profile 2: Basic over TLS, the server's certificate checked
        finally:
            await box.close()
        box = client_for(secure.url, allow_plain=False, authorization_key=lambda: KEY, connect_timeout=0.5,
                         ssl_context=tls.client_context(ca_file=pki.wrong_ca.cert_file))
        try:
            with pytest.raises(CentralSystemUnreachable):
                await box.call(HeartbeatRequest())
        finally:
            await box.close()
        assert secure.authorizations == [basic("CP1", KEY)]  # the key never went to the impostor


async def test_tls_with_a_client_certificate(pki: Pki) -> None:
    server = tls.server_context(pki.cs_server.cert, pki.cs_server.key, client_ca_file=pki.ca.cert_file)
    async with central_system(ssl_context=server) as secure:
        box = client_for(secure.url, allow_plain=False, ssl_context=tls.client_context(
            ca_file=pki.ca.cert_file, cert_file=pki.box_client.cert, key_file=pki.box_client.key))
        try:
            await connected(box, secure)  # profile 3
        finally:
            await box.close()
        box = client_for(secure.url, allow_plain=False, connect_timeout=0.5,
                         ssl_context=tls.client_context(ca_file=pki.ca.cert_file))
        try:
            with pytest.raises(CentralSystemUnreachable):
                await box.call(HeartbeatRequest())
        finally:
            await box.close()
        assert len(secure.paths) == 1


async def test_a_password_in_the_url_is_masked_in_logs_and_errors(caplog: pytest.LogCaptureFixture) -> None:
    async with central_system() as gone:
        url = gone.url.replace("ws://", "ws://user:hunter2secret@")
    box = client_for(url, connect_timeout=0.5)
    try:
        with pytest.raises(CentralSystemUnreachable) as caught:
            await box.call(HeartbeatRequest())
    finally:
        await box.close()
    assert "cannot connect" in caplog.text
    assert "hunter2secret" not in caplog.text and "hunter2secret" not in str(caught.value)


def test_the_backoff_doubles_with_jitter_up_to_its_longest_and_starts_again() -> None:
    backoff = Backoff(1.0, 8.0, random.Random(7))
    delays = [backoff.next() for _ in range(6)]
    for delay, step in zip(delays, (1, 2, 4, 8, 8, 8)):
        assert step / 2 <= delay <= step
    assert len(set(delays)) == 6  # drawn, not fixed: boxes that lost one Central System spread out
    backoff.reset()
    assert backoff.next() <= 1.0


async def test_the_backoff_starts_again_once_a_call_is_answered_not_when_a_connection_opens(
        central: Central) -> None:
    # After an outage the box is back within the first delay, not the ceiling the failed attempts
    # reached; a Central System that accepts and answers nothing does not reset it (no hammering).
    box = JsonClient(central.url, "CP1", handler=handler, allow_plain=True, timeout=5,
                     backoff=Backoff(1.0, 8.0, random.Random(7)))
    try:
        for _ in range(4):
            box.link.backoff.next()  # attempts that failed during an outage: the step is at 8 s
        socket = await connected(box, central)
        unanswered = asyncio.create_task(box.call(HeartbeatRequest()))
        await frame(socket)
        assert box.link.backoff.next() > 4.0  # connected, but nothing answered yet
        unanswered.cancel()
        answered = asyncio.create_task(box.call(HeartbeatRequest()))
        await answer_heartbeat(socket)
        await answered
        assert box.link.backoff.next() <= 1.0
    finally:
        await box.close()


async def test_between_attempts_a_call_is_unreachable_at_once(central: Central) -> None:
    # As a refused SOAP connection: the engine goes offline now, not after connect_timeout per request.
    box = JsonClient(central.url, "CP1", handler=handler, allow_plain=True, connect_timeout=30,
                     backoff=Backoff(60, 60))
    try:
        down = asyncio.Event()
        tell_client = box.link._on_down
        box.link._on_down = lambda why: (tell_client(why), down.set())  # type: ignore[method-assign]
        await connected(box, central)
        await central.cut()
        async with asyncio.timeout(5):  # far below connect_timeout and the backoff's delay
            await down.wait()
            with pytest.raises(CentralSystemUnreachable, match="not connected"):
                await box.call(HeartbeatRequest())
    finally:
        await box.close()
