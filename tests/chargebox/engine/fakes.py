"""Fake hardware and a scriptable fake Central System for engine tests on a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone

from hal.errors import DeviceTimeout
from hal.events import MeterIdentity, PilotState
from hal.meter.base import Meter
from hal.pilot.base import Pilot
from hal.relay.base import Relay
from hal.rfid.base import CardReader

from chargebox.clock import Clock, loop_wall_clock
from chargebox.engine.chargepoint import ChargePoint, ConnectorHardware, Identity, Timers
from chargebox.engine.configuration import Configuration
from chargebox.engine.management import install
from chargebox.engine.limits import GridSupply
from chargebox.engine.smartcharging import Wiring
from chargebox.ocpp.datatypes import IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus, ChargePointStatus, RegistrationStatus
from chargebox.ocpp.errors import CallFailed, CentralSystemUnreachable
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
from chargebox.store import Store

#: 2026-01-01T00:00:00Z, the fake Central System's idea of "now" at loop time 0.
EPOCH = 1_767_225_600.0


class FakeCentralSystem:
    """Answers like a permissive Central System; ``reachable``, ``fail`` and ``answers`` script it."""

    def __init__(self, *, boot: list[RegistrationStatus] | None = None, clock_skew: float = 0.0) -> None:
        self.sent: list[tuple[float, Request]] = []
        self.message_ids: list[str | None] = []  # what each request in ``sent`` carried
        self.reachable = True
        self.boot = boot or []
        self.fail: dict[str, int] = {}  # action -> how many calls still get a SOAP fault
        self.answers: dict[str, Callable[[Request], Confirmation]] = {}
        self.tags: dict[str, IdTagInfo] = {}
        self.next_transaction_id = 77
        self.clock_skew = clock_skew
        self.latency = 0.0  # how long each answer takes
        self.received = asyncio.Condition()

    def now(self) -> datetime:
        return datetime.fromtimestamp(EPOCH + asyncio.get_running_loop().time() + self.clock_skew, timezone.utc)

    def info(self, id_tag: str) -> IdTagInfo:
        return self.tags.get(id_tag, IdTagInfo(AuthorizationStatus.ACCEPTED))

    async def call(self, request: Request, message_id: str | None = None) -> Confirmation:
        action = request.action()
        if not self.reachable:
            raise CentralSystemUnreachable("down")
        async with self.received:
            self.sent.append((asyncio.get_running_loop().time(), request))
            self.message_ids.append(message_id)
            self.received.notify_all()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.fail.get(action, 0) > 0:
            self.fail[action] -= 1
            raise CallFailed("Receiver/InternalError")
        if action in self.answers:
            return self.answers[action](request)
        match action:
            case "BootNotification":
                status = self.boot.pop(0) if self.boot else RegistrationStatus.ACCEPTED
                return BootNotificationConfirmation(status=status, current_time=self.now(), heartbeat_interval=120)
            case "Heartbeat":
                return HeartbeatConfirmation(current_time=self.now())
            case "Authorize":
                return AuthorizeConfirmation(id_tag_info=self.info(request.id_tag))  # type: ignore[attr-defined]
            case "StartTransaction":
                self.next_transaction_id += 1
                return StartTransactionConfirmation(transaction_id=self.next_transaction_id,
                                                    id_tag_info=self.info(request.id_tag))  # type: ignore[attr-defined]
            case "StopTransaction":
                return StopTransactionConfirmation()
            case "MeterValues":
                return MeterValuesConfirmation()
        return StatusNotificationConfirmation()

    def actions(self) -> list[str]:
        return [request.action() for _, request in self.sent]

    def of(self, action: str) -> list[Request]:
        return [request for _, request in self.sent if request.action() == action]

    def times(self, action: str) -> list[float]:
        return [t for t, request in self.sent if request.action() == action]

    async def wait(self, action: str, count: int = 1) -> list[Request]:
        async with self.received:
            await self.received.wait_for(lambda: self.actions().count(action) >= count)
        return self.of(action)


class FakePilot(Pilot):
    """``await put(state)`` returns once the charge point has dealt with the state."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[PilotState] = asyncio.Queue()
        self._taken = False
        self.offers: list[tuple[float, float | None]] = []  # (loop time, amps offered; None: nothing)

    async def put(self, state: PilotState) -> None:
        self.queue.put_nowait(state)
        await self.queue.join()

    async def _write_duty(self, duty: float | None) -> None:
        self.offers.append((asyncio.get_running_loop().time(), self.offered))

    async def _next_state(self) -> PilotState:
        # The charge point asks for the next state only when it has applied the previous one.
        if self._taken:
            self.queue.task_done()
        state = await self.queue.get()
        self._taken = True
        return state


class FakeRelay(Relay):
    def __init__(self) -> None:
        super().__init__()
        self.history: list[bool] = []
        self.changed = asyncio.Event()

    async def _write(self, closed: bool) -> None:
        self.history.append(closed)
        self.changed.set()

    async def wait(self, closed: bool) -> None:
        while self.closed is not closed or not self.history:
            self.changed.clear()
            await self.changed.wait()


class FakeMeter(Meter):
    def __init__(self, energy_wh: float = 1000.4) -> None:
        super().__init__()
        self.energy_wh = energy_wh
        self.broken = False
        self.delay = 0.0  # how long an answer takes (a Modbus round trip)
        self.reads = 0  # questions asked (Modbus round trips)

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass

    async def _read_values(self) -> dict[str, float]:
        self.reads += 1
        await asyncio.sleep(self.delay)
        if self.broken:
            raise DeviceTimeout("meter does not answer")
        return {"energy_import_wh": self.energy_wh, "power_w": 3680.0, "current_l1": 16.0, "voltage_l1": 230.0}

    async def _read_identity(self) -> MeterIdentity:
        return MeterIdentity("FAKE", "123")


class FakeReader(CardReader):
    """Frames as a hex-line reader sends them: a held card's frame every 0.2 s (hold window 0.4 s)."""

    def __init__(self) -> None:
        super().__init__(hold_window=0.4)
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()

    async def hold(self, uid: bytes, seconds: float) -> None:
        """The card on the reader for ``seconds``; returns when it is taken away."""
        start = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - start < seconds:
            self.frames.put_nowait(uid)
            await asyncio.sleep(0.2)

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass

    async def _read_uid(self) -> bytes | None:
        return await self.frames.get()


class FakeRestarter:
    """Records what a Reset asked of the service (:class:`chargebox.service.reset.Restarter`)."""

    def __init__(self, restarts: list[str]) -> None:
        self.restarts = restarts

    def soft(self) -> None:
        self.restarts.append("soft")

    def hard(self) -> None:
        self.restarts.append("hard")


class Box:
    """One charge point with fake parts over a database that outlives restarts of the charge point."""

    def __init__(self, cs: FakeCentralSystem, *, connectors: int = 1, reader: bool = False,
                 told_as: Callable[[ChargePointStatus], str] = str, wiring: Wiring | None = None,
                 grid: GridSupply | None = None, version: str = "1.5", **ocpp: str) -> None:
        self.cs = cs
        self.wiring = wiring  # the site's supply (issue 18); None: no site limit
        self.grid = grid  # its grid meter
        self.version = version  # the daemon's hint of the OCPP version (Configuration.version)
        self.told_as = told_as
        self.reader = FakeReader() if reader else None
        self.store = Store.open(":memory:")
        self.pilots = [FakePilot() for _ in range(connectors)]
        self.relays = [FakeRelay() for _ in range(connectors)]
        self.meters = [FakeMeter() for _ in range(connectors)]
        self.ocpp = {"HeartBeatInterval": "900", "MeterValueSampleInterval": "60", **ocpp}
        self.restarts: list[str] = []  # "soft" / "hard", as the Reset handler asked the service
        self.boot_id = "boot-1"  # the kernel's boot id: a hard reset that reboots changes it
        self.wall = loop_wall_clock(EPOCH)  # the system clock goes on across restarts
        self.cp = self.build()
        self.task: asyncio.Task[None] | None = None

    def build(self) -> ChargePoint:
        hardware = {n + 1: ConnectorHardware(self.pilots[n], self.relays[n], self.meters[n], 16.0)
                    for n in range(len(self.pilots))}
        cp = ChargePoint(
            identity=Identity("chargebox", "test"), client=self.cs, store=self.store,
            config=Configuration(self.store.settings, self.ocpp, version=self.version), clock=Clock(self.wall),
            connectors=hardware, reader=self.reader, timers=Timers(boot_retry_min=10), told_as=self.told_as,
        )
        self.management = install(cp, FakeRestarter(self.restarts), lambda: self.boot_id, wiring=self.wiring,
                                  grid=self.grid)
        return cp

    def start(self) -> ChargePoint:
        self.task = asyncio.create_task(self.cp.run())
        return self.cp

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def restart(self) -> ChargePoint:
        """A new charge point with new devices on the same database, as after a power cut or a
        service restart; the meters keep their registers and the EVs stay plugged in."""
        await self.stop()
        for n, old in enumerate(self.meters):
            self.meters[n] = FakeMeter(old.energy_wh)
            self.meters[n].broken = old.broken
        self.pilots = [FakePilot() for _ in self.pilots]
        self.cp = self.build()
        return self.start()

    async def power_cut(self) -> ChargePoint:
        """:meth:`restart` after a power cut: the old charge point's work ends where it stands (its
        loops, spawned tasks and meter reads), with no clean stop: relays, journal and devices are
        left as they were."""
        old = self.cp

        async def cut() -> None:
            work = list(old._tasks)
            for task in work:
                task.cancel()
            await asyncio.gather(*work, return_exceptions=True)

        old._shutdown = cut  # type: ignore[method-assign]
        return await self.restart()
