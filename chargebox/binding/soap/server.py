"""The box's Charge Point service endpoint: the Central System's requests in, confirmations out.

A connection is vetted as it is accepted (:mod:`.listener`): one from outside the allow-list is closed
before anything is read, ``GET ?wsdl`` included; at ``max_connections`` the oldest idle connection
makes room for a new one, which is closed unread only when every connection is busy. A connection
without a complete request head for ``idle_timeout`` seconds (new, between requests, or sending its
headers slowly) is closed.

Then checks in order, each answering a SOAP 1.2 fault with the subcode of section 8.2: the body size
(HTTP 413, before parsing), the time to receive it (HTTP 408) and its content encoding (ProtocolError),
the envelope (ProtocolError), mandatory header blocks the box does not understand (a MustUnderstand
fault naming them, SOAP 1.2 Part 1 5.2.3), chargeBoxIdentity compared case-insensitively
(IdentityMismatch), the body against the schema and the message model (ProtocolError); then the
engine's handler, whose protocol errors go out as their faults (faults.WIRE). Any other failure is
our bug: logged with its cause (the exception's type and traceback, not its message, which may repeat
request values such as an idTag) and answered with a Receiver fault (InternalError), never plain text.
``GET ...?wsdl`` serves the box's WSDL.

Replies go back on the HTTP response unless the request names a non-anonymous wsa:ReplyTo (or
wsa:FaultTo for a fault, WS-Addressing 1.0 Core 3.4): then the box answers HTTP 202 with an empty
body once it has processed the request, and posts the reply to that address through its client
(same TLS settings; plain http only where allowed). A ReplyTo of ``.../addressing/none`` gets the
202 and no reply. Faults raised before the caller proved its identity always go back inline: the box
never posts to an address given by a stranger.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from typing import Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from chargebox.binding.memory import LARGE_BODY, give_back_memory, malloc_trim
from chargebox.binding.soap import envelope
from chargebox.binding.soap.faults import IdentityMismatch, wire_code
from chargebox.binding.soap.listener import GuardedSite, Network
from chargebox.binding.soap.service import Service, charge_point_service
from chargebox.logfields import traceback_of
from chargebox.ocpp.errors import BindingError, InternalError, OcppError, ProtocolError
from chargebox.ocpp.messages import Handler, Request

log = logging.getLogger(__name__)

#: Seconds a request under way may take to finish once the daemon stops: the Central System's
#: call gets its answer, and a stop still ends within seconds (README, The service).
SHUTDOWN_TIMEOUT = 5.0

class ReplyChannel(Protocol):
    """Where replies to a non-anonymous wsa:ReplyTo go: the box's client of the Central System."""

    def check_url(self, url: str) -> None: ...

    async def send_reply(self, url: str, body: bytes, action: str) -> None: ...


class BodyRefused(ProtocolError):
    """A request body not received whole: too large (HTTP 413) or too slow (HTTP 408). What was read
    is dropped unparsed; aiohttp then discards the rest for at most 10 s (its lingering time, so that
    closing does not reset the connection under the fault) and closes the connection if it is not
    over by then."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class ChargePointEndpoint:
    """Serves the Central System operations of ``service``'s version (1.5 chapter 5, the default; 1.6
    chapter 5) for one charge box identity.

    ``max_body`` bounds a request body (after decompression); ``read_timeout`` the seconds to receive
    it; responses of ``compress_threshold`` bytes or more go compressed when the caller accepts it.
    ``allow``, ``max_connections`` and ``idle_timeout`` apply where it is served through :meth:`runner`
    and :meth:`site`.
    Without ``replies`` a request with a non-anonymous wsa:ReplyTo is refused (ProtocolError).
    """

    def __init__(
        self, identity: str, handler: Handler, *, path: str = "/", max_body: int = 1 << 20,
        read_timeout: float = 30.0, compress_threshold: int = 1024, allow: Sequence[Network] = (),
        max_connections: int = 64, idle_timeout: float = 20.0, replies: ReplyChannel | None = None,
        service: Service | None = None,
    ) -> None:
        self.identity = identity
        self.path = path
        self._handler = handler
        self._allow = tuple(allow)
        self._max_body = max_body
        self._read_timeout = read_timeout
        self._max_connections = max_connections
        self._idle_timeout = idle_timeout
        self._compress_threshold = compress_threshold
        self._replies = replies
        self._pending: set[asyncio.Task[None]] = set()
        self._service = service or charge_point_service()
        self._wsdl = self._service.wsdl.read_bytes()
        self.app = web.Application(client_max_size=max_body)
        self.app.router.add_post(path, self._post)
        self.app.router.add_get(path, self._get)
        self.app.on_cleanup.append(self._cancel_replies)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        if "wsdl" in {key.lower() for key in request.query}:
            return web.Response(body=self._wsdl, content_type="text/xml", charset="utf-8")
        raise web.HTTPMethodNotAllowed("GET", ["POST"])

    def runner(self) -> web.AppRunner:
        """A runner of the app that closes a connection without a complete request head for
        ``idle_timeout`` seconds: aiohttp (3.14.4 on) runs its keep-alive timer from a connection's
        start and closes the connection when it fires while the next request's head is incomplete."""
        return web.AppRunner(self.app, access_log=None, keepalive_timeout=self._idle_timeout,
                             shutdown_timeout=SHUTDOWN_TIMEOUT)

    def site(self, runner: web.BaseRunner, host: str | None, port: int,
             ssl_context: ssl.SSLContext | None = None) -> GuardedSite:
        """Where ``runner`` (from :meth:`runner`) listens: strangers, and connections over the cap
        while every open one is busy, are closed as they are accepted; a TLS handshake gets
        ``idle_timeout`` seconds too."""
        return GuardedSite(runner, host, port, ssl_context=ssl_context, allow=self._allow,
                           max_connections=self._max_connections, handshake_timeout=self._idle_timeout)

    async def _read(self, request: web.Request) -> bytes:
        # Read here rather than by request.read(), which keeps the body in the request until aiohttp
        # lets go of it, after the answer: a large body was then still held when its memory was given
        # back, and stayed resident (a SendLocalList of 50,000, +7 MB from the second list on; issue 19).
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self._read_timeout):
                while chunk := await request.content.readany():
                    size += len(chunk)
                    if size > self._max_body:  # refused as soon as the body read so far passes the limit
                        break
                    chunks.append(chunk)
        except TimeoutError:
            raise BodyRefused(f"request body not received within {self._read_timeout:g} s", 408) from None
        except RequestPayloadError as err:  # a body that claims gzip or deflate and is not
            # Done with it: else aiohttp reads it again after the answer and logs a traceback for each.
            request.content.feed_eof()
            encoding = request.headers.get("Content-Encoding", "")
            raise ProtocolError(f"request body not readable (Content-Encoding {encoding!r}?)") from err
        except (HttpProcessingError, ValueError, OSError) as err:
            raise ProtocolError(f"cannot decode request body: {err}") from err
        if size > self._max_body:
            raise BodyRefused(f"request body larger than {self._max_body} bytes", 413)
        if request.content_type != envelope.CONTENT_TYPE:
            raise ProtocolError(f"Content-Type {request.content_type!r}; SOAP 1.2 needs {envelope.CONTENT_TYPE}")
        return b"".join(chunks)

    async def _post(self, request: web.Request) -> web.StreamResponse:
        received = envelope.Addressing()
        # Where the reply and a fault go; None is the HTTP response. Set only once the caller has
        # proved who it is (chargeBoxIdentity) and its ReplyTo/FaultTo passed the client's checks.
        destinations: tuple[str | None, str | None] = (None, None)
        large = request.content_length is not None and request.content_length >= LARGE_BODY
        if large:
            # Before the body fills the heap: ctypes (looked up by malloc_trim) and the service's tables,
            # loaded or built after it, pinned pymalloc arenas the body then freed (issue 19).
            malloc_trim()
            self._service.prepare()
        try:
            message = envelope.parse(await self._read(request), self._service.namespace)
            received = message.headers
            self._check_identity(received)
            reply_to = self._destination(received.reply_to)
            destinations = (reply_to, self._destination(received.fault_to) if received.fault_to else reply_to)
            confirmation_xml, action = await self._dispatch(message)
            status, destination = 200, destinations[0]
            reply = envelope.build(self._reply_headers(received, action, destination), self._service.namespace,
                                   confirmation_xml)
        except Exception as err:
            if isinstance(err, OcppError):
                fault = err
                log.warning("answering %s with fault %s", received.action or "request", fault)
            else:  # our bug, not the caller's: its cause in the log, a Receiver fault on the wire
                log.error("answering %s with InternalError:\n%s", received.action or "request", traceback_of(err))
                fault = InternalError(f"{type(err).__name__} in the charge box")
            # SOAP 1.2 Part 2 7.5.2.2: 400 for a Sender fault, 500 for the others (Receiver, MustUnderstand);
            # a body refused unread keeps HTTP's more precise 413 or 408 (RFC 9110 15.5.14, 15.5.9).
            sender = wire_code(fault)[0] == "Sender"
            status = fault.status if isinstance(fault, BodyRefused) else 400 if sender else 500
            destination, action = destinations[1], "/Fault"
            reply = envelope.build(self._reply_headers(received, action, destination), self._service.namespace,
                                   fault=fault, fault_namespace=self._service.protocol.fault_namespace)
        if large:  # once this frame, and the request's tree with it, is gone
            asyncio.get_running_loop().call_soon(give_back_memory)
        if destination is not None:
            if destination != envelope.WSA_NONE:
                self._send_later(destination, reply, action)
            return web.Response(status=202)
        response = web.Response(
            body=reply, status=status, headers={"Content-Type": f"{envelope.CONTENT_TYPE}; charset=utf-8"},
        )
        if len(reply) >= self._compress_threshold:
            response.enable_compression()  # only if the caller's Accept-Encoding has gzip or deflate
        if request.content.exception() is not None:
            response.force_close()  # the body could not be read: where the next request starts is unknown
        return response

    def _check_identity(self, headers: envelope.Addressing) -> None:
        identity = headers.charge_box_identity
        if identity is None:
            raise ProtocolError("missing chargeBoxIdentity header (8.1)")
        if identity.casefold() != self.identity.casefold():
            raise IdentityMismatch(f"this is charge box {self.identity}, not {identity}")

    def _destination(self, address: str | None) -> str | None:
        """Where a reply to ``address`` goes: None for the HTTP response, else a checked URL or WSA_NONE."""
        if not address or address == envelope.WSA_ANONYMOUS:
            return None
        if address == envelope.WSA_NONE:
            return address
        if self._replies is None:
            raise ProtocolError("this charge box answers on the HTTP response only (anonymous wsa:ReplyTo)")
        self._replies.check_url(address)
        return address

    async def _dispatch(self, message: envelope.Envelope) -> tuple[object, str]:
        if message.body is None:
            raise ProtocolError("empty SOAP Body")
        operation = self._service.operation_of(message.body)
        if message.headers.action and self._action_name(message.headers.action) != operation.name:
            raise ProtocolError(f"wsa:Action {message.headers.action} does not match {operation.name}")
        request = self._service.parse(message.body)
        if not isinstance(request, Request):
            raise ProtocolError(f"{operation.name} confirmation sent as a request")
        try:
            confirmation = await self._handler(request)
        except OcppError:
            raise
        except Exception as err:  # the engine failed: the CS gets InternalError, the daemon lives on
            log.error("handling %s failed:\n%s", operation.name, traceback_of(err))
            raise InternalError(f"{operation.name} failed: {type(err).__name__}") from err
        # Gone before the answer is built: what building it keeps (the codec's tables of a message's
        # first answer) then goes where idle objects are, not into memory the request freed (issue 19).
        del request
        try:
            return self._service.render(confirmation, operation.name), f"/{operation.name}Response"
        except (ValueError, TypeError) as err:  # the engine's answer breaks the schema: never send it
            log.error("%s confirmation not sendable: %s", operation.name, err)
            raise InternalError(f"{operation.name} confirmation could not be built") from err

    def _action_name(self, action: str) -> str:
        """The operation a wsa:Action names: the WSDLs say ``/Reset``, Central Systems also send ``Reset``
        and the fully qualified ``urn://Ocpp/Cp/2015/10/Reset`` (issue 17), which all mean the same."""
        return action.removeprefix(self._service.namespace).strip("/")

    def _reply_headers(self, received: envelope.Addressing, action: str, reply_to: str | None) -> envelope.Addressing:
        # WS-Addressing 1.0 Core 3.4: a reply relates to the request's MessageID, addressed to its ReplyTo.
        return envelope.Addressing(
            action=action, message_id=envelope.new_message_id(), relates_to=received.message_id,
            to=reply_to or envelope.WSA_ANONYMOUS,
        )

    def _send_later(self, url: str, body: bytes, action: str) -> None:
        assert self._replies is not None
        task = asyncio.get_running_loop().create_task(self._send(self._replies, url, body, action))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, replies: ReplyChannel, url: str, body: bytes, action: str) -> None:
        try:
            await replies.send_reply(url, body, action)
        except BindingError as err:  # the request was processed; only its answer is lost
            log.warning("reply %s to %s not delivered: %s", action, url, err)

    async def _cancel_replies(self, _app: web.Application) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
