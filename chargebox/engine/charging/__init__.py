"""Charging limits (issue 18): charging profiles, the rules for installing them, the composite schedule and
the pilot offer, all pure: no I/O, no clock (time is an argument), no binding or config."""

from chargebox.engine.charging.balance import ConnectorLoad, GridMeter, balance, box_limit, sequence
from chargebox.engine.charging.composite import (
    Limit,
    LimitAt,
    LimitSource,
    LimitSourceKind,
    composite_schedule,
    limit_at,
)
from chargebox.engine.charging.installed import (
    Decision,
    InstalledProfile,
    ProfileLimits,
    check_profile,
    check_remote_start_profile,
    clear_profiles,
    end_transaction,
    set_profile,
)
from chargebox.engine.charging.offer import MIN_OFFER, offer_for_limit
from chargebox.engine.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    Rating,
    RecurrencyKind,
    Transaction,
    from_plain,
    to_plain,
)

__all__ = [
    "MIN_OFFER", "ChargingProfile", "ConnectorLoad", "GridMeter", "balance", "box_limit", "sequence",
    "from_plain", "to_plain", "ChargingProfileKind", "ChargingProfilePurpose", "ChargingRateUnit",
    "ChargingSchedule", "ChargingSchedulePeriod", "Decision", "InstalledProfile", "Limit", "LimitAt",
    "LimitSource", "LimitSourceKind", "ProfileLimits", "Rating", "RecurrencyKind", "Transaction",
    "check_profile", "check_remote_start_profile", "clear_profiles", "composite_schedule", "end_transaction",
    "limit_at", "offer_for_limit", "set_profile",
]
