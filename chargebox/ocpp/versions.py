"""What each OCPP version has of the neutral vocabulary and how its wire says it (DESIGN.md: the engine
speaks the richer 1.6 model, each binding maps it to its version).

A binding renders and reads its messages with its version's :class:`~chargebox.ocpp.codec.WireForm`
(``OCPP15.form``, ``OCPP16.form``) and serves its version's operations. Where 1.5 and 1.6 differ in a
value set, the neutral enum has the union: a value a version lacks is said as that version's nearest
value where it has one, and is Unsendable where it has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from chargebox.ocpp.codec import WireForm
from chargebox.ocpp.datatypes import MeterValue, SampledValue
from chargebox.ocpp.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    ConfigurationStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    Location,
    Measurand,
    ReadingContext,
    RegistrationStatus,
    UnitOfMeasure,
    UnlockStatus,
    UpdateStatus,
)
from chargebox.ocpp.messages import (
    CENTRAL_SYSTEM_OPERATIONS,
    CHARGE_POINT_OPERATIONS,
    BootNotificationConfirmation,
    ClearChargingProfileRequest,
    GetCompositeScheduleRequest,
    MeterValuesRequest,
    Operation,
    RemoteStartTransactionRequest,
    SendLocalListConfirmation,
    SendLocalListRequest,
    SetChargingProfileRequest,
    StopTransactionRequest,
    TriggerMessageRequest,
)


@dataclass(frozen=True)
class Version:
    """One OCPP version: the operations of each side and the form of its messages."""

    name: str
    central_system_operations: dict[str, Operation]
    charge_point_operations: dict[str, Operation]
    form: WireForm


_Said = tuple[type[Enum], MappingProxyType[str, str | None]]


def _said(cls: type[Enum], said: dict[Enum, str | None]) -> _Said:
    return cls, MappingProxyType({member.value: value for member, value in said.items()})


def _lacks(cls: type[Enum], *members: Enum) -> _Said:
    return _said(cls, dict.fromkeys(members))


# The operations 1.6 added (1.6 chapter 5: Smart Charging and Remote Trigger profiles).
_ONLY_16 = {op.action() for op in (ClearChargingProfileRequest, GetCompositeScheduleRequest,
                                   SetChargingProfileRequest, TriggerMessageRequest)}

OCPP15 = Version(
    name="1.5",
    central_system_operations=CENTRAL_SYSTEM_OPERATIONS,
    charge_point_operations={name: op for name, op in CHARGE_POINT_OPERATIONS.items()
                             if name not in _ONLY_16},
    form=WireForm(
        # 1.6's fields: SampledValue phase (1.6 7.43), StopTransaction reason (6.49), a remote start's
        # charging profile (6.33). 1.5 cannot carry them; the rest of the message still means the same.
        left_out=frozenset({(SampledValue, "phase"), (StopTransactionRequest, "reason"),
                            (RemoteStartTransactionRequest, "charging_profile")}),
        said=MappingProxyType(dict([
            # 1.5 has one Occupied for the five statuses of a connector in use that 1.6 tells apart
            # (1.5 7.8; 1.6 4.9, 7.7).
            _said(ChargePointStatus, dict.fromkeys(
                (ChargePointStatus.PREPARING, ChargePointStatus.CHARGING, ChargePointStatus.SUSPENDED_EV,
                 ChargePointStatus.SUSPENDED_EVSE, ChargePointStatus.FINISHING), "Occupied")),
            # 1.5 7.7 has none of 1.6's new codes: EVCommunicationError is 1.5's Mode3Error (the pilot's
            # IEC 61851 "mode 3" signalling), the others are OtherError.
            _said(ChargePointErrorCode, {ChargePointErrorCode.EV_COMMUNICATION_ERROR: "Mode3Error",
                                         ChargePointErrorCode.INTERNAL_ERROR: "OtherError",
                                         ChargePointErrorCode.LOCAL_LIST_CONFLICT: "OtherError",
                                         ChargePointErrorCode.OVER_VOLTAGE: "OtherError"}),
            # 1.5 7.37 spells amperes and volts out and has no VA, kVA, Fahrenheit, K or Percent.
            _said(UnitOfMeasure, {UnitOfMeasure.AMP: "Amp", UnitOfMeasure.VOLT: "Volt",
                                  UnitOfMeasure.VA: None, UnitOfMeasure.KVA: None,
                                  UnitOfMeasure.FAHRENHEIT: None, UnitOfMeasure.K: None,
                                  UnitOfMeasure.PERCENT: None}),
            # 1.5 7.20, 7.19, 7.28: no measurand, location or context said otherwise would mean the same.
            _lacks(Measurand, Measurand.POWER_OFFERED, Measurand.POWER_FACTOR, Measurand.CURRENT_OFFERED,
                   Measurand.FREQUENCY, Measurand.SOC, Measurand.RPM),
            _lacks(Location, Location.CABLE, Location.EV),
            _lacks(ReadingContext, ReadingContext.TRIGGER, ReadingContext.OTHER),
            # 1.6's statuses of TriggerMessage (1.6 7.24, 7.25): 1.5 sends only outcomes.
            _lacks(DiagnosticsStatus, DiagnosticsStatus.IDLE, DiagnosticsStatus.UPLOADING),
            _lacks(FirmwareStatus, FirmwareStatus.IDLE, FirmwareStatus.DOWNLOADING,
                   FirmwareStatus.INSTALLING),
            _lacks(RegistrationStatus, RegistrationStatus.PENDING),
            # 1.5 7.11: a change that takes effect after a reboot was accepted all the same.
            _said(ConfigurationStatus, {ConfigurationStatus.REBOOT_REQUIRED: "Accepted"}),
            # 1.5 7.38: Accepted and Rejected only.
            _said(UnlockStatus, {UnlockStatus.UNLOCKED: "Accepted", UnlockStatus.UNLOCK_FAILED: "Rejected",
                                 UnlockStatus.NOT_SUPPORTED: "Rejected"}),
        ])),
    ),
)

OCPP16 = Version(
    name="1.6",
    central_system_operations=CENTRAL_SYSTEM_OPERATIONS,
    charge_point_operations=CHARGE_POINT_OPERATIONS,
    form=WireForm(
        names=MappingProxyType({
            (BootNotificationConfirmation, "heartbeat_interval"): "interval",  # 6.4
            (MeterValuesRequest, "values"): "meterValue",  # 6.31
            (MeterValue, "values"): "sampledValue",  # 7.33
            (SendLocalListRequest, "local_authorisation_list"): "localAuthorizationList",  # 6.41
        }),
        # 1.6's SendLocalList has no hash (6.41, 6.42).
        left_out=frozenset({(SendLocalListRequest, "hash"), (SendLocalListConfirmation, "hash")}),
        ungrouped=frozenset({(StopTransactionRequest, "transaction_data")}),  # 6.49: MeterValue 0..*
        said=MappingProxyType(dict([
            _said(ChargePointErrorCode, {ChargePointErrorCode.MODE3_ERROR: "EVCommunicationError"}),
            _said(UnlockStatus, {UnlockStatus.ACCEPTED: "Unlocked", UnlockStatus.REJECTED: "UnlockFailed"}),
            _said(UpdateStatus, {UpdateStatus.HASH_ERROR: "Failed"}),  # 7.47: no HashError
        ])),
    ),
)
