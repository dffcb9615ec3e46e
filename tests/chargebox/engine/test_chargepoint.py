"""The charge point shell on a virtual clock (looptime): boot, heartbeats and a whole session with
fake hardware and a fake Central System, hours of protocol time in milliseconds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from hal.events import CardPresented, MeterIdentity, MeterReading, PilotState
from hal.meter.base import Meter
from hal.pilot.base import Pilot
from hal.relay.base import Relay

from chargebox.binding import CentralSystemUnreachable
from chargebox.clock import Clock, loop_wall_clock
from chargebox.engine.chargepoint import ChargePoint, ConnectorHardware, Identity, Timers
from chargebox.ocpp.datatypes import IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus, RegistrationStatus
from chargebox.ocpp.messages import (
    AuthorizeConfirmation,
    BootNotificationConfirmation,
    Confirmation,
    HeartbeatConfirmation,
    MeterValuesConfirmation,
    Request,
    StartTransactionConfirmation,
    StatusNotificationConfirmation,
    StopTransactionConfirmation,
)
from chargebox.store.database import open_database
from chargebox.store.outbox import Outbox
from chargebox.store.transactions import TransactionJournal

pytestmark = pytest.mark.looptime


class FakeCentralSystem:
    def __init__(self, *, reachable_after: float = 0.0, boot: list[RegistrationStatus] | None = None) -> None:
        self.sent: list[tuple[float, Request]] = []
        self.reachable_after = reachable_after
        self.boot = boot or []
        self.received = asyncio.Condition()

    async def call(self, request: Request) -> Confirmation:
        now = asyncio.get_running_loop().time()
        if now < self.reachable_after:
            raise CentralSystemUnreachable("down")
        async with self.received:
            self.sent.append((now, request))
            self.received.notify_all()
        time = datetime(2026, 1, 1, tzinfo=timezone.utc)
        match request.action():
            case "BootNotification":
                status = self.boot.pop(0) if self.boot else RegistrationStatus.ACCEPTED
                return BootNotificationConfirmation(status=status, current_time=time, heartbeat_interval=120)
            case "Heartbeat":
                return HeartbeatConfirmation(current_time=time)
            case "Authorize":
                return AuthorizeConfirmation(id_tag_info=IdTagInfo(AuthorizationStatus.ACCEPTED))
            case "StartTransaction":
                return StartTransactionConfirmation(transaction_id=77, id_tag_info=IdTagInfo(AuthorizationStatus.ACCEPTED))
            case "StopTransaction":
                return StopTransactionConfirmation()
            case "MeterValues":
                return MeterValuesConfirmation()
        return StatusNotificationConfirmation()

    def actions(self) -> list[str]:
        return [request.action() for _, request in self.sent]

    async def wait(self, action: str, count: int = 1) -> list[Request]:
        async with self.received:
            await self.received.wait_for(lambda: self.actions().count(action) >= count)
        return [request for _, request in self.sent if request.action() == action]


class FakePilot(Pilot):
    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[PilotState] = asyncio.Queue()

    async def _write_duty(self, duty: float | None) -> None:
        pass

    async def _next_state(self) -> PilotState:
        return await self.queue.get()


class FakeRelay(Relay):
    def __init__(self) -> None:
        super().__init__()
        self.history: list[bool] = []

    async def _write(self, closed: bool) -> None:
        self.history.append(closed)


class FakeMeter(Meter):
    def __init__(self) -> None:
        super().__init__()
        self.energy_wh = 1000.4

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass

    async def _read_values(self) -> dict[str, float]:
        return {"energy_import_wh": self.energy_wh}

    async def _read_identity(self) -> MeterIdentity:
        return MeterIdentity("FAKE", "123")


@pytest.fixture
async def parts() -> AsyncIterator[tuple[FakePilot, FakeRelay, FakeMeter]]:
    yield FakePilot(), FakeRelay(), FakeMeter()


def charge_point(cs: FakeCentralSystem, pilot: Pilot, relay: Relay, meter: Meter) -> ChargePoint:
    db = open_database(":memory:")
    return ChargePoint(
        identity=Identity("chargebox", "test"), client=cs, journal=TransactionJournal(db), outbox=Outbox(db),
        clock=Clock(loop_wall_clock(1_767_225_600.0)),
        connectors={1: ConnectorHardware(pilot, relay, meter, 16.0)}, reader=None,
        timers=Timers(heartbeat_interval=900, meter_value_sample_interval=60, boot_retry_min=10),
    )


async def test_boot_is_retried_until_accepted_and_nothing_is_sent_before(parts) -> None:  # type: ignore[no-untyped-def]
    cs = FakeCentralSystem(reachable_after=3600, boot=[RegistrationStatus.REJECTED])
    cp = charge_point(cs, *parts)
    task = asyncio.create_task(cp.run())
    pilot = parts[0]
    await pilot.queue.put(PilotState.B)  # an event while offline must not leak out before boot
    await cs.wait("StatusNotification")
    task.cancel()
    boots = [t for t, r in cs.sent if r.action() == "BootNotification"]
    assert cs.actions()[:2] == ["BootNotification", "BootNotification"]  # Rejected, then Accepted
    assert boots[0] >= 3600 and boots[1] - boots[0] >= 120 * 0.8  # the interval the CS gave
    assert cs.actions()[2:] == ["StatusNotification"]
    assert cp.timers.heartbeat_interval == 120 and cp.clock.synced


async def test_heartbeats_follow_the_interval_from_boot(parts) -> None:  # type: ignore[no-untyped-def]
    cs = FakeCentralSystem()
    cp = charge_point(cs, *parts)
    task = asyncio.create_task(cp.run())
    await cs.wait("Heartbeat", 3)
    task.cancel()
    times = [t for t, r in cs.sent if r.action() == "Heartbeat"]
    assert [round(b - a) for a, b in zip(times, times[1:], strict=False)] == [120, 120]


async def test_a_session_is_journalled_sent_in_order_and_metered(parts) -> None:  # type: ignore[no-untyped-def]
    pilot, relay, meter = parts
    cs = FakeCentralSystem()
    cp = charge_point(cs, pilot, relay, meter)
    task = asyncio.create_task(cp.run())
    await cs.wait("BootNotification")
    await pilot.queue.put(PilotState.B)
    await cp.present(CardPresented(bytes.fromhex("0A0B0C0D")))
    await pilot.queue.put(PilotState.C)
    (start,) = await cs.wait("StartTransaction")
    meter.energy_wh = 1500.5
    await cs.wait("MeterValues", 2)
    await cp.present(CardPresented(bytes.fromhex("0a0b0c0d")))
    (stop,) = await cs.wait("StopTransaction")
    task.cancel()
    assert start.meter_start == 1000 and stop.meter_stop == 1500  # type: ignore[attr-defined]
    assert stop.transaction_id == 77  # type: ignore[attr-defined]
    assert relay.history == [False, True, False]
    samples = [r for _, r in cs.sent if r.action() == "MeterValues"]
    assert all(s.transaction_id == 77 for s in samples)  # type: ignore[attr-defined]
    times = [t for t, r in cs.sent if r.action() == "MeterValues"]
    assert round(times[1] - times[0]) == 60
    assert cp.journal.recent(1)[0].meter_stop == 1500 and cp.outbox.depth() == 0
