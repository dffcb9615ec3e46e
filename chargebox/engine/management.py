"""The Central System commands (spec chapter 5), installed on a charge point.

:func:`install` creates :class:`~chargebox.engine.commands.Commands` (sessions, authorization data,
configuration), availability, reservations, resets, data transfer and TriggerMessage, and registers them; the
charge point (the runtime shell) knows none of them, so no engine module imports one that imports
it back. The daemon and the engine tests install them the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chargebox.engine.availability import Availability
from chargebox.engine.commands import Commands
from chargebox.engine.datatransfer import DataTransfers
from chargebox.engine.reservations import Reservations
from chargebox.engine.resets import Resets, Restart, read_boot_id
from chargebox.engine.trigger import Triggers

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint


@dataclass(frozen=True, slots=True)
class Management:
    commands: Commands
    availability: Availability
    reservations: Reservations
    resets: Resets
    data_transfers: DataTransfers
    triggers: Triggers  # 1.6 only: a 1.5 binding never routes TriggerMessage


def install(charge_point: ChargePoint, restart: Restart | None,
            boot_id: Callable[[], str] = read_boot_id) -> Management:
    """Create and register the handlers; ``restart`` carries out resets (None: Reset is Rejected)."""
    station, apply = charge_point.station, charge_point.apply
    reservations = Reservations(station, apply, charge_point.config, charge_point.clock)
    store = charge_point.store
    commands = Commands(charge_point, store.local_list, store.cache, charge_point.config)
    management = Management(commands, Availability(station, apply), reservations,
                            Resets(charge_point, store.settings, store.outbox, restart, boot_id),
                            DataTransfers(charge_point), Triggers(charge_point))
    for handlers in (commands, management.availability, reservations, management.resets,
                     management.data_transfers, management.triggers):
        charge_point.add_handlers(handlers)
    return management
