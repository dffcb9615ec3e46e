"""The box's client of the Central System service: typed request in, typed confirmation out.

Every request carries chargeBoxIdentity (8.1) and wsa Action, MessageID, To and From (8.3). HTTP
keeps its connection alive between calls; requests above a size threshold go gzip-compressed, and
gzip/deflate responses are accepted (chapter 8, a MUST).
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import ssl
from collections.abc import Callable

import aiohttp

from chargebox.binding import CallFailed, CentralSystemUnreachable
from chargebox.binding.soap15 import envelope
from chargebox.binding.soap15.faults import ProtocolError
from chargebox.binding.soap15.service import Service, central_system_service
from chargebox.ocpp.messages import Confirmation, Request

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1 << 20


class CentralSystemClient:
    """Sends the box's requests to one Central System.

    ``from_url`` is called on every request, so a changing address (a modem's) is always current.
    ``compress_threshold`` is the request size in bytes from which the body is gzip-compressed
    (``None`` never compresses).
    """

    def __init__(
        self, url: str, identity: str, from_url: Callable[[], str | None], *,
        timeout: float = 30.0, compress_threshold: int | None = 1024,
        ssl_context: ssl.SSLContext | None = None, service: Service | None = None,
    ) -> None:
        self.url = url
        self.identity = identity
        self._from_url = from_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._compress_threshold = compress_threshold
        self._ssl = ssl_context
        self._service = service or central_system_service()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True, limit=4)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    def encode(self, request: Request) -> tuple[bytes, envelope.Addressing]:
        """The request's envelope and the headers it carries."""
        action = request.action()
        headers = envelope.Addressing(
            charge_box_identity=self.identity, action=f"/{action}", message_id=envelope.new_message_id(),
            to=self.url, from_url=self._from_url(),
        )
        body = self._service.render(request, action)
        return envelope.build(headers, self._service.namespace, body), headers

    def decode(self, data: bytes, request: Request, sent: envelope.Addressing) -> Confirmation:
        """The confirmation in a response body; CallFailed for a fault or anything malformed."""
        answer = envelope.parse(data, self._service.namespace)
        if answer.fault is not None:
            raise answer.fault
        if answer.headers.relates_to and answer.headers.relates_to != sent.message_id:
            raise ProtocolError(f"response relates to {answer.headers.relates_to}, not {sent.message_id}")
        expected = self._service.tag(request.action(), request=False)
        if answer.body is None or answer.body.tag != expected:
            raise ProtocolError(f"response body is not a {request.action()} confirmation")
        confirmation = self._service.parse(answer.body)
        assert isinstance(confirmation, Confirmation)
        return confirmation

    async def call(self, request: Request) -> Confirmation:
        """Send one request and return its confirmation.

        Raises CentralSystemUnreachable when no answer came (refused, reset, timed out) and
        CallFailed when the Central System answered but did not process it (fault, HTTP error,
        malformed response): the outbox treats the two differently (1.6 section 3.7.1).
        """
        body, sent = self.encode(request)
        http_headers = {
            "Content-Type": f'{envelope.CONTENT_TYPE}; charset=utf-8; action="{sent.action}"',
            "Accept-Encoding": "gzip, deflate",
        }
        if self._compress_threshold is not None and len(body) >= self._compress_threshold:
            body = gzip.compress(body, compresslevel=6)
            http_headers["Content-Encoding"] = "gzip"
        try:
            async with self._http().post(self.url, data=body, headers=http_headers) as response:
                data = await response.content.read(MAX_RESPONSE_BYTES + 1)
                status = response.status
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError, OSError) as err:
            raise CentralSystemUnreachable(f"{self.url}: {err or type(err).__name__}") from err
        except aiohttp.ClientError as err:
            raise CallFailed(f"{self.url}: {err}") from err
        if len(data) > MAX_RESPONSE_BYTES:
            raise ProtocolError(f"response larger than {MAX_RESPONSE_BYTES} bytes")
        if status != 200 and not data:
            raise CallFailed(f"{self.url}: HTTP {status}")
        try:
            return self.decode(data, request, sent)
        except CallFailed:
            raise
        except ValueError as err:  # the schema refused it: malformed
            raise ProtocolError(str(err)) from err
