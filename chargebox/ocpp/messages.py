"""The messages of the 25 OCPP 1.5 operations (specification chapter 6), paired by name.

``FooRequest`` is Foo.req and ``FooConfirmation`` is Foo.conf. Field names are the spec's names in
snake_case; the binding's codec turns them into the wire's camelCase. DataTransfer has one pair that
serves both directions (6.13, 6.14).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from chargebox.ocpp.datatypes import AuthorisationData, IdTagInfo, KeyValue, MeterValue, TransactionData
from chargebox.ocpp.enums import (
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ClearCacheStatus,
    ConfigurationStatus,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    RegistrationStatus,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
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

    id_tag: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizeConfirmation(Confirmation):
    """Authorize.conf."""

    id_tag_info: IdTagInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class BootNotificationRequest(Request):
    """BootNotification.req."""

    charge_point_vendor: str
    charge_point_model: str
    charge_point_serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BootNotificationConfirmation(Confirmation):
    """BootNotification.conf."""

    status: RegistrationStatus
    current_time: datetime
    heartbeat_interval: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTransferRequest(Request):
    """DataTransfer.req."""

    vendor_id: str
    message_id: str | None = None
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
    values: list[MeterValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterValuesConfirmation(Confirmation):
    """MeterValues.conf."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTransactionRequest(Request):
    """StartTransaction.req."""

    connector_id: int
    id_tag: str
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
    info: str | None = None
    timestamp: datetime | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusNotificationConfirmation(Confirmation):
    """StatusNotification.conf."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StopTransactionRequest(Request):
    """StopTransaction.req."""

    transaction_id: int
    id_tag: str | None = None
    timestamp: datetime
    meter_stop: int
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

    key: str
    value: str


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

    key: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetConfigurationConfirmation(Confirmation):
    """GetConfiguration.conf."""

    configuration_key: list[KeyValue] = field(default_factory=list)
    unknown_key: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDiagnosticsRequest(Request):
    """GetDiagnostics.req."""

    location: str
    start_time: datetime | None = None
    stop_time: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDiagnosticsConfirmation(Confirmation):
    """GetDiagnostics.conf."""

    file_name: str | None = None


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

    id_tag: str
    connector_id: int | None = None


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
    id_tag: str
    parent_id_tag: str | None = None
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
    hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendLocalListConfirmation(Confirmation):
    """SendLocalList.conf."""

    status: UpdateStatus
    hash: str | None = None


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
    location: str
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateFirmwareConfirmation(Confirmation):
    """UpdateFirmware.conf."""


class Operation(NamedTuple):
    """An operation's name and its pair of message classes."""

    name: str
    request: type[Request]
    confirmation: type[Confirmation]


def _operations(*pairs: tuple[type[Request], type[Confirmation]]) -> dict[str, Operation]:
    return {req.action(): Operation(req.action(), req, conf) for req, conf in pairs}


# The 10 operations the charge box initiates (4.1-4.10), served by the Central System.
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

# The 15 operations the Central System initiates (5.1-5.15), served by the charge box.
CHARGE_POINT_OPERATIONS: dict[str, Operation] = _operations(
    (CancelReservationRequest, CancelReservationConfirmation),
    (ChangeAvailabilityRequest, ChangeAvailabilityConfirmation),
    (ChangeConfigurationRequest, ChangeConfigurationConfirmation),
    (ClearCacheRequest, ClearCacheConfirmation),
    (DataTransferRequest, DataTransferConfirmation),
    (GetConfigurationRequest, GetConfigurationConfirmation),
    (GetDiagnosticsRequest, GetDiagnosticsConfirmation),
    (GetLocalListVersionRequest, GetLocalListVersionConfirmation),
    (RemoteStartTransactionRequest, RemoteStartTransactionConfirmation),
    (RemoteStopTransactionRequest, RemoteStopTransactionConfirmation),
    (ReserveNowRequest, ReserveNowConfirmation),
    (ResetRequest, ResetConfirmation),
    (SendLocalListRequest, SendLocalListConfirmation),
    (UnlockConnectorRequest, UnlockConnectorConfirmation),
    (UpdateFirmwareRequest, UpdateFirmwareConfirmation),
)
