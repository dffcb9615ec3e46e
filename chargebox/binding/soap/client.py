"""The box's client of the Central System service: typed request in, typed confirmation out.

Every request carries chargeBoxIdentity (8.1) and wsa Action, MessageID, To and From (8.3). One HTTP
session keeps its connection alive between calls; requests from a size threshold go compressed (gzip
or deflate, as configured), and gzip/deflate responses are accepted (chapter 8, a MUST). The same
session posts the box's answers to a Central System request's non-anonymous wsa:ReplyTo.
"""

from __future__ import annotations

import gzip
import logging
import ssl
import zlib
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

import aiohttp

from chargebox.binding.soap import envelope
from chargebox.binding.soap.faults import MustUnderstand
from chargebox.binding.soap.service import Service, central_system_service
from chargebox.ocpp.errors import CallFailed, CentralSystemUnreachable, ProtocolError, SecurityError, Unsendable
from chargebox.ocpp.messages import Confirmation, Request

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1 << 20
Compression = Literal["gzip", "deflate"]
_COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, compresslevel=6),
    "deflate": lambda data: zlib.compress(data, 6),  # HTTP "deflate" is the zlib format (RFC 9110 8.4.1.2)
}


class CentralSystemClient:
    """Sends the box's requests to one Central System.

    ``from_url`` is called on every request, so a changing address (a modem's) is always current.
    Requests of ``compress_threshold`` bytes or more go compressed with ``compression`` (``None``
    never compresses). ``timeout`` bounds a whole call, ``connect_timeout`` the connection set-up.
    A plain ``http://`` URL (the Central System's or a reply address) is refused unless
    ``allow_plain_http``; ``ssl_context`` (see :mod:`chargebox.tls`) governs ``https://``.
    """

    def __init__(
        self, url: str, identity: str, from_url: Callable[[], str | None], *,
        timeout: float = 30.0, connect_timeout: float = 10.0, compression: Compression | None = "gzip",
        compress_threshold: int = 1024, ssl_context: ssl.SSLContext | None = None,
        allow_plain_http: bool = False, service: Service | None = None,
    ) -> None:
        self.url = url
        self.identity = identity
        self._from_url = from_url
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._compression = compression
        self._compress_threshold = compress_threshold
        self._ssl = ssl_context
        self._plain = allow_plain_http
        self._service = service or central_system_service()
        self._session: aiohttp.ClientSession | None = None
        self.check_url(url)

    def check_url(self, url: str) -> None:
        """SecurityError unless the box may post to ``url`` (https, or http where allowed)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProtocolError(f"not an http(s) URL: {url!r}")
        if parts.scheme == "http" and not self._plain:
            raise SecurityError(f"plain http to {url} is not allowed (allow_plain_http is off)")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        # One session, one connection kept alive between calls (aiohttp's keep-alive pool).
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True, limit=4)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    def encode(self, request: Request, message_id: str | None = None) -> tuple[bytes, envelope.Addressing]:
        """The request's envelope and the headers it carries; wsa:MessageID is ``urn:uuid:message_id``
        when given (the same for every attempt of a queued message), else a fresh one.

        Unsendable when the schema refuses the message: we never send what it refuses, and no
        later attempt would render it differently.
        """
        action = request.action()
        headers = envelope.Addressing(
            charge_box_identity=self.identity, action=f"/{action}",
            message_id=f"urn:uuid:{message_id}" if message_id is not None else envelope.new_message_id(),
            to=self.url, from_url=self._from_url(),
        )
        try:
            body = self._service.render(request, action)
        except (ValueError, TypeError, LookupError) as err:
            version = self._service.protocol.version.name
            raise Unsendable(f"{action} cannot be sent in OCPP {version}: {err}") from err
        return envelope.build(headers, self._service.namespace, body), headers

    def decode(self, data: bytes, request: Request, sent: envelope.Addressing) -> Confirmation:
        """The confirmation in a response body; CallFailed for a fault or anything malformed."""
        try:
            answer = envelope.parse(data, self._service.namespace)
        except MustUnderstand as err:  # SOAP 1.2 Part 1 5.2.3: such a message is not processed at all
            raise ProtocolError(f"response not taken: {err.reason}") from err
        if answer.fault is not None:
            raise answer.fault
        if answer.headers.relates_to and answer.headers.relates_to != sent.message_id:
            raise ProtocolError(f"response relates to {answer.headers.relates_to}, not {sent.message_id}")
        expected = self._service.tag(request.action(), request=False)
        if answer.body is None or answer.body.tag != expected:
            raise ProtocolError(f"response body is not a {request.action()} confirmation")
        confirmation = self._service.parse(answer.body)
        if not isinstance(confirmation, Confirmation):
            raise ProtocolError(f"response body is not a {request.action()} confirmation")
        return confirmation

    async def _post(self, url: str, body: bytes, action: str) -> tuple[int, bytes]:
        """POST one SOAP message; CentralSystemUnreachable when no answer came."""
        headers = {
            "Content-Type": f'{envelope.CONTENT_TYPE}; charset=utf-8; action="{action}"',
            "Accept-Encoding": "gzip, deflate",
        }
        if self._compression is not None and len(body) >= self._compress_threshold:
            body = _COMPRESSORS[self._compression](body)
            headers["Content-Encoding"] = self._compression
        try:
            async with self._http().post(url, data=body, headers=headers) as response:
                # Read to the end (read(n) may return any part of the body), but never more than the
                # limit: a connection left with unread bytes cannot carry the next call.
                chunks, size = [], 0
                async for chunk in response.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        break
                    chunks.append(chunk)
                data = b"".join(chunks)
                status = response.status
        except (aiohttp.ClientConnectionError, TimeoutError, OSError) as err:
            raise CentralSystemUnreachable(f"{url}: {err or type(err).__name__}") from err
        except aiohttp.ClientError as err:  # e.g. a response that is not HTTP, or a bad Content-Encoding
            raise CallFailed(f"{url}: {err}") from err
        if size > MAX_RESPONSE_BYTES:
            raise ProtocolError(f"response larger than {MAX_RESPONSE_BYTES} bytes")
        return status, data

    async def call(self, request: Request, message_id: str | None = None) -> Confirmation:
        """Send one request and return its confirmation; ``message_id``: see :meth:`encode`.

        Raises CentralSystemUnreachable when no answer came (refused, reset, timed out),
        CallFailed when the Central System answered but did not process it (fault, HTTP error,
        malformed response): the outbox treats the two differently (1.6 section 3.7.1); and
        Unsendable, before anything is sent, for a message the schema refuses.
        """
        body, sent = self.encode(request, message_id)
        assert sent.action is not None
        status, data = await self._post(self.url, body, sent.action)
        if status != 200 and not data:
            raise CallFailed(f"{self.url}: HTTP {status}")
        try:
            return self.decode(data, request, sent)
        except CallFailed:
            raise
        except (ValueError, TypeError, LookupError, AttributeError) as err:
            # Whatever the Central System sent, a response we cannot read is a failure to process.
            raise ProtocolError(f"unreadable {request.action()} response: {err}") from err

    async def send_reply(self, url: str, body: bytes, action: str) -> None:
        """Post the box's answer to a request's wsa:ReplyTo (WS-Addressing 1.0 Core 3.4)."""
        self.check_url(url)
        status, _ = await self._post(url, body, action)
        if not 200 <= status < 300:
            raise CallFailed(f"{url}: HTTP {status} for the reply")
