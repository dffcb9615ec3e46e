"""The project's own OCPP 1.6 WSDLs (chargebox/binding/soap16/wsdl, issue 17) against the official ones.

Our WSDLs are written from the 1.6 specification (ch. 4-7) and its errata sheet; the official 1.6 WSDLs in
``../shared/spec/wsdl`` are the oracle (tests that need them skip where they are absent). For every
operation, request and confirmation, sample bodies (typical, every optional field, boundary lengths) are
rendered through our WSDL with zeep and validated against the official schema, and rendered through the
official WSDL and parsed through ours; bad bodies (a CiString one too long, an enum value not in the set,
a required element missing, a 1.5 form) are refused by both. The schemas are also compared structurally,
whatever each names its types: the same operations, and in each message the same elements in the same
order with the same cardinality and types.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import zeep
import zeep.helpers
from lxml import etree
from wsdl_oracle import (
    ENV12_NS,
    WSA_NS,
    SchemaModel,
    compiled_schema,
    errors,
    extract_schema,
    qualified,
    shape,
    wrapper,
    wsdl_wire_model,
    zeep_client,
)
from zeep.wsdl.bindings.soap import Soap12Binding

# The WSDLs as the installed package has them (package data, pyproject.toml).
OUR_DIR = Path(str(files("chargebox.binding.soap16") / "wsdl"))

CS_NS = "urn://Ocpp/Cs/2015/10/"
CP_NS = "urn://Ocpp/Cp/2015/10/"

# service -> (our file, official file, target namespace, operations: spec 3.2 feature profiles, ch. 4 and 5)
SERVICES: dict[str, tuple[str, str, str, frozenset[str]]] = {
    "centralsystem": (
        "ocpp16_centralsystem.wsdl",
        "OCPP_CentralSystemService_1.6.wsdl",
        CS_NS,
        frozenset({
            "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
            "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
            "StatusNotification", "StopTransaction",
        }),
    ),
    "chargepoint": (
        "ocpp16_chargepoint.wsdl",
        "OCPP_ChargePointService_1.6.wsdl",
        CP_NS,
        frozenset({
            "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
            "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule", "GetConfiguration",
            "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction", "RemoteStopTransaction",
            "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile", "TriggerMessage", "UnlockConnector",
            "UpdateFirmware",
        }),
    ),
}
SERVICE_NAMES = sorted(SERVICES)

# Where our WSDL follows the specification and the official one does not, field by field:
# (service, element path) -> (index in a SchemaModel row, ours, official).
# 6.31 MeterValues.req: meterValue is "1..* Required"; the official schema has minOccurs="0". We only send
# MeterValues (the Central System service is served by the Central System), so being stricter than the
# official schema on this field never refuses a message from a peer.
SPEC_OVER_OFFICIAL: dict[tuple[str, str], tuple[int, str, str]] = {
    ("centralsystem", "meterValuesRequest/meterValue"): (2, "1", "0"),
}


def our_path(service: str) -> Path:
    return OUR_DIR / SERVICES[service][0]


@pytest.fixture
def official(official_wsdl: Path) -> dict[str, Path]:
    """The official 1.6 WSDL of each service; skips where they are absent (a fresh clone)."""
    paths = {service: official_wsdl / SERVICES[service][1] for service in SERVICE_NAMES}
    missing = [path.name for path in paths.values() if not path.is_file()]
    if missing:
        pytest.skip(f"official OCPP 1.6 WSDLs not present: {', '.join(missing)}")
    return paths


# --------------------------------------------------------------------------------------------------
# sample bodies: per PDU a typical one and, where the PDU has optional fields, one with all of them

TS = "2016-02-01T15:09:18Z"
TS2 = "2016-02-01T16:09:18+01:00"
TAG = "04E91C5A123456"
ID_TAG_INFO_FULL = f"""<status>Accepted</status><expiryDate>{TS}</expiryDate>
    <parentIdTag>PARENT-1</parentIdTag>"""
SAMPLED_FULL = """<sampledValue><value>1234.5</value><context>Sample.Periodic</context><format>Raw</format>
    <measurand>Energy.Active.Import.Register</measurand><phase>L1-N</phase><location>Outlet</location>
    <unit>kWh</unit></sampledValue>"""
METER_VALUES_FULL = f"""<meterValue><timestamp>{TS}</timestamp>{SAMPLED_FULL}
    <sampledValue><value>15.9</value><measurand>Current.Import</measurand><phase>L2</phase><unit>A</unit>
    </sampledValue><sampledValue><value>0A1B2C</value><format>SignedData</format></sampledValue></meterValue>
    <meterValue><timestamp>{TS2}</timestamp><sampledValue><value>50.01</value><context>Trigger</context>
    <measurand>Frequency</measurand><location>Inlet</location></sampledValue></meterValue>"""
SCHEDULE_FULL = f"""<duration>86400</duration><startSchedule>{TS}</startSchedule>
    <chargingRateUnit>A</chargingRateUnit>
    <chargingSchedulePeriod><startPeriod>0</startPeriod><limit>16</limit><numberPhases>3</numberPhases>
    </chargingSchedulePeriod>
    <chargingSchedulePeriod><startPeriod>3600</startPeriod><limit>8.1</limit></chargingSchedulePeriod>
    <minChargingRate>6.5</minChargingRate>"""
PROFILE_FULL = f"""<chargingProfileId>12</chargingProfileId><transactionId>4711</transactionId>
    <stackLevel>0</stackLevel><chargingProfilePurpose>TxProfile</chargingProfilePurpose>
    <chargingProfileKind>Recurring</chargingProfileKind><recurrencyKind>Daily</recurrencyKind>
    <validFrom>{TS}</validFrom><validTo>2017-02-01T00:00:00Z</validTo>
    <chargingSchedule>{SCHEDULE_FULL}</chargingSchedule>"""
PROFILE_MIN = """<chargingProfileId>1</chargingProfileId><stackLevel>3</stackLevel>
    <chargingProfilePurpose>ChargePointMaxProfile</chargingProfilePurpose>
    <chargingProfileKind>Relative</chargingProfileKind>
    <chargingSchedule><chargingRateUnit>W</chargingRateUnit>
    <chargingSchedulePeriod><startPeriod>0</startPeriod><limit>11000</limit></chargingSchedulePeriod>
    </chargingSchedule>"""

CS_VALID = [
    # 6.1 / 6.2
    f"<authorizeRequest><idTag>{TAG}</idTag></authorizeRequest>",
    f"<authorizeResponse><idTagInfo>{ID_TAG_INFO_FULL}</idTagInfo></authorizeResponse>",
    "<authorizeResponse><idTagInfo><status>ConcurrentTx</status></idTagInfo></authorizeResponse>",
    # 6.3 / 6.4
    """<bootNotificationRequest><chargePointVendor>ACME</chargePointVendor>
        <chargePointModel>Box-1</chargePointModel>
        <chargePointSerialNumber>CP-1</chargePointSerialNumber>
        <chargeBoxSerialNumber>CB-1</chargeBoxSerialNumber>
        <firmwareVersion>1.2.3</firmwareVersion><iccid>89310410106543789301</iccid>
        <imsi>204043000000001</imsi>
        <meterType>ACME M1</meterType><meterSerialNumber>M-42</meterSerialNumber>
        </bootNotificationRequest>""",
    """<bootNotificationRequest><chargePointVendor>ACME</chargePointVendor>
        <chargePointModel>Box-1</chargePointModel></bootNotificationRequest>""",
    f"""<bootNotificationResponse><status>Pending</status><currentTime>{TS}</currentTime>
        <interval>300</interval>
        </bootNotificationResponse>""",
    # 6.15 / 6.16
    """<dataTransferRequest><vendorId>com.example.chargebox</vendorId><messageId>Ping</messageId>
        <data>{"free": "text"}</data></dataTransferRequest>""",
    "<dataTransferRequest><vendorId>com.example.chargebox</vendorId></dataTransferRequest>",
    "<dataTransferResponse><status>UnknownMessageId</status><data>pong</data></dataTransferResponse>",
    "<dataTransferResponse><status>Accepted</status></dataTransferResponse>",
    # 6.17 / 6.18, 6.19 / 6.20
    "<diagnosticsStatusNotificationRequest><status>Uploading</status></diagnosticsStatusNotificationRequest>",
    "<diagnosticsStatusNotificationResponse/>",
    "<firmwareStatusNotificationRequest><status>Installing</status></firmwareStatusNotificationRequest>",
    "<firmwareStatusNotificationResponse/>",
    # 6.29 / 6.30
    "<heartbeatRequest/>",
    f"<heartbeatResponse><currentTime>{TS}</currentTime></heartbeatResponse>",
    # 6.31 / 6.32, 7.33 MeterValue, 7.43 SampledValue
    f"""<meterValuesRequest><connectorId>1</connectorId><transactionId>4711</transactionId>{METER_VALUES_FULL}
        </meterValuesRequest>""",
    f"""<meterValuesRequest><connectorId>0</connectorId><meterValue><timestamp>{TS}</timestamp>
        <sampledValue><value>123456</value></sampledValue></meterValue></meterValuesRequest>""",
    "<meterValuesResponse/>",
    # 6.45 / 6.46
    f"""<startTransactionRequest><connectorId>1</connectorId><idTag>{TAG}</idTag><timestamp>{TS}</timestamp>
        <meterStart>0</meterStart><reservationId>77</reservationId></startTransactionRequest>""",
    f"""<startTransactionRequest><connectorId>2</connectorId><idTag>{TAG}</idTag><timestamp>{TS}</timestamp>
        <meterStart>123456</meterStart></startTransactionRequest>""",
    f"""<startTransactionResponse><transactionId>-1</transactionId><idTagInfo>{ID_TAG_INFO_FULL}</idTagInfo>
        </startTransactionResponse>""",
    # 6.47 / 6.48
    f"""<statusNotificationRequest><connectorId>1</connectorId><status>SuspendedEVSE</status>
        <errorCode>EVCommunicationError</errorCode><info>pilot state E</info><timestamp>{TS}</timestamp>
        <vendorId>com.example</vendorId><vendorErrorCode>E-17</vendorErrorCode>
        </statusNotificationRequest>""",
    """<statusNotificationRequest><connectorId>0</connectorId><status>Available</status>
        <errorCode>NoError</errorCode>
        </statusNotificationRequest>""",
    "<statusNotificationResponse/>",
    # 6.49 / 6.50
    f"""<stopTransactionRequest><transactionId>4711</transactionId><idTag>{TAG}</idTag>
        <timestamp>{TS}</timestamp>
        <meterStop>130000</meterStop><reason>EVDisconnected</reason>
        <transactionData><timestamp>{TS}</timestamp>{SAMPLED_FULL}</transactionData>
        <transactionData><timestamp>{TS2}</timestamp><sampledValue><value>7</value></sampledValue>
        </transactionData>
        </stopTransactionRequest>""",
    f"""<stopTransactionRequest><transactionId>-1</transactionId><timestamp>{TS}</timestamp>
        <meterStop>0</meterStop>
        </stopTransactionRequest>""",
    f"<stopTransactionResponse><idTagInfo>{ID_TAG_INFO_FULL}</idTagInfo></stopTransactionResponse>",
    "<stopTransactionResponse/>",
]

CP_VALID = [
    # 6.5 / 6.6
    "<cancelReservationRequest><reservationId>77</reservationId></cancelReservationRequest>",
    "<cancelReservationResponse><status>Rejected</status></cancelReservationResponse>",
    # 6.7 / 6.8
    """<changeAvailabilityRequest><connectorId>0</connectorId><type>Inoperative</type>
        </changeAvailabilityRequest>""",
    "<changeAvailabilityResponse><status>Scheduled</status></changeAvailabilityResponse>",
    # 6.9 / 6.10
    """<changeConfigurationRequest><key>MeterValuesSampledData</key>
        <value>Energy.Active.Import.Register,Current.Import</value></changeConfigurationRequest>""",
    "<changeConfigurationResponse><status>RebootRequired</status></changeConfigurationResponse>",
    # 6.11 / 6.12
    "<clearCacheRequest/>",
    "<clearCacheResponse><status>Accepted</status></clearCacheResponse>",
    # 6.13 / 6.14
    """<clearChargingProfileRequest><id>12</id><connectorId>0</connectorId>
        <chargingProfilePurpose>TxDefaultProfile</chargingProfilePurpose><stackLevel>2</stackLevel>
        </clearChargingProfileRequest>""",
    "<clearChargingProfileRequest/>",
    "<clearChargingProfileResponse><status>Unknown</status></clearChargingProfileResponse>",
    # 6.15 / 6.16
    """<dataTransferRequest><vendorId>com.example.cs</vendorId><messageId>SetPrice</messageId>
        <data>0.30</data>
        </dataTransferRequest>""",
    "<dataTransferRequest><vendorId>com.example.cs</vendorId></dataTransferRequest>",
    "<dataTransferResponse><status>UnknownVendorId</status><data>no</data></dataTransferResponse>",
    "<dataTransferResponse><status>Rejected</status></dataTransferResponse>",
    # 6.21 / 6.22 (startSchedule omitted in a composite schedule, errata 3.57)
    """<getCompositeScheduleRequest><connectorId>1</connectorId><duration>3600</duration>
        <chargingRateUnit>W</chargingRateUnit></getCompositeScheduleRequest>""",
    """<getCompositeScheduleRequest><connectorId>0</connectorId><duration>60</duration>
        </getCompositeScheduleRequest>""",
    f"""<getCompositeScheduleResponse><status>Accepted</status><connectorId>1</connectorId>
        <scheduleStart>{TS}</scheduleStart><chargingSchedule><duration>3600</duration>
        <chargingRateUnit>A</chargingRateUnit><chargingSchedulePeriod><startPeriod>0</startPeriod>
        <limit>32</limit><numberPhases>1</numberPhases></chargingSchedulePeriod>
        <minChargingRate>6</minChargingRate>
        </chargingSchedule></getCompositeScheduleResponse>""",
    "<getCompositeScheduleResponse><status>Rejected</status></getCompositeScheduleResponse>",
    # the schema keeps ChargingSchedule.startSchedule here too; only errata 3.57 says to leave it out
    f"""<getCompositeScheduleResponse><status>Accepted</status><chargingSchedule>
        <startSchedule>{TS}</startSchedule>
        <chargingRateUnit>W</chargingRateUnit><chargingSchedulePeriod><startPeriod>0</startPeriod>
        <limit>7400</limit>
        </chargingSchedulePeriod></chargingSchedule></getCompositeScheduleResponse>""",
    # 6.23 / 6.24, 7.29 KeyValue
    """<getConfigurationRequest><key>HeartbeatInterval</key><key>SupportedFeatureProfiles</key>
        </getConfigurationRequest>""",
    "<getConfigurationRequest/>",
    """<getConfigurationResponse>
        <configurationKey><key>HeartbeatInterval</key><readonly>false</readonly><value>900</value>
        </configurationKey>
        <configurationKey><key>AuthorizationKey</key><readonly>false</readonly></configurationKey>
        <unknownKey>NoSuchKey</unknownKey><unknownKey>AnotherKey</unknownKey></getConfigurationResponse>""",
    "<getConfigurationResponse/>",
    # 6.25 / 6.26
    f"""<getDiagnosticsRequest><location>ftp://user:pw@example.com:2121/diag/</location>
        <startTime>{TS}</startTime>
        <stopTime>{TS2}</stopTime><retries>3</retries><retryInterval>60</retryInterval>
        </getDiagnosticsRequest>""",
    "<getDiagnosticsRequest><location>https://example.com/upload</location></getDiagnosticsRequest>",
    "<getDiagnosticsResponse><fileName>diag-CB-0001.tar.gz</fileName></getDiagnosticsResponse>",
    "<getDiagnosticsResponse/>",
    # 6.27 / 6.28
    "<getLocalListVersionRequest/>",
    "<getLocalListVersionResponse><listVersion>-1</listVersion></getLocalListVersionResponse>",
    # 6.33 / 6.34, 7.8 ChargingProfile, 7.13 ChargingSchedule, 7.14 ChargingSchedulePeriod
    f"""<remoteStartTransactionRequest><connectorId>1</connectorId><idTag>{TAG}</idTag>
        <chargingProfile>{PROFILE_FULL}</chargingProfile></remoteStartTransactionRequest>""",
    f"<remoteStartTransactionRequest><idTag>{TAG}</idTag></remoteStartTransactionRequest>",
    "<remoteStartTransactionResponse><status>Accepted</status></remoteStartTransactionResponse>",
    # 6.35 / 6.36
    "<remoteStopTransactionRequest><transactionId>4711</transactionId></remoteStopTransactionRequest>",
    "<remoteStopTransactionResponse><status>Rejected</status></remoteStopTransactionResponse>",
    # 6.37 / 6.38
    f"""<reserveNowRequest><connectorId>0</connectorId><expiryDate>{TS}</expiryDate><idTag>{TAG}</idTag>
        <parentIdTag>PARENT-1</parentIdTag><reservationId>77</reservationId></reserveNowRequest>""",
    f"""<reserveNowRequest><connectorId>1</connectorId><expiryDate>{TS}</expiryDate><idTag>{TAG}</idTag>
        <reservationId>78</reservationId></reserveNowRequest>""",
    "<reserveNowResponse><status>Occupied</status></reserveNowResponse>",
    # 6.39 / 6.40
    "<resetRequest><type>Hard</type></resetRequest>",
    "<resetResponse><status>Accepted</status></resetResponse>",
    # 6.41 / 6.42, 7.1 AuthorizationData
    f"""<sendLocalListRequest><listVersion>239</listVersion>
        <localAuthorizationList><idTag>{TAG}</idTag><idTagInfo>{ID_TAG_INFO_FULL}</idTagInfo>
        </localAuthorizationList>
        <localAuthorizationList><idTag>DELETED-TAG</idTag></localAuthorizationList>
        <updateType>Differential</updateType></sendLocalListRequest>""",
    "<sendLocalListRequest><listVersion>1</listVersion><updateType>Full</updateType></sendLocalListRequest>",
    "<sendLocalListResponse><status>VersionMismatch</status></sendLocalListResponse>",
    # 6.43 / 6.44
    f"""<setChargingProfileRequest><connectorId>1</connectorId>
        <csChargingProfiles>{PROFILE_FULL}</csChargingProfiles>
        </setChargingProfileRequest>""",
    f"""<setChargingProfileRequest><connectorId>0</connectorId>
        <csChargingProfiles>{PROFILE_MIN}</csChargingProfiles>
        </setChargingProfileRequest>""",
    "<setChargingProfileResponse><status>NotSupported</status></setChargingProfileResponse>",
    # 6.51 / 6.52
    """<triggerMessageRequest><requestedMessage>StatusNotification</requestedMessage>
        <connectorId>2</connectorId>
        </triggerMessageRequest>""",
    "<triggerMessageRequest><requestedMessage>BootNotification</requestedMessage></triggerMessageRequest>",
    "<triggerMessageResponse><status>NotImplemented</status></triggerMessageResponse>",
    # 6.53 / 6.54
    "<unlockConnectorRequest><connectorId>1</connectorId></unlockConnectorRequest>",
    "<unlockConnectorResponse><status>UnlockFailed</status></unlockConnectorResponse>",
    # 6.55 / 6.56
    f"""<updateFirmwareRequest><retrieveDate>{TS}</retrieveDate>
        <location>ftp://example.com/fw/cb-1.2.4.bin</location>
        <retries>5</retries><retryInterval>120</retryInterval></updateFirmwareRequest>""",
    f"""<updateFirmwareRequest><retrieveDate>{TS}</retrieveDate>
        <location>https://example.com/fw.bin</location>
        </updateFirmwareRequest>""",
    "<updateFirmwareResponse/>",
]

# Bad bodies beyond the ones derived field by field (below): 1.5 forms, order, number formats.
CS_INVALID = [
    # 1.5 forms: meter values as <values> with attributes, heartbeatInterval, Occupied, Mode3Error
    f"""<meterValuesRequest><connectorId>1</connectorId><values><timestamp>{TS}</timestamp>
        <value unit="Wh">1</value></values></meterValuesRequest>""",
    f"""<bootNotificationResponse><status>Accepted</status><currentTime>{TS}</currentTime>
        <heartbeatInterval>300</heartbeatInterval></bootNotificationResponse>""",
    """<statusNotificationRequest><connectorId>1</connectorId><status>Occupied</status>
        <errorCode>NoError</errorCode>
        </statusNotificationRequest>""",
    """<statusNotificationRequest><connectorId>1</connectorId><status>Faulted</status>
        <errorCode>Mode3Error</errorCode>
        </statusNotificationRequest>""",
    f"""<meterValuesRequest><connectorId>1</connectorId><meterValue><timestamp>{TS}</timestamp>
        <sampledValue><value>1</value><unit>Amp</unit></sampledValue></meterValue></meterValuesRequest>""",
    # a sampled value's fields in another order than 7.43's wire order
    f"""<meterValuesRequest><connectorId>1</connectorId><meterValue><timestamp>{TS}</timestamp>
        <sampledValue><value>1</value><unit>Wh</unit><measurand>Voltage</measurand></sampledValue>
        </meterValue>
        </meterValuesRequest>""",
    # the spec table's alphabetical order is not the wire order
    f"""<startTransactionRequest><connectorId>1</connectorId><idTag>{TAG}</idTag><meterStart>0</meterStart>
        <timestamp>{TS}</timestamp></startTransactionRequest>""",
    # number and time formats
    f"""<stopTransactionRequest><transactionId>2147483648</transactionId><timestamp>{TS}</timestamp>
        <meterStop>0</meterStop></stopTransactionRequest>""",
    "<heartbeatResponse><currentTime>yesterday</currentTime></heartbeatResponse>",
    "<heartbeatRequest><currentTime>2016-02-01T15:09:18Z</currentTime></heartbeatRequest>",
]

CP_INVALID = [
    # 1.5 forms: idTag before connectorId, localAuthorisationList and hash, UnlockStatus Accepted
    f"""<remoteStartTransactionRequest><idTag>{TAG}</idTag><connectorId>1</connectorId>
        </remoteStartTransactionRequest>""",
    f"""<sendLocalListRequest><updateType>Full</updateType><listVersion>1</listVersion>
        <localAuthorisationList><idTag>{TAG}</idTag></localAuthorisationList></sendLocalListRequest>""",
    f"""<sendLocalListRequest><listVersion>1</listVersion><updateType>Full</updateType><hash>{"a" * 64}</hash>
        </sendLocalListRequest>""",
    "<sendLocalListResponse><status>HashError</status></sendLocalListResponse>",
    "<unlockConnectorResponse><status>Accepted</status></unlockConnectorResponse>",
    # 7.14: a limit accepts at most one digit fraction
    f"""<setChargingProfileRequest><connectorId>1</connectorId><csChargingProfiles>
        {PROFILE_MIN.replace("<limit>11000</limit>", "<limit>8.15</limit>")}</csChargingProfiles>
        </setChargingProfileRequest>""",
    f"""<setChargingProfileRequest><connectorId>1</connectorId><csChargingProfiles>
        {PROFILE_MIN.replace("<limit>11000</limit>", "<limit>eleven</limit>")}</csChargingProfiles>
        </setChargingProfileRequest>""",
    # a profile without its schedule; a schedule without a period
    """<setChargingProfileRequest><connectorId>1</connectorId><csChargingProfiles>
        <chargingProfileId>1</chargingProfileId><stackLevel>0</stackLevel>
        <chargingProfilePurpose>TxProfile</chargingProfilePurpose>
        <chargingProfileKind>Absolute</chargingProfileKind>
        </csChargingProfiles></setChargingProfileRequest>""",
    """<getCompositeScheduleResponse><status>Accepted</status><chargingSchedule>
        <chargingRateUnit>A</chargingRateUnit></chargingSchedule></getCompositeScheduleResponse>""",
    # types
    """<getDiagnosticsRequest><location>ftp://example.com/</location><retries>three</retries>
        </getDiagnosticsRequest>""",
    """<getConfigurationResponse><configurationKey><key>K</key><readonly>yes</readonly></configurationKey>
        </getConfigurationResponse>""",
    "<clearCacheRequest><status>Accepted</status></clearCacheRequest>",
]

SAMPLES: dict[str, tuple[list[str], list[str]]] = {
    "centralsystem": (CS_VALID, CS_INVALID),
    "chargepoint": (CP_VALID, CP_INVALID),
}


def valid_samples(service: str) -> list[etree._Element]:
    return [qualified(xml, SERVICES[service][2]) for xml in SAMPLES[service][0]]


@functools.cache
def our_rows(service: str) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Per PDU element, its rows (SchemaModel.message_rows) by path."""
    model = SchemaModel(extract_schema(our_path(service)))
    return {pdu: {row[0]: row for row in rows} for pdu, rows in model.message_rows().items()}


def path_of(el: etree._Element) -> str:
    return "/".join(etree.QName(e).localname for e in reversed([el, *el.iterancestors()]))


def leave_out(el: etree._Element) -> None:
    """Remove ``el`` and its repetitions."""
    parent = el.getparent()
    assert parent is not None
    for same in parent.findall(el.tag):
        parent.remove(same)


def mutations(service: str, sample: etree._Element) -> Iterator[tuple[str, etree._Element, bool]]:
    """Bodies derived from a valid sample, field by field from our schema: (what, body, valid?).

    Every string with a maxLength (the CiStrings, IdToken) at its length and one longer; every enum
    field with each value of its set, and with a value not in it (another case, an unknown word); every
    required element left out; every element of maxOccurs 1 given twice.
    """
    rows = our_rows(service)[etree.QName(sample).localname]
    seen: set[str] = set()
    for index, el in enumerate(sample.iter()):
        path = path_of(el)
        if el is sample or path in seen:
            continue
        seen.add(path)
        _, type_, min_occurs, max_occurs, *_ = rows[path]

        def changed(edit: Any, index: int = index) -> etree._Element:
            body = copy.deepcopy(sample)
            edit(list(body.iter())[index])
            return body

        def set_text(text: str) -> Any:
            return lambda e: setattr(e, "text", text)

        if type_[0] == "simple":
            facets = dict(type_[3])
            if "maxLength" in facets:
                n = int(facets["maxLength"])
                yield f"{path} of {n} characters", changed(set_text("x" * n)), True
                yield f"{path} of {n + 1} characters", changed(set_text("x" * (n + 1))), False
            for value in sorted(type_[2]):
                yield f"{path} = {value}", changed(set_text(value)), True
            for value in sorted(type_[2])[:1]:  # enums are case sensitive
                assert value.swapcase() not in type_[2]
                yield f"{path} = {value.swapcase()}", changed(set_text(value.swapcase())), False
            if type_[2]:
                yield f"{path} = Unknown.Value", changed(set_text("Unknown.Value")), False
        if min_occurs != "0":
            yield f"{path} left out", changed(leave_out), False
        if max_occurs == "1":
            yield f"{path} twice", changed(lambda e: e.addnext(copy.deepcopy(e))), False


def through_zeep(client: zeep.Client, body: etree._Element) -> etree._Element:
    """``body`` read into zeep's values through ``client``'s WSDL and written back out."""
    element = client.get_element(body.tag)
    value = element.parse(body, client.wsdl.types)
    if value is None:  # zeep reads a PDU without fields (Heartbeat.req, ...) as None
        assert len(body) == 0
        value = element()
    holder = etree.Element("holder")
    element.render(holder, value)
    return holder[0]


# --------------------------------------------------------------------------------------------------
# 1. our WSDLs: zeep loads them; operations, header, actions; the schema compiles on its own


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_zeep_loads_our_wsdl_with_every_operation(service: str) -> None:
    _, _, tns, expected_ops = SERVICES[service]
    client = zeep_client(our_path(service))
    binding = client.service._binding
    assert isinstance(binding, Soap12Binding)
    assert set(binding._operations) == expected_ops
    wire = wsdl_wire_model(our_path(service))
    for name, op in binding._operations.items():
        headers = [el.qname for _, el in op.input.header.type.elements]
        assert headers == [etree.QName(tns, "chargeBoxIdentity")], name
        assert op.input.body.qname == etree.QName(tns, wrapper(name, "Request")), name
        assert op.output.body.qname == etree.QName(tns, wrapper(name, "Response")), name
        assert (op.soapaction, op.abstract.wsa_action) == (f"/{name}", f"/{name}"), name
        assert (wire[name]["input_action"], wire[name]["output_action"]) == (f"/{name}", f"/{name}Response")


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_zeep_request_carries_identity_header_and_action(service: str) -> None:
    tns = SERVICES[service][2]
    client = zeep_client(our_path(service))
    op = "Heartbeat" if service == "centralsystem" else "TriggerMessage"
    args = {} if op == "Heartbeat" else {"requestedMessage": "Heartbeat"}
    envelope = client.create_message(client.service, op, _soapheaders={"chargeBoxIdentity": "CB-0001"},
                                     **args)
    assert envelope.findtext(f"{{{ENV12_NS}}}Header/{{{tns}}}chargeBoxIdentity") == "CB-0001"
    assert envelope.findtext(f"{{{ENV12_NS}}}Header/{{{WSA_NS}}}Action") == f"/{op}"
    body = envelope.find(f"{{{ENV12_NS}}}Body")
    assert body is not None
    assert [child.tag for child in body] == [f"{{{tns}}}{wrapper(op, 'Request')}"]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_our_schema_compiles_with_one_element_per_pdu(service: str) -> None:
    _, _, tns, ops = SERVICES[service]
    schema = extract_schema(our_path(service))
    assert (schema.get("targetNamespace"), schema.get("elementFormDefault")) == (tns, "qualified")
    etree.XMLSchema(schema)  # raises XMLSchemaParseError if it does not compile
    pdus = {wrapper(op, sfx) for op in ops for sfx in ("Request", "Response")}
    assert set(SchemaModel(schema).elements()) == pdus | {"chargeBoxIdentity"}


# --------------------------------------------------------------------------------------------------
# 2. structurally the official schema: operations, actions, headers; every message's elements


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_operations_actions_and_headers_are_the_official_ones(
        service: str, official: dict[str, Path]) -> None:
    ours, theirs = wsdl_wire_model(our_path(service)), wsdl_wire_model(official[service])
    assert sorted(ours) == sorted(theirs)
    for op in sorted(theirs):
        assert ours[op] == theirs[op], op


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_message_has_the_official_elements_order_cardinality_and_types(
        service: str, official: dict[str, Path]) -> None:
    ours = SchemaModel(extract_schema(our_path(service)))
    theirs = SchemaModel(extract_schema(official[service]))
    assert (ours.tns, ours.element_form, ours.attribute_form) == (
        theirs.tns, theirs.element_form, theirs.attribute_form)
    our_messages, official_messages = ours.message_rows(), theirs.message_rows()
    assert sorted(our_messages) == sorted(official_messages)
    for pdu in sorted(official_messages):
        expected = []
        for row in official_messages[pdu]:
            deviation = SPEC_OVER_OFFICIAL.get((service, row[0]))
            if deviation is not None:
                index, spec_value, official_value = deviation
                assert row[index] == official_value, f"{row[0]}: the official schema changed"
                row = (*row[:index], spec_value, *row[index + 1:])
            expected.append(row)
        assert our_messages[pdu] == expected, pdu


# --------------------------------------------------------------------------------------------------
# 3. sample bodies through both WSDLs


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_samples_cover_every_pdu_with_every_optional_element(service: str) -> None:
    samples = valid_samples(service)
    ops = SERVICES[service][3]
    pdus = {wrapper(op, sfx) for op in ops for sfx in ("Request", "Response")}
    assert {etree.QName(s).localname for s in samples} == pdus
    covered = {path_of(el) for sample in samples for el in sample.iter()}
    every_path = {path for rows in our_rows(service).values() for path in rows}
    assert every_path - covered == set()


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_rendered_through_our_wsdl_is_valid_against_the_official_schema(
        service: str, official: dict[str, Path]) -> None:
    """zeep reads each sample through our WSDL and writes it back unchanged, and what it writes is
    valid against the official schema: what chargebox sends through this WSDL has the official form."""
    client = zeep_client(our_path(service))
    oracle = compiled_schema(official[service])
    for sample in valid_samples(service):
        sent = through_zeep(client, sample)
        assert shape(sent) == shape(sample), etree.QName(sample).localname
        assert oracle.validate(sent), f"{etree.QName(sample).localname}: {errors(oracle, sent)}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_rendered_through_the_official_wsdl_parses_through_ours(
        service: str, official: dict[str, Path]) -> None:
    """What a peer built on the official WSDL sends, our WSDL validates and reads to the same values."""
    ours, theirs = zeep_client(our_path(service)), zeep_client(official[service])
    schema = compiled_schema(our_path(service))
    for sample in valid_samples(service):
        name = etree.QName(sample).localname
        their_element = theirs.get_element(sample.tag)
        value = their_element.parse(sample, theirs.wsdl.types)
        holder = etree.Element("holder")
        their_element.render(holder, their_element() if value is None else value)
        sent = holder[0]
        assert schema.validate(sent), f"{name}: {errors(schema, sent)}"
        read = ours.get_element(sent.tag).parse(sent, ours.wsdl.types)
        assert zeep.helpers.serialize_object(read, dict) == zeep.helpers.serialize_object(value, dict), name


@pytest.mark.parametrize("which", ["ours", "official"])
@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_valid_samples_pass_and_bad_ones_fail(
        service: str, which: str, request: pytest.FixtureRequest) -> None:
    # Only the official side needs the oracle (and skips without it).
    path = our_path(service) if which == "ours" else request.getfixturevalue("official")[service]
    schema = compiled_schema(path)
    for sample in valid_samples(service):
        assert schema.validate(sample), f"{which}: {errors(schema, sample)}"
    for xml in SAMPLES[service][1]:
        body = qualified(xml, SERVICES[service][2])
        assert not schema.validate(body), f"{which} accepts {etree.tostring(body).decode()}"
    unqualified = etree.fromstring("<x/>")
    unqualified.tag = f"{{{SERVICES[service][2]}}}resetRequest"
    etree.SubElement(unqualified, "type").text = "Hard"  # a child outside the namespace: not the same message
    assert not schema.validate(unqualified)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_field_by_field_our_schema_accepts_and_refuses_as_the_spec_says(service: str) -> None:
    """Boundary lengths, enum sets, required and single elements, as our own schema defines them."""
    schema = compiled_schema(our_path(service))
    verdicts = [(what, schema.validate(body) is valid)
                for sample in valid_samples(service) for what, body, valid in mutations(service, sample)]
    assert [what for what, right in verdicts if not right] == []
    assert len(verdicts) > 200


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_field_by_field_the_official_schema_gives_the_same_verdict(
        service: str, official: dict[str, Path]) -> None:
    """The bodies of the test above: the official schema accepts and refuses the same ones (but for
    SPEC_OVER_OFFICIAL), so no field is longer, shorter, wider or narrower in ours; the valid ones
    (a CiString at its length, every enum value) rendered through our WSDL are valid there too."""
    schema, client = compiled_schema(official[service]), zeep_client(our_path(service))
    wrong = []
    for sample in valid_samples(service):
        for what, body, valid in mutations(service, sample):
            if (service, what.split(" ")[0]) in SPEC_OVER_OFFICIAL and not valid:
                assert schema.validate(body), f"{what}: the official schema changed"
            elif schema.validate(body) is not valid:
                wrong.append(what)
            elif valid and not schema.validate(through_zeep(client, body)):  # as chargebox would send it
                wrong.append(f"{what}, rendered through our WSDL")
    assert wrong == []
