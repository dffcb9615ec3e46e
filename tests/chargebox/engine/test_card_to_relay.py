"""What sits between a card and the relay (issue 19), on a virtual clock (looptime).

A session's meterStart (StartTransaction.req, 1.5 6.39, 1.6 6.45) is the reading the card's
authorization asks the meter for, so a meter that does not answer refuses it; with the relay open
since, that reading is the register when the session begins, so neither the journal nor the charging
limits ask again; a reading taken before the relay last opened is not. The StartTransaction leaves
once the relay has closed (or the EV takes its time), so the Central System's answer never comes first,
and so does the connector's status lane: a status that lasted only until then is not told (1.6 4.9)."""

from __future__ import annotations

import asyncio

import pytest
from hal.events import PilotState

from chargebox.engine.connector import SwitchRelay
from chargebox.engine.station import On
from chargebox.ocpp.enums import ChargePointStatus
from chargebox.ocpp.messages import Confirmation, Request, StartTransactionConfirmation, StartTransactionRequest, \
    StatusNotificationRequest, StopTransactionRequest
from tests.chargebox.engine.fakes import Box, FakeCentralSystem
from tests.chargebox.engine.test_chargepoint import CARD

pytestmark = pytest.mark.looptime(end=7 * 86400)


async def start(box: Box) -> int:
    """A cable, a card, and the EV asks for energy a second after the offer; the meter's questions
    from the card to the offer (authorize, the journal, the charging limits' first look)."""
    await box.pilots[0].put(PilotState.B)
    asked = box.meters[0].reads
    await box.cp.cards.present(CARD)
    await asyncio.sleep(1)
    questions = box.meters[0].reads - asked
    await box.pilots[0].put(PilotState.C)
    await box.relays[0].wait(True)
    return questions


async def unplug(box: Box) -> None:
    await box.pilots[0].put(PilotState.A)
    await box.relays[0].wait(False)


async def test_a_start_asks_the_meter_once_and_begins_with_that_reading() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    box.start()
    await cs.wait("BootNotification")
    await start(box)
    box.meters[0].energy_wh = 1020.5  # what a minute of charging counts
    await asyncio.sleep(60)
    await unplug(box)  # the relay opens, then the StopTransaction's reading is taken
    (stop,) = await cs.wait("StopTransaction")
    await asyncio.sleep(600)
    assert await start(box) == 1  # the card's question; neither the journal nor the limits ask again
    starts = await cs.wait("StartTransaction", 2)
    await box.stop()
    assert isinstance(stop, StopTransactionRequest) and isinstance(starts[1], StartTransactionRequest)
    assert stop.meter_stop == 1020 and starts[1].meter_start == 1020


async def test_a_reading_taken_before_the_relay_last_opened_is_not_the_start() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = box.start()
    await cs.wait("BootNotification")
    await cp.cards.present(CARD)  # authorized before the cable: the meter says 1000 Wh
    port = cp.ports[1]
    async with port.lock:  # the contactor closed and opened again meanwhile (a maintenance check)
        await cp.apply([On(1, SwitchRelay(True))])
        box.meters[0].energy_wh = 1010.0  # energy flowed
        await cp.apply([On(1, SwitchRelay(False))])
    asked = box.meters[0].reads
    await box.pilots[0].put(PilotState.C)  # the cable, and the session begins
    await box.relays[0].wait(True)
    (start_request,) = await cs.wait("StartTransaction")
    await box.stop()
    assert isinstance(start_request, StartTransactionRequest) and start_request.meter_start == 1010
    assert box.meters[0].reads >= asked + 1  # asked again


async def test_a_meter_that_failed_since_its_reading_at_hand_still_refuses_a_session(
        caplog: pytest.LogCaptureFixture) -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = box.start()
    await cs.wait("BootNotification")
    await start(box)
    box.meters[0].broken = True
    await unplug(box)  # the StopTransaction's reading fails: the last good one is the session's
    await cs.wait("StopTransaction")
    await box.pilots[0].put(PilotState.B)
    await cp.cards.present(CARD)
    await asyncio.sleep(60)
    assert len(cs.of("StartTransaction")) == 1 and box.relays[0].history.count(True) == 1
    assert "card …0C0D refused: the meter of connector 1 cannot be read" in caplog.text
    assert cp.ports[1].machine.status is ChargePointStatus.FAULTED
    box.meters[0].broken = False  # it answers again: the meter watch makes the connector available
    await asyncio.sleep(11)
    await cp.cards.present(CARD)
    await cs.wait("StartTransaction", 2)
    await box.stop()


async def test_the_start_transaction_leaves_once_the_relay_has_closed() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    relay_when_told: list[bool] = []

    def answer(request: Request) -> Confirmation:
        relay_when_told.append(box.relays[0].closed)
        return StartTransactionConfirmation(transaction_id=1, id_tag_info=cs.info(CARD.id_token))

    cs.answers["StartTransaction"] = answer
    box.start()
    await cs.wait("BootNotification")
    await box.pilots[0].put(PilotState.B)
    await box.cp.cards.present(CARD)  # journalled, queued, current offered
    await box.pilots[0].put(PilotState.C)  # the EV asks for energy at once
    await cs.wait("StartTransaction")
    await box.stop()
    assert relay_when_told == [True]


async def test_the_start_transaction_of_an_ev_that_does_not_ask_for_energy_goes_after_start_wait() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    box.start()
    await cs.wait("BootNotification")
    await box.pilots[0].put(PilotState.B)
    await box.cp.cards.present(CARD)
    begun = asyncio.get_running_loop().time()
    await cs.wait("StartTransaction")
    told = cs.times("StartTransaction")[0]
    await box.stop()
    assert told - begun == 1.0 and True not in box.relays[0].history  # Timers.start_wait


def told(cs: FakeCentralSystem) -> list[tuple[float, ChargePointStatus]]:
    return [(t, r.status) for t, r in cs.sent if isinstance(r, StatusNotificationRequest) and r.connector_id == 1]


async def plugged_16() -> tuple[FakeCentralSystem, Box, int]:
    """A 1.6 box booted with an EV plugged in and its statuses told; how many were told."""
    cs = FakeCentralSystem()
    box = Box(cs, version="1.6")
    box.start()
    await cs.wait("BootNotification")
    await box.pilots[0].put(PilotState.B)
    await asyncio.sleep(5)
    return cs, box, len(told(cs))


async def test_no_status_goes_between_the_card_and_the_relay() -> None:
    cs, box, before = await plugged_16()
    await box.cp.cards.present(CARD)  # current offered: SuspendedEV until the EV asks for it
    card = asyncio.get_running_loop().time()
    await asyncio.sleep(0.5)
    await box.pilots[0].put(PilotState.C)
    await box.relays[0].wait(True)
    relay = asyncio.get_running_loop().time()
    await cs.wait("StartTransaction")
    await asyncio.sleep(5)
    await box.stop()
    assert [status for _, status in told(cs)[:before]][-1] is ChargePointStatus.PREPARING
    during = [status for t, status in told(cs)[before:] if card <= t < relay]
    assert during == [] and [status for _, status in told(cs)[before:]] == [ChargePointStatus.CHARGING]


async def test_the_status_of_an_ev_that_does_not_ask_for_energy_goes_after_start_wait() -> None:
    cs, box, before = await plugged_16()
    await box.cp.cards.present(CARD)
    card = asyncio.get_running_loop().time()
    await asyncio.sleep(5)
    await box.stop()
    assert [(t - card, status) for t, status in told(cs)[before:]] == [(1.0, ChargePointStatus.SUSPENDED_EV)]
