"""The one place where typed OCPP messages become plain wire values and back (DESIGN.md, style 6).

The plain form uses the spec's camelCase names, strings for enums and nested dicts and lists. The
SOAP binding hands it to zeep, which renders and parses XML through the WSDL's schema; the outbox
stores it as JSON (datetimes as ISO 8601 text, which ``from_wire`` reads back).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypeVar

from chargebox.ocpp.datatypes import MeterValue, SampledValue

T = TypeVar("T")

# Field names whose wire name is not the camelCase of the field name (7.22: a MeterValue holds
# repeated ``value`` elements; zeep names the text content of a simple-content type ``_value_1``).
_WIRE_NAMES: dict[tuple[type, str], str] = {
    (MeterValue, "values"): "value",
    (SampledValue, "value"): "_value_1",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """(field name, wire name, type hint) of a message or data type, in wire order."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, _WIRE_NAMES.get((cls, f.name), _camel(f.name)), hints[f.name]) for f in dataclasses.fields(cls)
    )


def to_wire(value: Any) -> Any:
    """A dataclass message (or any value inside one) as the keyword values zeep renders."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            wire: to_wire(getattr(value, name))
            for name, wire, _ in _fields(type(value))
            if getattr(value, name) is not None
        }
    if isinstance(value, list):
        return [to_wire(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        # OCPP timestamps are UTC (7.x dateTime); a naive datetime here is a programming error.
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot go on the wire")
        return value.astimezone(timezone.utc)
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value: Any) -> str:
    """A message or data type as compact JSON text, for storage (the outbox, the journal)."""
    return json.dumps(to_wire(value), default=_json_default, separators=(",", ":"))


def from_json(text: str, cls: type[T]) -> T:
    return from_wire(json.loads(text), cls)


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    try:
        return obj[key]
    except (KeyError, TypeError, AttributeError):
        return getattr(obj, key, None)


def from_wire(obj: Any, cls: type[T]) -> T:
    """Build a message or data type of class ``cls`` from what zeep parsed (None for an empty body)."""
    kwargs = {}
    for name, wire, hint in _fields(typing.cast(type, cls)):
        raw = _get(obj, wire)
        if raw is not None:
            kwargs[name] = _convert(raw, hint)
        elif typing.get_origin(hint) is list:
            kwargs[name] = []
    return cls(**kwargs)


def _convert(raw: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_convert(entry, item) for entry in raw]
    if dataclasses.is_dataclass(hint):
        return from_wire(raw, hint)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    if hint is datetime:
        if isinstance(raw, str):
            raw = datetime.fromisoformat(raw)
        return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    if hint is str:
        return str(raw)
    return raw
