"""The OCPP-J client against an independent 1.6 JSON Central System: the PyPI ``ocpp`` package
(mobilityhouse), which validates every message it receives against the official 1.6 JSON schemas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
from json_central import Adapter, central_system, mobilityhouse_session

from chargebox.binding.ocpp16json.client import JsonClient
from chargebox.binding.ocpp16json.connection import Backoff
from chargebox.ocpp.datatypes import KeyValue
from chargebox.ocpp.enums import AuthorizationStatus, RegistrationStatus, ResetStatus, ResetType
from chargebox.ocpp.errors import NotImplementedAction, NotSupported, OcppError
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
    ResetRequest,
)

ocpp_routing = pytest.importorskip("ocpp.routing")
from ocpp.exceptions import NotSupportedError as OcppNotSupported  # noqa: E402
from ocpp.v16 import ChargePoint as OcppChargePoint  # noqa: E402
from ocpp.v16 import call, call_result  # noqa: E402
from ocpp.v16.enums import Action  # noqa: E402

on = ocpp_routing.on
NOW = "2026-12-03T08:00:00Z"


class Mobilityhouse(OcppChargePoint):  # type: ignore[misc]
    """The Central System: accepts the box, answers Heartbeat and Authorize; no DataTransfer route."""

    def __init__(self, identity: str, connection: Adapter) -> None:
        super().__init__(identity, connection, response_timeout=5)
        self.received: list[str] = []

    @on(Action.boot_notification)
    def on_boot(self, charge_point_vendor: str, charge_point_model: str, **_: Any) -> Any:
        self.received.append(f"BootNotification {charge_point_vendor}")
        return call_result.BootNotification(current_time=NOW, interval=300, status="Accepted")

    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        self.received.append("Heartbeat")
        return call_result.Heartbeat(current_time=NOW)

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> Any:
        self.received.append(f"Authorize {id_tag}")
        return call_result.Authorize(id_tag_info={"status": "Accepted" if id_tag == "GOOD" else "Invalid"})


async def box_handler(request: Request) -> Confirmation:
    """A stub engine: GetConfiguration and Reset answered, nothing else served."""
    if isinstance(request, GetConfigurationRequest):
        return GetConfigurationConfirmation(configuration_key=[KeyValue(key="HeartbeatInterval", readonly=False,
                                                                        value="300")], unknown_key=request.key[1:])
    if isinstance(request, ResetRequest):
        return ResetConfirmation(status=ResetStatus.ACCEPTED if request.type is ResetType.SOFT else ResetStatus.REJECTED)
    raise NotSupported(f"{request.action()} not in this stub")


@pytest.fixture
async def peer() -> AsyncIterator[tuple[JsonClient, asyncio.Queue[Mobilityhouse]]]:
    peers: asyncio.Queue[Mobilityhouse] = asyncio.Queue()
    async with central_system(mobilityhouse_session(Mobilityhouse, peers)) as central:
        client = JsonClient(central.url, "CP 1/ä", handler=box_handler, allow_plain=True, timeout=5,
                            backoff=Backoff(0.01, 0.05))
        try:
            yield client, peers
        finally:
            await client.close()


async def test_boot_heartbeat_and_authorize_are_confirmed(peer: tuple[JsonClient, asyncio.Queue[Mobilityhouse]]) -> None:
    client, peers = peer
    boot = await client.call(BootNotificationRequest(charge_point_vendor="chargebox", charge_point_model="m1"))
    assert isinstance(boot, BootNotificationConfirmation)
    assert (boot.status, boot.heartbeat_interval) == (RegistrationStatus.ACCEPTED, 300)
    assert boot.current_time == datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)
    beat = await client.call(HeartbeatRequest(), "5e0a34c0-5a7d-4bd4-9c55-2f4d8e6b8a11")
    assert isinstance(beat, HeartbeatConfirmation)
    good, bad = [await client.call(AuthorizeRequest(id_tag=tag)) for tag in ("GOOD", "BAD")]
    assert isinstance(good, AuthorizeConfirmation) and isinstance(bad, AuthorizeConfirmation)
    assert (good.id_tag_info.status, bad.id_tag_info.status) == (AuthorizationStatus.ACCEPTED,
                                                                 AuthorizationStatus.INVALID)
    central = peers.get_nowait()
    assert central.received == ["BootNotification chargebox", "Heartbeat", "Authorize GOOD", "Authorize BAD"]
    assert central.id == "CP 1/ä"  # the identity reached the Central System whole (3.1.1, percent-encoded)


async def test_the_central_systems_calls_are_answered(peer: tuple[JsonClient, asyncio.Queue[Mobilityhouse]]) -> None:
    client, peers = peer
    await client.call(HeartbeatRequest())
    central = await peers.get()
    config = await central.call(call.GetConfiguration(key=["HeartbeatInterval", "Nope"]))
    assert config.configuration_key == [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
    assert config.unknown_key == ["Nope"]
    assert (await central.call(call.Reset(type="Soft"))).status == "Accepted"
    assert (await central.call(call.Reset(type="Hard"))).status == "Rejected"


async def test_callerrors_both_ways(peer: tuple[JsonClient, asyncio.Queue[Mobilityhouse]]) -> None:
    client, peers = peer
    # The Central System has no DataTransfer route: its CALLERROR is the neutral error of its code.
    with pytest.raises(OcppError) as refused:
        await client.call(DataTransferRequest(vendor_id="x"))
    assert isinstance(refused.value, (NotImplementedAction, NotSupported))
    central = await peers.get()
    # Actions the stub does not serve (an action the box does not know at all: test_json_link).
    for request in (call.TriggerMessage(requested_message="Heartbeat"), call.ClearCache()):
        with pytest.raises(OcppNotSupported):
            await central.call(request, suppress=False)
    assert isinstance(await client.call(HeartbeatRequest()), HeartbeatConfirmation)  # the link carries on
