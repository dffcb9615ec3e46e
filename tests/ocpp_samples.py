"""One complete example of every OCPP 1.5 message (chapter 6), every optional field and attribute set.

Shared by the binding's conformance tests and the interop tests: each operation maps to its request
and its confirmation. Strings sit at their length limits where the spec has one (IdToken 20, vendor
20, serial numbers 25, ...), so a binding that truncates or over-restricts shows up.
"""

from __future__ import annotations

from datetime import datetime, timezone

from chargebox.ocpp import messages as m
from chargebox.ocpp.datatypes import (
    AuthorisationData,
    IdTagInfo,
    KeyValue,
    MeterValue,
    SampledValue,
    TransactionData,
)
from chargebox.ocpp.enums import (
    AuthorizationStatus,
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
    Location,
    Measurand,
    ReadingContext,
    RegistrationStatus,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    UnitOfMeasure,
    UnlockStatus,
    UpdateStatus,
    UpdateType,
    ValueFormat,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 3, 1, 12, 15, 30, tzinfo=timezone.utc)
TAG = "04A2B3C4D5E6F7081920"  # IdToken at its limit: 20 characters (7.20)
PARENT = "PARENT-TAG-000000001"
ID_TAG_INFO = IdTagInfo(status=AuthorizationStatus.ACCEPTED, expiry_date=T1, parent_id_tag=PARENT)

METER_VALUE = MeterValue(timestamp=T0, values=[
    SampledValue("1234.5", context=ReadingContext.SAMPLE_PERIODIC, format=ValueFormat.RAW,
                 measurand=Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, location=Location.OUTLET, unit=UnitOfMeasure.WH),
    SampledValue("0A1B2C", context=ReadingContext.TRANSACTION_END, format=ValueFormat.SIGNED_DATA,
                 measurand=Measurand.CURRENT_IMPORT, location=Location.INLET, unit=UnitOfMeasure.AMP),
    SampledValue("230"),  # no attributes: the spec's defaults apply
])

REQUESTS: dict[str, m.Request] = {
    # The 10 operations the box initiates (chapter 4).
    "Authorize": m.AuthorizeRequest(id_tag=TAG),
    "BootNotification": m.BootNotificationRequest(
        charge_point_vendor="V" * 20, charge_point_model="M" * 20, charge_point_serial_number="S" * 25,
        charge_box_serial_number="B" * 25, firmware_version="F" * 50, iccid="8" * 20, imsi="2" * 20,
        meter_type="T" * 25, meter_serial_number="N" * 25),
    "DataTransfer": m.DataTransferRequest(vendor_id="com.example.vendor", message_id="Msg-1", data="any <text> & data"),
    "DiagnosticsStatusNotification": m.DiagnosticsStatusNotificationRequest(status=DiagnosticsStatus.UPLOADED),
    "FirmwareStatusNotification": m.FirmwareStatusNotificationRequest(status=FirmwareStatus.INSTALLATION_FAILED),
    "Heartbeat": m.HeartbeatRequest(),
    "MeterValues": m.MeterValuesRequest(connector_id=1, transaction_id=42, values=[METER_VALUE, METER_VALUE]),
    "StartTransaction": m.StartTransactionRequest(connector_id=1, id_tag=TAG, timestamp=T0, meter_start=1000,
                                                  reservation_id=7),
    "StatusNotification": m.StatusNotificationRequest(
        connector_id=1, status=ChargePointStatus.FAULTED, error_code=ChargePointErrorCode.GROUND_FAILURE,
        info="I" * 50, timestamp=T0, vendor_id="V" * 255, vendor_error_code="E" * 50),
    "StopTransaction": m.StopTransactionRequest(
        transaction_id=42, id_tag=TAG, timestamp=T1, meter_stop=2500,
        transaction_data=[TransactionData(values=[METER_VALUE]), TransactionData(values=[METER_VALUE])]),
    # The 15 operations the Central System initiates (chapter 5).
    "CancelReservation": m.CancelReservationRequest(reservation_id=7),
    "ChangeAvailability": m.ChangeAvailabilityRequest(connector_id=0, type=AvailabilityType.INOPERATIVE),
    "ChangeConfiguration": m.ChangeConfigurationRequest(key="HeartbeatInterval", value="600"),
    "ClearCache": m.ClearCacheRequest(),
    "GetConfiguration": m.GetConfigurationRequest(key=["HeartbeatInterval", "NoSuchKey"]),
    "GetDiagnostics": m.GetDiagnosticsRequest(location="ftp://user:pw@ftp.example.com/diag/", start_time=T0,
                                              stop_time=T1, retries=3, retry_interval=60),
    "GetLocalListVersion": m.GetLocalListVersionRequest(),
    "RemoteStartTransaction": m.RemoteStartTransactionRequest(id_tag=TAG, connector_id=1),
    "RemoteStopTransaction": m.RemoteStopTransactionRequest(transaction_id=42),
    "ReserveNow": m.ReserveNowRequest(connector_id=1, expiry_date=T1, id_tag=TAG, parent_id_tag=PARENT,
                                      reservation_id=7),
    "Reset": m.ResetRequest(type=ResetType.SOFT),
    "SendLocalList": m.SendLocalListRequest(
        update_type=UpdateType.DIFFERENTIAL, list_version=12, hash="0123456789abcdef0123456789abcdef01234567",
        local_authorisation_list=[AuthorisationData(id_tag=TAG, id_tag_info=ID_TAG_INFO),
                                  AuthorisationData(id_tag="TO-BE-REMOVED")]),
    "UnlockConnector": m.UnlockConnectorRequest(connector_id=1),
    "UpdateFirmware": m.UpdateFirmwareRequest(retrieve_date=T1, location="ftp://ftp.example.com/fw/1.2.bin",
                                              retries=2, retry_interval=30),
}

CONFIRMATIONS: dict[str, m.Confirmation] = {
    "Authorize": m.AuthorizeConfirmation(id_tag_info=ID_TAG_INFO),
    "BootNotification": m.BootNotificationConfirmation(status=RegistrationStatus.ACCEPTED, current_time=T0,
                                                       heartbeat_interval=900),
    "DataTransfer": m.DataTransferConfirmation(status=DataTransferStatus.ACCEPTED, data="answer & <data>"),
    "DiagnosticsStatusNotification": m.DiagnosticsStatusNotificationConfirmation(),
    "FirmwareStatusNotification": m.FirmwareStatusNotificationConfirmation(),
    "Heartbeat": m.HeartbeatConfirmation(current_time=T1),
    "MeterValues": m.MeterValuesConfirmation(),
    "StartTransaction": m.StartTransactionConfirmation(transaction_id=42, id_tag_info=ID_TAG_INFO),
    "StatusNotification": m.StatusNotificationConfirmation(),
    "StopTransaction": m.StopTransactionConfirmation(id_tag_info=ID_TAG_INFO),
    "CancelReservation": m.CancelReservationConfirmation(status=CancelReservationStatus.REJECTED),
    "ChangeAvailability": m.ChangeAvailabilityConfirmation(status=AvailabilityStatus.SCHEDULED),
    "ChangeConfiguration": m.ChangeConfigurationConfirmation(status=ConfigurationStatus.NOT_SUPPORTED),
    "ClearCache": m.ClearCacheConfirmation(status=ClearCacheStatus.ACCEPTED),
    "GetConfiguration": m.GetConfigurationConfirmation(
        configuration_key=[KeyValue(key="HeartbeatInterval", readonly=False, value="600"),
                           KeyValue(key="ChargePointModel", readonly=True)],
        unknown_key=["NoSuchKey", "NorThisOne"]),
    "GetDiagnostics": m.GetDiagnosticsConfirmation(file_name="diagnostics-2026-03-01.log"),
    "GetLocalListVersion": m.GetLocalListVersionConfirmation(list_version=12),
    "RemoteStartTransaction": m.RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED),
    "RemoteStopTransaction": m.RemoteStopTransactionConfirmation(status=RemoteStartStopStatus.REJECTED),
    "ReserveNow": m.ReserveNowConfirmation(status=ReservationStatus.OCCUPIED),
    "Reset": m.ResetConfirmation(status=ResetStatus.ACCEPTED),
    "SendLocalList": m.SendLocalListConfirmation(status=UpdateStatus.HASH_ERROR,
                                                 hash="0123456789abcdef0123456789abcdef01234567"),
    "UnlockConnector": m.UnlockConnectorConfirmation(status=UnlockStatus.ACCEPTED),
    "UpdateFirmware": m.UpdateFirmwareConfirmation(),
}
