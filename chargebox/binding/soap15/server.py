"""The box's Charge Point service endpoint: the Central System's requests in, confirmations out.

Checks in order, each answering a SOAP 1.2 fault with the subcode of section 8.2: the caller's
address against the allow-list (SecurityError), the body size (HTTP 413, before parsing), the
envelope (ProtocolError), chargeBoxIdentity compared case-insensitively (IdentityMismatch), the
body against the schema (ProtocolError); then the engine's handler, whose NotSupported or other
failures become Receiver faults. ``GET ...?wsdl`` serves the box's WSDL.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from chargebox.binding.soap15 import envelope
from chargebox.binding.soap15.faults import (
    IdentityMismatch,
    InternalError,
    ProtocolError,
    SecurityError,
    SoapFault,
)
from chargebox.binding.soap15.service import Service, charge_point_service
from chargebox.ocpp.messages import Confirmation, Request

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Confirmation]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ChargePointEndpoint:
    """Serves the 15 Central System operations (chapter 5) for one charge box identity."""

    def __init__(
        self, identity: str, handler: Handler, *, path: str = "/", max_body: int = 64 * 1024,
        allow: Sequence[Network] = (), service: Service | None = None,
    ) -> None:
        self.identity = identity
        self.path = path
        self._handler = handler
        self._allow = tuple(allow)
        self._service = service or charge_point_service()
        self._wsdl = self._service.wsdl.read_bytes()
        self.app = web.Application(client_max_size=max_body)
        self.app.router.add_post(path, self._post)
        self.app.router.add_get(path, self._get)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        if "wsdl" in {key.lower() for key in request.query}:
            return web.Response(body=self._wsdl, content_type="text/xml", charset="utf-8")
        raise web.HTTPMethodNotAllowed("GET", ["POST"])

    def _allowed(self, remote: str | None) -> bool:
        if not self._allow:
            return True
        try:
            address = ipaddress.ip_address(remote or "")
        except ValueError:
            return False
        return any(address in network for network in self._allow)

    async def _post(self, request: web.Request) -> web.StreamResponse:
        received = envelope.Addressing()
        try:
            if not self._allowed(request.remote):
                raise SecurityError(f"address {request.remote} may not call this charge box")
            try:
                data = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise
            except (HttpProcessingError, ValueError, OSError) as err:  # a bad gzip/deflate body
                raise ProtocolError(f"cannot decode request body: {err}") from err
            if request.content_type != envelope.CONTENT_TYPE:
                raise ProtocolError(f"Content-Type {request.content_type!r}; SOAP 1.2 needs {envelope.CONTENT_TYPE}")
            message = envelope.parse(data, self._service.namespace)
            received = message.headers
            confirmation_xml, action = await self._dispatch(message)
            status = 200
            reply = envelope.build(self._reply_headers(received, action), self._service.namespace, confirmation_xml)
        except SoapFault as fault:
            log.warning("answering %s with fault %s/%s: %s", received.action or "request", fault.code,
                        fault.subcode, fault.reason)
            status = 400 if fault.code == "Sender" else 500
            reply = envelope.build(self._reply_headers(received, "/Fault"), self._service.namespace, fault=fault)
        return web.Response(
            body=reply, status=status, headers={"Content-Type": f"{envelope.CONTENT_TYPE}; charset=utf-8"},
        )

    async def _dispatch(self, message: envelope.Envelope) -> tuple[object, str]:
        identity = message.headers.charge_box_identity
        if identity is None:
            raise ProtocolError("missing chargeBoxIdentity header (8.1)")
        if identity.casefold() != self.identity.casefold():
            raise IdentityMismatch(f"this is charge box {self.identity}, not {identity}")
        if message.body is None:
            raise ProtocolError("empty SOAP Body")
        operation = self._service.operation_of(message.body)
        if message.headers.action and message.headers.action.strip("/") != operation.name:
            raise ProtocolError(f"wsa:Action {message.headers.action} does not match {operation.name}")
        request = self._service.parse(message.body)
        if not isinstance(request, Request):
            raise ProtocolError(f"{operation.name} confirmation sent as a request")
        try:
            confirmation = await self._handler(request)
        except SoapFault:
            raise
        except Exception as err:  # the engine failed: the CS gets InternalError, the daemon lives on
            log.exception("handling %s failed", operation.name)
            raise InternalError(f"{operation.name} failed: {type(err).__name__}") from err
        return self._service.render(confirmation, operation.name), f"/{operation.name}Response"

    def _reply_headers(self, received: envelope.Addressing, action: str) -> envelope.Addressing:
        # WS-Addressing: a response relates to the request's MessageID and goes to its ReplyTo.
        return envelope.Addressing(
            action=action, message_id=envelope.new_message_id(), relates_to=received.message_id,
            to=received.reply_to or envelope.WSA_ANONYMOUS,
        )
