"""StopTransaction.req reason (1.6 6.49, 7.35): what ended the transaction, on a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from hal.events import CardPresented, PilotState

from chargebox.engine.connector import Fault
from chargebox.ocpp.datatypes import IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus, ChargePointErrorCode, Reason, ResetType
from chargebox.ocpp.messages import (
    RemoteStopTransactionRequest,
    ResetRequest,
    StartTransactionConfirmation,
    StopTransactionRequest,
    UnlockConnectorRequest,
)
from tests.chargebox.engine.fakes import Box, FakeCentralSystem
from tests.chargebox.engine.test_remote_management import FakeLock

pytestmark = pytest.mark.looptime(end=7 * 86400)

CARD = CardPresented(bytes.fromhex("0A0B0C0D"))


async def charging(box: Box) -> None:
    box.start()
    await box.cs.wait("StatusNotification")
    await box.pilots[0].put(PilotState.B)
    await box.cp.cards.present(CARD)
    await box.pilots[0].put(PilotState.C)
    await box.cs.wait("StartTransaction")


async def card(box: Box) -> None:
    await box.cp.cards.present(CARD)


async def remote(box: Box) -> None:
    await box.cp.handle(RemoteStopTransactionRequest(transaction_id=box.cs.next_transaction_id))


async def unplug(box: Box) -> None:
    await box.pilots[0].put(PilotState.A)


async def unlock(box: Box) -> None:
    await box.cp.handle(UnlockConnectorRequest(connector_id=1))


async def soft_reset(box: Box) -> None:
    await box.cp.handle(ResetRequest(type=ResetType.SOFT))


async def fault(box: Box) -> None:
    await box.cp.devices.connector_fault(box.cp.ports[1], Fault(ChargePointErrorCode.GROUND_FAILURE), True)


async def service_restart(box: Box) -> None:
    await box.restart()  # a clean stop (SIGTERM), then a start


async def power_cut(box: Box) -> None:
    await box.power_cut()


@pytest.mark.parametrize(("stop", "reason"), [
    (card, Reason.LOCAL), (remote, Reason.REMOTE), (unplug, Reason.EV_DISCONNECTED),
    (unlock, Reason.UNLOCK_COMMAND), (soft_reset, Reason.SOFT_RESET), (fault, Reason.OTHER),
    (service_restart, Reason.REBOOT), (power_cut, Reason.POWER_LOSS),
])
async def test_the_stop_transaction_says_what_ended_it(stop: Callable[[Box], Awaitable[None]],
                                                       reason: Reason) -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    await charging(box)
    await stop(box)
    [request] = await cs.wait("StopTransaction")
    assert isinstance(request, StopTransactionRequest) and request.reason is reason
    assert box.cp.journal.recent(1)[0].stop_reason == reason.value
    await box.stop()


async def test_a_reboot_is_told_once_a_later_power_loss_is_power_loss() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    await charging(box)
    await box.restart()
    await cs.wait("StopTransaction")
    await box.pilots[0].put(PilotState.B)
    await box.cp.cards.present(CARD)
    await box.pilots[0].put(PilotState.C)
    await cs.wait("StartTransaction", 2)
    await box.power_cut()
    [_, second] = await cs.wait("StopTransaction", 2)
    assert second.reason is Reason.POWER_LOSS  # type: ignore[attr-defined]
    await box.stop()


@pytest.mark.parametrize("stop_on_invalid", [True, False])
async def test_a_start_not_accepted_delivers_max_energy_on_invalid_id_then_stops(stop_on_invalid: bool) -> None:
    """1.6 errata 3.17, 9.1.14: the EV may get enough to drive away, then the rule of
    StopTransactionOnInvalidId: the transaction stops (DeAuthorized), or only its energy."""
    cs = FakeCentralSystem()
    cs.answers["StartTransaction"] = lambda request: StartTransactionConfirmation(
        transaction_id=99, id_tag_info=IdTagInfo(AuthorizationStatus.INVALID))
    box = Box(cs, version="1.6", MaxEnergyOnInvalidId="100", StopTransactionOnInvalidId=str(stop_on_invalid).lower())
    await charging(box)
    for energy in (1040.4, 1080.4):  # 3.68 kW: 40 Wh every 40 s; not yet 100 Wh
        await asyncio.sleep(40)
        box.meters[0].energy_wh = energy
    await asyncio.sleep(20)
    assert box.relays[0].closed and not cs.of("StopTransaction")
    await asyncio.sleep(20)
    box.meters[0].energy_wh = 1120.4  # 120 Wh delivered
    await box.relays[0].wait(False)
    if stop_on_invalid:
        [stop] = await cs.wait("StopTransaction")
        assert stop.reason is Reason.DE_AUTHORIZED  # type: ignore[attr-defined]
    else:
        assert box.cp.journal.running() and not cs.of("StopTransaction")
    await box.stop()


@pytest.mark.parametrize("version", ["1.5", "1.6"])
async def test_a_deauthorized_session_keeps_its_cable_locked_for_its_owner_in_1_6(version: str) -> None:
    """1.6 errata 3.17: "it SHOULD keep the Charging Cable locked until the owner presents his identifier"."""
    cs = FakeCentralSystem()
    cs.answers["StartTransaction"] = lambda request: StartTransactionConfirmation(
        transaction_id=99, id_tag_info=IdTagInfo(AuthorizationStatus.INVALID))
    box = Box(cs, version=version)
    box.cp.station.connectors[1].cable_lock = True  # a socket outlet
    lock = box.cp.ports[1].hardware.lock = FakeLock(jammed=False)
    await charging(box)
    [stop] = await cs.wait("StopTransaction")
    assert stop.reason is Reason.DE_AUTHORIZED  # type: ignore[attr-defined]
    if version == "1.5":
        assert not lock.locked  # as before: released once the transaction ended
    else:
        assert lock.locked
        await box.cp.cards.present(CardPresented(bytes.fromhex("01020304")))  # someone else's card
        assert lock.locked
        await box.cp.cards.present(CARD)  # the owner's
        assert not lock.locked and len(cs.of("StartTransaction")) == 1  # taken back, nothing started
    await box.stop()
