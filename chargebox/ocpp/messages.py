"""The protocol-neutral messages: every operation of OCPP 1.6's six feature profiles (specification
chapter 6) and what only 1.5 has, paired by name.

``FooRequest`` is Foo.req and ``FooConfirmation`` is Foo.conf. Field names are the spec's names in
snake_case; the codec turns them into the wire's camelCase, in each version's names
(:mod:`chargebox.ocpp.versions`). DataTransfer has one pair that serves both directions (6.15, 6.16).
Constraints beyond the Python type (CiString lengths, decimals, URIs) are in the hints
(:mod:`chargebox.ocpp.constraints`), from which :mod:`chargebox.ocpp.schemas` derives the JSON schemas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, NamedTuple

from chargebox.ocpp.constraints import (
    CiString20,
    CiString25,
    CiString50,
    CiString255,
    CiString500,
    IdToken,
    MinItems,
    Uri,
)
from chargebox.ocpp.datatypes import (
    AuthorisationData,
    ChargingProfile,
    ChargingSchedule,
    IdTagInfo,
    KeyValue,
    MeterValue,
    TransactionData,
)
from chargebox.ocpp.enums import (
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    GetCompositeScheduleStatus,
    MessageTrigger,
    Reason,
    RegistrationStatus,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
    UpdateType,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """Base of every .req message; ``action`` is the operation's name."""

    @classmethod
    def action(cls) -> str:
        return cls.__name__.removesuffix("Request")


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmation:
    """Base of every .conf message."""


#: What a binding calls with a request the Central System sent: its confirmation, or a protocol error
#: (:mod:`chargebox.ocpp.errors`) that the binding answers in its wire form.
Handler = Callable[[Request], Awaitable[Confirmation]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizeRequest(Request):
    """Authorize.req."""

    id_tag: IdToken


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizeConfirmation(Confirmation):
    """Authorize.conf."""

    id_tag_info: IdTagInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class BootNotificationRequest(Request):
    """BootNotification.req."""

    charge_point_vendor: CiString20
    charge_point_model: CiString20
    charge_point_serial_number: CiString25 | None = None
    charge_box_serial_number: CiString25 | None = None
    firmware_version: CiString50 | None = None
    iccid: CiString20 | None = None
    imsi: CiString20 | None = None
    meter_type: CiString25 | None = None
    meter_serial_number: CiString25 | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BootNotificationConfirmation(Confirmation):
    """BootNotification.conf."""

    status: RegistrationStatus
    current_time: datetime
    heartbeat_interval: int  # 1.6 calls it interval (6.4)


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTransferRequest(Request):
    """DataTransfer.req."""

    vendor_id: CiString255
    message_id: CiString50 | None = None
    data: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTransferConfirmation(Confirmation):
    """DataTransfer.conf."""

    status: DataTransferStatus
    data: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosticsStatusNotificationRequest(Request):
    """DiagnosticsStatusNotification.req."""

    status: DiagnosticsStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosticsStatusNotificationConfirmation(Confirmation):
    """DiagnosticsStatusNotification.conf."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareStatusNotificationRequest(Request):
    """FirmwareStatusNotification.req."""

    status: FirmwareStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareStatusNotificationConfirmation(Confirmation):
    """FirmwareStatusNotification.conf."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatRequest(Request):
    """Heartbeat.req."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatConfirmation(Confirmation):
    """Heartbeat.conf."""

    current_time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterValuesRequest(Request):
    """MeterValues.req."""

    connector_id: int
    transaction_id: int | None = None
    values: Annotated[list[MeterValue], MinItems(1)] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterValuesConfirmation(Confirmation):
    """MeterValues.conf."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTransactionRequest(Request):
    """StartTransaction.req."""

    connector_id: int
    id_tag: IdToken
    timestamp: datetime
    meter_start: int
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTransactionConfirmation(Confirmation):
    """StartTransaction.conf."""

    transaction_id: int
    id_tag_info: IdTagInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusNotificationRequest(Request):
    """StatusNotification.req."""

    connector_id: int
    status: ChargePointStatus
    error_code: ChargePointErrorCode
    info: CiString50 | None = None
    timestamp: datetime | None = None
    vendor_id: CiString255 | None = None
    vendor_error_code: CiString50 | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusNotificationConfirmation(Confirmation):
    """StatusNotification.conf."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StopTransactionRequest(Request):
    """StopTransaction.req."""

    transaction_id: int
    id_tag: IdToken | None = None
    timestamp: datetime
    meter_stop: int
    reason: Reason | None = None  # 1.6 only (6.49); absent means Local
    transaction_data: list[TransactionData] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class StopTransactionConfirmation(Confirmation):
    """StopTransaction.conf."""

    id_tag_info: IdTagInfo | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReservationRequest(Request):
    """CancelReservation.req."""

    reservation_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReservationConfirmation(Confirmation):
    """CancelReservation.conf."""

    status: CancelReservationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeAvailabilityRequest(Request):
    """ChangeAvailability.req."""

    connector_id: int
    type: AvailabilityType


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeAvailabilityConfirmation(Confirmation):
    """ChangeAvailability.conf."""

    status: AvailabilityStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeConfigurationRequest(Request):
    """ChangeConfiguration.req."""

    key: CiString50
    value: CiString500


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeConfigurationConfirmation(Confirmation):
    """ChangeConfiguration.conf."""

    status: ConfigurationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearCacheRequest(Request):
    """ClearCache.req."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearCacheConfirmation(Confirmation):
    """ClearCache.conf."""

    status: ClearCacheStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class GetConfigurationRequest(Request):
    """GetConfiguration.req."""

    key: list[CiString50] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetConfigurationConfirmation(Confirmation):
    """GetConfiguration.conf."""

    configuration_key: list[KeyValue] = field(default_factory=list)
    unknown_key: list[CiString50] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDiagnosticsRequest(Request):
    """GetDiagnostics.req."""

    location: Uri
    start_time: datetime | None = None
    stop_time: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDiagnosticsConfirmation(Confirmation):
    """GetDiagnostics.conf."""

    file_name: CiString255 | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetLocalListVersionRequest(Request):
    """GetLocalListVersion.req."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetLocalListVersionConfirmation(Confirmation):
    """GetLocalListVersion.conf."""

    list_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStartTransactionRequest(Request):
    """RemoteStartTransaction.req."""

    id_tag: IdToken
    connector_id: int | None = None
    charging_profile: ChargingProfile | None = None  # 1.6 only (6.33)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStartTransactionConfirmation(Confirmation):
    """RemoteStartTransaction.conf."""

    status: RemoteStartStopStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStopTransactionRequest(Request):
    """RemoteStopTransaction.req."""

    transaction_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStopTransactionConfirmation(Confirmation):
    """RemoteStopTransaction.conf."""

    status: RemoteStartStopStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveNowRequest(Request):
    """ReserveNow.req."""

    connector_id: int
    expiry_date: datetime
    id_tag: IdToken
    parent_id_tag: IdToken | None = None
    reservation_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveNowConfirmation(Confirmation):
    """ReserveNow.conf."""

    status: ReservationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetRequest(Request):
    """Reset.req."""

    type: ResetType


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetConfirmation(Confirmation):
    """Reset.conf."""

    status: ResetStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class SendLocalListRequest(Request):
    """SendLocalList.req."""

    update_type: UpdateType
    list_version: int
    local_authorisation_list: list[AuthorisationData] = field(default_factory=list)
    hash: str | None = None  # 1.5 only (1.5 6.41)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendLocalListConfirmation(Confirmation):
    """SendLocalList.conf."""

    status: UpdateStatus
    hash: str | None = None  # 1.5 only (1.5 6.42)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnlockConnectorRequest(Request):
    """UnlockConnector.req."""

    connector_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnlockConnectorConfirmation(Confirmation):
    """UnlockConnector.conf."""

    status: UnlockStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateFirmwareRequest(Request):
    """UpdateFirmware.req."""

    retrieve_date: datetime
    location: Uri
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateFirmwareConfirmation(Confirmation):
    """UpdateFirmware.conf."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearChargingProfileRequest(Request):
    """ClearChargingProfile.req (6.13)."""

    id: int | None = None
    connector_id: int | None = None
    charging_profile_purpose: ChargingProfilePurposeType | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearChargingProfileConfirmation(Confirmation):
    """ClearChargingProfile.conf (6.14)."""

    status: ClearChargingProfileStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCompositeScheduleRequest(Request):
    """GetCompositeSchedule.req (6.21)."""

    connector_id: int
    duration: int
    charging_rate_unit: ChargingRateUnitType | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCompositeScheduleConfirmation(Confirmation):
    """GetCompositeSchedule.conf (6.22)."""

    status: GetCompositeScheduleStatus
    connector_id: int | None = None
    schedule_start: datetime | None = None
    charging_schedule: ChargingSchedule | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetChargingProfileRequest(Request):
    """SetChargingProfile.req (6.43)."""

    connector_id: int
    cs_charging_profiles: ChargingProfile


@dataclass(frozen=True, slots=True, kw_only=True)
class SetChargingProfileConfirmation(Confirmation):
    """SetChargingProfile.conf (6.44)."""

    status: ChargingProfileStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerMessageRequest(Request):
    """TriggerMessage.req (6.51)."""

    requested_message: MessageTrigger
    connector_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerMessageConfirmation(Confirmation):
    """TriggerMessage.conf (6.52)."""

    status: TriggerMessageStatus


class Operation(NamedTuple):
    """An operation's name and its pair of message classes."""

    name: str
    request: type[Request]
    confirmation: type[Confirmation]


def _operations(*pairs: tuple[type[Request], type[Confirmation]]) -> dict[str, Operation]:
    return {req.action(): Operation(req.action(), req, conf) for req, conf in pairs}


# The 10 operations the charge box initiates (1.6 chapter 4, the same as 1.5's), served by the Central System.
CENTRAL_SYSTEM_OPERATIONS: dict[str, Operation] = _operations(
    (AuthorizeRequest, AuthorizeConfirmation),
    (BootNotificationRequest, BootNotificationConfirmation),
    (DataTransferRequest, DataTransferConfirmation),
    (DiagnosticsStatusNotificationRequest, DiagnosticsStatusNotificationConfirmation),
    (FirmwareStatusNotificationRequest, FirmwareStatusNotificationConfirmation),
    (HeartbeatRequest, HeartbeatConfirmation),
    (MeterValuesRequest, MeterValuesConfirmation),
    (StartTransactionRequest, StartTransactionConfirmation),
    (StatusNotificationRequest, StatusNotificationConfirmation),
    (StopTransactionRequest, StopTransactionConfirmation),
)

# The 19 operations the Central System initiates (1.6 chapter 5: 1.5's 15 and 1.6's ClearChargingProfile,
# GetCompositeSchedule, SetChargingProfile, TriggerMessage), served by the charge box. Which of them a
# version has: chargebox.ocpp.versions.
CHARGE_POINT_OPERATIONS: dict[str, Operation] = _operations(
    (CancelReservationRequest, CancelReservationConfirmation),
    (ChangeAvailabilityRequest, ChangeAvailabilityConfirmation),
    (ChangeConfigurationRequest, ChangeConfigurationConfirmation),
    (ClearCacheRequest, ClearCacheConfirmation),
    (ClearChargingProfileRequest, ClearChargingProfileConfirmation),
    (DataTransferRequest, DataTransferConfirmation),
    (GetCompositeScheduleRequest, GetCompositeScheduleConfirmation),
    (GetConfigurationRequest, GetConfigurationConfirmation),
    (GetDiagnosticsRequest, GetDiagnosticsConfirmation),
    (GetLocalListVersionRequest, GetLocalListVersionConfirmation),
    (RemoteStartTransactionRequest, RemoteStartTransactionConfirmation),
    (RemoteStopTransactionRequest, RemoteStopTransactionConfirmation),
    (ReserveNowRequest, ReserveNowConfirmation),
    (ResetRequest, ResetConfirmation),
    (SendLocalListRequest, SendLocalListConfirmation),
    (SetChargingProfileRequest, SetChargingProfileConfirmation),
    (TriggerMessageRequest, TriggerMessageConfirmation),
    (UnlockConnectorRequest, UnlockConnectorConfirmation),
    (UpdateFirmwareRequest, UpdateFirmwareConfirmation),
)
