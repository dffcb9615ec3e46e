"""One complete example of every OCPP 1.5 message (chapter 6), every optional field and attribute set; and of
every OCPP 1.6 message (1.6 chapter 6), in 1.6's terms (REQUESTS_16, CONFIRMATIONS_16).

Shared by the binding's conformance tests and the interop tests: each operation maps to its request
and its confirmation. Strings sit at their length limits where the spec has one (IdToken 20, vendor
20, serial numbers 25, ...), so a binding that truncates or over-restricts shows up.
"""

from __future__ import annotations

from datetime import datetime, timezone

from chargebox.ocpp import messages as m
from chargebox.ocpp.datatypes import (
    AuthorisationData,
    ChargingProfile,
    ChargingSchedule,
    ChargingSchedulePeriod,
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
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ChargePointStatus,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    GetCompositeScheduleStatus,
    Location,
    Measurand,
    MessageTrigger,
    Phase,
    ReadingContext,
    Reason,
    RecurrencyKindType,
    RegistrationStatus,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
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

# OCPP 1.6 (1.6 chapter 6): the same messages where 1.6 says them alike, 1.6's own fields and values set
# (SampledValue phase, StopTransaction reason, a remote start's charging profile, SendLocalList without hash,
# UnlockConnector's Unlocked), and the four operations 1.6 added (Smart Charging and Remote Trigger).
METER_VALUE_16 = MeterValue(timestamp=T0, values=[
    SampledValue("1234.5", context=ReadingContext.TRIGGER, format=ValueFormat.RAW,
                 measurand=Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, phase=Phase.L1_N,
                 location=Location.OUTLET, unit=UnitOfMeasure.KWH),
    SampledValue("16.0", context=ReadingContext.SAMPLE_PERIODIC, format=ValueFormat.RAW,
                 measurand=Measurand.CURRENT_OFFERED, phase=Phase.L1, location=Location.EV,
                 unit=UnitOfMeasure.AMP),
    SampledValue("230"),
])
CHARGING_PROFILE = ChargingProfile(
    charging_profile_id=3, stack_level=2, charging_profile_purpose=ChargingProfilePurposeType.TX_PROFILE,
    charging_profile_kind=ChargingProfileKindType.RECURRING, transaction_id=42,
    recurrency_kind=RecurrencyKindType.DAILY, valid_from=T0, valid_to=T1,
    charging_schedule=ChargingSchedule(
        charging_rate_unit=ChargingRateUnitType.A, duration=3600, start_schedule=T0, min_charging_rate=6.5,
        charging_schedule_period=[ChargingSchedulePeriod(start_period=0, limit=16.0, number_phases=3),
                                  ChargingSchedulePeriod(start_period=1800, limit=10.5)]),
)

REQUESTS_16: dict[str, m.Request] = {
    **REQUESTS,
    "MeterValues": m.MeterValuesRequest(connector_id=1, transaction_id=42,
                                        values=[METER_VALUE_16, METER_VALUE_16]),
    "StatusNotification": m.StatusNotificationRequest(
        connector_id=1, status=ChargePointStatus.FAULTED, error_code=ChargePointErrorCode.OVER_VOLTAGE,
        info="I" * 50, timestamp=T0, vendor_id="V" * 255, vendor_error_code="E" * 50),
    "StopTransaction": m.StopTransactionRequest(
        transaction_id=42, id_tag=TAG, timestamp=T1, meter_stop=2500, reason=Reason.EV_DISCONNECTED,
        transaction_data=[TransactionData(values=[METER_VALUE_16, METER_VALUE_16])]),  # 6.49: ungrouped
    "RemoteStartTransaction": m.RemoteStartTransactionRequest(id_tag=TAG, connector_id=1,
                                                              charging_profile=CHARGING_PROFILE),
    "SendLocalList": m.SendLocalListRequest(
        update_type=UpdateType.DIFFERENTIAL, list_version=12,
        local_authorisation_list=[AuthorisationData(id_tag=TAG, id_tag_info=ID_TAG_INFO),
                                  AuthorisationData(id_tag="TO-BE-REMOVED")]),
    "ClearChargingProfile": m.ClearChargingProfileRequest(
        id=3, connector_id=1, charging_profile_purpose=ChargingProfilePurposeType.TX_DEFAULT_PROFILE,
        stack_level=2),
    "GetCompositeSchedule": m.GetCompositeScheduleRequest(connector_id=1, duration=86400,
                                                          charging_rate_unit=ChargingRateUnitType.W),
    "SetChargingProfile": m.SetChargingProfileRequest(connector_id=1, cs_charging_profiles=CHARGING_PROFILE),
    "TriggerMessage": m.TriggerMessageRequest(requested_message=MessageTrigger.STATUS_NOTIFICATION,
                                              connector_id=1),
}

CONFIRMATIONS_16: dict[str, m.Confirmation] = {
    **CONFIRMATIONS,
    "BootNotification": m.BootNotificationConfirmation(status=RegistrationStatus.PENDING, current_time=T0,
                                                       heartbeat_interval=900),
    "ChangeConfiguration": m.ChangeConfigurationConfirmation(status=ConfigurationStatus.REBOOT_REQUIRED),
    "SendLocalList": m.SendLocalListConfirmation(status=UpdateStatus.VERSION_MISMATCH),
    "UnlockConnector": m.UnlockConnectorConfirmation(status=UnlockStatus.UNLOCKED),
    "ClearChargingProfile": m.ClearChargingProfileConfirmation(status=ClearChargingProfileStatus.UNKNOWN),
    "GetCompositeSchedule": m.GetCompositeScheduleConfirmation(
        status=GetCompositeScheduleStatus.ACCEPTED, connector_id=1, schedule_start=T0,
        charging_schedule=CHARGING_PROFILE.charging_schedule),
    "SetChargingProfile": m.SetChargingProfileConfirmation(status=ChargingProfileStatus.NOT_SUPPORTED),
    "TriggerMessage": m.TriggerMessageConfirmation(status=TriggerMessageStatus.NOT_IMPLEMENTED),
}
