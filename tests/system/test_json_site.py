"""The daemon with ``central_system.protocol = "ocpp1.6-json"``, on the simulator, against the mobilityhouse
``ocpp`` package as its Central System (which validates every message against the official 1.6 JSON
schemas): it connects over the WebSocket, boots, runs a session, answers the Central System's calls and
stops cleanly; it takes that Central System's charging profiles and the pilot offers their limits
(issue 18)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from chargebox.site import SimulatedSite
from tests.chargebox.binding.ocpp16json.json_central import Adapter, Central, central_system, mobilityhouse_session
from tests.system.sitetools import session as charge
from tests.system.sitetools import wait_until
from tests.system.test_smart_charging_site import loads, near, offered, profile

ocpp_routing = pytest.importorskip("ocpp.routing")
from ocpp.v16 import ChargePoint as OcppChargePoint  # noqa: E402
from ocpp.v16 import call, call_result  # noqa: E402
from ocpp.v16.enums import Action  # noqa: E402

pytestmark = pytest.mark.system

on = ocpp_routing.on
NOW = "2026-12-03T08:00:00Z"
CARD = "04A2B3C4D5E680"
KEY = "0123456789abcdef0123456789abcdef01234567"  # the AuthorizationKey: Basic auth, never logged
WAIT = 30.0


class Recorder(OcppChargePoint):  # type: ignore[misc]
    """Accepts everything valid and records it; what failed its schema check is answered with a
    CALLERROR by the package and recorded in ``refused``."""

    def __init__(self, identity: str, connection: Adapter) -> None:
        super().__init__(identity, connection, response_timeout=10)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.refused: list[str] = []
        self.changed = asyncio.Event()

    def _got(self, action: str, payload: dict[str, Any]) -> None:
        self.received.append((action, payload))
        self.changed.set()

    async def _send(self, message: str) -> None:
        if message.startswith("[4,"):
            self.refused.append(message)
        await super()._send(message)

    async def wait(self, action: str, count: int = 1) -> list[dict[str, Any]]:
        async with asyncio.timeout(WAIT):
            while len(found := [p for a, p in self.received if a == action]) < count:
                self.changed.clear()
                await self.changed.wait()
        return found

    @on(Action.boot_notification)
    def on_boot(self, **payload: Any) -> Any:
        self._got("BootNotification", payload)
        return call_result.BootNotification(current_time=NOW, interval=300, status="Accepted")

    # Not checked against the schema: the engine still reports 1.5's "Occupied" (1.6's status model is
    # the 1.6 messages' part of issue 17, not the transport's); the statuses are left out of the checks.
    @on(Action.status_notification, skip_schema_validation=True)
    def on_status(self, **payload: Any) -> Any:
        self._got("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        self._got("Heartbeat", {})
        return call_result.Heartbeat(current_time=NOW)

    @on(Action.authorize)
    def on_authorize(self, **payload: Any) -> Any:
        self._got("Authorize", payload)
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.start_transaction)
    def on_start(self, **payload: Any) -> Any:
        self._got("StartTransaction", payload)
        return call_result.StartTransaction(transaction_id=4711, id_tag_info={"status": "Accepted"})

    @on(Action.meter_values)
    def on_meter_values(self, **payload: Any) -> Any:
        self._got("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop(self, **payload: Any) -> Any:
        self._got("StopTransaction", payload)
        return call_result.StopTransaction()


class JsonSite(SimulatedSite):
    """The simulated site speaking OCPP-J to another Central System: the generated config's
    ``[central_system]`` gets that Central System's ws:// URL, a ping interval and the AuthorizationKey."""

    def __init__(self, url: str, ocpp: dict[str, str | int | bool] | None = None) -> None:
        super().__init__(protocol="ocpp1.6-json", sample_interval=1, ocpp=ocpp,
                         central_system_port=int(url.rsplit(":", 1)[1].split("/")[0]))
        self._url = url

    def start_daemon(self) -> Any:
        text = self.config_path.read_text()
        text = re.sub(r'(\[central_system\]\nprotocol = "ocpp1.6-json"\n)url = "[^"]*"\n',
                      f'\\1url = "{self._url}"\nping_interval = 5\nauthorization_key = "{KEY}"\n', text)
        self.config_path.write_text(text)
        return super().start_daemon()


@pytest.fixture
async def central() -> AsyncIterator[tuple[Central, asyncio.Queue[Recorder]]]:
    peers: asyncio.Queue[Recorder] = asyncio.Queue()
    async with central_system(mobilityhouse_session(Recorder, peers), password=KEY) as served:
        yield served, peers


async def test_a_session_over_ocpp_j(central: tuple[Central, asyncio.Queue[Recorder]]) -> None:
    served, peers = central
    site = JsonSite(served.url)
    try:
        await asyncio.to_thread(site.start)
        async with asyncio.timeout(WAIT):
            cs = await peers.get()
        boot = (await cs.wait("BootNotification"))[0]
        assert boot["charge_point_vendor"] == "chargebox"
        # The Central System's calls come over the same WebSocket, answered by the engine.
        config = await cs.call(call.GetConfiguration(key=["MeterValueSampleInterval"]), suppress=False)
        assert [entry["key"] for entry in config.configuration_key] == ["MeterValueSampleInterval"]

        await asyncio.to_thread(site.hw, "POST", "/plug", {"connector": 1})
        await asyncio.to_thread(site.hw, "POST", "/card", {"uid": CARD})
        await cs.wait("StartTransaction")
        await cs.wait("MeterValues", 2)
        await asyncio.to_thread(site.hw, "POST", "/card", {"uid": CARD})
        stop = (await cs.wait("StopTransaction"))[0]
        assert stop["transaction_id"] == 4711
        await asyncio.to_thread(site.hw, "POST", "/unplug", {"connector": 1})

        assert cs.refused == []  # every message the box sent passed the official 1.6 JSON schema
        actions = [a for a, _ in cs.received if a not in ("StatusNotification", "MeterValues", "Heartbeat")]
        assert actions == ["BootNotification", "Authorize", "StartTransaction", "StopTransaction"]
        assert await asyncio.to_thread(site.stop_daemon) == 0
        assert KEY not in site.log("chargebox")
    finally:
        print(site.log("chargebox"))
        await asyncio.to_thread(site.stop)
        site.remove()


async def test_a_session_while_the_link_is_down_is_delivered_in_order_when_it_is_back(
        central: tuple[Central, asyncio.Queue[Recorder]]) -> None:
    served, peers = central
    site = JsonSite(served.url, ocpp={"AllowOfflineTxForUnknownId": True, "LocalPreAuthorize": True,
                                      "OfflineRetryInterval": 1})
    try:
        await asyncio.to_thread(site.start)
        async with asyncio.timeout(WAIT):
            cs = await peers.get()
        await cs.wait("StatusNotification")  # sent once the boot is accepted: the box has its answer
        await served.cut()
        assert await asyncio.to_thread(charge, site, CARD)  # a whole session offline (1.6 3.3.6)
        assert [a for a, _ in cs.received if a in ("StartTransaction", "StopTransaction")] == []
        served.refuse = False  # the network is back: the box reconnects and empties its outbox
        async with asyncio.timeout(WAIT):
            back = await peers.get()
        start = (await back.wait("StartTransaction"))[0]
        stop = (await back.wait("StopTransaction"))[0]
        assert start["id_tag"] == CARD and stop["transaction_id"] == 4711
        order = [a for a, _ in back.received if a in ("StartTransaction", "StopTransaction")]
        assert order == ["StartTransaction", "StopTransaction"]
        assert back.refused == []
        assert await asyncio.to_thread(site.stop_daemon) == 0
    finally:
        print(site.log("chargebox"))
        await asyncio.to_thread(site.stop)
        site.remove()


def limits(composite: Any) -> list[Any]:
    """The limits of a GetCompositeSchedule answer's periods, in order."""
    return [period["limit"] for period in composite.charging_schedule["charging_schedule_period"]]


async def test_charging_profiles_from_the_mobilityhouse_central_system_limit_the_offered_current(
        central: tuple[Central, asyncio.Queue[Recorder]]) -> None:
    """Issue 18's interop: the package's SetChargingProfile, RemoteStartTransaction with a chargingProfile,
    GetCompositeSchedule and ClearChargingProfile, each answer valid for its schemas, and hwsim's offered
    current (its ``current`` events) following the limits: a ChargePointMaxProfile caps the session's
    TxProfiles, and a TxDefaultProfile of two periods changes the offer at its period's boundary."""
    served, peers = central
    site = JsonSite(served.url)

    async def until(condition: Callable[[], bool]) -> None:
        await asyncio.to_thread(wait_until, condition, WAIT)

    async def ask(request: Any) -> Any:
        return await cs.call(request, suppress=False)  # a CALLERROR, or an answer off its schema, raises

    try:
        await asyncio.to_thread(site.start)
        async with asyncio.timeout(WAIT):
            cs = await peers.get()
        await cs.wait("StatusNotification")
        box_max = profile(1, "ChargePointMaxProfile", 11.0, start="2026-01-01T00:00:00Z")
        answer = await ask(call.SetChargingProfile(connector_id=0, cs_charging_profiles=box_max))
        assert answer.status == "Accepted"
        await asyncio.to_thread(site.hw, "POST", "/plug", {"connector": 1})
        started = await ask(call.RemoteStartTransaction(id_tag=CARD, connector_id=1,
                                                        charging_profile=profile(2, "TxProfile", 8.0)))
        assert started.status == "Accepted"
        await cs.wait("StartTransaction")
        await until(lambda: near(offered(site, 1), 8.0))  # the remote start's TxProfile (5.16, errata 3.42)
        # A TxProfile of a higher stack level for the running transaction overrules it (3.13.2).
        higher = {**profile(3, "TxProfile", 13.0), "stackLevel": 1, "transactionId": 4711}
        answer = await ask(call.SetChargingProfile(connector_id=1, cs_charging_profiles=higher))
        assert answer.status == "Accepted"
        await until(lambda: near(offered(site, 1), 11.0))  # capped by the ChargePointMaxProfile (3.13.3)
        composite = await ask(call.GetCompositeSchedule(connector_id=1, duration=60, charging_rate_unit="A"))
        assert (composite.status, composite.connector_id) == ("Accepted", 1), composite
        assert "start_schedule" not in composite.charging_schedule, composite  # errata 3.57
        assert composite.charging_schedule["charging_rate_unit"] == "A", composite
        assert limits(composite) == [11.0], composite

        cleared = await ask(call.ClearChargingProfile(charging_profile_purpose="TxProfile"))
        assert cleared.status == "Accepted"
        cleared = await ask(call.ClearChargingProfile(id=1))
        assert cleared.status == "Accepted"
        await until(lambda: near(offered(site, 1), 16.0))
        composite = await ask(call.GetCompositeSchedule(connector_id=1, duration=60))
        assert limits(composite) == [16.0], composite
        # A default for every connector of two periods: 12 A, then 10 A from 20 s on. Its start is the box's
        # time, which the BootNotification's currentTime set (NOW), as scheduleStart shows.
        mark = len(loads(site))
        now = datetime.fromisoformat(composite.schedule_start).astimezone(UTC).replace(microsecond=0)
        default = profile(4, "TxDefaultProfile", 12.0, start=now.isoformat().replace("+00:00", "Z"))
        default["chargingSchedule"]["chargingSchedulePeriod"].append({"startPeriod": 20, "limit": 10.0})
        answer = await ask(call.SetChargingProfile(connector_id=0, cs_charging_profiles=default))
        assert answer.status == "Accepted"
        composite = await ask(call.GetCompositeSchedule(connector_id=1, duration=300))
        periods = composite.charging_schedule["charging_schedule_period"]
        assert limits(composite) == [12.0, 10.0], composite
        assert periods[0]["start_period"] == 0 and 0 < periods[1]["start_period"] <= 20, composite
        await until(lambda: near(offered(site, 1), 10.0))
        after = [step[1][0] for step in loads(site)[mark:] if 1 in step]
        boundary = next(i for i, amps in enumerate(after) if near(amps, 10.0))
        assert any(near(amps, 12.0) for amps in after[:boundary]), after  # the first period was offered

        stopped = await ask(call.RemoteStopTransaction(transaction_id=4711))
        assert stopped.status == "Accepted"
        await cs.wait("StopTransaction")
        assert (await ask(call.ClearChargingProfile())).status == "Accepted"  # the default, the last one
        assert (await ask(call.ClearChargingProfile())).status == "Unknown"
        assert cs.refused == []
        assert await asyncio.to_thread(site.stop_daemon) == 0
    finally:
        print(site.log("chargebox"))
        await asyncio.to_thread(site.stop)
        site.remove()
