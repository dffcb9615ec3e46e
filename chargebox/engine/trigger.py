"""TriggerMessage (1.6 5.17, 6.51, 6.52): the Central System asks the box to send one of its messages now.

The answer goes first (5.17: "SHALL first send the TriggerMessage response"): the message is sent by a
task of the charge point's, which runs once the handler has returned its answer to the binding. What it
sends is current information, never history: a fresh meter reading with context Trigger and the
measurands of MeterValuesSampledData (5.17, errata 3.46), the status computed now, the state of a
firmware update or diagnostics upload (Idle when none runs, 7.24, 7.25). A connectorId the box lacks
is Rejected; for a message it does not concern it is ignored, and one that concerns it but is absent
means all connectors (for StatusNotification: the box, connector 0, and each connector).

OCPP 1.5 has no TriggerMessage: its bindings never route it (:data:`chargebox.ocpp.versions.OCPP15`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from chargebox.engine.metering import meter_value
from chargebox.engine.routing import handles
from chargebox.ocpp.enums import (
    DiagnosticsStatus,
    FirmwareStatus,
    MessageTrigger,
    ReadingContext,
    RegistrationStatus,
    TriggerMessageStatus,
)
from chargebox.ocpp.errors import BindingError
from chargebox.ocpp.messages import (
    Confirmation,
    DiagnosticsStatusNotificationRequest,
    FirmwareStatusNotificationRequest,
    MeterValuesRequest,
    Request,
    TriggerMessageConfirmation,
    TriggerMessageRequest,
)

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint, Port

log = logging.getLogger(__name__)

#: The messages whose connectorId matters (5.17: "the requested message is leading").
PER_CONNECTOR = {MessageTrigger.METER_VALUES, MessageTrigger.STATUS_NOTIFICATION}


class Triggers:
    """Answers TriggerMessage.req. ``firmware`` and ``diagnostics`` give the state of an update or an
    upload under way (the maintenance handlers'); a box without them is Idle (7.24, 7.25)."""

    def __init__(self, charge_point: ChargePoint) -> None:
        self.cp = charge_point
        self.firmware: Callable[[], FirmwareStatus] = lambda: FirmwareStatus.IDLE
        self.diagnostics: Callable[[], DiagnosticsStatus] = lambda: DiagnosticsStatus.IDLE
        self._senders: dict[MessageTrigger, Callable[[int | None], Awaitable[None]]] = {
            MessageTrigger.BOOT_NOTIFICATION: self._boot,
            MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION: lambda _: self._send(
                DiagnosticsStatusNotificationRequest(status=self.diagnostics())),
            MessageTrigger.FIRMWARE_STATUS_NOTIFICATION: lambda _: self._send(
                FirmwareStatusNotificationRequest(status=self.firmware())),
            MessageTrigger.HEARTBEAT: lambda _: self.cp.uplink.heartbeat(),
            MessageTrigger.METER_VALUES: self._meter_values,
            MessageTrigger.STATUS_NOTIFICATION: self._statuses,
        }

    @handles(TriggerMessageRequest)
    async def trigger(self, request: TriggerMessageRequest) -> Confirmation:
        kind, connector = request.requested_message, request.connector_id
        sender = self._senders.get(kind)
        if sender is None:
            return TriggerMessageConfirmation(status=TriggerMessageStatus.NOT_IMPLEMENTED)
        if kind in PER_CONNECTOR:
            # Connector 0 is the box: a StatusNotification of its own (5.17); no meter of its own.
            known = connector is None or connector in self.cp.ports or (
                connector == 0 and kind is MessageTrigger.STATUS_NOTIFICATION)
            if not known:
                return TriggerMessageConfirmation(status=TriggerMessageStatus.REJECTED)
        elif kind is MessageTrigger.BOOT_NOTIFICATION and self.cp.uplink.registration is RegistrationStatus.ACCEPTED:
            # Errata 3.35: once Accepted, a new boot could only confuse what runs; RECOMMENDED Rejected.
            return TriggerMessageConfirmation(status=TriggerMessageStatus.REJECTED)
        log.info("TriggerMessage %s%s accepted", kind.value,
                 "" if connector is None else f" for connector {connector}")
        self.cp.spawn(sender(connector if kind in PER_CONNECTOR else None))  # after this answer has gone
        return TriggerMessageConfirmation(status=TriggerMessageStatus.ACCEPTED)

    async def _boot(self, _: int | None) -> None:
        if not self.cp.uplink.boot_now():
            log.info("TriggerMessage BootNotification: the first one is still being prepared")

    async def _statuses(self, connector: int | None) -> None:
        for number in [0, *self.cp.ports] if connector is None else [connector]:
            await self.cp.uplink.tell(number)

    async def _meter_values(self, connector: int | None) -> None:
        for number, port in self.cp.ports.items():
            if connector is None or connector == number:
                await self._meter_value(port)

    async def _meter_value(self, port: Port) -> None:
        """The most recent measurements of MeterValuesSampledData (errata 3.46): read now. Sent now or
        never, like every triggered message: it is no transaction message, so the outbox does not
        keep it; it names the running transaction when the Central System gave its id."""
        reading = await self.cp.devices.read_meter(port)
        if reading is None:
            return
        value = meter_value(reading, self.cp.config.measurands("MeterValuesSampledData"),
                            ReadingContext.TRIGGER, self.cp.clock.now(), per_phase=True,  # 1.6 only
                            offered=port.hardware.pilot.offered)
        if value is None:
            return
        transaction_id = None if port.local_tx is None else self.cp.journal.get(port.local_tx).transaction_id
        await self._send(MeterValuesRequest(connector_id=port.machine.number, transaction_id=transaction_id,
                                            values=[value]))

    async def _send(self, request: Request) -> None:
        try:
            await self.cp.uplink.send(request)
        except BindingError as err:
            log.warning("triggered %s not sent: %s", request.action(), err)
