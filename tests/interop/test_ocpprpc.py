"""The OCPP-J client against ocpp-rpc's RPCServer in strict mode (tests/interop/ocpprpc): an independent
1.6 JSON Central System that validates every message both ways against the 1.6 JSON schemas."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tsocpp_harness import WAIT, TsOcpp

from chargebox.binding.ocpp16json.client import JsonClient
from chargebox.binding.ocpp16json.connection import Backoff
from chargebox.ocpp.datatypes import KeyValue
from chargebox.ocpp.enums import AuthorizationStatus, RegistrationStatus, ResetStatus
from chargebox.ocpp.errors import CentralSystemUnreachable, NotImplementedAction, NotSupported
from chargebox.ocpp.messages import (
    AuthorizeConfirmation,
    AuthorizeRequest,
    BootNotificationConfirmation,
    BootNotificationRequest,
    Confirmation,
    DataTransferRequest,
    GetConfigurationConfirmation,
    GetConfigurationRequest,
    HeartbeatConfirmation,
    HeartbeatRequest,
    Request,
    ResetConfirmation,
)

pytestmark = pytest.mark.interop

HARNESS_DIR = Path(__file__).resolve().parent / "ocpprpc"
IDENTITY = "CB-RPC 1"
KEY = "0123456789abcdef0123456789abcdef01234567"


class OcppRpc(TsOcpp):
    """``ocpprpc/central_system.js``: the same JSON lines on stdout and stdin as the ts-ocpp harness."""

    directory = HARNESS_DIR

    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def event(self, event: str, count: int = 1, **match: Any) -> dict[str, Any]:
        def wanted(e: dict[str, Any]) -> bool:
            return e.get("event") == event and all(e.get(k) == v for k, v in match.items())
        return await asyncio.to_thread(self.wait_event, wanted, WAIT, f"{event} {match}", count)

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The Central System calls the box; the harness's result line."""
        command = self.command("call", identity=IDENTITY, action=action, payload=payload)
        return await asyncio.to_thread(self.result, command)


def missing() -> str | None:
    if shutil.which("node") is None:
        return "interop with ocpp-rpc needs Node.js: `node` is not on PATH"
    if not (HARNESS_DIR / "node_modules" / "ocpp-rpc").is_dir():
        return f"ocpp-rpc harness not installed: run `cd {HARNESS_DIR} && npm ci`"
    return None


def harness(tmp_path: Path, *args: str) -> Iterator[OcppRpc]:
    if (why := missing()) is not None:
        pytest.skip(why)
    central = OcppRpc(tmp_path, args=args)
    try:
        yield central
    finally:
        central.close()


@pytest.fixture
def rpc(tmp_path: Path) -> Iterator[OcppRpc]:
    yield from harness(tmp_path)


@pytest.fixture
def guarded_rpc(tmp_path: Path) -> Iterator[OcppRpc]:
    yield from harness(tmp_path, "--password", KEY)


async def stub(request: Request) -> Confirmation:
    if isinstance(request, GetConfigurationRequest):
        return GetConfigurationConfirmation(configuration_key=[KeyValue(key="MeterValueSampleInterval",
                                                                        readonly=False, value="60")])
    if request.action() == "Reset":
        return ResetConfirmation(status=ResetStatus.ACCEPTED)
    raise NotSupported(f"{request.action()} not in this stub")


@pytest.fixture
async def client(rpc: OcppRpc) -> AsyncIterator[JsonClient]:
    box = JsonClient(rpc.ws_url(), IDENTITY, handler=stub, allow_plain=True, timeout=10,
                     backoff=Backoff(0.05, 0.2))
    try:
        yield box
    finally:
        await box.close()


async def test_a_session_of_calls_both_ways(rpc: OcppRpc, client: JsonClient) -> None:
    boot = await client.call(BootNotificationRequest(charge_point_vendor="chargebox", charge_point_model="m1"))
    assert isinstance(boot, BootNotificationConfirmation) and boot.status is RegistrationStatus.ACCEPTED
    assert boot.heartbeat_interval == 300
    assert isinstance(await client.call(HeartbeatRequest()), HeartbeatConfirmation)
    good = await client.call(AuthorizeRequest(id_tag="GOOD"))
    assert isinstance(good, AuthorizeConfirmation) and good.id_tag_info.status is AuthorizationStatus.ACCEPTED
    connected = await rpc.event("connected")
    assert (connected["identity"], connected["protocol"]) == (IDENTITY, "ocpp1.6")
    # Strict mode: ocpp-rpc checks the box's answers against the schema before it takes them.
    assert (await rpc.call("Reset", {"type": "Soft"}))["payload"] == {"status": "Accepted"}
    config = await rpc.call("GetConfiguration", {"key": ["MeterValueSampleInterval"]})
    assert config["payload"] == {"configurationKey": [{"key": "MeterValueSampleInterval", "readonly": False,
                                                       "value": "60"}], "unknownKey": []}
    assert [e["action"] for e in rpc.requests()] == ["BootNotification", "Heartbeat", "Authorize"]
    assert not [e for e in rpc.events if e.get("event") == "badMessage"]


async def test_callerrors_both_ways(rpc: OcppRpc, client: JsonClient) -> None:
    with pytest.raises(NotImplementedAction):
        await client.call(DataTransferRequest(vendor_id="chargebox"))
    # The stub handler serves neither (an action the box does not know at all: test_json_link).
    for action, payload in (("TriggerMessage", {"requestedMessage": "Heartbeat"}), ("ClearCache", {})):
        refused = await rpc.call(action, payload)
        assert (refused["ok"], refused["code"]) == (False, "NotSupported"), action
    assert isinstance(await client.call(HeartbeatRequest()), HeartbeatConfirmation)


async def test_the_box_comes_back_after_the_central_system_drops_it(rpc: OcppRpc, client: JsonClient) -> None:
    await client.call(HeartbeatRequest())
    assert (await asyncio.to_thread(rpc.result, rpc.command("drop", identity=IDENTITY)))["ok"]
    await rpc.event("closed")
    await rpc.event("connected", count=2)
    assert isinstance(await client.call(HeartbeatRequest()), HeartbeatConfirmation)
    assert client.link.connections == 2


async def test_basic_auth_accepted_and_refused(guarded_rpc: OcppRpc) -> None:
    box = JsonClient(guarded_rpc.ws_url(), IDENTITY, handler=stub, allow_plain=True, timeout=10,
                     authorization_key=lambda: KEY, backoff=Backoff(0.05, 0.2))
    try:
        assert isinstance(await box.call(HeartbeatRequest()), HeartbeatConfirmation)
    finally:
        await box.close()
    wrong = JsonClient(guarded_rpc.ws_url(), IDENTITY, handler=stub, allow_plain=True, connect_timeout=1,
                       authorization_key=lambda: "f" * 40, backoff=Backoff(0.05, 0.2))
    try:
        with pytest.raises(CentralSystemUnreachable):
            await wrong.call(HeartbeatRequest())
    finally:
        await wrong.close()
    handshakes = [e for e in guarded_rpc.events if e.get("event") == "handshake"]
    assert handshakes[0]["password_given"] and len([e for e in guarded_rpc.events if e.get("event") == "connected"]) == 1
