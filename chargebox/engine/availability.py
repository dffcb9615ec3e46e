"""ChangeAvailability (spec 5.2, 6.7): connectors, or the whole box (connector 0), operative or not,
answered over the station (:meth:`Station.change_availability
<chargebox.engine.station.Station.change_availability>`), which saves what was asked (``settings``
table, key ``availability``; restored at every start by the shell).

An inoperative connector's pilot keeps offering nothing (steady +12 V, as any idle connector),
rather than going to state F (-12 V): at -12 V the box can no longer see a cable come or go, so its
status would be blind, and many EVs treat F as an EVSE error that needs a replug once the connector
is available again.
"""

from __future__ import annotations

from chargebox.engine.routing import handles
from chargebox.engine.station import Apply, Station
from chargebox.ocpp.enums import AvailabilityType
from chargebox.ocpp.messages import ChangeAvailabilityConfirmation, ChangeAvailabilityRequest, Confirmation


class Availability:
    def __init__(self, station: Station, apply: Apply) -> None:
        self.station = station
        self.apply = apply

    @handles(ChangeAvailabilityRequest)
    async def change_availability(self, request: ChangeAvailabilityRequest) -> Confirmation:
        """5.2: Accepted (also when already so), Scheduled while a transaction runs on an affected
        connector (applied when it ends, then announced), Rejected for a connector the box lacks."""
        status, effects = self.station.change_availability(
            request.connector_id, request.type is AvailabilityType.OPERATIVE)
        await self.apply(effects)
        return ChangeAvailabilityConfirmation(status=status)
