"""Reservations: ReserveNow (spec 5.11, 6.33) and CancelReservation (5.1, 6.5).

The connector machines hold the reservations (:class:`~chargebox.engine.connector.Reservation`) and
refuse every other id-tag while they do; this module answers the Central System, ends reservations
at their expiryDate and keeps them across restarts (``settings`` table, key ``reservations``).

A reservation ends (5.11) when a transaction for its id-tag or group starts (the machine drops it
and its StartTransaction carries the reservationId), at its expiryDate, when it is cancelled, or
when its connector becomes Faulted or Unavailable (the machine drops it).

A reservation for connector 0 (any connector) is held on one connector that can take it, which
then reports Reserved and refuses other id-tags: so one connector always remains for the reserved
id-tag, as 5.11 asks. The id-tag may still start on any connector; the hold moves there
(:meth:`ChargePoint.free_port <chargebox.engine.chargepoint.ChargePoint.free_port>`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from chargebox.engine.connector import Reservation
from chargebox.engine.routing import handles
from chargebox.logfields import fields, mask_id_tag
from chargebox.ocpp.enums import CancelReservationStatus, ReservationStatus
from chargebox.ocpp.errors import BindingError
from chargebox.ocpp.messages import (
    AuthorizeConfirmation,
    AuthorizeRequest,
    CancelReservationConfirmation,
    CancelReservationRequest,
    Confirmation,
    ReserveNowConfirmation,
    ReserveNowRequest,
)

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint, Port

log = logging.getLogger(__name__)

SETTING = "reservations"


class Reservations:
    """Answers ReserveNow and CancelReservation; ends reservations at their expiryDate."""

    def __init__(self, charge_point: ChargePoint) -> None:
        self.cp = charge_point
        self._changed = asyncio.Event()
        self._expiring = False
        # Faulted or Unavailable ends a reservation (5.11) inside the connector machine; saved at
        # once, so a power cut right after cannot bring it back.
        charge_point.status_watchers.append(self.save)
        self._restore()

    def held(self) -> dict[int, tuple[Port, Reservation]]:
        """The reservations in force, by reservationId, with the connector that holds each."""
        return {port.machine.reservation.reservation_id: (port, port.machine.reservation)
                for port in self.cp.ports.values() if port.machine.reservation is not None}

    @handles(ReserveNowRequest)
    async def reserve_now(self, request: ReserveNowRequest) -> Confirmation:
        """5.11: Accepted, or why not (7.32); the same reservationId replaces that reservation."""
        if not self.cp.config.flag("ReservationEnabled"):
            return ReserveNowConfirmation(status=ReservationStatus.REJECTED)
        if request.connector_id != 0 and request.connector_id not in self.cp.ports:
            log.info("ReserveNow for connector %s, which this box does not have", request.connector_id)
            return ReserveNowConfirmation(status=ReservationStatus.REJECTED)
        if request.expiry_date <= self.cp.clock.now():
            log.info("ReserveNow %s expired already (%s)", request.reservation_id, request.expiry_date.isoformat())
            return ReserveNowConfirmation(status=ReservationStatus.REJECTED)
        reservation = Reservation(request.reservation_id, request.connector_id, request.id_tag,
                                  request.parent_id_tag, request.expiry_date)
        replaced = self.held().get(reservation.reservation_id)
        if replaced is not None:
            replaced[0].machine.on_reservation_ended(reservation.reservation_id)
        status = self._place(reservation)
        if replaced is not None and status is not ReservationStatus.ACCEPTED:
            replaced[0].machine.reservation = replaced[1]  # not replaced after all: the old one stands
        self._after_change()
        return ReserveNowConfirmation(status=status)

    def _place(self, reservation: Reservation) -> ReservationStatus:
        if reservation.connector_id != 0:
            return self.cp.ports[reservation.connector_id].machine.on_reserve(reservation)
        refusals = []
        for port in self.cp.ports.values():
            status = port.machine.on_reserve(reservation)
            if status is ReservationStatus.ACCEPTED:
                return status
            refusals.append(status)
        # 7.32 for the box: Faulted or Unavailable when all its connectors are, else Occupied.
        if ReservationStatus.OCCUPIED in refusals:
            return ReservationStatus.OCCUPIED
        if all(status is ReservationStatus.FAULTED for status in refusals):
            return ReservationStatus.FAULTED
        return ReservationStatus.UNAVAILABLE

    @handles(CancelReservationRequest)
    async def cancel_reservation(self, request: CancelReservationRequest) -> Confirmation:
        """5.1: Accepted when the box has a reservation with that id, else Rejected."""
        held = self.held().get(request.reservation_id)
        if held is None:
            return CancelReservationConfirmation(status=CancelReservationStatus.REJECTED)
        held[0].machine.on_reservation_ended(request.reservation_id)
        self._after_change()
        return CancelReservationConfirmation(status=CancelReservationStatus.ACCEPTED)

    def _after_change(self) -> None:
        self.save()
        self._watch_expiry()
        self.cp.spawn(self.cp.announce_all())

    def _watch_expiry(self) -> None:
        """Wake the expiry loop, started with the first reservation (a box that never has one runs none)."""
        self._changed.set()
        if not self._expiring and self.held():
            self._expiring = True
            self.cp.spawn(self._expiry_loop())

    # -- expiry (5.11) -------------------------------------------------------------------------

    async def _expiry_loop(self) -> None:
        """Ends each reservation at its expiryDate. Every other change is saved where it happens
        (:meth:`_after_change`, and the status watcher for faults, Unavailable and transactions)."""
        while True:
            self._changed.clear()
            held = self.held()
            now = self.cp.clock.now()
            expired = [rid for rid, (_, r) in held.items() if r.expiry <= now]
            for rid in expired:
                log.info("reservation %s expired", rid)
                held[rid][0].machine.on_reservation_ended(rid)
            if expired:
                self.save()
                await self.cp.announce_all()
                continue
            soonest = min((r.expiry for _, r in held.values()), default=None)
            wait = (soonest - now).total_seconds() if soonest else None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._changed.wait()

    # -- persistence ---------------------------------------------------------------------------

    def save(self) -> None:
        """The reservations in force, with the connector holding each (one row: small, rarely written)."""
        rows = [{"held_on": port.machine.number, "reservation_id": r.reservation_id,
                 "connector_id": r.connector_id, "id_tag": r.id_tag, "parent_id_tag": r.parent_id_tag,
                 "expiry": r.expiry.isoformat()} for port, r in self.held().values()]
        if rows:
            self.cp.store.settings.save(SETTING, rows)  # written only when changed: no flash wear
        else:
            self.cp.store.settings.delete(SETTING)

    def _restore(self) -> None:
        """The reservations saved before the restart, except those a transaction ended (its
        journal entry has the reservationId) or that the machines no longer take."""
        for row in self.cp.store.settings.load(SETTING) or []:
            used = self.cp.store.db.execute(
                "SELECT 1 FROM transactions WHERE reservation_id = ? LIMIT 1", [row["reservation_id"]]).fetchone()
            port = self.cp.ports.get(row["held_on"])
            if used or port is None:
                continue
            reservation = Reservation(row["reservation_id"], row["connector_id"], row["id_tag"],
                                      row["parent_id_tag"], datetime.fromisoformat(row["expiry"]))
            status = port.machine.on_reserve(reservation)
            if status is not ReservationStatus.ACCEPTED:
                log.info("reservation %s not restored: connector %s is %s", reservation.reservation_id,
                         port.machine.number, status.value)
        self.save()
        self._watch_expiry()


async def admission(cp: ChargePoint, port: Port, id_tag: str) -> tuple[bool, str | None]:
    """Whether a remote start for ``id_tag`` may use ``port``, and the tag's parent id-tag when its
    group had to be learnt: a reserved connector takes its id-tag, or a tag of its group, whose
    parent id-tag comes from the list or cache, else from Authorize.req (5.11)."""
    held = port.machine.reservation
    if held is None or held.admits(id_tag, None):
        return True, None
    known = cp.authorizer.local(id_tag)
    if known is not None:
        parent = known.info.parent_id_tag
    else:
        if not cp.booted.is_set():
            return False, None
        try:
            conf = await cp.send(AuthorizeRequest(id_tag=id_tag))
        except BindingError as err:
            log.info("cannot learn the group of %s for reservation %s: %s", mask_id_tag(id_tag),
                     held.reservation_id, err,
                     extra=fields(connector=port.machine.number, id_tag=id_tag, action="Authorize"))
            return False, None
        assert isinstance(conf, AuthorizeConfirmation)
        cp.authorizer.remember(id_tag, conf.id_tag_info)
        parent = conf.id_tag_info.parent_id_tag
    return held.admits(id_tag, parent), parent
