"""SMS wake-up, WeakSignal and the SIM's identity in BootNotification, on a virtual clock with a fake
modem and the fake Central System (8.3)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from chargebox.mobile.policy import WakeUpPolicy, why_ignored
from chargebox.mobile.wakeup import IDENTITY_WAIT, MobileLink
from chargebox.ocpp.enums import ChargePointErrorCode
from chargebox.ocpp.messages import BootNotificationRequest, StatusNotificationRequest
from hal.errors import DeviceTimeout
from hal.events import FaultKind, ModemIdentity, SmsReceived
from hal.modem.base import Modem
from tests.chargebox.engine.fakes import Box, FakeCentralSystem

pytestmark = pytest.mark.looptime(end=7 * 86400)
IDENTITY = "CB-1"


class FakeModem(Modem):
    """Messages put with :meth:`receive`; ``silent`` makes its identity never come."""

    def __init__(self) -> None:
        super().__init__()
        self.inbox: asyncio.Queue[int] = asyncio.Queue()
        self.stored: dict[int, SmsReceived] = {}
        self.silent = False
        self.closed = 0

    def receive(self, text: str, sender: str = "+31611112222") -> None:
        index = len(self.stored) + 1
        self.stored[index] = SmsReceived(sender, text, index)
        self.inbox.put_nowait(index)

    def fault(self, kind: FaultKind, active: bool, detail: str = "") -> None:
        self._report(kind, active, detail)

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        self.closed += 1

    async def _list_messages(self) -> list[SmsReceived]:
        return []

    async def _read_message(self, storage: str, index: int) -> SmsReceived | None:
        return self.stored.get(index)

    async def _delete_message(self, sms: SmsReceived) -> None:
        self.stored.pop(sms.index, None)

    async def _next_indication(self) -> tuple[str, int]:
        return "ME", await self.inbox.get()

    async def _read_signal(self) -> tuple[int | None, int | None]:
        return -70, 0

    async def _read_identity(self) -> ModemIdentity:
        if self.silent:
            await asyncio.Event().wait()
        return ModemIdentity("89314404000123456789", "204043123456789")


async def start(policy: WakeUpPolicy | None = None, silent: bool = False) -> tuple[Box, FakeModem, MobileLink]:
    cs = FakeCentralSystem()
    box = Box(cs)
    modem = FakeModem()
    modem.silent = silent
    link = MobileLink(box.cp, modem, IDENTITY, policy or WakeUpPolicy(min_interval=60))
    box.cp.spawn(link.run())
    box.start()
    await box.cp.uplink.booted.wait()
    return box, modem, link


async def test_an_sms_sends_a_heartbeat_at_once_whatever_the_timer() -> None:
    box, modem, link = await start()
    await asyncio.sleep(10)
    assert box.cs.of("Heartbeat") == []  # the timer says 120 s
    modem.receive(IDENTITY)
    await box.cs.wait("Heartbeat")
    assert box.cs.times("Heartbeat") == [pytest.approx(10, abs=0.01)]
    assert modem.stored == {}  # taken, so deleted
    await box.stop()


async def test_stopping_closes_the_modem() -> None:
    box = Box(FakeCentralSystem())
    modem = FakeModem()
    running = asyncio.create_task(MobileLink(box.cp, modem, IDENTITY).run())
    await asyncio.sleep(1)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert modem.closed == 1


async def test_a_burst_of_sms_is_one_heartbeat_now_and_one_when_the_interval_ends() -> None:
    box, modem, link = await start(WakeUpPolicy(min_interval=60))
    await asyncio.sleep(1000)  # well past the heartbeat timer's own heartbeats
    before = len(box.cs.of("Heartbeat"))
    for _ in range(20):
        modem.receive("")  # an empty SMS wakes too (8.3)
        await asyncio.sleep(1)
    await box.cs.wait("Heartbeat", before + 2)
    await asyncio.sleep(300)
    wake_ups = [t for t in box.cs.times("Heartbeat") if 1000 <= t < 1180]  # 1180: the timer's own
    assert wake_ups == [pytest.approx(1000, abs=0.01), pytest.approx(1060, abs=0.01)]
    assert (link.woken, link.heartbeats) == (20, 2)
    await box.stop()


async def test_sms_before_boot_is_answered_once_booted() -> None:
    cs = FakeCentralSystem()
    cs.reachable = False
    box = Box(cs)
    modem = FakeModem()
    link = MobileLink(box.cp, modem, IDENTITY)
    box.cp.spawn(link.run())
    box.start()
    modem.receive(IDENTITY)
    await asyncio.sleep(5)
    cs.reachable = True
    await cs.wait("Heartbeat")
    assert cs.actions().index("BootNotification") < cs.actions().index("Heartbeat")
    await box.stop()


async def test_sms_for_another_box_is_ignored_and_its_text_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    box, modem, link = await start(WakeUpPolicy(only_for_this_box=True, min_interval=0))
    caplog.set_level(logging.DEBUG)
    modem.receive("CB-2 token-s3cr3t", sender="+31611119876")
    modem.receive("wake cb-1 please")  # case-insensitive, as chargeBoxIdentity is (8.1)
    await box.cs.wait("Heartbeat")
    assert (link.ignored, link.woken) == (1, 1)
    assert "s3cr3t" not in caplog.text and "+31611119876" not in caplog.text
    assert "SMS from …9876 (17 characters) ignored: it does not name this box" in caplog.text
    await box.stop()


def test_the_wake_up_policy() -> None:
    def sms(text: str, sender: str = "+31611112222") -> SmsReceived:
        return SmsReceived(sender, text, 1)
    anyone = WakeUpPolicy()
    strict = WakeUpPolicy(only_for_this_box=True, allowed_senders=("+31611112222",))
    assert why_ignored(sms("CB-2"), IDENTITY, anyone) is None
    assert why_ignored(sms(""), IDENTITY, strict) is None
    assert why_ignored(sms("  \n "), IDENTITY, strict) is None
    assert why_ignored(sms("wake: CB-1"), IDENTITY, strict) is None
    assert why_ignored(sms("CB-10"), IDENTITY, strict) == "it does not name this box"
    assert why_ignored(sms("CB-1", "+4917000000"), IDENTITY, strict) == "its sender may not wake this box"


async def test_iccid_and_imsi_go_into_boot_notification() -> None:
    box, modem, link = await start()
    (boot,) = box.cs.of("BootNotification")
    assert isinstance(boot, BootNotificationRequest)
    assert (boot.iccid, boot.imsi) == ("89314404000123456789", "204043123456789")
    await box.stop()


async def test_a_modem_that_does_not_tell_its_identity_does_not_hold_the_boot_back() -> None:
    box, modem, link = await start(silent=True)
    (boot,) = box.cs.of("BootNotification")
    assert isinstance(boot, BootNotificationRequest) and boot.iccid is None and boot.imsi is None
    assert box.cs.times("BootNotification")[0] == pytest.approx(IDENTITY_WAIT, abs=0.01)
    with pytest.raises(DeviceTimeout):
        await link.boot_details()
    await box.stop()


async def test_weak_signal_and_a_lost_modem_are_box_faults_on_connector_0() -> None:
    box, modem, link = await start()
    await box.cs.wait("StatusNotification")
    modem.fault(FaultKind.WEAK_SIGNAL, True, "signal -109 dBm, below -101 dBm")
    await box.cs.wait("StatusNotification", 2)
    modem.fault(FaultKind.WEAK_SIGNAL, False)
    await box.cs.wait("StatusNotification", 3)
    modem.fault(FaultKind.MODEM, True, "modem on /dev/ttyUSB2 is not answering")
    await box.cs.wait("StatusNotification", 4)
    statuses = [s for s in box.cs.of("StatusNotification") if isinstance(s, StatusNotificationRequest)]
    box_statuses = [(s.connector_id, s.error_code, s.info) for s in statuses[1:]]
    assert box_statuses == [
        (0, ChargePointErrorCode.WEAK_SIGNAL, "signal -109 dBm, below -101 dBm"),
        (0, ChargePointErrorCode.NO_ERROR, None),
        (0, ChargePointErrorCode.OTHER_ERROR, "modem not answering"),
    ]
    assert statuses[-1].vendor_error_code == "Modem"
    await box.stop()
