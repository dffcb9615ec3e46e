"""A WebSocket Central System for the OCPP-J tests: aiohttp serves the WebSocket (subprotocol, Basic auth,
TLS as a test asks), and behind it either the mobilityhouse ``ocpp`` package's 1.6 Central System (an
independent peer that validates what it receives against the official 1.6 JSON schemas) or the test's
own hand, frame by frame."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

Session = Callable[[web.WebSocketResponse, str], Awaitable[None]]


@dataclass
class Central:
    """What the server saw: the paths connected to, the Authorization headers, the open sockets."""

    url: str
    paths: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    connected: asyncio.Queue[web.WebSocketResponse] = field(default_factory=asyncio.Queue)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    refuse: bool = False  # the network is cut: new connections get HTTP 503

    async def cut(self) -> None:
        """Refuse new connections and close the open ones."""
        self.refuse = True
        for socket in self.sockets:
            await socket.close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@asynccontextmanager
async def central_system(
    session: Session | None = None, *, protocols: tuple[str, ...] = ("ocpp1.6",), password: str | None = None,
    ssl_context: ssl.SSLContext | None = None, autoping: bool = True,
) -> AsyncIterator[Central]:
    """Serve ``session(socket, identity)`` for each connection at ``/ocpp/<identity>``; without a session,
    hold each connection open for the test to drive through ``connected``. With ``password``,
    a connection without the Basic credentials of its identity and that password gets HTTP 401."""
    central = Central(url="")

    async def accept(request: web.Request) -> web.StreamResponse:
        identity = request.match_info["identity"]
        central.paths.append(request.path)
        central.authorizations.append(request.headers.get("Authorization"))
        if central.refuse:
            raise web.HTTPServiceUnavailable()
        if password is not None and request.headers.get("Authorization") != basic(identity, password):
            raise web.HTTPUnauthorized()
        socket = web.WebSocketResponse(protocols=protocols, autoping=autoping)
        await socket.prepare(request)
        central.sockets.append(socket)
        central.connected.put_nowait(socket)
        try:
            if session is None:
                await central.stop.wait()
            else:
                await session(socket, identity)
        finally:
            await socket.close()
        return socket

    app = web.Application()
    app.router.add_get("/ocpp/{identity}", accept)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    central.url = f"{'wss' if ssl_context else 'ws'}://127.0.0.1:{port}/ocpp"
    try:
        yield central
    finally:
        central.stop.set()
        for socket in central.sockets:
            await socket.close()
        await runner.cleanup()


class Adapter:
    """The connection the ``ocpp`` package's ChargePoint reads and writes: an aiohttp WebSocket."""

    def __init__(self, socket: web.WebSocketResponse) -> None:
        self.socket = socket

    async def recv(self) -> str:
        message = await self.socket.receive()
        if message.type is not WSMsgType.TEXT:
            raise ConnectionError(f"closed ({message.type.name})")
        return str(message.data)

    async def send(self, text: str) -> None:
        await self.socket.send_str(text)


def mobilityhouse_session(make: Callable[[str, Adapter], Any], peers: asyncio.Queue[Any]) -> Session:
    """A session run by the ``ocpp`` package: ``make(identity, connection)`` is its ChargePoint, put on
    ``peers`` so the test can call the box through it."""

    async def run(socket: web.WebSocketResponse, identity: str) -> None:
        peer = make(identity, Adapter(socket))
        peers.put_nowait(peer)
        try:
            await peer.start()
        except ConnectionError:
            pass

    return run
