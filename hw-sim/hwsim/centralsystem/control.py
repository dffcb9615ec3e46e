"""HTTP JSON control interface of the reference Central System, on its own port.

Lets another process (tests, a shell with curl, the demo) read what the Central System received,
wait for requests, make it call a box and change its behaviour. Endpoints:

``GET /health``
    ``{"status": "ok", "protocol": ..., "url": ..., "soap_url": ..., "soap_port": ..., "records": N, "calls": N}``
    (``soap_url``/``soap_port``: the Central System's URL and port whatever its protocol)
``GET /record?since=SEQ``
    JSON list of received requests with seq > SEQ (see :meth:`Received.to_json`).
``GET /wait?action=A&count=1&timeout=10&since=0``
    long-poll until ``count`` *valid* requests of action ``A`` (seq > since) were received; returns
    their list, or 504 ``{"error": ...}`` on timeout.
``POST /call`` ``{"chargeBoxIdentity": ..., "action": ..., "payload": {...}, "url": opt, "timeout": opt}``
    (a body of up to :data:`MAX_CALL_BODY`, else 413)
    -> :meth:`CallResult.to_json`; 400 for an unknown action or an invalid request, 404 when no URL is
    known for the box (SOAP) or it has no WebSocket open (1.6 JSON: ``url`` is ignored; every CS->CP
    operation of 1.6 is allowed, TriggerMessage and the smart charging ones too, payload passed through).
``POST /repeat`` ``{"chargeBoxIdentity": ..., "action": ..., "payload": {...}, "seconds": S}``
    the same call made again and again for S seconds (at most :data:`MAX_WAIT`), each once the last is
    answered, as OCPP-J sends them (4.1.1) -> ``{"answered": N, "failed": N, "seconds": ...}``
    (answered: ``ok``); the same 400 and 404 as ``/call``. How many calls a box answers per second.
``GET /calls?since=SEQ``
    JSON list of calls made (see :meth:`CallRecord.to_json`).
``GET /behaviour``, ``POST /behaviour`` with any of ``{"boot_status", "heartbeat_interval",
"fail_next": {action: n}, "reject_connections", "outage": "refused" | "black_hole" | "answer_lost" | null,
"id_tags": {tag: status}, "id_tag_parents": {tag: parent}, "default_id_tag_status"}``
    -> the current behaviour; 400 naming the bad key or value (nothing is applied then).
``POST /hold``, ``GET /held``
    commands for boxes on a mobile network, woken by SMS (see :mod:`hwsim.centralsystem.wakeup`).

This module is part of ``hwsim`` (the outside world) and must never import ``chargebox``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeGuard

from aiohttp import web

from .core import OUTAGES, CentralSystemCore, InvalidCallError, UnknownBoxError
from .wakeup import PendingCommands, add_routes

#: Longest a /wait long-poll may be asked to wait (seconds).
MAX_WAIT = 600.0
#: Largest request body taken (bytes): a /call as large as any a box may be sent. Over OCPP-J the
#: Central System is the only way to reach a box, and a SendLocalList of 100,000 entries (issue 19's
#: longest) is about 6 MB of JSON, 15 MB with every field at its longest: aiohttp's default of 1 MiB
#: would refuse what the box takes.
MAX_CALL_BODY = 64 << 20


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return _json({"error": message, **extra}, status=status)


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"query parameter {name}={raw!r}: expected an integer"}),
            content_type="application/json",
        ) from None


def _float_param(request: web.Request, name: str, default: float) -> float:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (0 <= value <= MAX_WAIT):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"query parameter {name}={raw!r}: expected 0..{MAX_WAIT} seconds"}),
            content_type="application/json",
        )
    return value


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError) as err:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"body is not JSON: {err}"}), content_type="application/json"
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be a JSON object"}), content_type="application/json"
        )
    return data


def _a_wait(value: object) -> TypeGuard[float]:
    """Whether a body's number of seconds is one a call may take (JSON's true is no number)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and 0 < value <= MAX_WAIT


def _call_of(data: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The box, action and payload of a /call or /repeat body; KeyError saying what is wrong."""
    identity, action, payload = data.get("chargeBoxIdentity"), data.get("action"), data.get("payload", {})
    if not isinstance(identity, str) or not identity:
        raise KeyError("chargeBoxIdentity: expected a non-empty string")
    if not isinstance(action, str):
        raise KeyError("action: expected a string such as RemoteStartTransaction")
    if not isinstance(payload, dict):
        raise KeyError("payload: expected a JSON object")
    return identity, action, payload


async def _calling(data: dict[str, Any],
                   call: Callable[[str, str, dict[str, Any]], Awaitable[Any]]) -> web.Response:
    """``call`` on the box, action and payload of a /call or /repeat body, its result as JSON; a bad
    body or an unknown box answered with its HTTP error."""
    try:
        return _json(await call(*_call_of(data)))
    except KeyError as err:
        return _error(400, str(err.args[0]) if err.args else str(err))
    except InvalidCallError as err:
        return _error(400, str(err), errors=err.errors)
    except UnknownBoxError as err:
        return _error(404, str(err))


def behaviour(cs: CentralSystemCore) -> dict[str, Any]:
    return {
        "boot_status": cs.boot_status,
        "heartbeat_interval": cs.heartbeat_interval,
        "fail_next": dict(cs.fail_next),
        "reject_connections": cs.reject_connections,
        "outage": cs.outage,
        "id_tags": dict(cs.id_tags),
        "id_tag_parents": dict(cs.id_tag_parents),
        "default_id_tag_status": cs.default_id_tag_status,
    }


def apply_behaviour(cs: CentralSystemCore, data: dict[str, Any]) -> None:
    """Check every key and value first, then apply all of them (all or nothing)."""
    allowed = set(behaviour(cs))
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"unknown behaviour key(s) {unknown}; allowed: {sorted(allowed)}")
    if "boot_status" in data and data["boot_status"] not in cs.boot_statuses:
        raise ValueError(f"boot_status {data['boot_status']!r}: the schema allows {list(cs.boot_statuses)}")
    if "heartbeat_interval" in data:
        hb = data["heartbeat_interval"]
        if isinstance(hb, bool) or not isinstance(hb, int) or not (0 <= hb <= 2**31 - 1):
            raise ValueError(f"heartbeat_interval {hb!r}: expected a non-negative integer (xs:int)")
    if "fail_next" in data:
        fn = data["fail_next"]
        if not isinstance(fn, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in fn.items()
        ):
            raise ValueError('fail_next: expected {"Action": non-negative int, ...}')
        unknown_ops = sorted(set(fn) - cs.cs_operations)
        if unknown_ops:
            raise ValueError(f"fail_next: unknown action(s) {unknown_ops}; known: {sorted(cs.cs_operations)}")
    if "reject_connections" in data and not isinstance(data["reject_connections"], bool):
        raise ValueError("reject_connections: expected true or false")
    if data.get("outage") is not None and data["outage"] not in OUTAGES:
        raise ValueError(f"outage {data['outage']!r}: expected one of {sorted(OUTAGES)} or null")
    if "id_tags" in data:
        tags = data["id_tags"]
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
            raise ValueError('id_tags: expected {"TAG": "Accepted" | "Blocked" | ...}')
        for status in tags.values():
            cs.check_id_tag_status(status)
    if "id_tag_parents" in data:
        parents = data["id_tag_parents"]
        if not isinstance(parents, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 20 for k, v in parents.items()):
            raise ValueError('id_tag_parents: expected {"TAG": "PARENT" (IdToken, at most 20 characters)}')
    if "default_id_tag_status" in data:
        if not isinstance(data["default_id_tag_status"], str):
            raise ValueError("default_id_tag_status: expected a string")
        cs.check_id_tag_status(data["default_id_tag_status"])

    if "boot_status" in data:
        cs.boot_status = data["boot_status"]
    if "heartbeat_interval" in data:
        cs.heartbeat_interval = data["heartbeat_interval"]
    if "fail_next" in data:
        cs.fail_next.update(data["fail_next"])
    if "reject_connections" in data:
        cs.reject_connections = data["reject_connections"]
    if "id_tags" in data:
        cs.id_tags = dict(data["id_tags"])
    if "id_tag_parents" in data:
        cs.id_tag_parents = dict(data["id_tag_parents"])
    if "default_id_tag_status" in data:
        cs.default_id_tag_status = data["default_id_tag_status"]


class ControlServer:
    """The control interface for one Central System, whatever its wire."""

    def __init__(self, cs: CentralSystemCore, sms_gateway: str | None = None) -> None:
        self.cs = cs
        #: Commands held for boxes that did not answer, woken by SMS through ``sms_gateway`` (8.3).
        self.pending = PendingCommands(cs, sms_gateway)
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_CALL_BODY)
        app.router.add_get("/health", self.health)
        app.router.add_get("/record", self.get_record)
        app.router.add_get("/wait", self.wait)
        app.router.add_get("/calls", self.get_calls)
        app.router.add_post("/call", self.post_call)
        app.router.add_post("/repeat", self.post_repeat)
        app.router.add_get("/behaviour", self.get_behaviour)
        app.router.add_post("/behaviour", self.post_behaviour)
        add_routes(app, self.pending)  # POST /hold, GET /held (hwsim.centralsystem.wakeup)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("ControlServer already started")
        runner = web.AppRunner(self.make_app(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.host = host
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        await self.pending.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ handlers

    async def health(self, request: web.Request) -> web.Response:
        return _json(
            {
                "status": "ok",
                "protocol": self.cs.protocol,
                "url": self.cs.url,
                "soap_url": self.cs.url,
                "soap_port": self.cs.port,
                "records": len(self.cs.record),
                "calls": len(self.cs.calls),
            }
        )

    async def get_record(self, request: web.Request) -> web.Response:
        since = _int_param(request, "since", 0)
        return _json([r.to_json() for r in self.cs.record if r.seq > since])

    async def get_calls(self, request: web.Request) -> web.Response:
        since = _int_param(request, "since", 0)
        return _json([c.to_json() for c in self.cs.calls if c.seq > since])

    async def wait(self, request: web.Request) -> web.Response:
        action = request.query.get("action")
        if not action:
            return _error(400, "query parameter action is required")
        count = _int_param(request, "count", 1)
        since = _int_param(request, "since", 0)
        timeout = _float_param(request, "timeout", 10.0)
        try:
            records = await self.cs.wait_for(action, count, timeout, since=since)
        except TimeoutError as err:
            return _error(504, str(err))
        return _json([r.to_json() for r in records])

    async def post_call(self, request: web.Request) -> web.Response:
        data = await _json_body(request)
        unknown = sorted(set(data) - {"chargeBoxIdentity", "action", "payload", "url", "timeout"})
        if unknown:
            return _error(400, f"unknown key(s) {unknown}")
        url, timeout = data.get("url"), data.get("timeout", 10)
        if url is not None and not isinstance(url, str):
            return _error(400, "url: expected a string")
        if not _a_wait(timeout):
            return _error(400, f"timeout: expected 0..{MAX_WAIT} seconds")

        async def call(identity: str, action: str, payload: Any) -> Any:
            return (await self.cs.call(identity, action, payload, url=url, timeout=float(timeout))).to_json()

        return await _calling(data, call)

    async def post_repeat(self, request: web.Request) -> web.Response:
        data = await _json_body(request)
        unknown = sorted(set(data) - {"chargeBoxIdentity", "action", "payload", "seconds"})
        if unknown:
            return _error(400, f"unknown key(s) {unknown}")
        seconds = data.get("seconds")
        if not _a_wait(seconds):
            return _error(400, f"seconds: expected 0..{MAX_WAIT}")

        async def repeat(identity: str, action: str, payload: Any) -> Any:
            loop = asyncio.get_running_loop()
            answered = failed = 0
            start = loop.time()
            while loop.time() - start < seconds:
                result = await self.cs.call(identity, action, payload, timeout=10.0)
                answered, failed = (answered + 1, failed) if result.ok else (answered, failed + 1)
            return {"answered": answered, "failed": failed, "seconds": loop.time() - start}

        return await _calling(data, repeat)

    async def get_behaviour(self, request: web.Request) -> web.Response:
        return _json(behaviour(self.cs))

    async def post_behaviour(self, request: web.Request) -> web.Response:
        data = await _json_body(request)
        try:
            apply_behaviour(self.cs, data)
        except ValueError as err:
            return _error(400, str(err))
        if "outage" in data:  # checked above; it opens or closes the port, so it is applied here
            await self.cs.set_outage(data["outage"])
        return _json(behaviour(self.cs))


def _write_ready_file(path: Path, line: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(line + "\n", encoding="utf-8")
    os.replace(tmp, path)


async def run_central_system(
    cs: CentralSystemCore,
    host: str,
    port: int,
    control_port: int,
    ready_file: Path | None = None,
    *,
    control_host: str | None = None,
    sms_gateway: str | None = None,
) -> None:
    """Run a Central System (any wire) and its control interface until cancelled.

    When both listen, prints one JSON line ``{"event":"listening","protocol":...,"url":...,"port":...,
    "control_port":...}`` to stdout (flushed) and, if ``ready_file`` is given, writes the same line there
    (atomically). ``soap_port``/``soap_url`` repeat ``port``/``url`` for the callers of 1.5 days.
    """
    control = ControlServer(cs, sms_gateway)
    try:
        await cs.start(host, port)
        await control.start(control_host or host, control_port)
        line = json.dumps(
            {
                "event": "listening",
                "protocol": cs.protocol,
                "url": cs.url,
                "port": cs.port,
                "soap_port": cs.port,
                "control_port": control.port,
                "soap_url": cs.url,
                "control_url": control.url,
            }
        )
        # The file first: whoever reads the stdout line may look for the file at once.
        if ready_file is not None:
            _write_ready_file(Path(ready_file), line)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        await asyncio.Event().wait()  # until cancelled
    finally:
        await control.stop()
        await cs.stop()
