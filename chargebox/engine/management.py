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
from chargebox.engine.limits import GridSupply, Limits
from chargebox.engine.reservations import Reservations
from chargebox.engine.resets import Resets, Restart, read_boot_id
from chargebox.engine.smartcharging import SmartCharging, Wiring
from chargebox.engine.trigger import Triggers
from chargebox.ocpp.enums import RegistrationStatus

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint


@dataclass(frozen=True, slots=True)
class Management:
    commands: Commands
    availability: Availability
    reservations: Reservations
    resets: Resets
    data_transfers: DataTransfers
    smart_charging: SmartCharging
    limits: Limits
    triggers: Triggers  # 1.6 only: a 1.5 binding never routes TriggerMessage


def install(charge_point: ChargePoint, restart: Restart | None,
            boot_id: Callable[[], str] = read_boot_id, *, wiring: Wiring | None = None,
            grid: GridSupply | None = None) -> Management:
    """Create and register the handlers; ``restart`` carries out resets (None: Reset is Rejected).
    ``wiring`` and ``grid`` are the site's supply (issue 18; default: no site limit, 230 V, 3 phases)."""
    station, apply = charge_point.station, charge_point.apply
    reservations = Reservations(station, apply, charge_point.config, charge_point.clock)
    store = charge_point.store
    uplink = charge_point.uplink
    commands = Commands(sessions=charge_point, spawn=charge_point.spawn, authorizer=charge_point.authorizer,
                        send=uplink.send, booted=uplink.booted,
                        pending=lambda: uplink.registration is RegistrationStatus.PENDING, local_list=store.local_list,
                        cache=store.cache, config=charge_point.config)
    smart = SmartCharging(charge_point, store.profiles, charge_point.config, wiring or Wiring())
    commands.remote_profiles = smart
    limits = Limits(charge_point, smart, grid)
    charge_point.parts.append(limits.run)
    management = Management(commands, Availability(station, apply), reservations,
                            Resets(sessions=charge_point, holds=station.session_holds, link=uplink,
                                   config=charge_point.config, box_fault=charge_point.devices.box_fault,
                                   spawn=charge_point.spawn, settings=store.settings, outbox=store.outbox,
                                   restart=restart, boot_id=boot_id),
                            DataTransfers(uplink.send, uplink.booted), smart, limits, Triggers(charge_point))
    for handlers in (commands, management.availability, reservations, management.resets,
                     management.data_transfers, smart, management.triggers):
        charge_point.add_handlers(handlers)
    return management
