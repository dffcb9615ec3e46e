"""The Central System commands with state of their own, installed on a charge point (spec chapter 5).

:class:`~chargebox.engine.commands.Commands` (the stateless ones) comes with every charge point;
:func:`install` adds availability, reservations, resets and data transfer, restoring what they
persisted before a restart. The daemon and the engine tests install them the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chargebox.engine.availability import Availability
from chargebox.engine.datatransfer import DataTransfers
from chargebox.engine.reservations import Reservations
from chargebox.engine.resets import Resets, Restart, read_boot_id

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint


@dataclass(frozen=True, slots=True)
class Management:
    availability: Availability
    reservations: Reservations
    resets: Resets
    data_transfers: DataTransfers


def install(charge_point: ChargePoint, restart: Restart | None,
            boot_id: Callable[[], str] = read_boot_id) -> Management:
    """Create and register the handlers; ``restart`` carries out resets (None: Reset is Rejected)."""
    reservations = Reservations(charge_point)
    # Availability after the reservations are restored: an Unavailable connector drops its own.
    management = Management(Availability(charge_point, reservations), reservations,
                            Resets(charge_point, restart, boot_id), DataTransfers(charge_point))
    for handlers in (management.availability, reservations, management.resets, management.data_transfers):
        charge_point.add_handlers(handlers)
    return management
