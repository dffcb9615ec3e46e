"""ChangeAvailability (spec 5.2, 6.7): connectors, or the whole box (connector 0), operative or not.

What the Central System asked is persisted at once (``settings`` table, key ``availability``) and
applied at every start, so a box set Inoperative stays Unavailable after a restart, and a change
Scheduled behind a transaction still happens if that transaction is cut by a power loss.

A connector is operative when both it and the box are. An inoperative connector reports
Unavailable (7.10), starts no session (cards and remote starts are refused, an authorization
waiting for its cable lapses) and drops its reservation (5.11). Its pilot keeps offering nothing
(steady +12 V, as any idle connector), rather than going to state F (-12 V): at -12 V the box can
no longer see a cable come or go, so its status would be blind, and many EVs treat F as an EVSE
error that needs a replug once the connector is available again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chargebox.engine.routing import handles
from chargebox.ocpp.enums import AvailabilityStatus, AvailabilityType
from chargebox.ocpp.messages import ChangeAvailabilityConfirmation, ChangeAvailabilityRequest, Confirmation

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint
    from chargebox.engine.reservations import Reservations

SETTING = "availability"


class Availability:
    def __init__(self, charge_point: ChargePoint, reservations: Reservations) -> None:
        self.cp = charge_point
        self.reservations = reservations
        stored = charge_point.store.settings.load(SETTING) or {}
        #: What the Central System asked, by connector (0: the box); absent means operative.
        self.wanted: dict[int, bool] = {int(k): v for k, v in stored.items()}
        charge_point.box_operative = self.wanted.get(0, True)
        for number, port in charge_point.ports.items():
            port.machine.on_availability(self.operative(number))  # at start no transaction runs
        reservations.save()  # those of connectors that are Unavailable have ended (5.11)

    def operative(self, number: int) -> bool:
        return self.wanted.get(0, True) and self.wanted.get(number, True)

    @handles(ChangeAvailabilityRequest)
    async def change_availability(self, request: ChangeAvailabilityRequest) -> Confirmation:
        """5.2: Accepted (also when already so), Scheduled while a transaction runs on an affected
        connector (applied when it ends, then announced), Rejected for a connector the box lacks."""
        number = request.connector_id
        if number != 0 and number not in self.cp.ports:
            return ChangeAvailabilityConfirmation(status=AvailabilityStatus.REJECTED)
        self.wanted[number] = request.type is AvailabilityType.OPERATIVE
        self.cp.store.settings.save(SETTING, {str(k): v for k, v in self.wanted.items()})
        ports = list(self.cp.ports.values()) if number == 0 else [self.cp.ports[number]]
        statuses = []
        for port in ports:
            async with port.lock:
                statuses.append(port.machine.on_availability(self.operative(port.machine.number)))
        scheduled = AvailabilityStatus.SCHEDULED in statuses
        if number == 0:
            self.cp.spawn(self._box(scheduled))
        self.reservations.save()  # an Unavailable connector's reservation has ended
        self.cp.spawn(self.cp.announce_all())
        return ChangeAvailabilityConfirmation(status=AvailabilityStatus.SCHEDULED if scheduled else AvailabilityStatus.ACCEPTED)

    async def _box(self, scheduled: bool) -> None:
        """The box's own status (connector 0) follows once no transaction runs any more."""
        if scheduled:
            await self.cp.wait_idle()
        self.cp.box_operative = self.wanted.get(0, True)
        await self.cp.announce_all()
