"""Reservations: ReserveNow (spec 5.11, 6.33) and CancelReservation (5.1, 6.5) answered over the
station (:mod:`~chargebox.engine.station`), which holds the reservations in its connector machines,
ends them (a start, a fault, Unavailable, the expiryDate's timer) and has them saved (``settings``
table, key ``reservations``) and restored at start by the shell."""

from __future__ import annotations

import logging

from chargebox.clock import Clock
from chargebox.engine.configuration import Configuration
from chargebox.engine.connector import Reservation
from chargebox.engine.routing import handles
from chargebox.engine.station import Apply, Station
from chargebox.ocpp.enums import CancelReservationStatus, ReservationStatus
from chargebox.ocpp.messages import (
    CancelReservationConfirmation,
    CancelReservationRequest,
    Confirmation,
    ReserveNowConfirmation,
    ReserveNowRequest,
)

log = logging.getLogger(__name__)


class Reservations:
    """Answers ReserveNow and CancelReservation; ``apply`` carries out the station's effects."""

    def __init__(self, station: Station, apply: Apply, config: Configuration, clock: Clock) -> None:
        self.station = station
        self.apply = apply
        self.config = config
        self.clock = clock

    def held(self) -> dict[int, tuple[int, Reservation]]:
        """The reservations in force, by reservationId, with the connector that holds each."""
        return self.station.held()

    @handles(ReserveNowRequest)
    async def reserve_now(self, request: ReserveNowRequest) -> Confirmation:
        """5.11: Accepted, or why not (7.32); the same reservationId replaces that reservation."""
        if not self.config.flag("ReservationEnabled"):
            return ReserveNowConfirmation(status=ReservationStatus.REJECTED)
        if request.connector_id != 0 and request.connector_id not in self.station.connectors:
            log.info("ReserveNow for connector %s, which this box does not have", request.connector_id)
        elif request.expiry_date <= self.clock.now():
            log.info("ReserveNow %s expired already (%s)", request.reservation_id, request.expiry_date.isoformat())
        reservation = Reservation(request.reservation_id, request.connector_id, request.id_tag,
                                  request.parent_id_tag, request.expiry_date)
        status, effects = self.station.reserve(reservation, self.clock.now())
        await self.apply(effects)
        return ReserveNowConfirmation(status=status)

    @handles(CancelReservationRequest)
    async def cancel_reservation(self, request: CancelReservationRequest) -> Confirmation:
        """5.1: Accepted when the box has a reservation with that id, else Rejected."""
        effects = self.station.cancel_reservation(request.reservation_id)
        if effects is None:
            return CancelReservationConfirmation(status=CancelReservationStatus.REJECTED)
        await self.apply(effects)
        return CancelReservationConfirmation(status=CancelReservationStatus.ACCEPTED)
