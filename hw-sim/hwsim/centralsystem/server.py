"""The SOAP wire of the reference Central System (SOAP 1.2 over HTTP), strict about the schema.

OCPP 1.5 or 1.6 SOAP, as the WSDLs given say (their namespaces and operations); what it answers is
the shared business logic of :class:`hwsim.centralsystem.core.CentralSystemCore`.

It is a test oracle and a demo peer, not a product: it answers every request it can, records
everything it receives (valid or not), and answers anything that violates OCPP 1.5 ch. 8 or the
schema with a SOAP 1.2 fault ``Sender`` / ``ProtocolError`` (OCPP 1.5, 8.2) naming what was wrong.

Checks on every POST (any path):

* ``Content-Type`` is ``application/soap+xml`` (SOAP 1.2; OCPP 1.5 ch. 8 "MUST be 1.2"); ``text/xml``
  (SOAP 1.1) is a violation; an ``action`` parameter, if given, must equal ``wsa:Action``;
* ``Content-Encoding`` gzip / deflate is decompressed with a size limit (OCPP 1.5, 8.5);
* the XML is parsed safely (no DOCTYPE, no entities, no network), has no processing instructions and
  a SOAP 1.2 ``Envelope`` with ``Header`` and ``Body`` (exactly one body element);
* headers ``chargeBoxIdentity`` (the CS namespace; the name is matched case-insensitively, 8.1) and
  WS-Addressing ``Action``, ``MessageID``, ``To`` are present; ``From/Address`` is noted (8.3);
  unknown headers with ``mustUnderstand`` are refused;
* the body element is an input element of the CS service, ``wsa:Action`` is that operation's action,
  and the element validates against the ``cs_wsdl`` schema.

This module is part of ``hwsim`` (the outside world) and must never import ``chargebox``.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import logging
import ssl
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from lxml import etree

from .core import CallResult, CentralSystemCore, FaultTuple, InvalidCallError, UnknownBoxError, utc_now
from .schema import (
    ComplexType,
    Operation,
    SchemaError,
    WsdlSchema,
    XmlError,
    local_name,
    namespace,
    parse_xml,
)

log = logging.getLogger("hwsim.centralsystem")

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NS = "http://www.w3.org/2005/08/addressing"
WSA_ANONYMOUS = f"{WSA_NS}/anonymous"
WSA_NONE = f"{WSA_NS}/none"
WSA_FAULT_ACTION = f"{WSA_NS}/soap/fault"
#: The namespace of a fault's OCPP subcode, per version: 1.5 spec 8.2; OCPP-S 1.6 chapter 4 and its
#: errata 3.3 put it in the Central System service's namespace, whichever side answers.
OCPP_FAULT_NS = {"1.5": "urn://Ocpp/2012/02/", "1.6": "urn://Ocpp/Cs/2015/10/"}
XML_NS = "http://www.w3.org/XML/1998/namespace"

SOAP12_CONTENT_TYPE = "application/soap+xml"
#: Largest request body accepted, compressed or not (bytes).
MAX_BODY = 1024 * 1024
#: Responses larger than this are gzip-compressed when the client accepts gzip.
COMPRESS_THRESHOLD = 1024

class _Fault(Exception):
    def __init__(self, code: str, subcode: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason


@dataclass
class _Incoming:
    """What we learned about a request while checking it."""

    errors: list[str] = field(default_factory=list)
    identity: str | None = None
    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    from_url: str | None = None
    operation: Operation | None = None
    payload: dict[str, Any] | None = None
    content_encoding: str | None = None


class CentralSystem(CentralSystemCore):
    """An OCPP SOAP Central System for tests and the demo: the wire of :class:`CentralSystemCore`.

    The OCPP version is the WSDLs': 1.5 (``urn://Ocpp/Cs/2012/06/``) or 1.6 (``urn://Ocpp/Cs/2015/10/``).
    """

    def __init__(
        self,
        cs_wsdl: Path,
        cp_wsdl: Path,
        *,
        heartbeat_interval: int = 300,
        wall_clock: Callable[[], _dt.datetime] = utc_now,
        server_tls: ssl.SSLContext | None = None,
        client_tls: ssl.SSLContext | None = None,
        journal: Path | None = None,
    ) -> None:
        """``server_tls``: serve HTTPS with it; ``client_tls``: what calls to a box's https:// endpoint
        verify it with (and present as a client certificate); None, the system's default.
        ``journal``: see :class:`CentralSystemCore`."""
        self._server_tls = server_tls
        self._client_tls = client_tls
        self.cs_schema = WsdlSchema(cs_wsdl)
        self.cp_schema = WsdlSchema(cp_wsdl)
        _require_operations(self.cs_schema, "Central System", ("BootNotification", "Authorize", "StartTransaction"))
        _require_operations(self.cp_schema, "Charge Point", ("RemoteStartTransaction", "Reset"))
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: aiohttp.ClientSession | None = None
        #: chargeBoxIdentity -> last wsa:From address seen (OCPP 1.5, 8.3)
        self.box_urls: dict[str, str] = {}
        boot = self.cs_schema.elements.get("bootNotificationResponse")
        super().__init__(
            cs_operations=self.cs_schema.operations,
            boot_statuses=self.cs_schema.enumeration("bootNotificationResponse", "status"),
            auth_statuses=self.cs_schema.enumeration("authorizeResponse", "idTagInfo", "status"),
            # 1.6 renamed heartbeatInterval to interval (OCPP 1.6, 6.4)
            interval_field=(
                "interval" if boot is not None and isinstance(boot.type, ComplexType) and boot.type.child("interval")
                else "heartbeatInterval"
            ),
            heartbeat_interval=heartbeat_interval,
            wall_clock=wall_clock,
            journal=journal,
        )
        self.protocol = "ocpp1.6-soap" if self._interval_field == "interval" else "ocpp1.5-soap"

    @property
    def version(self) -> str:
        """The OCPP version of the WSDLs: "1.5" or "1.6" (both want SOAP 1.2 and WS-Addressing)."""
        return self.protocol[4:7]

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return self._base_url("https" if self._server_tls else "http") + "/"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("CentralSystem already started")
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        # auto_decompress=False: we decompress ourselves, with a limit and a recorded error.
        runner = web.AppRunner(app, auto_decompress=False, access_log=None)
        self._site = await self._listen(runner, host, port, self._server_tls)
        self._runner = runner
        log.info("Central System listening on %s", self.url)

    async def _stop_wire(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._site = None

    async def _apply_outage(self, outage: str | None) -> None:
        assert self._runner is not None
        if outage == "refused" and self._site is not None:
            await self._site.stop()  # the port is closed: a connection attempt is refused
            self._site = None
        elif outage != "refused" and self._site is None:
            self._site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self._server_tls)
            await self._site.start()

    def box_url(self, charge_box_identity: str) -> str | None:
        """Last ``wsa:From`` address of that box (exact identity first, then case-insensitively)."""
        if charge_box_identity in self.box_urls:
            return self.box_urls[charge_box_identity]
        wanted = charge_box_identity.casefold()
        for identity, url in self.box_urls.items():
            if identity.casefold() == wanted:
                return url
        return None

    # ------------------------------------------------------------------ the SOAP endpoint

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.outage in ("refused", "black_hole"):
            if self.outage == "black_hole":
                # Nothing comes back while the outage lasts (the box's timeout ends its wait);
                # when it ends, the connection is dropped, as a path that has come back does.
                await self._outage_over.wait()
            if request.transport is not None:  # refused: a connection opened before the port closed
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        if self.reject_connections:
            # The network is cut: drop the connection without an answer; the client sees a
            # connection error, as with a real outage.
            self.rejected_count += 1
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        arrived = self.arrival()
        inc = _Incoming(content_encoding=request.headers.get("Content-Encoding"))
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            inc.errors.append(f"request body larger than {MAX_BODY} bytes")
            raw = b""
        root: etree._Element | None = None
        if not inc.errors:
            try:
                data = _decompress(raw, inc.content_encoding, MAX_BODY)
                root = parse_xml(data)
            except (ValueError, XmlError) as err:
                inc.errors.append(str(err))
        self._check_content_type(request.headers.get("Content-Type", ""), inc)
        body: etree._Element | None = None
        if root is not None:
            body = self._check_envelope(root, inc)
        self._check_action_param(request.headers.get("Content-Type", ""), inc)
        if body is not None:
            self._check_body(body, inc)

        if inc.identity and inc.from_url and inc.from_url not in (WSA_ANONYMOUS, WSA_NONE):
            self.box_urls[inc.identity] = inc.from_url

        rec = self.new_record(
            arrived,
            charge_box_identity=inc.identity,
            action=inc.operation.name if inc.operation else _action_name(inc.action),
            message_id=inc.message_id,
            from_url=inc.from_url,
            payload=inc.payload,
            valid=not inc.errors,
            errors=list(inc.errors),
            content_encoding=inc.content_encoding,
            path=request.path,
        )
        try:
            if inc.errors:
                raise _Fault(
                    "Sender",
                    "ProtocolError",
                    f"Request does not comply with OCPP {self.version} SOAP: " + "; ".join(inc.errors),
                )
            assert inc.operation is not None and body is not None
            op = inc.operation
            if self.take_injected_failure(op.name):
                raise _Fault("Receiver", "InternalError", f"Injected failure for {op.name} (fail_next)")
            answer = self.answer(op.name, rec, inc.payload or {})
            out = self.cs_schema.from_dict(op.output_element, answer)
            own_errors = self.cs_schema.validate(out)
            if own_errors:
                log.error("Central System built an invalid %s: %s", op.output_element, own_errors)
                raise _Fault(
                    "Receiver",
                    "InternalError",
                    f"Central System built an invalid {op.output_element}: " + "; ".join(own_errors),
                )
            rec.response = answer
            envelope = _envelope(
                [
                    _wsa("Action", op.output_action),
                    _wsa("MessageID", _new_message_id()),
                    _wsa("RelatesTo", inc.message_id or ""),
                    _wsa("To", WSA_ANONYMOUS),
                ],
                out,
            )
            status = 200
        except _Fault as fault:
            rec.fault = f"{fault.code}/{fault.subcode}"
            envelope = _fault_envelope(fault.code, fault.subcode, fault.reason, inc.message_id,
                                       OCPP_FAULT_NS[self.version])
            # SOAP 1.2 part 2, 7.5.2.2: Sender faults are 400, Receiver faults 500.
            status = 400 if fault.code == "Sender" else 500
        await self.commit(rec)
        if self.outage == "answer_lost":
            # Processed and recorded, and the answer never reaches the box: the Central System
            # died after its commit, or the way back was cut. The box must send it again.
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        payload = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        headers = {"Content-Type": f"{SOAP12_CONTENT_TYPE}; charset=utf-8"}
        if len(payload) > COMPRESS_THRESHOLD and _accepts_gzip(request.headers.get("Accept-Encoding", "")):
            payload = gzip.compress(payload)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        return web.Response(body=payload, status=status, headers=headers)

    def _check_content_type(self, content_type: str, inc: _Incoming) -> None:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime == "text/xml":
            inc.errors.append(
                f"Content-Type text/xml is SOAP 1.1; OCPP {self.version} requires SOAP 1.2 "
                "(application/soap+xml)"
            )
        elif mime != SOAP12_CONTENT_TYPE:
            inc.errors.append(f"Content-Type {content_type!r}: expected application/soap+xml (SOAP 1.2)")

    def _check_action_param(self, content_type: str, inc: _Incoming) -> None:
        params = _media_params(content_type)
        if "action" in params and inc.action is not None and params["action"] != inc.action:
            inc.errors.append(
                f"Content-Type action {params['action']!r} differs from wsa:Action {inc.action!r}"
            )

    def _check_envelope(self, root: etree._Element, inc: _Incoming) -> etree._Element | None:
        """Check envelope and headers; return the body element (or None if there is none)."""
        errors = inc.errors
        env_ns = namespace(root)
        if local_name(root) != "Envelope" or env_ns not in (SOAP12_NS, SOAP11_NS):
            errors.append(f"root element is {root.tag}, expected {{{SOAP12_NS}}}Envelope")
            return None
        if env_ns == SOAP11_NS:
            errors.append(f"SOAP 1.1 envelope ({SOAP11_NS}); OCPP {self.version} requires SOAP 1.2 ({SOAP12_NS})")
        pis = [n for n in root.itersiblings(preceding=True) if isinstance(n, etree._ProcessingInstruction)]
        pis += [n for n in root.itersiblings() if isinstance(n, etree._ProcessingInstruction)]
        pis += list(root.iter(etree.ProcessingInstruction))
        if pis:
            errors.append("processing instructions are not allowed in a SOAP message")
        children = [c for c in root if isinstance(c.tag, str)]
        header = body = None
        names = [c.tag for c in children]
        if names == [f"{{{env_ns}}}Header", f"{{{env_ns}}}Body"]:
            header, body = children
        elif names == [f"{{{env_ns}}}Body"]:
            body = children[0]
            errors.append("SOAP Header missing (chargeBoxIdentity and WS-Addressing headers required)")
        else:
            errors.append(f"Envelope must contain Header and Body, found {names}")
            for c in children:
                if c.tag == f"{{{env_ns}}}Header" and header is None:
                    header = c
                elif c.tag == f"{{{env_ns}}}Body" and body is None:
                    body = c
        if header is not None:
            self._check_headers(header, env_ns or SOAP12_NS, inc)
        if body is None:
            return None
        entries = [c for c in body if isinstance(c.tag, str)]
        if len(entries) != 1:
            errors.append(f"Body must contain exactly one element, found {len(entries)}")
            return entries[0] if entries else None
        if (body.text and body.text.strip()) or any(c.tail and c.tail.strip() for c in entries):
            errors.append("Body contains text outside its element")
        return entries[0]

    def _check_headers(self, header: etree._Element, env_ns: str, inc: _Incoming) -> None:
        errors = inc.errors
        cs_ns = self.cs_schema.target_namespace
        seen: dict[str, int] = {}
        identity_found = False
        for block in header:
            if not isinstance(block.tag, str):
                continue
            ns, name = namespace(block), local_name(block)
            key = f"{{{ns}}}{name}"
            seen[key] = seen.get(key, 0) + 1
            if name.lower() == "chargeboxidentity":
                if ns != cs_ns:
                    errors.append(f"chargeBoxIdentity header in namespace {ns!r}, expected {cs_ns!r}")
                    continue
                if identity_found:
                    errors.append("chargeBoxIdentity header given more than once")
                    continue
                identity_found = True
                if len(block):
                    errors.append("chargeBoxIdentity must be text, not elements")
                inc.identity = (block.text or "").strip()
                if not inc.identity:
                    errors.append("chargeBoxIdentity header is empty")
                continue
            if ns == WSA_NS:
                if seen[key] > 1 and name in ("Action", "MessageID", "To", "From", "ReplyTo", "FaultTo"):
                    errors.append(f"wsa:{name} given more than once")
                    continue
                if name == "Action":
                    inc.action = (block.text or "").strip()
                elif name == "MessageID":
                    inc.message_id = (block.text or "").strip()
                elif name == "To":
                    inc.to = (block.text or "").strip()
                elif name == "From":
                    address = block.find(f"{{{WSA_NS}}}Address")
                    if address is None or not (address.text or "").strip():
                        errors.append("wsa:From without wsa:Address")
                    else:
                        inc.from_url = (address.text or "").strip()
                continue
            must = block.get(f"{{{env_ns}}}mustUnderstand", "false").strip()
            if must in ("true", "1"):
                errors.append(f"header {key} has mustUnderstand but is not understood")
        if not identity_found:
            errors.append(f"chargeBoxIdentity header missing (namespace {cs_ns})")
        for name, value in (("Action", inc.action), ("MessageID", inc.message_id), ("To", inc.to)):
            if value is None:
                errors.append(f"WS-Addressing header wsa:{name} missing ({WSA_NS})")
            elif not value:
                errors.append(f"WS-Addressing header wsa:{name} is empty")

    def _check_body(self, body: etree._Element, inc: _Incoming) -> None:
        schema = self.cs_schema
        ns, name = namespace(body), local_name(body)
        op = schema.operation_for_element(name) if ns == schema.target_namespace else None
        if op is None:
            if ns != schema.target_namespace:
                inc.errors.append(
                    f"body element {body.tag}: namespace {ns!r}, expected {schema.target_namespace!r}"
                )
            else:
                inc.errors.append(f"body element {name!r} is not a request of the Central System service")
            inc.payload = schema.to_dict(body)
            return
        inc.operation = op
        if inc.action is not None and inc.action != op.input_action:
            inc.errors.append(
                f"wsa:Action {inc.action!r} does not match body element {name!r} "
                f"(expected {op.input_action!r})"
            )
        inc.errors.extend(schema.validate(body))
        inc.payload = schema.to_dict(body)

    # ------------------------------------------------------------------ calling a box

    async def call(
        self,
        charge_box_identity: str,
        action: str,
        payload: dict[str, Any],
        *,
        url: str | None = None,
        timeout: float = 10,
    ) -> CallResult:
        """Send an OCPP SOAP Charge Point service request to a box and check its answer.

        ``url`` defaults to the last ``wsa:From`` address seen from that box (OCPP 1.5, 8.3).
        Raises :class:`KeyError` for an unknown action, :class:`InvalidCallError` if our own
        request is not valid against the CP schema, :class:`UnknownBoxError` if there is no URL.
        Transport errors and timeouts are *returned* (``ok=False``, ``valid=False``).
        """
        schema = self.cp_schema
        op = schema.operations.get(action)
        if op is None:
            raise KeyError(f"unknown Charge Point operation {action!r}; known: {sorted(schema.operations)}")
        try:
            body = schema.from_dict(op.input_element, payload)
        except ValueError as err:
            raise InvalidCallError(f"{action}: {err}", [str(err)]) from err
        errors = schema.validate(body)
        if errors:
            raise InvalidCallError(f"{action} request invalid: " + "; ".join(errors), errors)
        target = url or self.box_url(charge_box_identity)
        if not target:
            raise UnknownBoxError(
                f"no URL for charge box {charge_box_identity!r}: pass url= or let it send wsa:From first"
            )
        message_id = _new_message_id()
        identity = etree.Element(f"{{{schema.target_namespace}}}chargeBoxIdentity", nsmap={"cp": schema.target_namespace})
        identity.text = charge_box_identity
        from_el = _wsa("From", None)
        etree.SubElement(from_el, f"{{{WSA_NS}}}Address").text = self.url if self._runner else WSA_ANONYMOUS
        reply_to = _wsa("ReplyTo", None)
        etree.SubElement(reply_to, f"{{{WSA_NS}}}Address").text = WSA_ANONYMOUS
        envelope = _envelope(
            [
                identity,
                _wsa("Action", op.input_action),
                _wsa("MessageID", message_id),
                _wsa("To", target),
                from_el,
                reply_to,
            ],
            body,
        )
        data = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        sent = self.arrival()
        if self.reject_connections:
            result = CallResult(False, None, None, False, ["network cut (reject_connections)"], None, message_id)
        else:
            result = await self._post(target, op, data, message_id, timeout)
        self.record_call(sent, charge_box_identity, op.name, target, message_id, payload, result)
        return result

    async def _post(self, url: str, op: Operation, data: bytes, message_id: str, timeout: float) -> CallResult:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._client_tls if self._client_tls is not None else True)
            self._session = aiohttp.ClientSession(connector=connector)
        headers = {
            "Content-Type": f'{SOAP12_CONTENT_TYPE}; charset=utf-8; action="{op.input_action}"',
            "Accept-Encoding": "gzip, deflate",
        }
        try:
            async with self._session.post(
                url, data=data, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                status = resp.status
                content_type = resp.headers.get("Content-Type", "")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_BODY:
                        break
                raw = b"".join(chunks)
        except (aiohttp.ClientError, OSError) as err:
            return CallResult(False, None, None, False, [f"transport: {type(err).__name__}: {err}"], None, message_id)
        except TimeoutError:
            return CallResult(False, None, None, False, [f"transport: no answer within {timeout}s"], None, message_id)
        return self._check_response(op, status, content_type, raw, message_id)

    def _check_response(
        self, op: Operation, status: int, content_type: str, raw: bytes, message_id: str
    ) -> CallResult:
        schema = self.cp_schema
        errors: list[str] = []
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime != SOAP12_CONTENT_TYPE:
            errors.append(f"response Content-Type {content_type!r}: expected application/soap+xml")
        if len(raw) > MAX_BODY:
            errors.append(f"response larger than {MAX_BODY} bytes")
            return CallResult(False, None, None, False, errors, status, message_id)
        try:
            root = parse_xml(raw)
        except XmlError as err:
            errors.append(f"response: {err}")
            return CallResult(False, None, None, False, errors, status, message_id)
        if root.tag != f"{{{SOAP12_NS}}}Envelope":
            errors.append(f"response root is {root.tag}, expected a SOAP 1.2 Envelope")
            return CallResult(False, None, None, False, errors, status, message_id)
        header = root.find(f"{{{SOAP12_NS}}}Header")
        body = root.find(f"{{{SOAP12_NS}}}Body")
        entries = [c for c in body if isinstance(c.tag, str)] if body is not None else []
        if len(entries) != 1:
            errors.append(f"response Body must contain exactly one element, found {len(entries)}")
            return CallResult(False, None, None, False, errors, status, message_id)
        entry = entries[0]
        relates = action = None
        if header is not None:
            rel = header.find(f"{{{WSA_NS}}}RelatesTo")
            act = header.find(f"{{{WSA_NS}}}Action")
            relates = (rel.text or "").strip() if rel is not None else None
            action = (act.text or "").strip() if act is not None else None
        if relates is None:
            errors.append("response has no wsa:RelatesTo")
        elif relates != message_id:
            errors.append(f"wsa:RelatesTo {relates!r} is not our MessageID {message_id!r}")

        if entry.tag == f"{{{SOAP12_NS}}}Fault":
            fault = _parse_fault(entry, errors, OCPP_FAULT_NS[self.version])
            if status < 400:
                errors.append(f"SOAP fault with HTTP status {status} (SOAP 1.2 HTTP binding: 400/500)")
            return CallResult(False, None, fault, not errors, errors, status, message_id)

        if status != 200:
            errors.append(f"HTTP status {status} for a non-fault response")
        if action is None:
            errors.append("response has no wsa:Action")
        elif action != op.output_action:
            errors.append(f"response wsa:Action {action!r}, expected {op.output_action!r}")
        if namespace(entry) != schema.target_namespace or local_name(entry) != op.output_element:
            errors.append(
                f"response body element {entry.tag}, expected {{{schema.target_namespace}}}{op.output_element}"
            )
        errors.extend(schema.validate(entry))
        payload = schema.to_dict(entry)
        valid = not errors
        return CallResult(valid, payload, None, valid, errors, status, message_id)


# --------------------------------------------------------------------------------------------------
# helpers


def _require_operations(schema: WsdlSchema, service: str, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in schema.operations]
    if missing:
        raise SchemaError(
            f"{schema.path}: not an OCPP {service} service WSDL: no operation(s) {missing} "
            f"(it has {sorted(schema.operations)})"
        )
    if service == "Central System":
        try:
            schema.enumeration("bootNotificationResponse", "status")
            schema.enumeration("authorizeResponse", "idTagInfo", "status")
        except KeyError as err:
            raise SchemaError(f"{schema.path}: no {err} in the Central System schema") from None


def _new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _action_name(action: str | None) -> str | None:
    if not action:
        return None
    return action.rstrip("/").rsplit("/", 1)[-1] or None


def _wsa(name: str, text: str | None) -> etree._Element:
    el = etree.Element(f"{{{WSA_NS}}}{name}", nsmap={"wsa": WSA_NS})
    if text is not None:
        el.text = text
    return el


def _envelope(headers: list[etree._Element], body_entry: etree._Element) -> etree._Element:
    env = etree.Element(f"{{{SOAP12_NS}}}Envelope", nsmap={"soap": SOAP12_NS, "wsa": WSA_NS})
    header = etree.SubElement(env, f"{{{SOAP12_NS}}}Header")
    for h in headers:
        header.append(h)
    body = etree.SubElement(env, f"{{{SOAP12_NS}}}Body")
    body.append(body_entry)
    return env


def _fault_envelope(code: str, subcode: str, reason: str, relates_to: str | None,
                    fault_ns: str) -> etree._Element:
    headers = [_wsa("Action", WSA_FAULT_ACTION), _wsa("MessageID", _new_message_id())]
    if relates_to:
        headers.append(_wsa("RelatesTo", relates_to))
    fault = etree.Element(f"{{{SOAP12_NS}}}Fault", nsmap={"soap": SOAP12_NS, "ocpp": fault_ns})
    code_el = etree.SubElement(fault, f"{{{SOAP12_NS}}}Code")
    etree.SubElement(code_el, f"{{{SOAP12_NS}}}Value").text = f"soap:{code}"
    sub = etree.SubElement(code_el, f"{{{SOAP12_NS}}}Subcode")
    etree.SubElement(sub, f"{{{SOAP12_NS}}}Value").text = f"ocpp:{subcode}"
    reason_el = etree.SubElement(fault, f"{{{SOAP12_NS}}}Reason")
    text = etree.SubElement(reason_el, f"{{{SOAP12_NS}}}Text")
    text.set(f"{{{XML_NS}}}lang", "en")
    text.text = reason
    return _envelope(headers, fault)


def _parse_fault(fault: etree._Element, errors: list[str], fault_ns: str) -> FaultTuple:
    def qvalue(el: etree._Element | None, expect_ns: str, what: str) -> str | None:
        if el is None:
            return None
        text = (el.text or "").strip()
        prefix, _, local = text.rpartition(":")
        ns = el.nsmap.get(prefix or None)
        if ns != expect_ns:
            errors.append(f"fault {what} {text!r} is not in namespace {expect_ns}")
        return local

    code = qvalue(fault.find(f"{{{SOAP12_NS}}}Code/{{{SOAP12_NS}}}Value"), SOAP12_NS, "Code")
    if code is None:
        errors.append("SOAP fault without Code/Value")
    subcode = qvalue(
        fault.find(f"{{{SOAP12_NS}}}Code/{{{SOAP12_NS}}}Subcode/{{{SOAP12_NS}}}Value"),
        fault_ns,
        "Subcode",
    )
    reason_el = fault.find(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text")
    if reason_el is None:
        errors.append("SOAP fault without Reason/Text")
    reason = (reason_el.text or "") if reason_el is not None else ""
    return (code or "", subcode, reason)


def _media_params(content_type: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in content_type.split(";")[1:]:
        key, sep, value = part.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return params


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        token, _, params = item.partition(";")
        if token.strip().lower() in ("gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def _decompress(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo a request Content-Encoding (OCPP 1.5, 8.5: gzip and deflate), at most ``limit`` bytes out."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("identity", ""):
        return raw
    if enc in ("gzip", "x-gzip"):
        attempts = [zlib.MAX_WBITS | 16]
    elif enc == "deflate":
        # RFC 9110 "deflate" is the zlib format; some clients send raw deflate, accept both.
        attempts = [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    else:
        raise ValueError(f"unsupported Content-Encoding {encoding!r} (OCPP 1.5 uses gzip or deflate)")
    last: Exception | None = None
    for wbits in attempts:
        d = zlib.decompressobj(wbits)
        try:
            out = d.decompress(raw, limit + 1)
        except zlib.error as err:
            last = err
            continue
        if len(out) > limit:
            raise ValueError(f"decompressed request body larger than {limit} bytes")
        if not d.eof:
            raise ValueError(f"truncated {enc} request body")
        return out
    raise ValueError(f"request body is not valid {enc}: {last}")
