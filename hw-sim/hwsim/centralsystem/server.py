"""The reference OCPP 1.5 Central System (SOAP 1.2 over HTTP), strict about the schema.

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

import asyncio
import datetime as _dt
import gzip
import itertools
import json
import logging
import ssl
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from aiohttp import web
from lxml import etree

from .schema import Operation, SchemaError, WsdlSchema, XmlError, local_name, namespace, parse_xml

log = logging.getLogger("hwsim.centralsystem")

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NS = "http://www.w3.org/2005/08/addressing"
WSA_ANONYMOUS = f"{WSA_NS}/anonymous"
WSA_NONE = f"{WSA_NS}/none"
WSA_FAULT_ACTION = f"{WSA_NS}/soap/fault"
OCPP_FAULT_NS = "urn://Ocpp/2012/02/"
XML_NS = "http://www.w3.org/XML/1998/namespace"

SOAP12_CONTENT_TYPE = "application/soap+xml"
#: Largest request body accepted, compressed or not (bytes).
MAX_BODY = 1024 * 1024
#: Responses larger than this are gzip-compressed when the client accepts gzip.
COMPRESS_THRESHOLD = 1024

FaultTuple = tuple[str, str | None, str]


#: Outages the Central System can simulate (besides ``reject_connections``, a reset connection):
#: ``refused``: its port is closed; ``black_hole``: requests arrive and nothing comes back (not
#: processed; the connection is dropped when the outage ends); ``answer_lost``: each request is
#: processed and recorded, and its answer is lost (the process died after its commit).
OUTAGES = frozenset({"refused", "black_hole", "answer_lost"})


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def format_time(value: _dt.datetime) -> str:
    """UTC, ISO 8601 with ``Z`` and milliseconds: ``2024-05-01T12:00:00.123Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    value = value.astimezone(_dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass
class Received:
    """One request the Central System received, valid or not."""

    seq: int
    loop_time: float
    wall_time: _dt.datetime
    charge_box_identity: str | None
    action: str | None
    message_id: str | None
    from_url: str | None
    payload: dict[str, Any] | None
    valid: bool
    errors: list[str] = field(default_factory=list)
    content_encoding: str | None = None
    #: the response payload we sent (None when we answered with a fault)
    response: dict[str, Any] | None = None
    #: "Code/Subcode" of the fault we answered with, if any
    fault: str | None = None
    path: str = "/"

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "loop_time": self.loop_time,
            "wall_time": format_time(self.wall_time),
            "charge_box_identity": self.charge_box_identity,
            "action": self.action,
            "message_id": self.message_id,
            "from_url": self.from_url,
            "payload": self.payload,
            "valid": self.valid,
            "errors": list(self.errors),
            "content_encoding": self.content_encoding,
            "response": self.response,
            "fault": self.fault,
            "path": self.path,
        }


@dataclass
class CallResult:
    """The outcome of :meth:`CentralSystem.call`.

    ``ok``: a valid, non-fault response arrived. ``valid``: what arrived (response or fault) complied
    with SOAP 1.2 / WS-Addressing / the CP schema. ``fault``: ``(code, subcode, reason)`` with local
    names (``("Sender", "IdentityMismatch", "...")``); ``errors``: every problem seen, including
    transport errors (then ``valid`` is False and ``payload`` and ``fault`` are None).
    """

    ok: bool
    payload: dict[str, Any] | None
    fault: FaultTuple | None
    valid: bool
    errors: list[str] = field(default_factory=list)
    http_status: int | None = None
    message_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "payload": self.payload,
            "fault": (
                None
                if self.fault is None
                else {"code": self.fault[0], "subcode": self.fault[1], "reason": self.fault[2]}
            ),
            "valid": self.valid,
            "errors": list(self.errors),
            "http_status": self.http_status,
            "message_id": self.message_id,
        }


@dataclass
class CallRecord:
    """One request the Central System sent to a box, with its result."""

    seq: int
    loop_time: float
    wall_time: _dt.datetime
    charge_box_identity: str
    action: str
    url: str
    message_id: str
    payload: dict[str, Any]
    result: CallResult

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "loop_time": self.loop_time,
            "wall_time": format_time(self.wall_time),
            "charge_box_identity": self.charge_box_identity,
            "action": self.action,
            "url": self.url,
            "message_id": self.message_id,
            "payload": self.payload,
            "result": self.result.to_json(),
        }


class InvalidCallError(ValueError):
    """A request we were asked to send to a box does not validate against the CP schema."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


class UnknownBoxError(LookupError):
    """No URL given and no ``wsa:From`` address seen yet for that box."""


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


class CentralSystem:
    """An OCPP 1.5 SOAP Central System for tests and the demo.

    Behaviour knobs (plain attributes, change them any time): :attr:`boot_status`,
    :attr:`heartbeat_interval`, :attr:`id_tags` / :attr:`default_id_tag_status`, :attr:`fail_next`,
    :attr:`reject_connections`. ``wall_clock`` supplies ``currentTime`` (inject a virtual clock in tests).
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
        ``journal``: every request is appended to this file (JSON lines) before it is answered, and
        read back here, so a Central System killed and started again keeps its record and its
        transactions, as a real one keeps them in its database."""
        self._server_tls = server_tls
        self._client_tls = client_tls
        self.cs_schema = WsdlSchema(cs_wsdl)
        self.cp_schema = WsdlSchema(cp_wsdl)
        _require_operations(self.cs_schema, "Central System", ("BootNotification", "Authorize", "StartTransaction"))
        _require_operations(self.cp_schema, "Charge Point", ("RemoteStartTransaction", "Reset"))
        self._wall_clock = wall_clock
        self.heartbeat_interval = heartbeat_interval
        self._boot_statuses = self.cs_schema.enumeration("bootNotificationResponse", "status")
        self._auth_statuses = self.cs_schema.enumeration("authorizeResponse", "idTagInfo", "status")
        self._boot_status = "Accepted"
        self.id_tags: dict[str, str] = {}
        #: idTag -> parentIdTag: the groups (OCPP 1.6 3.10)
        self.id_tag_parents: dict[str, str] = {}
        self.default_id_tag_status = "Accepted"
        #: action -> answer the next N valid requests of that action with Receiver/InternalError
        self.fail_next: dict[str, int] = {}
        #: True: the network is cut. Incoming connections are aborted without an answer and
        #: :meth:`call` does not reach the box.
        self.reject_connections = False
        self.rejected_count = 0
        #: An outage of another kind (see :data:`OUTAGES`); None: none. Applied by :meth:`set_outage`.
        self.outage: str | None = None
        self._outage_over = asyncio.Event()

        self.record: list[Received] = []
        self.calls: list[CallRecord] = []
        #: chargeBoxIdentity -> last wsa:From address seen (OCPP 1.5, 8.3)
        self.box_urls: dict[str, str] = {}
        #: Called with every request once it is recorded (held commands wait for a box's next one).
        self.request_listeners: list[Callable[[Received], None]] = []
        #: transactionId -> what StartTransaction said (and StopTransaction, once seen)
        self.transactions: dict[int, dict[str, Any]] = {}
        self._transaction_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._call_seq = itertools.count(1)
        self._changed = asyncio.Condition()

        self._journal: TextIO | None = None
        if journal is not None:
            self._replay(journal)
            self._journal = journal.open("a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
            if journal.stat().st_size and not journal.read_bytes().endswith(b"\n"):
                self._journal.write("\n")  # end a line cut by a kill, so the next one stands alone
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: aiohttp.ClientSession | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # ------------------------------------------------------------------ knobs

    @property
    def boot_status(self) -> str:
        return self._boot_status

    @boot_status.setter
    def boot_status(self, value: str) -> None:
        if value not in self._boot_statuses:
            raise ValueError(f"boot_status {value!r}: the schema allows {list(self._boot_statuses)}")
        self._boot_status = value

    @property
    def boot_statuses(self) -> tuple[str, ...]:
        return self._boot_statuses

    @property
    def authorization_statuses(self) -> tuple[str, ...]:
        return self._auth_statuses

    def check_id_tag_status(self, status: str) -> None:
        if status not in self._auth_statuses:
            raise ValueError(f"idTag status {status!r}: the schema allows {list(self._auth_statuses)}")

    def id_tag_status(self, id_tag: str) -> str:
        """Status for ``id_tag``: :attr:`id_tags` looked up case-insensitively (OCPP 1.5, 7.20)."""
        wanted = id_tag.casefold()
        for tag, status in self.id_tags.items():
            if tag.casefold() == wanted:
                return status
        return self.default_id_tag_status

    def id_tag_info(self, id_tag: str) -> dict[str, str]:
        """IdTagInfo (7.17) for ``id_tag``: its status and, when it belongs to a group, its parentIdTag."""
        info = {"status": self.id_tag_status(id_tag)}
        wanted = id_tag.casefold()
        for tag, parent in self.id_tag_parents.items():
            if tag.casefold() == wanted:
                info["parentIdTag"] = parent
        return info

    def box_url(self, charge_box_identity: str) -> str | None:
        """Last ``wsa:From`` address of that box (exact identity first, then case-insensitively)."""
        if charge_box_identity in self.box_urls:
            return self.box_urls[charge_box_identity]
        wanted = charge_box_identity.casefold()
        for identity, url in self.box_urls.items():
            if identity.casefold() == wanted:
                return url
        return None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self._server_tls else 'http'}://{host}:{self.port}/"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("CentralSystem already started")
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        # auto_decompress=False: we decompress ourselves, with a limit and a recorded error.
        runner = web.AppRunner(app, auto_decompress=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=self._server_tls)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner, self._site = runner, site
        self.host = host
        self.port = int(runner.addresses[0][1])
        log.info("Central System listening on %s", self.url)

    async def stop(self) -> None:
        self._outage_over.set()  # a black-holed request ends (aborted) rather than hold the shutdown
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._site = None
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _replay(self, journal: Path) -> None:
        """The record and transactions as the journal holds them: each request that was answered is
        answered again, in order, which gives out the same transaction ids."""
        if not journal.exists():
            return
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
            except ValueError:
                continue  # the line being written when the process was killed: never answered
            data["wall_time"] = _dt.datetime.fromisoformat(data["wall_time"])
            rec = Received(**data)
            self.record.append(rec)
            if rec.response is not None and rec.action in self.cs_schema.operations:
                answer = self._answer(self.cs_schema.operations[rec.action], rec, rec.payload or {})
                given = rec.response.get("transactionId")
                if given is not None and answer.get("transactionId") != given:
                    log.error("journal replay gave transaction %s for record %s, which had %s",
                              answer.get("transactionId"), rec.seq, given)
        self._seq = itertools.count(self.record[-1].seq + 1 if self.record else 1)

    async def set_outage(self, outage: str | None) -> None:
        """Begin (or with None end) an outage of one of the :data:`OUTAGES` kinds."""
        if outage is not None and outage not in OUTAGES:
            raise ValueError(f"outage {outage!r}: expected one of {sorted(OUTAGES)} or null")
        previous, self.outage = self.outage, outage
        if previous == outage:
            return
        if outage is None:
            self._outage_over.set()
        elif previous is None:
            self._outage_over = asyncio.Event()
        assert self._runner is not None
        if outage == "refused" and self._site is not None:
            await self._site.stop()  # the port is closed: a connection attempt is refused
            self._site = None
        elif outage != "refused" and self._site is None:
            self._site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self._server_tls)
            await self._site.start()

    async def __aenter__(self) -> "CentralSystem":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ waiting

    def received(self, action: str | None = None, *, valid: bool | None = True, since: int = 0) -> list[Received]:
        """Records after seq ``since``, optionally only of ``action`` and of the given validity."""
        return [
            r
            for r in self.record
            if r.seq > since
            and (action is None or r.action == action)
            and (valid is None or r.valid == valid)
        ]

    async def wait_for(
        self, action: str, count: int = 1, timeout: float = 10.0, *, since: int = 0
    ) -> list[Received]:
        """Return once ``count`` valid ``action`` requests (seq > ``since``) were received.

        Returns all such records (at least ``count``); raises :class:`TimeoutError` listing what did
        arrive otherwise.
        """

        def enough() -> bool:
            return len(self.received(action, since=since)) >= count

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(enough)
        except TimeoutError:
            seen = [(r.seq, r.action, r.valid) for r in self.record if r.seq > since]
            raise TimeoutError(
                f"waited {timeout}s for {count} valid {action}; received (seq, action, valid): {seen}"
            ) from None
        return self.received(action, since=since)

    async def wait_for_record(self, seq: int, timeout: float = 10.0) -> list[Received]:
        """Wait until there is any record after ``seq`` (valid or not); return those records."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self.record) and self.record[-1].seq > seq)
        return [r for r in self.record if r.seq > seq]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

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
        loop_time = asyncio.get_running_loop().time()
        wall = self._wall_clock()
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

        rec = Received(
            seq=next(self._seq),
            loop_time=loop_time,
            wall_time=wall,
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
                    "Request does not comply with OCPP 1.5 SOAP: " + "; ".join(inc.errors),
                )
            assert inc.operation is not None and body is not None
            op = inc.operation
            pending = self.fail_next.get(op.name, 0)
            if pending > 0:
                self.fail_next[op.name] = pending - 1
                raise _Fault("Receiver", "InternalError", f"Injected failure for {op.name} (fail_next)")
            answer = self._answer(op, rec, inc.payload or {})
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
            envelope = _fault_envelope(fault.code, fault.subcode, fault.reason, inc.message_id)
            # SOAP 1.2 part 2, 7.5.2.2: Sender faults are 400, Receiver faults 500.
            status = 400 if fault.code == "Sender" else 500
        self.record.append(rec)
        if self._journal is not None:  # written before the answer leaves, as a database commit is
            self._journal.write(json.dumps(rec.to_json()) + "\n")
            self._journal.flush()
        for listener in self.request_listeners:
            listener(rec)
        await self._notify()
        if self.outage == "answer_lost":
            # Processed and recorded, and the answer never reaches the box: the Central System
            # died after its commit, or the way back was cut. The box must send it again.
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        if not rec.valid:
            log.warning("invalid %s from %s: %s", rec.action, rec.charge_box_identity, rec.errors)
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
                "Content-Type text/xml is SOAP 1.1; OCPP 1.5 requires SOAP 1.2 (application/soap+xml)"
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
            errors.append(f"SOAP 1.1 envelope ({SOAP11_NS}); OCPP 1.5 requires SOAP 1.2 ({SOAP12_NS})")
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

    # ------------------------------------------------------------------ answers

    def _answer(self, op: Operation, rec: Received, req: dict[str, Any]) -> dict[str, Any]:
        now = format_time(self._wall_clock())
        name = op.name
        if name == "BootNotification":
            return {"status": self.boot_status, "currentTime": now, "heartbeatInterval": self.heartbeat_interval}
        if name == "Heartbeat":
            return {"currentTime": now}
        if name == "Authorize":
            return {"idTagInfo": self.id_tag_info(str(req.get("idTag", "")))}
        if name == "StartTransaction":
            info = self.id_tag_info(str(req.get("idTag", "")))
            for tid, known in self.transactions.items():
                if known["charge_box_identity"] == rec.charge_box_identity and known["start"] == req:
                    # The same message again (the box could not commit our answer before it lost
                    # power): the same transaction, as a real Central System keeps it.
                    known["retransmissions"] = known.get("retransmissions", 0) + 1
                    return {"transactionId": tid, "idTagInfo": info}
            tid = next(self._transaction_ids)
            self.transactions[tid] = {
                "charge_box_identity": rec.charge_box_identity,
                "start": req,
                "start_seq": rec.seq,
                "status": info["status"],
            }
            return {"transactionId": tid, "idTagInfo": info}
        if name == "StopTransaction":
            tx = self.transactions.get(req.get("transactionId", -1))
            if tx is not None:
                tx["stop"] = req
                tx["stop_seq"] = rec.seq
            if "idTag" in req:
                return {"idTagInfo": self.id_tag_info(str(req["idTag"]))}
            return {}
        if name == "DataTransfer":
            return {"status": "UnknownVendorId"}
        # MeterValues, StatusNotification, FirmwareStatusNotification, DiagnosticsStatusNotification
        # and anything else in the WSDL: an empty confirmation.
        return {}

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
        """Send an OCPP 1.5 Charge Point service request to a box and check its answer.

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
        loop_time = asyncio.get_running_loop().time()
        wall = self._wall_clock()
        if self.reject_connections:
            result = CallResult(False, None, None, False, ["network cut (reject_connections)"], None, message_id)
        else:
            result = await self._post(target, op, data, message_id, timeout)
        self.calls.append(
            CallRecord(
                seq=next(self._call_seq),
                loop_time=loop_time,
                wall_time=wall,
                charge_box_identity=charge_box_identity,
                action=op.name,
                url=target,
                message_id=message_id,
                payload=payload,
                result=result,
            )
        )
        if not result.valid:
            log.warning("%s to %s: %s", op.name, charge_box_identity, result.errors)
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
            fault = _parse_fault(entry, errors)
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


def _fault_envelope(code: str, subcode: str, reason: str, relates_to: str | None) -> etree._Element:
    headers = [_wsa("Action", WSA_FAULT_ACTION), _wsa("MessageID", _new_message_id())]
    if relates_to:
        headers.append(_wsa("RelatesTo", relates_to))
    fault = etree.Element(f"{{{SOAP12_NS}}}Fault", nsmap={"soap": SOAP12_NS, "ocpp": OCPP_FAULT_NS})
    code_el = etree.SubElement(fault, f"{{{SOAP12_NS}}}Code")
    etree.SubElement(code_el, f"{{{SOAP12_NS}}}Value").text = f"soap:{code}"
    sub = etree.SubElement(code_el, f"{{{SOAP12_NS}}}Subcode")
    etree.SubElement(sub, f"{{{SOAP12_NS}}}Value").text = f"ocpp:{subcode}"
    reason_el = etree.SubElement(fault, f"{{{SOAP12_NS}}}Reason")
    text = etree.SubElement(reason_el, f"{{{SOAP12_NS}}}Text")
    text.set(f"{{{XML_NS}}}lang", "en")
    text.text = reason
    return _envelope(headers, fault)


def _parse_fault(fault: etree._Element, errors: list[str]) -> FaultTuple:
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
        OCPP_FAULT_NS,
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
