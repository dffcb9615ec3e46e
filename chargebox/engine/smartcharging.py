"""Smart charging (issue 18; 1.6 3.13, 5.5, 5.7, 5.16): the Central System's charging profiles installed,
cleared and asked about, the chargingProfile of a RemoteStartTransaction, and the TxProfiles that end with
their transaction. The rules are the pure ones of :mod:`chargebox.engine.charging`; this module keeps the
installed set, in memory and in the store (one SQLite transaction per change, so a power cut keeps the set
before or after it, errata 3.37), and tells :mod:`~chargebox.engine.limits` when it changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chargebox.engine.charging import (
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    InstalledProfile,
    ProfileLimits,
    Rating,
    Transaction,
    check_remote_start_profile,
    clear_profiles,
    composite_schedule,
    end_transaction,
    from_plain,
    set_profile,
    to_plain,
)
from chargebox.engine.configuration import Configuration
from chargebox.engine.routing import handles
from chargebox.ocpp.enums import ChargingProfileStatus, ClearChargingProfileStatus, GetCompositeScheduleStatus
from chargebox.ocpp.messages import (
    ClearChargingProfileConfirmation,
    ClearChargingProfileRequest,
    Confirmation,
    GetCompositeScheduleConfirmation,
    GetCompositeScheduleRequest,
    SetChargingProfileConfirmation,
    SetChargingProfileRequest,
)
from chargebox.store.profiles import ProfileStore

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint

log = logging.getLogger(__name__)

TX = ChargingProfilePurpose.TX_PROFILE

#: ChargingScheduleAllowedChargingRateUnit's words (1.6 9.4) for the schedule's units (7.12).
RATE_UNITS = {"current": ChargingRateUnit.A, "power": ChargingRateUnit.W}


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the limits depend on besides the profiles (the site config's ``[site]`` and each connector's
    ``lines``, issue 18): the nominal voltage W limits are converted with (7.12), the supply's phases and
    its limit per phase (``supply``, None: none), and the supply lines (1..3) each connector is wired to
    (absent: all of the supply's)."""

    voltage: float = 230.0
    phases: int = 3
    supply: float | None = None
    lines: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    def lines_of(self, connector_id: int) -> tuple[int, ...]:
        return self.lines.get(connector_id, tuple(range(1, self.phases + 1)))

    def rating(self, connector_id: int, max_current: float) -> Rating:
        return Rating(len(self.lines_of(connector_id)), self.voltage, max_current)


class SmartCharging:
    """The installed profiles of ``charge_point`` (loaded from ``profiles`` at start) and the handlers that
    change them. :attr:`watchers` are called after every change of the set or of a transaction."""

    def __init__(self, charge_point: ChargePoint, profiles: ProfileStore, config: Configuration,
                 wiring: Wiring) -> None:
        self.cp = charge_point
        self.store = profiles
        self.config = config
        self.wiring = wiring
        self.installed = self._load()
        #: When each connector's session began (the loop's wall clock), for Relative schedules and
        #: TxProfiles (7.9: relative to the start of the transaction).
        self.started: dict[int, datetime] = {}
        #: A remote start's TxProfile, for the session it starts (by connector: its idTag and profile).
        self._pending: dict[int, tuple[str, ChargingProfile]] = {}
        self.watchers: list[Callable[[], None]] = []

    def _load(self) -> tuple[InstalledProfile, ...]:
        """The installed profiles but TxProfiles: no transaction runs at start (those a restart or a power
        cut interrupted are ended, chargepoint's journal replay), and a TxProfile ends with its transaction
        (3.13.1), even one the box could not see end."""
        if self.store.clear(purpose=TX.value):
            log.info("TxProfiles of transactions a restart ended removed")
        loaded = []
        for connector_id, plain in self.store.load():
            try:
                loaded.append(InstalledProfile(connector_id, from_plain(plain)))
            except (KeyError, TypeError, ValueError) as err:  # a row no release of ours wrote
                log.error("charging profile %s on connector %s not loaded: %r",
                          plain.get("chargingProfileId"), connector_id, err)
        return tuple(loaded)

    # -- what the limits are computed from -------------------------------------------------------

    def limits(self) -> ProfileLimits:
        """The smart charging configuration keys (1.6 9.4) as the rules take them."""
        units = {RATE_UNITS.get(word.strip().casefold())
                 for word in self.config.text("ChargingScheduleAllowedChargingRateUnit").split(",")}
        return ProfileLimits(
            connectors=len(self.cp.ports),
            charge_profile_max_stack_level=self.config.integer("ChargeProfileMaxStackLevel"),
            charging_schedule_allowed_charging_rate_unit=frozenset(u for u in units if u is not None),
            charging_schedule_max_periods=self.config.integer("ChargingScheduleMaxPeriods"),
            max_charging_profiles_installed=self.config.integer("MaxChargingProfilesInstalled"),
        )

    def transaction(self, connector_id: int) -> Transaction | None:
        """The transaction on ``connector_id`` as the limits see it: its start, and the Central
        System's transactionId once StartTransaction.conf gave it."""
        start = self.started.get(connector_id)
        if start is None:
            return None
        port = self.cp.ports[connector_id]
        entry = None if port.local_tx is None else self.cp.journal.get(port.local_tx)
        return Transaction(start, None if entry is None else entry.transaction_id)

    def prospect(self, connector_id: int, now: datetime) -> tuple[tuple[InstalledProfile, ...], Transaction]:
        """The profiles and the transaction of a session that would begin on ``connector_id`` now (a
        connector without one starts with the limit they give): its remote start's profile as its
        TxProfile, and Relative schedules from now."""
        transaction = Transaction(now)
        pending = self._pending.get(connector_id)
        if pending is None:
            return self.installed, transaction
        decision = set_profile(self.installed, connector_id, pending[1], transaction, self.limits())
        return decision.installed, transaction

    def rating(self, connector_id: int) -> Rating:
        """A connector's rating; connector 0's is the supply's (its limit, or all connectors' together)."""
        if connector_id == 0:
            supply = self.wiring.supply
            if supply is None:
                supply = sum(port.hardware.max_current for port in self.cp.ports.values())
            return Rating(self.wiring.phases, self.wiring.voltage, supply)
        return self.wiring.rating(connector_id, self.cp.ports[connector_id].hardware.max_current)

    # -- handlers (chapter 5) --------------------------------------------------------------------

    @handles(SetChargingProfileRequest)
    async def set_charging_profile(self, request: SetChargingProfileRequest) -> Confirmation:
        """5.16: installed under the rules of 3.13 and the configuration keys (9.4), or Rejected."""
        profile = request.cs_charging_profiles
        connector_id = request.connector_id
        decision = set_profile(self.installed, connector_id, profile,
                               self.transaction(connector_id) if connector_id in self.cp.ports else None,
                               self.limits())
        log.info("SetChargingProfile %s on connector %s: %s", profile.charging_profile_id, connector_id,
                 decision.reason)
        if not decision.accepted:
            return SetChargingProfileConfirmation(status=ChargingProfileStatus.REJECTED)
        self._install(connector_id, profile, decision.installed)
        return SetChargingProfileConfirmation(status=ChargingProfileStatus.ACCEPTED)

    @handles(ClearChargingProfileRequest)
    async def clear_charging_profile(self, request: ClearChargingProfileRequest) -> Confirmation:
        """5.5, 6.13: by id (the other fields then ignored, errata 3.25), or all matching the fields;
        Unknown when none matched (7.21)."""
        decision = clear_profiles(self.installed, id=request.id, connector_id=request.connector_id,
                                  purpose=request.charging_profile_purpose, stack_level=request.stack_level)
        log.info("ClearChargingProfile: %s", decision.reason)
        if not decision.accepted:
            return ClearChargingProfileConfirmation(status=ClearChargingProfileStatus.UNKNOWN)
        if request.id is not None:
            self.store.remove(request.id)
        else:
            purpose = request.charging_profile_purpose
            self.store.clear(connector_id=request.connector_id, stack_level=request.stack_level,
                             purpose=None if purpose is None else purpose.value)
        self._changed(decision.installed)
        return ClearChargingProfileConfirmation(status=ClearChargingProfileStatus.ACCEPTED)

    @handles(GetCompositeScheduleRequest)
    async def get_composite_schedule(self, request: GetCompositeScheduleRequest) -> Confirmation:
        """5.7: the composite of the profiles, the supply and the connector's own limits from now for
        ``duration`` seconds, startSchedule omitted (errata 3.57), scheduleStart now. A connector gets an
        equal share of the ChargePointMaxProfile (3.13.3: it limits all connectors together), the share
        balancing can always give it, so the answers of all connectors never add up to more."""
        connector_id = request.connector_id
        if connector_id != 0 and connector_id not in self.cp.ports:
            return GetCompositeScheduleConfirmation(status=GetCompositeScheduleStatus.REJECTED)
        allowed = self.limits().charging_schedule_allowed_charging_rate_unit
        if request.charging_rate_unit is not None and request.charging_rate_unit not in allowed:
            return GetCompositeScheduleConfirmation(status=GetCompositeScheduleStatus.REJECTED)
        now = self.cp.clock.now()
        schedule = composite_schedule(
            self.installed, connector_id, self.transaction(connector_id) if connector_id else None, now,
            request.duration, request.charging_rate_unit, self.rating(connector_id),
            box_share=1.0 if connector_id == 0 else 1.0 / len(self.cp.ports))
        return GetCompositeScheduleConfirmation(status=GetCompositeScheduleStatus.ACCEPTED,
                                                connector_id=connector_id, schedule_start=now,
                                                charging_schedule=schedule)

    # -- RemoteStartTransaction's chargingProfile (5.16.2, errata 3.41-3.42) ----------------------

    def refuse(self, profile: ChargingProfile) -> str | None:
        """Why a RemoteStartTransaction may not bring ``profile`` (then it is Rejected), or None."""
        return check_remote_start_profile(profile, self.limits())

    def keep(self, connector_id: int, id_tag: str, profile: ChargingProfile) -> None:
        """The accepted remote start's profile, installed as the TxProfile of the session it starts on
        ``connector_id`` for ``id_tag`` (errata 3.42); a later remote start on that connector replaces it."""
        self._pending[connector_id] = (id_tag, profile)
        self._changed(self.installed)  # the connector's next session starts under it

    # -- sessions -------------------------------------------------------------------------------

    def session(self, connector_id: int, begun: bool, now: datetime) -> None:
        """A session began or ended on ``connector_id``. Its remote start's profile is installed as it
        begins; its TxProfiles go when it ends (3.13.1, 7.10)."""
        if not begun:
            self.started.pop(connector_id, None)
            self._pending.pop(connector_id, None)
            after = end_transaction(self.installed, connector_id)
            if after != self.installed:
                self.store.clear(connector_id=connector_id, purpose=TX.value)
            self._changed(after)
            return
        self.started[connector_id] = now
        pending = self._pending.pop(connector_id, None)
        id_tag = self.cp.station.connectors[connector_id].id_tag
        if pending is not None and id_tag is not None and pending[0].casefold() == id_tag.casefold():
            profile = pending[1]  # the session the remote start asked for, not a card's after it lapsed
            decision = set_profile(self.installed, connector_id, profile, self.transaction(connector_id),
                                   self.limits())
            log.info("the remote start's profile %s on connector %s: %s", profile.charging_profile_id,
                     connector_id, decision.reason)
            if decision.accepted:
                self._install(connector_id, profile, decision.installed)
                return
        self._changed(self.installed)

    def _install(self, connector_id: int, profile: ChargingProfile,
                 installed: tuple[InstalledProfile, ...]) -> None:
        self.store.install(connector_id, to_plain(profile))
        self._changed(installed)

    def _changed(self, installed: tuple[InstalledProfile, ...]) -> None:
        self.installed = installed
        for watcher in self.watchers:
            watcher()
