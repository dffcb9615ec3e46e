"""The reference Central System's held commands (8.3): tried at the box's advertised URL, held when
nothing answers there, the box woken by SMS through the gateway, delivered on its next request."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hwsim.centralsystem import CentralSystem
from hwsim.centralsystem.control import ControlServer
from hwsim.centralsystem.schema import WsdlSchema

from tests.hwsim.test_centralsystem import CP_WSDL, CS_WSDL, StubBox, accept_remote_start, post, soap_request

pytestmark = pytest.mark.skipif(not (CS_WSDL.is_file() and CP_WSDL.is_file()),
                                reason="official OCPP 1.5 WSDLs (../shared/spec/wsdl) not present")
REMOTE_START = {"chargeBoxIdentity": "CB7", "action": "RemoteStartTransaction",
                "payload": {"idTag": "CARD01", "connectorId": 1}}


def dead_url() -> str:
    """A loopback port nobody listens on: the box's old address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/box"


class Gateway:
    """An SMS gateway that records what it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.sent.append(await request.json())
        return web.json_response({"index": len(self.sent)})


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    gw = Gateway()
    app = web.Application()
    app.router.add_post("/sms", gw.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    gw.url = f"http://127.0.0.1:{runner.addresses[0][1]}/sms"
    yield gw
    await runner.cleanup()


@pytest.fixture
async def central(gateway: Gateway) -> AsyncIterator[tuple[CentralSystem, str]]:
    cs = CentralSystem(CS_WSDL, CP_WSDL)
    control = ControlServer(cs, sms_gateway=gateway.url)
    await cs.start()
    await control.start()
    yield cs, control.url
    await control.stop()
    await cs.stop()


async def test_a_command_for_an_unreachable_box_is_held_and_delivered_when_it_wakes(
    central: tuple[CentralSystem, str], gateway: Gateway,
) -> None:
    cs, control = central
    old_url = dead_url()
    async with aiohttp.ClientSession() as http, StubBox(WsdlSchema(CP_WSDL), accept_remote_start) as box:
        await post(http, cs, soap_request(
            "<cs:heartbeatRequest/>", "/Heartbeat", identity="CB7", from_url=old_url))
        async with http.post(control + "hold", json=REMOTE_START) as response:
            held = await response.json()
        assert held["state"] == "held" and held["tries"][0]["url"] == old_url
        assert held["sms"] == {"sent": True, "http_status": 200}
        assert gateway.sent == [{"text": "CB7", "sender": "+31699999999"}]  # 8.3: the SMS names the box
        async with http.get(control + f"held?id={held['id']}&timeout=0.1") as response:
            assert response.status == 504  # nothing from the box yet
        # The woken box's Heartbeat.req, from its new address.
        await post(http, cs, soap_request(
            "<cs:heartbeatRequest/>", "/Heartbeat", identity="cb7", from_url=box.url))
        async with http.get(control + f"held?id={held['id']}&timeout=10") as response:
            delivered = await response.json()
    assert delivered["state"] == "delivered"
    assert delivered["tries"][-1]["url"] == box.url
    assert delivered["result"]["ok"] and delivered["result"]["payload"] == {"status": "Accepted"}
    assert len(box.received) == 1  # delivered once


async def test_a_box_that_answers_gets_the_command_at_once(
    central: tuple[CentralSystem, str], gateway: Gateway,
) -> None:
    cs, control = central
    async with aiohttp.ClientSession() as http, StubBox(WsdlSchema(CP_WSDL), accept_remote_start) as box:
        await post(http, cs, soap_request("<cs:heartbeatRequest/>", "/Heartbeat", identity="CB7", from_url=box.url))
        async with http.post(control + "hold", json=REMOTE_START) as response:
            result = await response.json()
        async with http.get(control + "held") as response:
            assert await response.json() == []
    assert result["state"] == "delivered" and result["sms"] is None and gateway.sent == []


async def test_a_box_never_heard_of_is_woken_too(central: tuple[CentralSystem, str], gateway: Gateway) -> None:
    cs, control = central
    async with aiohttp.ClientSession() as http, http.post(control + "hold", json=REMOTE_START) as response:
        held = await response.json()
    assert held["state"] == "held" and held["tries"] == [{"url": None, "result": "no URL known for the box"}]
    assert len(gateway.sent) == 1


async def test_bad_hold_requests_are_refused(central: tuple[CentralSystem, str]) -> None:
    cs, control = central
    async with aiohttp.ClientSession() as http:
        for body, status in (({"action": "Reset"}, 400), ({**REMOTE_START, "action": "Bogus"}, 400),
                             ({**REMOTE_START, "payload": {"connectorId": 1}}, 400), ({**REMOTE_START, "timeout": 0}, 400)):
            async with http.post(control + "hold", json=body) as response:
                assert response.status == status, body
        async with http.get(control + "held?id=99") as response:
            assert response.status == 404
