"""StopTransaction.req reason (1.6 6.49, 7.35): what ended the transaction, on a virtual clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from hal.events import CardPresented, PilotState

from chargebox.engine.connector import Fault
from chargebox.ocpp.enums import ChargePointErrorCode, Reason, ResetType
from chargebox.ocpp.messages import (
    RemoteStopTransactionRequest,
    ResetRequest,
    StopTransactionRequest,
    UnlockConnectorRequest,
)
from tests.chargebox.engine.fakes import Box, FakeCentralSystem

pytestmark = pytest.mark.looptime(end=7 * 86400)

CARD = CardPresented(bytes.fromhex("0A0B0C0D"))


async def charging(box: Box) -> None:
    box.start()
    await box.cs.wait("StatusNotification")
    await box.pilots[0].put(PilotState.B)
    await box.cp.present(CARD)
    await box.pilots[0].put(PilotState.C)
    await box.cs.wait("StartTransaction")


async def card(box: Box) -> None:
    await box.cp.present(CARD)


async def remote(box: Box) -> None:
    await box.cp.handle(RemoteStopTransactionRequest(transaction_id=box.cs.next_transaction_id))


async def unplug(box: Box) -> None:
    await box.pilots[0].put(PilotState.A)


async def unlock(box: Box) -> None:
    await box.cp.handle(UnlockConnectorRequest(connector_id=1))


async def soft_reset(box: Box) -> None:
    await box.cp.handle(ResetRequest(type=ResetType.SOFT))


async def fault(box: Box) -> None:
    await box.cp.connector_fault(box.cp.ports[1], Fault(ChargePointErrorCode.GROUND_FAILURE), True)


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
    await box.cp.present(CARD)
    await box.pilots[0].put(PilotState.C)
    await cs.wait("StartTransaction", 2)
    await box.power_cut()
    [_, second] = await cs.wait("StopTransaction", 2)
    assert second.reason is Reason.POWER_LOSS  # type: ignore[attr-defined]
    await box.stop()
