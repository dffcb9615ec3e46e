"""The box's WebSocket to the Central System (OCPP-J 1.6 sections 3 and 5), kept open and reopened.

The box is the WebSocket client (3): it connects to the Central System's endpoint URL with its
identity appended, percent-encoded (3.1.1), offering only the subprotocol ``ocpp1.6`` and refusing a
server that does not agree to it (3.1.2, 3.2). The security profiles of the 1.6 security whitepaper
(edition 2, section 2) are the URL's scheme and the keys given: HTTP Basic with the identity and
``AuthorizationKey`` (profile 1 over ``ws://``, only where plain is allowed; profile 2 over
``wss://``), and a client certificate in the TLS context (profile 3). A dropped or refused
connection is retried with exponential backoff and jitter (errata 3.3: "an appropriate back-off
mechanism") up to ``central_system.reconnect_max`` seconds, starting again from the first delay once
the Central System has answered a CALL of the box; WebSocket pings every ``WebSocketPingInterval``
seconds find a half-open connection (5.3, errata 3.9).
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Callable
from urllib.parse import quote, urlsplit

import aiohttp

from chargebox.logfields import mask_url
from chargebox.ocpp.errors import ProtocolError, SecurityError

log = logging.getLogger(__name__)

#: 3.1.2, table 1: the WebSocket subprotocol of OCPP 1.6 J.
SUBPROTOCOL = "ocpp1.6"

#: The largest frame taken from the Central System: as large as the SOAP endpoint's default body,
#: so a SendLocalList or GetConfiguration that fits one binding fits the other; a site that sets a
#: longer SendLocalListMaxLength raises it to fit that list (configured.client).
MAX_FRAME_BYTES = 1 << 20

def connection_url(url: str, identity: str) -> str:
    """3.1.1: the endpoint URL with '/' and the percent-encoded identity appended to its path."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + "/" + quote(identity, safe="")
    return parts._replace(path=path).geturl()


def check_url(url: str, allow_plain: bool) -> None:
    """ProtocolError unless ``url`` is a ws:// or wss:// URL; SecurityError for ws:// unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ProtocolError(f"not a ws(s) URL: {url!r}")
    if parts.scheme == "ws" and not allow_plain:
        raise SecurityError(f"plain ws to {url} is not allowed (allow_plain_http is off)")


class Backoff:
    """Delays between connection attempts: doubling from ``first`` up to ``longest``, each drawn
    between half and all of its step (jitter: boxes that lost one Central System together do not
    all come back in the same second). The link's owner resets it once a connection has proved itself
    (an answer to a CALL of the box), so a Central System that accepts and drops at once is not hammered
    while one that was up is looked for again within seconds."""

    def __init__(self, first: float = 1.0, longest: float = 60.0, rng: random.Random | None = None) -> None:
        self.first = first
        self.longest = longest
        self._rng = rng or random.Random()
        self._step = first

    def reset(self) -> None:
        self._step = self.first

    def next(self) -> float:
        step = self._step
        self._step = min(self.longest, step * 2)
        return self._rng.uniform(step / 2, step)


class Link:
    """One WebSocket to the Central System at a time, reopened by :meth:`run` whenever it drops.

    ``on_text`` gets every text message as it arrives (it must not block: reading goes on while a
    request is handled); ``on_down`` is told when an open connection ends. ``authorization_key`` and
    ``ping_interval`` are read at each connection, so a changed key applies at the next one.
    """

    def __init__(
        self, url: str, identity: str, *, on_text: Callable[[str], None], on_down: Callable[[str], None],
        authorization_key: Callable[[], str | None] = lambda: None, ping_interval: Callable[[], float] = lambda: 0,
        ssl_context: ssl.SSLContext | None = None, allow_plain: bool = False, connect_timeout: float = 10.0,
        max_frame: int = MAX_FRAME_BYTES, backoff: Backoff | None = None,
    ) -> None:
        check_url(url, allow_plain)
        self.url = connection_url(url, identity)
        #: The URL as logs and errors show it: a password in it masked (the key itself never is in it).
        self.shown_url = mask_url(self.url)
        self.identity = identity
        self._on_text = on_text
        self._on_down = on_down
        self._authorization_key = authorization_key
        self._ping_interval = ping_interval
        self._ssl = ssl_context
        self._connect_timeout = connect_timeout
        self._max_frame = max_frame
        self.backoff = backoff or Backoff()
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.connected = asyncio.Event()
        #: Clear while an attempt to connect is under way (and before the first), set once it has
        #: succeeded or failed: a request waits for an attempt's outcome, never through a backoff delay.
        self.attempted = asyncio.Event()
        self.connections = 0  # how many times a connection was opened (status, tests)

    async def send(self, text: str) -> None:
        """Send one frame on the open connection; ConnectionError when there is none."""
        socket = self.socket
        if socket is None or socket.closed:
            raise ConnectionResetError("not connected")
        await socket.send_str(text)

    async def run(self) -> None:
        """Connect, read until the connection ends, wait, connect again; until cancelled."""
        connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True, limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            while True:
                self.attempted.clear()
                try:
                    opened = await self._open(session)
                    if opened is not None:
                        self._up(opened)
                finally:
                    self.attempted.set()
                if opened is not None:
                    await self._read(opened)
                delay = self.backoff.next()
                log.info("connecting to the Central System again in %.1f s", delay)
                await asyncio.sleep(delay)

    async def _open(self, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse | None:
        key = self._authorization_key()
        # Whitepaper 2.3: "AUTHORIZATION: Basic <Base64 encoded(<ChargePointId>:<AuthorizationKey>)>".
        # The key goes in the header only, never in the URL, so no log line or error message holds it.
        headers = {"Authorization": aiohttp.encode_basic_auth(self.identity, key)} if key else {}
        ping = self._ping_interval()
        try:
            # The handshake has its own bound: a Central System may take TCP and never answer.
            async with asyncio.timeout(self._connect_timeout):
                socket = await session.ws_connect(
                    self.url, protocols=(SUBPROTOCOL,), headers=headers, heartbeat=ping if ping > 0 else None,
                    max_msg_size=self._max_frame,
                )
        except aiohttp.WSServerHandshakeError as err:
            # 3.2: 404 for an identity the Central System does not know; 401 for a refused key.
            why = {401: "credentials refused (401)", 403: "refused (403)", 404: "identity not known (404)"}
            log.warning("Central System at %s refused the connection: %s", self.shown_url,
                        why.get(err.status, f"HTTP {err.status}"))
            return None
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            log.warning("cannot connect to the Central System at %s: %s", self.shown_url,
                        mask_url(str(err)) or type(err).__name__)
            return None
        if socket.protocol != SUBPROTOCOL:
            # 3.2: a server that does not agree answers without Sec-WebSocket-Protocol and closes;
            # the box does not speak OCPP on a connection that was not agreed to be OCPP 1.6.
            log.warning("Central System at %s did not agree to subprotocol %s (answered %r); closing",
                        self.shown_url, SUBPROTOCOL, socket.protocol)
            await socket.close()
            return None
        return socket

    def _up(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.connections += 1
        self.connected.set()
        log.info("connected to the Central System at %s (%s)", self.shown_url, SUBPROTOCOL)

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        why = "closed by the Central System"
        try:
            async for message in socket:
                if message.type is aiohttp.WSMsgType.TEXT:
                    self._on_text(message.data)
                elif message.type is aiohttp.WSMsgType.BINARY:
                    # 4.1.2: OCPP-J frames are UTF-8 text; a binary message is not one of them.
                    log.warning("binary WebSocket message of %d bytes ignored", len(message.data))
                elif message.type is aiohttp.WSMsgType.ERROR:
                    why = f"error: {socket.exception() or 'unknown'}"
                    break
                # Else the loop's name holds the frame until the next one comes: a SendLocalList of 50,000
                # (5 MB) stayed resident past the memory given back after it (issue 19).
                del message
        finally:
            self.socket = None
            self.connected.clear()
            if not socket.closed:
                await socket.close()
            if socket.close_code is not None and why == "closed by the Central System":
                why = f"closed (code {socket.close_code})"
            log.warning("connection to the Central System %s", why)
            self._on_down(why)
