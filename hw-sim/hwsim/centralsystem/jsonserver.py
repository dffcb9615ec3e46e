"""The OCPP 1.6 JSON wire of the reference Central System: OCPP-J over WebSocket, strict about the schema.

A box connects to ``ws://host:port/<any path>/<identity>`` (OCPP-J 1.6, 3.1.1: the identity is the last
path segment) with subprotocol ``ocpp1.6``; both directions then travel on that one socket as CALL,
CALLRESULT and CALLERROR frames (4.2). What it answers is the shared business logic of
:class:`hwsim.centralsystem.core.CentralSystemCore`; this module only knows the wire.

Checks, each a violation in the record (``valid`` false, ``errors`` saying what):

* the handshake: a subprotocol list without ``ocpp1.6`` completes the handshake without one and then
  closes (3.2); with ``basic_auth``, HTTP Basic with the identity as user and the AuthorizationKey as
  password (security whitepaper, profile 1/2), else 401 before any upgrade;
* every frame: text (4.1.2), a JSON array of the right shape for its message type (4.1.3), a message id
  of at most 36 characters (4.1.4); a bad CALL is answered with CALLERROR ``FormationViolation``;
* every CALL: an action of the Central System (else ``NotImplemented``) whose payload validates against
  ``<Action>.json`` of the schema folder (else the code of 4.2.3 that fits the first error);
* every answer of the box to our CALL: ``<Action>Response.json``, or a well-formed CALLERROR.

Without a schema folder only the frames are checked (it says so at start).

This module is part of ``hwsim`` (the outside world) and must never import ``chargebox``.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as _dt
import hmac
import json
import logging
import re
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .core import CallResult, CentralSystemCore, InvalidCallError, Received, UnknownBoxError, utc_now
from .schema import SchemaError

log = logging.getLogger("hwsim.centralsystem")

#: OCPP-J 1.6, 3.1.2
SUBPROTOCOL = "ocpp1.6"
#: Message types (OCPP-J 1.6, 4.1.3)
CALL, CALLRESULT, CALLERROR = 2, 3, 4
#: OCPP-J 1.6, 4.1.4: "a maximum of 36 characters"
MAX_MESSAGE_ID = 36
#: Largest frame accepted (bytes).
MAX_MESSAGE = 1024 * 1024
#: Operations a Charge Point calls (OCPP 1.6, chapter 4).
CS_ACTIONS = (
    "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction", "StatusNotification",
    "StopTransaction",
)
#: Operations a Central System calls (OCPP 1.6, chapter 5), all six feature profiles.
CP_ACTIONS = (
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache", "ClearChargingProfile",
    "DataTransfer", "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetLocalListVersion",
    "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList",
    "SetChargingProfile", "TriggerMessage", "UnlockConnector", "UpdateFirmware",
)
#: RegistrationStatus (OCPP 1.6, 7.41) and AuthorizationStatus (7.2), when no schema folder says so.
REGISTRATION_STATUSES = ("Accepted", "Pending", "Rejected")
AUTHORIZATION_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")
#: CallError errorCode values (OCPP-J 1.6, 4.2.3, table 5).
ERROR_CODES = frozenset({
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError", "FormationViolation",
    "PropertyConstraintViolation", "OccurenceConstraintViolation", "TypeConstraintViolation", "GenericError",
})

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _is_date_time(value: object) -> bool:
    """The schemas' ``date-time`` format (RFC 3339, with its offset)."""
    if not isinstance(value, str):
        return True  # "type" speaks for other types
    if not _RFC3339.fullmatch(value):
        return False
    try:
        _dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _error_code(validator: str) -> str:
    """The CallError code (OCPP-J 1.6, 4.2.3) that fits a JSON schema keyword's failure."""
    if validator == "required":
        return "ProtocolError"  # "Payload for Action is incomplete"
    if validator == "type":
        return "TypeConstraintViolation"
    if validator == "additionalProperties":
        return "FormationViolation"  # "not conform the PDU structure for Action"
    if validator in ("minItems", "maxItems"):
        return "OccurenceConstraintViolation"
    return "PropertyConstraintViolation"  # enum, maxLength, format, multipleOf: an invalid value


class JsonSchemas:
    """The OCPP 1.6 JSON schemas of a folder: ``<Action>.json`` and ``<Action>Response.json`` (draft 4)."""

    def __init__(self, folder: Path) -> None:
        try:
            import jsonschema
        except ImportError as err:
            raise SchemaError("validating against JSON schemas needs the jsonschema package "
                              "(pip install jsonschema)") from err
        if not folder.is_dir():
            raise SchemaError(f"{folder}: no such folder of JSON schemas")
        self.folder = folder
        checker = jsonschema.FormatChecker(formats=())
        checker.checks("date-time")(_is_date_time)
        self._validators: dict[str, Any] = {}
        for path in sorted(folder.glob("*.json")):
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
                jsonschema.Draft4Validator.check_schema(schema)
            except (ValueError, jsonschema.SchemaError) as err:
                raise SchemaError(f"{path}: not a JSON schema: {str(err).splitlines()[0]}") from None
            self._validators[path.stem] = jsonschema.Draft4Validator(schema, format_checker=checker)
        missing = [name for name in ("BootNotification", "BootNotificationResponse", "AuthorizeResponse")
                   if name not in self._validators]
        if missing:
            names = ", ".join(f"{name}.json" for name in missing)
            raise SchemaError(f"{folder}: not the OCPP 1.6 JSON schemas: no {names}")

    def enumeration(self, name: str, *path: str) -> tuple[str, ...]:
        """The ``enum`` of a property, e.g. ``("BootNotificationResponse", "status")``."""
        node = self._validators[name].schema
        for step in path:
            node = node["properties"][step]
        return tuple(node["enum"])

    def check(self, name: str, payload: Any) -> tuple[str | None, list[str]]:
        """Validate ``payload`` against ``<name>.json``: the CallError code of the first error (None: valid)
        and every error as text."""
        validator = self._validators.get(name)
        if validator is None:
            return "NotSupported", [f"no schema {name}.json in {self.folder}"]
        found = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
        errors = [f"{'/'.join(str(p) for p in e.absolute_path) or '(payload)'}: {e.message}" for e in found]
        return (_error_code(str(found[0].validator)) if found else None), errors


def _parse_frame(frame: Any) -> tuple[int | None, str | None, list[str]]:
    """Message type, message id and what is wrong with the frame's shape (OCPP-J 1.6, 4.1.3 - 4.2.3)."""
    if not isinstance(frame, list) or not frame:
        return None, None, [f"not an OCPP-J message (a JSON array): {json.dumps(frame)[:80]}"]
    kind = frame[0] if frame[0] in (CALL, CALLRESULT, CALLERROR) and not isinstance(frame[0], bool) else None
    message_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) else None
    errors: list[str] = []
    if kind is None:
        errors.append(f"MessageTypeId {frame[0]!r}: expected 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)")
        return None, message_id, errors
    shape: tuple[type, ...] = {CALL: (int, str, str, dict), CALLRESULT: (int, str, dict),
                               CALLERROR: (int, str, str, str, dict)}[kind]
    if len(frame) != len(shape):
        errors.append(f"message type {kind} has {len(shape)} elements, this one {len(frame)}")
    for index, (value, typ) in enumerate(zip(frame, shape)):
        if not isinstance(value, typ):
            errors.append(f"element {index} is {type(value).__name__}, expected {typ.__name__}")
    if message_id is not None and not 0 < len(message_id) <= MAX_MESSAGE_ID:
        errors.append(f"UniqueId of {len(message_id)} characters: 1 to {MAX_MESSAGE_ID} (4.1.4)")
    return kind, message_id, errors


@dataclass(eq=False)
class _Connection:
    """One box's WebSocket."""

    identity: str
    url: str
    path: str
    ws: web.WebSocketResponse
    request: web.Request
    #: our CALLs waiting for their answer, by message id
    pending: dict[str, asyncio.Future[list[Any]]] = field(default_factory=dict)
    #: OCPP-J 1.6, 4.1.1: one CALL of ours in flight at a time
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def abort(self) -> None:
        """Drop the connection without a close frame, as a cut network does."""
        if self.request.transport is not None:
            self.request.transport.abort()


class JsonCentralSystem(CentralSystemCore):
    """An OCPP 1.6 JSON (OCPP-J) Central System for tests and the demo: the WebSocket wire of
    :class:`CentralSystemCore`.

    ``schemas``: the folder of 1.6 JSON schemas every message is validated against (None: frames only).
    ``basic_auth``: ``(identity, AuthorizationKey)`` that a box must present (HTTP Basic, security
    profiles 1 and 2); ``server_tls``: serve ``wss://`` with it (require client certificates for
    profile 3 by its ``verify_mode``).
    """

    protocol = "ocpp1.6-json"

    def __init__(
        self,
        schemas: Path | None = None,
        *,
        heartbeat_interval: int = 300,
        wall_clock: Callable[[], _dt.datetime] = utc_now,
        server_tls: ssl.SSLContext | None = None,
        basic_auth: tuple[str, str] | None = None,
        journal: Path | None = None,
    ) -> None:
        self.schemas = JsonSchemas(schemas) if schemas is not None else None
        if self.schemas is None:
            log.warning("no JSON schemas given: OCPP-J frames are checked, payloads are not")
        self._server_tls = server_tls
        self.basic_auth = basic_auth
        #: identity -> its open connection
        self.connections: dict[str, _Connection] = {}
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        super().__init__(
            cs_operations=CS_ACTIONS,
            boot_statuses=(self.schemas.enumeration("BootNotificationResponse", "status")
                           if self.schemas else REGISTRATION_STATUSES),
            auth_statuses=(self.schemas.enumeration("AuthorizeResponse", "idTagInfo", "status")
                           if self.schemas else AUTHORIZATION_STATUSES),
            interval_field="interval",  # OCPP 1.6, 6.4
            heartbeat_interval=heartbeat_interval,
            wall_clock=wall_clock,
            journal=journal,
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """The endpoint URL a box appends its identity to (OCPP-J 1.6, 3.1.1)."""
        return self._base_url("wss" if self._server_tls else "ws") + "/ocpp"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("JsonCentralSystem already started")
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self._site = await self._listen(runner, host, port, self._server_tls)
        self._runner = runner
        log.info("Central System (OCPP 1.6 JSON) listening on %s", self.url)

    async def _stop_wire(self) -> None:
        for conn in list(self.connections.values()):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Central System stops")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._site = None

    async def _apply_outage(self, outage: str | None) -> None:
        assert self._runner is not None
        if outage == "refused":
            for conn in list(self.connections.values()):
                conn.abort()  # a closed port leaves no connection open either
            if self._site is not None:
                await self._site.stop()
                self._site = None
        elif self._site is None:
            self._site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self._server_tls)
            await self._site.start()

    def _network_cut(self) -> None:
        for conn in list(self.connections.values()):
            conn.abort()

    def box_url(self, charge_box_identity: str) -> str | None:
        conn = self._connection(charge_box_identity)
        return conn.url if conn is not None else None

    def _connection(self, identity: str) -> _Connection | None:
        """The open connection of that box (exact identity first, then case-insensitively)."""
        if identity in self.connections:
            return self.connections[identity]
        wanted = identity.casefold()
        return next((c for i, c in self.connections.items() if i.casefold() == wanted), None)

    # ------------------------------------------------------------------ the WebSocket endpoint

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.outage in ("refused", "black_hole"):
            if self.outage == "black_hole":
                await self._outage_over.wait()  # nothing comes back while it lasts, then it drops
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        if self.reject_connections:
            self.rejected_count += 1
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        arrived = self.arrival()
        identity = request.path.rstrip("/").rsplit("/", 1)[-1]
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
                   if p.strip()]

        async def refuse(error: str, response: web.StreamResponse) -> web.StreamResponse:
            await self.commit(self.new_record(
                arrived, charge_box_identity=identity or None, action=None, message_id=None, from_url=None,
                payload=None, valid=False, errors=[error], path=request.path))
            return response

        if not identity or request.path.rstrip("/") in ("", "/ocpp"):
            # 3.2: an identity the Central System does not recognise SHOULD get 404
            return await refuse(f"no charge point identity in the path {request.path!r} (3.1.1)",
                                web.Response(status=404, text="no charge point identity in the path"))
        if self.basic_auth is not None:
            problem = self._check_basic_auth(request.headers.get("Authorization"), identity)
            if problem:
                return await refuse(problem, web.Response(
                    status=401, headers={"WWW-Authenticate": 'Basic realm="OCPP", charset="UTF-8"'}))
        ws = web.WebSocketResponse(protocols=(SUBPROTOCOL,), max_msg_size=MAX_MESSAGE, timeout=2.0)
        await ws.prepare(request)
        if ws.ws_protocol != SUBPROTOCOL:
            # 3.2: complete the handshake without Sec-WebSocket-Protocol, then close at once
            await refuse(f"subprotocol {SUBPROTOCOL} not offered (offered: {offered}) (3.2)", ws)
            await ws.close(code=WSCloseCode.PROTOCOL_ERROR, message=b"subprotocol ocpp1.6 required")
            return ws
        url = f"{self.url.rsplit('/', 1)[0]}{request.path}"
        conn = _Connection(identity, url, request.path, ws, request)
        previous = self.connections.get(identity)
        self.connections[identity] = conn
        if previous is not None:  # the box reconnected: its old socket is dead to it
            previous.abort()
        log.info("%s connected (%s)", identity, url)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self.commit(self.new_record(
                        self.arrival(), charge_box_identity=identity, action=None, message_id=None,
                        from_url=None, payload=None, valid=False,
                        errors=["binary frame: OCPP-J messages are UTF-8 text frames (4.1.2)"],
                        path=conn.path))
        finally:
            if self.connections.get(identity) is conn:
                del self.connections[identity]
            for future in conn.pending.values():
                if not future.done():
                    future.set_exception(ConnectionResetError("the WebSocket closed before the answer"))
            log.info("%s disconnected", identity)
        return ws

    def _check_basic_auth(self, header: str | None, identity: str) -> str | None:
        """What is wrong with the box's credentials (None: nothing). Never names the key."""
        assert self.basic_auth is not None
        if header is None:
            return "no HTTP Basic authorization (security profile 1/2)"
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            login, sep, password = decoded.partition(":")
        except (ValueError, UnicodeDecodeError):
            sep = ""
        if scheme.lower() != "basic" or not sep:
            return "Authorization header is not HTTP Basic"
        user, key = self.basic_auth
        if login != identity:
            return f"HTTP Basic user {login!r} is not the identity in the path {identity!r}"
        if login != user or not hmac.compare_digest(password.encode(), key.encode()):
            return f"wrong HTTP Basic credentials for {login!r}"
        return None

    async def _on_text(self, conn: _Connection, text: str) -> None:
        if self.reject_connections:  # the network is cut: nothing arrives
            self.rejected_count += 1
            conn.abort()
            return
        if self.outage is not None and self.outage != "answer_lost":
            await self._outage_over.wait()  # black hole: not processed; dropped when it ends
            conn.abort()
            return
        arrived = self.arrival()
        try:
            frame: Any = json.loads(text)
        except ValueError as err:
            frame, kind, message_id, errors = None, None, None, [f"not JSON: {err}"]
        else:
            kind, message_id, errors = _parse_frame(frame)
        if kind in (CALLRESULT, CALLERROR) and message_id in conn.pending:
            conn.pending[message_id].set_result(frame)  # call() checks it
            return
        if kind in (CALLRESULT, CALLERROR) and not errors:
            errors.append(f"{'CALLRESULT' if kind == CALLRESULT else 'CALLERROR'} {message_id!r} answers "
                          "no CALL of ours in flight (4.2.2)")
        action = frame[2] if kind == CALL and len(frame) > 2 and isinstance(frame[2], str) else None
        payload = frame[3] if kind == CALL and len(frame) > 3 and isinstance(frame[3], dict) else None
        code: str | None = "FormationViolation" if errors else None
        if kind == CALL and not errors:
            if action not in self.cs_operations:
                code = "NotImplemented"
                errors.append(f"{action!r} is not an operation a Charge Point calls (OCPP 1.6)")
            elif self.schemas is not None:
                assert action is not None
                code, errors = self.schemas.check(action, payload)
        rec = self.new_record(arrived, charge_box_identity=conn.identity, action=action,
                              message_id=message_id, from_url=None, payload=payload, valid=not errors,
                              errors=errors, path=conn.path)
        reply: list[Any] | None = None
        if kind == CALL and message_id is not None:
            if errors:
                assert code is not None
                reply = [CALLERROR, message_id, code, "; ".join(errors)[:500], {}]
            else:
                assert action is not None and payload is not None
                reply = self._reply(action, message_id, rec, payload)
            rec.fault = reply[2] if reply[0] == CALLERROR else None
        await self.commit(rec)
        if self.outage == "answer_lost":
            # Processed and recorded, and the answer never reaches the box (the Central System died
            # after its commit): the box sees its connection drop and must send it again.
            conn.abort()
            return
        if reply is not None:
            await conn.ws.send_str(json.dumps(reply))

    def _reply(self, action: str, message_id: str, rec: Received, payload: dict[str, Any]) -> list[Any]:
        """CALLRESULT with the shared answer, or CALLERROR InternalError (injected, or our own bug)."""
        if self.take_injected_failure(action):
            return [CALLERROR, message_id, "InternalError", f"Injected failure for {action} (fail_next)", {}]
        answer = self.answer(action, rec, payload)
        if self.schemas is not None:
            _, own_errors = self.schemas.check(f"{action}Response", answer)
            if own_errors:
                log.error("Central System built an invalid %s.conf: %s", action, own_errors)
                return [CALLERROR, message_id, "InternalError",
                        f"Central System built an invalid {action}.conf: " + "; ".join(own_errors), {}]
        rec.response = answer
        return [CALLRESULT, message_id, answer]

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
        """Send a CALL to a box over its WebSocket and check its answer (``url`` is not used: the
        box's own connection carries it, OCPP-J 1.6, 4.1)."""
        if action not in CP_ACTIONS:
            raise KeyError(f"unknown Charge Point operation {action!r}; known: {sorted(CP_ACTIONS)}")
        if self.schemas is not None:
            _, errors = self.schemas.check(action, payload)
            if errors:
                raise InvalidCallError(f"{action} request invalid: " + "; ".join(errors), errors)
        conn = self._connection(charge_box_identity)
        if conn is None:
            raise UnknownBoxError(f"charge box {charge_box_identity!r} has no WebSocket connection open")
        message_id = str(uuid.uuid4())
        sent = self.arrival()
        if self.reject_connections:
            result = CallResult(False, None, None, False, ["network cut (reject_connections)"], None,
                                message_id)
        else:
            result = await self._exchange(conn, action, payload, message_id, timeout)
        self.record_call(sent, conn.identity, action, conn.url, message_id, payload, result)
        return result

    async def _exchange(
        self, conn: _Connection, action: str, payload: dict[str, Any], message_id: str, timeout: float
    ) -> CallResult:
        loop = asyncio.get_running_loop()
        async with conn.lock:
            future: asyncio.Future[list[Any]] = loop.create_future()
            conn.pending[message_id] = future
            text = json.dumps([CALL, message_id, action, payload])
            try:
                sent = loop.time()
                await conn.ws.send_str(text)
                async with asyncio.timeout(timeout):
                    frame = await future
                round_trip = loop.time() - sent
            except TimeoutError:
                return CallResult(False, None, None, False, [f"transport: no answer within {timeout}s"], None,
                                  message_id)
            except (ConnectionError, RuntimeError) as err:
                return CallResult(False, None, None, False, [f"transport: {type(err).__name__}: {err}"], None,
                                  message_id)
            finally:
                conn.pending.pop(message_id, None)
        kind, _, errors = _parse_frame(frame)
        if kind == CALLERROR and not errors:
            if frame[2] not in ERROR_CODES:
                errors.append(f"errorCode {frame[2]!r} is not one of OCPP-J 1.6 4.2.3")
            return CallResult(False, None, (frame[2], None, frame[3]), not errors, errors, None, message_id,
                              round_trip)
        if kind != CALLRESULT or errors:
            return CallResult(False, None, None, False, errors, None, message_id, round_trip)
        if self.schemas is not None:
            errors = self.schemas.check(f"{action}Response", frame[2])[1]
        return CallResult(not errors, frame[2], None, not errors, errors, None, message_id, round_trip)
