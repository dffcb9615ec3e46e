"""The simulator's control interface: HTTP with JSON on loopback, for shells, tests and the demo.

    GET  /state                      the world: connectors, pilot, duty, relay, current, energy
    GET  /events?since=N             events after seq N (plug, pilot, pwm, relay, card, ...)
    GET  /wait?kind=relay&closed=true&timeout=10   the first matching event (504 on timeout);
                                                   &after=N: only events after event number N
    POST /plug      {"connector": 1, "max_current": 32, "soc": 0.5}
    POST /unplug    {"connector": 1}
    POST /ev        {"connector": 1, "wants_energy": false}
    POST /card      {"uid": "04A2B3C4", "hold": 0.5}
    GET  /faults                     the faults that can be injected, and which are active
    POST /fault     {"fault": "relay_welded", "connector": 1, "active": true}   inject (false: clear)
    POST /sms       {"text": "CB-1", "sender": "+31600000000"}   a short message reaches the modem;
                    "status": "STO SENT" (or "STO UNSENT"): an outgoing one (to "sender") it keeps
    GET  /modem                      the modem: its pty, signal, stored messages, commands answered
    POST /modem     {"rssi": 5, "ber": 0}   what AT+CSQ reports (rssi 0..31, 99 unknown; 27.007 8.5)
    POST /meter     {"connector": 1, "energy_wh": 2147483648}   set the meter's import energy register
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from hwsim.ev import EV
from hwsim.modem import STATUSES, UNREAD
from hwsim.world import FAULTS, World


def _scalar(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def control_app(world: World) -> web.Application:
    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json() if request.can_read_body else {}
        except ValueError as err:
            raise web.HTTPBadRequest(text=f"body is not JSON: {err}") from err
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="body must be a JSON object")
        return data

    def connector_of(data: dict[str, Any]) -> int:
        number = data.get("connector", 1)
        if not isinstance(number, int) or number not in world.connectors:
            raise web.HTTPBadRequest(text=f"no connector {number!r}; have {sorted(world.connectors)}")
        return number

    async def state(request: web.Request) -> web.Response:
        return web.json_response(world.snapshot())

    async def events(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return web.json_response(world.events[since:])

    async def wait(request: web.Request) -> web.Response:
        query = dict(request.query)
        kind = query.pop("kind", "")
        timeout = float(query.pop("timeout", "10"))
        after = int(query.pop("after", "0"))
        try:
            event = await world.wait_event(kind, timeout, after, **{k: _scalar(v) for k, v in query.items()})
        except TimeoutError:
            raise web.HTTPGatewayTimeout(text=f"no {kind} event within {timeout} s") from None
        return web.json_response(event)

    async def plug(request: web.Request) -> web.Response:
        data = await body(request)
        ev = EV(max_current=float(data.get("max_current", 32.0)), soc=float(data.get("soc", 0.5)))
        world.plug(connector_of(data), ev)
        return web.json_response(world.snapshot())

    async def unplug(request: web.Request) -> web.Response:
        world.unplug(connector_of(await body(request)))
        return web.json_response(world.snapshot())

    async def ev(request: web.Request) -> web.Response:
        data = await body(request)
        world.set_ev_wants(connector_of(data), bool(data.get("wants_energy", True)))
        return web.json_response(world.snapshot())

    async def card(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            uid = bytes.fromhex(str(data["uid"]))
        except (KeyError, ValueError) as err:
            raise web.HTTPBadRequest(text="uid must be hex, e.g. 04A2B3C4") from err
        asyncio.ensure_future(world.present_card(uid, float(data.get("hold", 0.5))))
        return web.json_response({"uid": uid.hex().upper()})

    async def faults(request: web.Request) -> web.Response:
        return web.json_response({"faults": FAULTS, "active": world.active_faults()})

    async def fault(request: web.Request) -> web.Response:
        data = await body(request)
        name = data.get("fault")
        if name not in FAULTS:
            raise web.HTTPBadRequest(text=f"fault must be one of: {', '.join(FAULTS)}; got {name!r}")
        active = data.get("active", True)
        if not isinstance(active, bool):
            raise web.HTTPBadRequest(text=f"active must be true or false, got {active!r}")
        world.set_fault(name, active, connector_of(data))
        return web.json_response(world.snapshot())

    async def sms(request: web.Request) -> web.Response:
        data = await body(request)
        text, sender = data.get("text", ""), data.get("sender", "+31600000000")
        if not isinstance(text, str) or len(text) > 160:
            raise web.HTTPBadRequest(text="text must be a string of at most 160 characters (one SMS)")
        if not isinstance(sender, str) or not sender.lstrip("+").isdigit() or len(sender) > 21:
            raise web.HTTPBadRequest(text=f"sender must be a phone number like +31600000000, got {sender!r}")
        status = data.get("status", UNREAD)
        if status not in STATUSES:
            raise web.HTTPBadRequest(text=f"status must be one of: {', '.join(STATUSES)}; got {status!r}")
        return web.json_response({"index": world.receive_sms(text, sender, status)})

    async def modem(request: web.Request) -> web.Response:
        if request.method == "POST":
            data = await body(request)
            rssi, ber = data.get("rssi"), data.get("ber", 0)
            if not isinstance(rssi, int) or not isinstance(ber, int) or isinstance(rssi, bool):
                raise web.HTTPBadRequest(text=f"rssi and ber must be integers, got {rssi!r} and {ber!r}")
            try:
                world.set_signal(rssi, ber)
            except ValueError as err:
                raise web.HTTPBadRequest(text=str(err)) from err
        return web.json_response(world.modem.snapshot())

    async def meter(request: web.Request) -> web.Response:
        data = await body(request)
        energy = data.get("energy_wh")
        if not isinstance(energy, (int, float)) or isinstance(energy, bool):
            raise web.HTTPBadRequest(text=f"energy_wh must be a number of Wh, got {energy!r}")
        try:
            world.connectors[connector_of(data)].meter_server.set_energy(energy)
        except ValueError as err:
            raise web.HTTPBadRequest(text=str(err)) from err
        return web.json_response(world.snapshot())

    app = web.Application()
    app.router.add_get("/state", state)
    app.router.add_get("/events", events)
    app.router.add_get("/wait", wait)
    app.router.add_post("/plug", plug)
    app.router.add_post("/unplug", unplug)
    app.router.add_post("/ev", ev)
    app.router.add_post("/card", card)
    app.router.add_get("/faults", faults)
    app.router.add_post("/fault", fault)
    app.router.add_post("/sms", sms)
    app.router.add_get("/modem", modem)
    app.router.add_post("/modem", modem)
    app.router.add_post("/meter", meter)
    return app
