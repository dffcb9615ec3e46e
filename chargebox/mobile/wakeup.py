"""Life on a mobile network (8.3): a Central System that cannot reach the box wakes it with an SMS,
and the box answers with a Heartbeat.req whose wsa:From carries its current URL, whatever the
heartbeat timer says; the Central System then sends its pending command there.

:class:`MobileLink` runs the modem for the charge point: wake-up SMS become heartbeats (at most one
per ``min_interval``: a burst of SMS is one heartbeat now and at most one more when the interval
ends), the modem's weak signal and failure become box faults on connector 0, and the SIM's ICCID and
IMSI go into BootNotification.req (6.3). Message texts may carry secrets, so they never reach a
log: a message is logged by its sender's last digits and its length only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from chargebox.engine.chargepoint import ChargePoint
from chargebox.engine.connector import Fault
from chargebox.mobile.policy import WakeUpPolicy, why_ignored
from chargebox.ocpp.enums import ChargePointErrorCode
from hal.errors import DeviceTimeout
from hal.events import DeviceFault, FaultKind, SmsReceived
from hal.modem.base import Modem

log = logging.getLogger(__name__)

#: How long BootNotification waits for the SIM's identity before it goes without (a modem that does
#: not answer must not hold the boot back).
IDENTITY_WAIT = 5.0


def _masked(sender: str) -> str:
    return f"…{sender[-4:]}" if sender else "an unknown sender"


class MobileLink:
    """``await run()`` beside the charge point (it is cancelled with it and closes the modem)."""

    def __init__(self, charge_point: ChargePoint, modem: Modem, identity: str,
                 policy: WakeUpPolicy | None = None) -> None:
        self.charge_point = charge_point
        self.modem = modem
        self.identity = identity
        self.policy = policy or WakeUpPolicy()
        #: Wake-up heartbeats sent, and SMS that woke or were ignored (for status and tests).
        self.heartbeats = 0
        self.woken = 0
        self.ignored = 0
        self._wanted = asyncio.Event()
        charge_point.boot_details.append(self.boot_details)

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._messages())
                group.create_task(self._faults())
                group.create_task(self._heartbeats())
        finally:
            await self.modem.close()

    async def boot_details(self) -> dict[str, Any]:
        """BootNotification.req's iccid and imsi, from the SIM."""
        try:
            async with asyncio.timeout(IDENTITY_WAIT):
                sim = await self.modem.identity()
        except TimeoutError as err:
            raise DeviceTimeout(f"the modem did not tell its SIM's identity within {IDENTITY_WAIT} s") from err
        return {key: value for key, value in (("iccid", sim.iccid), ("imsi", sim.imsi)) if value}

    def on_sms(self, sms: SmsReceived) -> None:
        reason = why_ignored(sms, self.identity, self.policy)
        if reason is not None:
            self.ignored += 1
            log.info("SMS from %s (%d characters) ignored: %s", _masked(sms.sender), len(sms.text), reason)
            return
        self.woken += 1
        log.info("SMS from %s (%d characters): waking up, Heartbeat.req with wsa:From (8.3)",
                 _masked(sms.sender), len(sms.text))
        self._wanted.set()

    def on_fault(self, fault: DeviceFault) -> None:
        if fault.kind is FaultKind.WEAK_SIGNAL:
            box_fault = Fault(ChargePointErrorCode.WEAK_SIGNAL, fault.detail[:50])
        elif fault.kind is FaultKind.MODEM:
            box_fault = Fault(ChargePointErrorCode.OTHER_ERROR, "modem not answering", vendor_error_code="Modem")
        else:
            return
        if fault.active and fault.kind is FaultKind.WEAK_SIGNAL:
            # A lost modem is logged by the HAL, once, with its port and the reason.
            log.warning("modem: %s", fault.detail)
        self.charge_point.devices.box_fault(box_fault, fault.active)

    async def _messages(self) -> None:
        async for sms in self.modem.messages():
            self.on_sms(sms)

    async def _faults(self) -> None:
        async for fault in self.modem.faults():
            self.on_fault(fault)

    async def _heartbeats(self) -> None:
        clock = self.charge_point.clock
        last = -self.policy.min_interval
        while True:
            await self._wanted.wait()
            await self.charge_point.uplink.booted.wait()  # nothing but BootNotification before Accepted (4.2)
            pause = last + self.policy.min_interval - clock.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)  # the rate limit, on the loop clock
            # Cleared before sending: an SMS that comes while this heartbeat is on its way wakes again.
            self._wanted.clear()
            last = clock.monotonic()
            self.heartbeats += 1
            await self.charge_point.uplink.heartbeat()
