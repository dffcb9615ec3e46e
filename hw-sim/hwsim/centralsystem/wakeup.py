"""Commands for boxes on a mobile network (OCPP 1.5, 8.3), as a Central System handles them.

A command is first sent to the URL the box last advertised in wsa:From. When nothing answers there
(the carrier gave the box a new address), the command is held, the box is woken with an SMS through
an SMS gateway (here: the simulator's ``POST /sms``), and the command is delivered as soon as the box
sends its next request (the wake-up Heartbeat.req) to the URL that request carries.

Control interface (registered by :func:`add_routes`):

``POST /hold`` ``{"chargeBoxIdentity": ..., "action": ..., "payload": {...}, "timeout": opt}``
    -> :meth:`Pending.to_json`: ``"state"`` is ``"delivered"`` when the box answered at once,
    ``"held"`` when it did not (then ``"sms"`` tells how the wake-up SMS went).
``GET /held?id=N&timeout=T``
    every held command; with ``id``, waits up to ``T`` seconds until that one is delivered (504 if not).

This module is part of ``hwsim`` (the outside world) and must never import ``chargebox``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from .core import CallResult, CentralSystemCore, InvalidCallError, Received, UnknownBoxError

log = logging.getLogger("hwsim.centralsystem")

#: The number the Central System's wake-up SMS come from.
SMS_SENDER = "+31699999999"


@dataclass
class Pending:
    """One command for a box and what became of it."""

    id: int
    charge_box_identity: str
    action: str
    payload: dict[str, Any]
    timeout: float
    state: str = "held"  # "held" until the box answered, then "delivered"
    tries: list[dict[str, Any]] = field(default_factory=list)  # (url, CallResult) of every try
    sms: dict[str, Any] | None = None
    result: CallResult | None = None
    delivered: asyncio.Event = field(default_factory=asyncio.Event)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "chargeBoxIdentity": self.charge_box_identity, "action": self.action,
                "payload": self.payload, "state": self.state, "tries": self.tries, "sms": self.sms,
                "result": self.result.to_json() if self.result else None}


def _answered(result: CallResult) -> bool:
    """Whether the box answered at all (a fault is an answer; a refused connection is not). Over
    OCPP-J there is no HTTP status: a CALLRESULT or CALLERROR is the answer."""
    return result.http_status is not None or result.payload is not None or result.fault is not None


class PendingCommands:
    """Holds commands for boxes that do not answer, wakes them by SMS, delivers on their next request.

    ``sms_gateway`` is the URL the wake-up SMS is posted to (JSON ``{"text", "sender"}``); without
    one, a held command waits for the box's next request of its own accord (its heartbeat).
    """

    def __init__(self, cs: CentralSystemCore, sms_gateway: str | None = None) -> None:
        self.cs = cs
        self.sms_gateway = sms_gateway
        self.commands: list[Pending] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        cs.request_listeners.append(self._on_request)

    async def submit(self, identity: str, action: str, payload: dict[str, Any], timeout: float = 10.0) -> Pending:
        """Send now, or hold and wake the box. Raises as :meth:`CentralSystemCore.call` does for a bad
        command; a box whose URL is not known yet is woken the same way."""
        pending = Pending(next(self._ids), identity, action, payload, timeout)
        try:
            await self._try(pending, None)
        except UnknownBoxError:
            pending.tries.append({"url": None, "result": "no URL known for the box"})
        if pending.state == "held":
            self.commands.append(pending)
            pending.sms = await self._wake(identity)
        return pending

    def held(self, identity: str) -> list[Pending]:
        wanted = identity.casefold()
        return [p for p in self.commands if p.state == "held" and p.charge_box_identity.casefold() == wanted]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _try(self, pending: Pending, url: str | None) -> None:
        result = await self.cs.call(pending.charge_box_identity, pending.action, pending.payload, url=url,
                                    timeout=pending.timeout)
        pending.tries.append({"url": url or self.cs.box_url(pending.charge_box_identity),
                              "result": result.to_json()})
        if _answered(result):
            pending.state, pending.result = "delivered", result
            pending.delivered.set()

    async def _wake(self, identity: str) -> dict[str, Any]:
        """Post the wake-up SMS; 8.3: it SHOULD hold the box's identity."""
        if self.sms_gateway is None:
            return {"sent": False, "error": "no SMS gateway configured"}
        body = {"text": identity, "sender": SMS_SENDER}
        try:
            async with aiohttp.ClientSession() as session, session.post(
                self.sms_gateway, json=body, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                return {"sent": response.status == 200, "http_status": response.status}
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            log.warning("wake-up SMS for %s not sent: %s", identity, err)
            return {"sent": False, "error": f"{type(err).__name__}: {err}"}

    def _on_request(self, received: Received) -> None:
        """The box is awake and has told its URL: deliver what waits for it there."""
        if not received.valid or not received.charge_box_identity or not received.from_url:
            return
        waiting = self.held(received.charge_box_identity)
        if waiting:
            task = asyncio.ensure_future(self._deliver(waiting, received.from_url))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, waiting: list[Pending], url: str) -> None:
        for pending in waiting:
            if pending.state == "held":  # a request that came meanwhile may have delivered it
                await self._try(pending, url)


def add_routes(app: web.Application, pending: PendingCommands) -> None:
    """``POST /hold`` and ``GET /held`` (see the module docstring)."""

    def error(status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status)

    async def hold(request: web.Request) -> web.Response:
        try:
            data = await request.json()
        except ValueError as err:
            return error(400, f"body is not JSON: {err}")
        if not isinstance(data, dict) or not isinstance(data.get("chargeBoxIdentity"), str) \
                or not isinstance(data.get("action"), str) or not isinstance(data.get("payload", {}), dict):
            return error(400, 'expected {"chargeBoxIdentity": str, "action": str, "payload": {...}}')
        timeout = data.get("timeout", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
            return error(400, "timeout: expected 0..600 seconds")
        try:
            held = await pending.submit(data["chargeBoxIdentity"], data["action"], data.get("payload", {}),
                                        float(timeout))
        except KeyError as err:
            return error(400, str(err.args[0]) if err.args else str(err))
        except InvalidCallError as err:
            return error(400, str(err))
        return web.json_response(held.to_json())

    async def held(request: web.Request) -> web.Response:
        wanted = request.query.get("id")
        if wanted is None:
            return web.json_response([p.to_json() for p in pending.commands])
        found = next((p for p in pending.commands if str(p.id) == wanted), None)
        if found is None:
            return error(404, f"no held command {wanted}")
        try:
            timeout = float(request.query.get("timeout", "10"))
            async with asyncio.timeout(min(max(timeout, 0.0), 600.0)):
                await found.delivered.wait()
        except ValueError:
            return error(400, "timeout: expected seconds")
        except TimeoutError:
            return web.json_response(found.to_json(), status=504)
        return web.json_response(found.to_json())

    app.router.add_post("/hold", hold)
    app.router.add_get("/held", held)
