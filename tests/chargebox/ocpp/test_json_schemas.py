"""The project's own OCPP 1.6 JSON schemas (chargebox.ocpp.schemas) against the official ones, the oracle
in ../shared/spec/json/v16 (skipped where absent): for every action, request and response, both accept
what our typed messages say (hypothesis draws them from the dataclasses) and agree on the boundary cases
(strings at and past their CiString length, a required field missing, a value outside its enum, a value
of the wrong type, a field the PDU does not have); every message's JSON payload is valid against the
official schema and reads back as the same message.

Ours are compiled by fastjsonschema; the official ones are evaluated by another implementation, jsonschema
(:data:`Oracle`), with the same date-time and URI format checks and with multipleOf in decimals: the spec's
decimals are decimal (7.14), and binary floats would refuse 0.3 as a multiple of 0.1.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import datetime, timezone
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

import jsonschema
import jsonschema.validators
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargebox.ocpp import codec, constraints, schemas
from chargebox.ocpp.errors import (
    FormationViolation,
    NotImplementedAction,
    OccurenceConstraintViolation,
    OcppError,
    PropertyConstraintViolation,
    ProtocolError,
    TypeConstraintViolation,
    Unsendable,
)
from chargebox.ocpp.datatypes import ChargingSchedulePeriod
from chargebox.ocpp.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingRateUnitType,
    UnlockStatus,
    UpdateStatus,
)
from chargebox.ocpp.messages import (
    ChangeConfigurationRequest,
    HeartbeatConfirmation,
    SendLocalListConfirmation,
    SetChargingProfileRequest,
    StatusNotificationRequest,
    UnlockConnectorConfirmation,
)
from tests.conftest import OFFICIAL_WSDL

OFFICIAL_JSON = OFFICIAL_WSDL.parent / "json" / "v16" if OFFICIAL_WSDL else None
FORM = schemas.JSON_FORM


def _multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    """multipleOf in decimal arithmetic: 0.3 is a multiple of 0.1 (binary floats say it is not)."""
    if not validator.is_type(instance, "number"):
        return
    try:
        remainder = Decimal(str(instance)) % Decimal(str(step))
    except InvalidOperation:
        remainder = Decimal(1)
    if remainder != 0:
        yield jsonschema.ValidationError(f"not a multiple of {step}")


#: Draft 4 with exact decimals and our format checks: what the official schemas are evaluated with.
Oracle = jsonschema.validators.extend(jsonschema.Draft4Validator, {"multipleOf": _multiple_of})
ORACLE_FORMATS = jsonschema.FormatChecker(formats=())
for _name, _check in schemas.FORMATS.items():
    ORACLE_FORMATS.checks(_name)(_check)

# The official folder also holds the messages of the 1.6 security whitepaper's extension, which is not
# one of 1.6's six feature profiles (issue 17 takes the whitepaper's connection profiles only).
SECURITY_EXTENSION = {
    "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage", "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate", "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
    "SignedFirmwareStatusNotification", "SignedUpdateFirmware",
}
CASES = [(action, request) for action in sorted(schemas.OPERATIONS) for request in (True, False)]
# 1.6 7.7.
STATUSES_16 = ("Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
               "Unavailable", "Faulted")
IDS = [f"{action}{'' if request else 'Response'}" for action, request in CASES]


def official(action: str, request: bool) -> Any:
    if OFFICIAL_JSON is None or not OFFICIAL_JSON.is_dir():
        pytest.skip("official OCPP 1.6 JSON schemas (../shared/spec/json/v16) not present")
    path = OFFICIAL_JSON / f"{action}{'' if request else 'Response'}.json"
    return Oracle(json.loads(path.read_text()), format_checker=ORACLE_FORMATS)


def message_class(action: str, request: bool) -> type:
    operation = schemas.OPERATIONS[action]
    return operation.request if request else operation.confirmation


# -- typed messages, drawn from the dataclasses' own hints ------------------------------------------------

TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                     timezones=st.just(timezone.utc))
URIS = st.from_regex(r"(ftp|https?)://[a-z]{1,10}\.example\.com(/[a-z0-9]{0,8}){0,3}", fullmatch=True)


def said_as_itself(cls: type[Enum]) -> list[Enum]:
    """The members 1.6 says as themselves: those read back as the same member."""
    return [m for m in cls if FORM.said.get(cls, {}).get(m.value, m.value) == m.value]


def strategy(hint: Any) -> st.SearchStrategy[Any]:
    hint, metadata, optional = schemas._bare(hint)
    found: st.SearchStrategy[Any]
    min_items = next((c.count for c in metadata if isinstance(c, constraints.MinItems)), 0)
    max_length = next((c.max_length for c in metadata if isinstance(c, constraints.CiString)), 40)
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        found = st.lists(strategy(item), min_size=min_items, max_size=max(min_items, 3))
    elif dataclasses.is_dataclass(hint):
        found = messages(typing.cast(type, hint))
    elif isinstance(hint, type) and issubclass(hint, Enum):
        found = st.sampled_from(said_as_itself(hint))
    elif hint is datetime:
        found = TIMES
    elif hint is bool:
        found = st.booleans()
    elif hint is int:
        found = st.integers(-(2**31), 2**31 - 1)
    elif hint is float:  # a decimal of one digit after the point (7.14)
        found = st.integers(-10**6, 10**6).map(lambda tenths: tenths / 10)
    elif any(isinstance(c, constraints.AnyUri) for c in metadata):
        found = URIS
    else:
        found = st.text(st.characters(codec="utf-8"), max_size=max_length)
    return st.none() | found if optional else found


@st.composite
def _one_group(draw: st.DrawFn, group: type) -> Any:
    (inner,) = dataclasses.fields(group)
    hint = typing.get_type_hints(group)[inner.name]
    (item,) = typing.get_args(hint)
    return group(draw(st.lists(strategy(item), min_size=1, max_size=2)))


def messages(cls: type) -> st.SearchStrategy[Any]:
    """Every field from its hint; fields 1.6 leaves out stay unset, and an ungrouped list (1.6's
    transactionData) has its canonical form, no group or one, since 1.6 cannot tell groups apart."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for f in dataclasses.fields(cls):
        if (cls, f.name) in FORM.left_out:
            continue
        if (cls, f.name) in FORM.ungrouped:
            (group,) = typing.get_args(schemas._bare(hints[f.name])[0])
            fields[f.name] = st.lists(_one_group(group), max_size=1)
        else:
            fields[f.name] = strategy(hints[f.name])
    return st.builds(cls, **fields)


# -- the boundary cases, walked along our schema -------------------------------------------------------

WRONG_TYPE = {"string": 12, "integer": "12", "number": "1.5", "boolean": "true", "array": {}, "object": []}


def boundary_cases(schema: dict[str, Any], payload: Any) -> list[tuple[str, Any, type[OcppError] | None]]:
    """(what, payload changed, the error ours raises or None where it is valid), for every field of the
    payload and its nested objects."""
    cases: list[tuple[str, Any, type[OcppError] | None]] = []

    def changed(path: list[Any], change: Any) -> Any:
        copy = json.loads(json.dumps(payload))
        target = copy
        for step in path[:-1]:
            target = target[step]
        change(target, path[-1])
        return copy

    def set_to(value: Any) -> Any:
        return lambda target, key: target.__setitem__(key, value)

    def walk(node: dict[str, Any], value: Any, path: list[Any]) -> None:
        if node["type"] == "object":
            cases.append((f"{path}+unexpected", changed([*path, "unexpected"], set_to(1)) if path
                          else {**payload, "unexpected": 1}, FormationViolation))
            for name in node.get("required", []):
                if path:
                    cases.append((f"{path}-{name}", changed([*path, name], lambda t, k: t.pop(k)),
                                  ProtocolError))
                else:
                    cases.append((f"-{name}", {k: v for k, v in payload.items() if k != name},
                                  ProtocolError))
            for name, sub in node["properties"].items():
                if name in value:
                    walk(sub, value[name], [*path, name])
            if path:
                wrong = WRONG_TYPE["object"]
                cases.append((f"{path}:type", changed(path, set_to(wrong)), TypeConstraintViolation))
            return
        if node["type"] == "array":
            for index, item in enumerate(value[:1]):
                walk(node["items"], item, [*path, index])
            wrong = WRONG_TYPE["array"]
            cases.append((f"{path}:type", changed(path, set_to(wrong)), TypeConstraintViolation))
            return
        wrong = WRONG_TYPE[node["type"]]
        cases.append((f"{path}:type", changed(path, set_to(wrong)), TypeConstraintViolation))
        if "enum" in node:
            cases.append((f"{path}:enum", changed(path, set_to("NoSuchValue")), PropertyConstraintViolation))
        if "maxLength" in node:
            limit = node["maxLength"]
            cases.append((f"{path}:max", changed(path, set_to("x" * limit)), None))
            too_long = "x" * (limit + 1)
            cases.append((f"{path}:max+1", changed(path, set_to(too_long)), PropertyConstraintViolation))
        if node.get("format") == "date-time":
            cases.append((f"{path}:date", changed(path, set_to("yesterday")), PropertyConstraintViolation))

    walk(schema, payload, [])
    return cases


def refusal(action: str, payload: Any, request: bool) -> type[OcppError] | None:
    try:
        schemas.validate(action, payload, request=request)
    except OcppError as err:
        return type(err)
    return None


# -- the tests -------------------------------------------------------------------------------------------

def test_our_actions_are_the_official_ones() -> None:
    if OFFICIAL_JSON is None or not OFFICIAL_JSON.is_dir():
        pytest.skip("official OCPP 1.6 JSON schemas (../shared/spec/json/v16) not present")
    names = {path.stem for path in OFFICIAL_JSON.glob("*.json")}
    requests = {name for name in names if not name.endswith("Response")}
    assert {f"{name}Response" for name in requests} <= names
    assert set(schemas.OPERATIONS) == requests - SECURITY_EXTENSION
    assert len(schemas.OPERATIONS) == 28


def shape(schema: dict[str, Any], path: str = "") -> dict[str, Any]:
    """Every field's path with whether it is required and its values where it has an enum."""
    found: dict[str, Any] = {}
    if schema.get("type") == "object":
        for name, sub in schema["properties"].items():
            found[f"{path}/{name}"] = (name in schema.get("required", []), sorted(sub.get("enum", [])))
            found.update(shape(sub, f"{path}/{name}"))
    elif schema.get("type") == "array":
        found.update(shape(schema["items"], f"{path}[]"))
    return found


# Where ours differs from the official schema, and why: 7.45 has neither "Celcius" (the official
# schemas' misspelling beside Celsius) nor "Hertz" (errata 3.84: Frequency has no unit, Hertz implied);
# 1.6's statuses beyond those of the neutral ChargePointStatus are said once the engine has them (issue 17).
KNOWN = {("MeterValues", True, "/meterValue[]/sampledValue[]/unit"): {"Celcius", "Hertz"},
         ("StopTransaction", True, "/transactionData[]/sampledValue[]/unit"): {"Celcius"}}


@pytest.mark.parametrize(("action", "request_"), CASES, ids=IDS)
def test_our_schema_has_the_official_fields_requirements_and_values(action: str, request_: bool) -> None:
    path = OFFICIAL_JSON / f"{action}{'' if request_ else 'Response'}.json" if OFFICIAL_JSON else None
    if path is None or not path.is_file():
        pytest.skip("official OCPP 1.6 JSON schemas (../shared/spec/json/v16) not present")
    theirs, ours = shape(json.loads(path.read_text())), shape(schemas.schema(action, request=request_))
    assert set(ours) == set(theirs)
    for field, (required, values) in theirs.items():
        assert ours[field][0] == required, field
        extra = set(values) - set(ours[field][1])
        assert set(ours[field][1]) <= set(values), field
        if (action, field) != ("StatusNotification", "/status"):  # a subset until then
            assert extra == KNOWN.get((action, request_, field), set()), field


@pytest.mark.parametrize(("action", "request_"), CASES, ids=IDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_both_schemas_agree_and_every_message_goes_and_comes_back(action: str, request_: bool,
                                                                 data: st.DataObject) -> None:
    oracle = official(action, request_)
    message = data.draw(messages(message_class(action, request_)))
    payload = schemas.write(action, message)  # ours validates it on the way out
    # JSON text, as the WebSocket carries it, and back: the official schema takes it, it reads back the same.
    received = json.loads(json.dumps(payload))
    assert list(oracle.iter_errors(received)) == []
    assert schemas.read(action, received, request=request_) == message
    assert codec.from_wire(received, message_class(action, request_), FORM) == message
    for what, changed, expected in boundary_cases(schemas.schema(action, request=request_), received):
        ours = refusal(action, changed, request_)
        assert ours is expected, what
        assert oracle.is_valid(changed) == (expected is None), what


@pytest.mark.parametrize(("action", "request_"), CASES, ids=IDS)
def test_a_payload_that_is_not_an_object_is_a_formation_violation(action: str, request_: bool) -> None:
    oracle = official(action, request_)
    for payload in ([], "text", 12, None):
        with pytest.raises(FormationViolation):
            schemas.validate(action, payload, request=request_)
        assert not oracle.is_valid(payload)


def test_a_refusal_names_the_field_never_the_value() -> None:
    tag = "SECRET-CARD-12345678X"  # 21 characters: one too many for an IdToken (7.28)
    with pytest.raises(PropertyConstraintViolation) as refused:
        schemas.read("Authorize", {"idTag": tag}, request=True)
    assert refused.value.code == "PropertyConstraintViolation"
    assert "idTag" in str(refused.value) and "20" in str(refused.value) and tag not in str(refused.value)
    with pytest.raises(ProtocolError, match="idTagInfo missing"):
        schemas.read("Authorize", {}, request=False)


def test_an_unknown_action_is_not_implemented() -> None:
    with pytest.raises(NotImplementedAction):
        schemas.validate("SignCertificate", {}, request=True)  # the security extension's, not 1.6's


def test_what_1_6_cannot_say_is_unsendable_before_anything_is_sent() -> None:
    with pytest.raises(Unsendable, match="ChangeConfiguration"):
        # key is a CiString50 (6.9)
        schemas.write("ChangeConfiguration", ChangeConfigurationRequest(key="K" * 51, value="1"))
    assert set(FORM.values(ChargePointStatus)) <= set(STATUSES_16)
    for status in ChargePointStatus:
        if status.value not in STATUSES_16:  # 1.5's Occupied, while the neutral model still has it
            with pytest.raises(Unsendable):
                schemas.write("StatusNotification", StatusNotificationRequest(
                    connector_id=1, status=status, error_code=ChargePointErrorCode.NO_ERROR))


def test_1_5_only_values_are_said_in_1_6_terms() -> None:
    assert schemas.write("UnlockConnector", UnlockConnectorConfirmation(status=UnlockStatus.ACCEPTED)) == {
        "status": "Unlocked"}
    assert schemas.write("UnlockConnector", UnlockConnectorConfirmation(status=UnlockStatus.REJECTED)) == {
        "status": "UnlockFailed"}
    hash_error = SendLocalListConfirmation(status=UpdateStatus.HASH_ERROR, hash="ab")
    assert schemas.write("SendLocalList", hash_error) == {"status": "Failed"}
    fault = StatusNotificationRequest(connector_id=1, status=ChargePointStatus.FAULTED,
                                      error_code=ChargePointErrorCode.MODE3_ERROR)
    assert schemas.write("StatusNotification", fault)["errorCode"] == "EVCommunicationError"


def test_json_values_read_as_their_types() -> None:
    profile = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Absolute",
               "chargingSchedule": {"chargingRateUnit": "A", "startSchedule": "2026-03-01T12:00:00Z",
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}
    payload = {"connectorId": 1, "csChargingProfiles": profile}
    request = schemas.read("SetChargingProfile", payload, request=True)
    assert isinstance(request, SetChargingProfileRequest)
    schedule = request.cs_charging_profiles.charging_schedule
    assert schedule.start_schedule == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    (period,) = schedule.charging_schedule_period
    assert period == ChargingSchedulePeriod(start_period=0, limit=16.0) and isinstance(period.limit, float)
    assert schedule.charging_rate_unit is ChargingRateUnitType.A
    # A decimal with one digit after the point: 0.3 is one, in decimals (7.14); 0.35 is not.
    period_of = profile["chargingSchedule"]["chargingSchedulePeriod"][0]  # type: ignore[index]
    period_of["limit"] = 0.3
    schemas.validate("SetChargingProfile", payload, request=True)
    period_of["limit"] = 0.35
    with pytest.raises(PropertyConstraintViolation, match="multiple of 0.1"):
        schemas.validate("SetChargingProfile", payload, request=True)


def test_a_time_with_an_offset_or_a_fraction_reads_as_the_same_instant() -> None:
    # 1.6 3.15: a receiver handles fractional seconds and time zone offsets; RFC 3339 allows "t" and "z".
    noon = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    for text, expected in [("2026-03-01t12:00:00z", noon),
                           ("2026-03-01T14:00:00.5+02:00", noon.replace(microsecond=500000))]:
        answer = schemas.read("Heartbeat", {"currentTime": text}, request=False)
        assert isinstance(answer, HeartbeatConfirmation) and answer.current_time == expected
    for text in ("2026-03-01 12:00:00Z", "2026-03-01T12:00:00", "2026-02-30T12:00:00Z"):
        with pytest.raises(PropertyConstraintViolation, match="currentTime: not a date-time"):
            schemas.read("Heartbeat", {"currentTime": text}, request=False)


def test_validators_are_compiled_once() -> None:
    assert schemas._validator("MeterValues", True) is schemas._validator("MeterValues", True)
