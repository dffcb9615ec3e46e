"""The endpoint's listening sockets, with an accept loop of its own that vets each connection before
anything is read from it (issue 14, item 7).

asyncio's server accepts every connection, completes its TLS handshake, and logs a traceback each time
``accept()`` fails for want of file descriptors. Here a connection from outside ``endpoint.allow`` is
closed the moment it is accepted: no TLS handshake, no byte read. At ``endpoint.max_connections`` the
oldest idle connection (no request in progress: before its first complete request head, TLS handshake
included, or between two requests) is closed to make room for the new one, and only when every
connection is busy with a request is the new one closed unread. So neither a stranger nor a flood can
hold the box's descriptors, and idle connections held at the cap cannot keep the Central System out
(with the default empty allow-list anyone may hold them). A failing ``accept()``
(EMFILE...) pauses accepting for a moment, and each of these events is logged at most once per
:data:`LOG_EVERY` seconds with how often it happened, so a flood cannot fill the disk either.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Seconds between two log lines of one kind of refusal or accept failure.
LOG_EVERY = 10.0
#: Seconds without accepting after accept() failed for want of resources (asyncio waits 1 s too).
ACCEPT_RETRY_DELAY = 1.0
#: Connections taken off one listening socket per wake-up, so that a flood cannot starve the loop.
ACCEPTS_PER_WAKEUP = 64


class Throttled:
    """One recurring log line at most once per ``every`` seconds (loop time), counting the events
    it stands for, so that a flood shows in the log without filling it."""

    def __init__(self, logger: logging.Logger, level: int, message: str, every: float = LOG_EVERY) -> None:
        self._log, self._level, self._message, self._every = logger, level, message, every
        self._next = -math.inf
        self._count = 0

    def __call__(self, now: float, *args: object) -> None:
        self._count += 1
        if now < self._next:
            return
        if self._count == 1:
            self._log.log(self._level, self._message, *args)
        else:
            self._log.log(self._level, f"{self._message} (%d such since the last line)", *args, self._count)
        self._count, self._next = 0, now + self._every


def allowed(host: str, networks: Sequence[Network]) -> bool:
    """Whether a caller's address is in one of ``networks`` (all are allowed when there are none).
    An IPv4 caller of a dual-stack socket shows as ::ffff:a.b.c.d and is checked as a.b.c.d."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def waiting_for_request(protocol: asyncio.BaseProtocol) -> bool:
    """Whether an aiohttp connection has no request in progress: it waits for the head of its first
    or next request, the state in which aiohttp's own keep-alive timer closes it. A request whose
    head is complete (its body on the way, its handler running, its answer being written, or queued
    behind another) is in progress. aiohttp has no public accessor for this; should its private
    ``_waiter`` go, only connections still in their TLS handshake count as idle (and the tests of
    the cap fail)."""
    waiter = getattr(protocol, "_waiter", None)
    return isinstance(waiter, asyncio.Future) and not waiter.done()


@dataclass(eq=False)
class Connection:
    """An accepted connection, and its protocol once it has one (after the TLS handshake)."""

    sock: socket.socket
    host: str
    protocol: asyncio.BaseProtocol | None = None

    def idle(self) -> bool:
        return self.protocol is None or waiting_for_request(self.protocol)

    def close(self) -> None:
        """Ends it through its transport's own close path: shutdown(), unlike close(), leaves the
        descriptor to asyncio, which reads the end of the stream, closes its transport (a TLS
        handshake under way fails) and only then frees the descriptor."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already gone (ENOTCONN)
            pass


class Acceptor(asyncio.AbstractServer):
    """Accepts on ``sockets`` and hands each vetted connection to ``protocol_factory`` (TLS first when
    ``ssl_context`` is given, its handshake bounded by ``handshake_timeout`` seconds)."""

    def __init__(self, sockets: Sequence[socket.socket], protocol_factory: Callable[[], asyncio.BaseProtocol], *,
                 ssl_context: ssl.SSLContext | None, allow: Sequence[Network], max_connections: int,
                 handshake_timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._sockets = list(sockets)
        self._factory = protocol_factory
        self._ssl = ssl_context
        self._allow = tuple(allow)
        self._max = max_connections
        self._handshake_timeout = handshake_timeout
        # Accepted, not yet closed (a closed socket's fileno is -1) and not made room from, oldest first.
        self._open: list[Connection] = []
        self._connecting: set[asyncio.Task[None]] = set()
        self._retries: dict[socket.socket, asyncio.TimerHandle] = {}  # listening sockets paused after a failure
        self._serving = True
        self._stranger = Throttled(log, logging.WARNING, "refused a connection from %s: not in endpoint.allow")
        self._full = Throttled(log, logging.WARNING, "refused a connection from %s: already %d open, "
                                                     "each with a request in progress (endpoint.max_connections)")
        self._room = Throttled(log, logging.WARNING, "closed the idle connection from %s for a new one: already %d "
                                                     "open (endpoint.max_connections)")
        self._failed = Throttled(log, logging.ERROR, "cannot accept connections: %s; trying again in %g s")
        for sock in self._sockets:
            self._loop.add_reader(sock.fileno(), self._accept, sock)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self._sockets)

    def _connections(self) -> int:
        """The connections accepted and still open, TLS handshakes under way included."""
        self._open = [connection for connection in self._open if connection.sock.fileno() != -1]
        return len(self._open)

    def _make_room(self) -> Connection | None:
        """Closes the oldest idle connection and returns it; None when every one is busy. Its
        descriptor is freed a loop iteration later, so a burst of newcomers may briefly hold that
        many more."""
        for connection in self._open:
            if connection.idle():
                self._open.remove(connection)
                connection.close()
                return connection
        return None

    def _accept(self, listening: socket.socket) -> None:
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                conn, address = listening.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as err:
                # Out of descriptors (EMFILE), memory or the like: the socket stays readable, so stop
                # watching it for a while rather than spin, and say so now and then, never with a traceback.
                self._failed(self._loop.time(), err.strerror or err, ACCEPT_RETRY_DELAY)
                self._pause(listening)
                return
            self._admit(conn, str(address[0]))

    def _pause(self, listening: socket.socket) -> None:
        self._loop.remove_reader(listening.fileno())
        self._retries[listening] = self._loop.call_later(ACCEPT_RETRY_DELAY, self._resume, listening)

    def _resume(self, listening: socket.socket) -> None:
        del self._retries[listening]
        self._loop.add_reader(listening.fileno(), self._accept, listening)

    def _admit(self, conn: socket.socket, host: str) -> None:
        if not allowed(host, self._allow):
            conn.close()
            self._stranger(self._loop.time(), host)
            return
        if (count := self._connections()) >= self._max:
            if (idle := self._make_room()) is None:
                conn.close()
                self._full(self._loop.time(), host, count)
                return
            self._room(self._loop.time(), idle.host, count)
        connection = Connection(conn, host)
        self._open.append(connection)
        task = self._loop.create_task(self._connect(connection))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)

    async def _connect(self, connection: Connection) -> None:
        try:
            _transport, connection.protocol = await self._loop.connect_accepted_socket(
                self._factory, connection.sock, ssl=self._ssl,
                ssl_handshake_timeout=self._handshake_timeout if self._ssl is not None else None)
        except OSError as err:  # a failed or slow TLS handshake, a caller gone (SSLError, TimeoutError...)
            log.debug("connection dropped before its first request: %s", err)
            connection.sock.close()

    def close(self) -> None:
        self._serving = False
        for handle in self._retries.values():
            handle.cancel()
        for sock in self._sockets:
            self._loop.remove_reader(sock.fileno())
            sock.close()
        for task in self._connecting:
            task.cancel()

    async def wait_closed(self) -> None:
        await asyncio.gather(*self._connecting, return_exceptions=True)

    def is_serving(self) -> bool:
        return self._serving

    async def start_serving(self) -> None:
        """It serves from the start."""

    async def serve_forever(self) -> None:
        raise NotImplementedError("the aiohttp runner owns this server's life")

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop


async def listening_sockets(host: str | None, port: int, backlog: int = 128) -> list[socket.socket]:
    """Non-blocking sockets listening on every address ``host`` resolves to (all when None), as
    asyncio's create_server binds them: SO_REUSEADDR, and IPv6 sockets IPv6-only."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class GuardedSite(web.BaseSite):
    """An aiohttp site like TCPSite, served through an :class:`Acceptor`."""

    def __init__(self, runner: web.BaseRunner, host: str | None, port: int, *,
                 ssl_context: ssl.SSLContext | None = None, allow: Sequence[Network] = (),
                 max_connections: int = 64, handshake_timeout: float = 20.0) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._host, self._port = host, port
        self._allow = tuple(allow)
        self._max_connections = max_connections
        self._handshake_timeout = handshake_timeout
        self._acceptor: Acceptor | None = None

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host or '0.0.0.0'}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None  # BaseSite checked that the runner was set up
        self._acceptor = Acceptor(
            await listening_sockets(self._host, self._port, self._backlog), server, ssl_context=self._ssl_context,
            allow=self._allow, max_connections=self._max_connections, handshake_timeout=self._handshake_timeout)
        self._server = self._acceptor

    async def stop(self) -> None:
        await super().stop()
        if self._acceptor is not None:
            await self._acceptor.wait_closed()
