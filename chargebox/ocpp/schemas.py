"""The project's own OCPP 1.6 JSON schemas, derived from the typed messages, and the validator a JSON
binding checks every payload with, in and out.

One JSON Schema (draft 4, as OCPP-J 1.6's) per action's request and response: the payload's object in
1.6's names (:data:`JSON_FORM`), its required fields (those without a default, and lists of 1..*),
integers, decimals, date-times and enums in 1.6's value sets, and the CiString lengths from the fields'
hints (:mod:`chargebox.ocpp.constraints`). Written from the specification; the official schemas are a
test oracle only (tests/chargebox/ocpp/test_json_schemas.py).

A payload that breaks its schema raises the protocol error of OCPP-J 1.6 section 4.2.3 (table 7) for
the CALLERROR: FormationViolation, OccurenceConstraintViolation, TypeConstraintViolation or
PropertyConstraintViolation. Its message names the field and what is wrong, never the value (an
idTag must not reach a log).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
import types
import typing
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import fastjsonschema

from chargebox.ocpp import codec, constraints
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
from chargebox.ocpp.messages import Confirmation, Operation, Request
from chargebox.ocpp.versions import OCPP16

DRAFT_4 = "http://json-schema.org/draft-04/schema#"

# 1.6's form of the messages as JSON: 1.6's names and values, date-times as text.
JSON_FORM = dataclasses.replace(OCPP16.form, text_times=True)

#: Every 1.6 action by name; DataTransfer serves both directions with one pair.
OPERATIONS: dict[str, Operation] = {**OCPP16.central_system_operations, **OCPP16.charge_point_operations}

# RFC 3339 section 5.6 date-time (JSON Schema's "date-time"): ISO 8601 with fractional seconds and a time
# zone offset, which a receiver must handle (1.6 3.15).
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)\Z")


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type keyword's business
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and not any(c.isspace() for c in value)


#: The formats the schemas use, checked on strings only (the type keyword speaks for other types).
FORMATS = {"date-time": _is_date_time, "uri": _is_uri}


def _bare(hint: Any) -> tuple[Any, list[Any], bool]:
    """A hint without ``Annotated`` and ``| None``: (type, constraints, optional)."""
    metadata: list[Any] = []
    optional = False
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            hint, *extra = typing.get_args(hint)
            metadata.extend(extra)
        elif origin in (typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            optional = optional or len(args) < len(typing.get_args(hint))
            (hint,) = args
        else:
            return hint, metadata, optional


def _value_schema(hint: Any) -> dict[str, Any]:
    """The schema of one field's value."""
    hint, metadata, _ = _bare(hint)
    schema: dict[str, Any]
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        schema = {"type": "array", "items": _value_schema(item)}
    elif dataclasses.is_dataclass(hint):
        schema = _object_schema(typing.cast(type, hint))
    elif isinstance(hint, type) and issubclass(hint, Enum):
        schema = {"type": "string", "enum": JSON_FORM.values(hint)}
    elif hint is datetime:
        schema = {"type": "string", "format": "date-time"}
    elif hint is bool:
        schema = {"type": "boolean"}
    elif hint is int:
        schema = {"type": "integer"}
    elif hint is float:
        schema = {"type": "number"}
    elif hint is str:
        schema = {"type": "string"}
    else:
        raise TypeError(f"no JSON schema for {hint!r}")
    for constraint in metadata:
        if isinstance(constraint, constraints.CiString):
            schema["maxLength"] = constraint.max_length
        elif isinstance(constraint, constraints.DecimalPlaces):
            schema["multipleOf"] = float(Decimal(1).scaleb(-constraint.places))
        elif isinstance(constraint, constraints.AnyUri):
            schema["format"] = "uri"
        elif isinstance(constraint, constraints.MinItems):
            schema["minItems"] = constraint.count
    return schema


def _object_schema(cls: type) -> dict[str, Any]:
    """The schema of a message or data type: its fields in 1.6's names, none other allowed."""
    hints = typing.get_type_hints(cls, include_extras=True)
    defaults = {f.name: f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
                for f in dataclasses.fields(cls)}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, wire, _ in codec.wire_fields(cls, JSON_FORM):
        hint = hints[name]
        if (cls, name) in JSON_FORM.ungrouped:
            # Said as the items of its groups (1.6 6.49); optional as the list of groups is.
            (group,) = typing.get_args(_bare(hint)[0])
            hint = typing.get_type_hints(group, include_extras=True)[dataclasses.fields(group)[0].name]
            hint = _bare(hint)[0]
        properties[wire] = schema = _value_schema(hint)
        if not defaults[name] or schema.get("minItems", 0) > 0:
            required.append(wire)
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _operation(action: str) -> Operation:
    operation = OPERATIONS.get(action)
    if operation is None:
        raise NotImplementedAction(f"{action[:50]!r} is not an OCPP 1.6 action")
    return operation


@functools.cache
def _schema(action: str, request: bool) -> dict[str, Any]:
    operation = _operation(action)
    title = f"{action}Request" if request else f"{action}Response"
    return {"$schema": DRAFT_4, "title": title,
            **_object_schema(operation.request if request else operation.confirmation)}


def schema(action: str, *, request: bool) -> dict[str, Any]:
    """The JSON schema of an action's request (``request=True``) or response payload; NotImplementedAction
    for an action 1.6 does not have."""
    return copy.deepcopy(_schema(action, request))


@functools.cache
def _validator(action: str, request: bool) -> Callable[[Any], Any]:
    """Compiled once per action and direction, on first use: fastjsonschema writes the schema out as
    Python code, about ten times faster than interpreting it (jsonschema) for each payload. Its
    multipleOf is in decimals, as 1.6's decimals are (7.14): 0.3 is a multiple of 0.1."""
    validate: Callable[[Any], Any] = fastjsonschema.compile(_schema(action, request), formats=FORMATS,
                                                            use_default=False)
    return validate


def _refusal(error: fastjsonschema.JsonSchemaValueException, title: str) -> OcppError:
    """The OCPP-J 1.6 error (4.2.3) for a schema's complaint, in words that never repeat a value."""
    path = error.path[1:]  # after fastjsonschema's name of the payload, "data"
    where = "/".join(path) or "payload"
    kind, rule = error.rule, error.rule_definition
    if kind == "type" and not path:
        return FormationViolation(f"{title}: the payload is not a JSON object")
    if kind == "additionalProperties":
        extra = sorted(set(error.value) - set(error.definition.get("properties", {})))
        names = ", ".join(repr(name[:50]) for name in extra)
        return FormationViolation(f"{title}: {where}: no field {names} in this PDU")
    if kind == "required":
        # 4.2.3 ProtocolError: "Payload for Action is incomplete" (as the mobilityhouse ocpp package says it).
        missing = [name for name in rule if name not in error.value]
        return ProtocolError(f"{title}: {where}: {', '.join(missing)} missing")
    if kind in ("minItems", "maxItems"):
        return OccurenceConstraintViolation(f"{title}: {where}: {kind} {rule}")
    if kind == "type":
        return TypeConstraintViolation(f"{title}: {where}: not of type {rule}")
    if kind == "maxLength":
        return PropertyConstraintViolation(f"{title}: {where}: longer than {rule} characters")
    if kind == "enum":
        return PropertyConstraintViolation(f"{title}: {where}: not one of its values")
    if kind == "format":
        return PropertyConstraintViolation(f"{title}: {where}: not a {rule}")
    if kind == "multipleOf":
        return PropertyConstraintViolation(f"{title}: {where}: not a multiple of {rule}")
    return FormationViolation(f"{title}: {where}: breaks its schema's {kind}")


def validate(action: str, payload: Any, *, request: bool) -> None:
    """Check a JSON payload (as ``json.loads`` gives it) of an action's request or response against its
    schema. Raises FormationViolation, OccurenceConstraintViolation, TypeConstraintViolation or
    PropertyConstraintViolation (OCPP-J 1.6 4.2.3) for the first rule it breaks, ProtocolError for a
    required field missing, NotImplementedAction for an action 1.6 does not have."""
    validator = _validator(action, request)
    try:
        validator(payload)
    except fastjsonschema.JsonSchemaValueException as error:
        raise _refusal(error, _schema(action, request)["title"]) from None


def read(action: str, payload: Any, *, request: bool) -> Request | Confirmation:
    """A received JSON payload, validated, as its typed message."""
    validate(action, payload, request=request)
    operation = _operation(action)
    cls: type[Request] | type[Confirmation] = operation.request if request else operation.confirmation
    return codec.from_wire(payload, cls, JSON_FORM)


def write(action: str, message: Request | Confirmation) -> dict[str, Any]:
    """A message as the JSON payload of ``action``, validated: we never send what the schema refuses.
    Unsendable, before anything is sent, for a message 1.6 cannot say or its schema refuses (a string
    too long for its CiString): no attempt could ever succeed."""
    payload: dict[str, Any] = codec.to_wire(message, JSON_FORM)
    try:
        validate(action, payload, request=isinstance(message, Request))
    except OcppError as err:
        raise Unsendable(f"{action} cannot be sent in OCPP 1.6 JSON: {err.reason}") from err
    return payload
