"""The one place where typed OCPP messages become plain wire values and back (DESIGN.md, style 6).

The plain form uses the spec's camelCase names, strings for enums and nested dicts and lists. It is
neutral: no binding's or library's names in it, since the outbox stores it on disk as JSON
(datetimes as ISO 8601 text, which ``from_wire`` reads back). A binding whose library names an
element otherwise passes its own ``names`` (the SOAP binding hands the form to zeep, which renders
and parses XML through the WSDL's schema).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Mapping
from types import MappingProxyType
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypeVar

from chargebox.ocpp.datatypes import MeterValue

T = TypeVar("T")

# (class, field name) -> the name a binding's library gives that field instead of the plain one.
WireNames = Mapping[tuple[type, str], str]
_PLAIN: WireNames = MappingProxyType({})

# Field names whose wire name is not the camelCase of the field name (7.22: a MeterValue holds
# repeated ``value`` elements).
_WIRE_NAMES: dict[tuple[type, str], str] = {
    (MeterValue, "values"): "value",
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


def _named(cls: type, names: WireNames) -> tuple[tuple[str, str, Any], ...]:
    """:func:`_fields` with a binding's own names in place of the plain ones."""
    fields = _fields(cls)
    if not names:
        return fields
    return tuple((name, names.get((cls, name), wire), hint) for name, wire, hint in fields)


def to_wire(value: Any, names: WireNames = _PLAIN) -> Any:
    """A dataclass message (or any value inside one) as plain wire values, with ``names`` in place
    of the plain names where a binding's library wants its own."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            wire: to_wire(getattr(value, name), names)
            for name, wire, _ in _named(type(value), names)
            if getattr(value, name) is not None
        }
    if isinstance(value, list):
        return [to_wire(item, names) for item in value]
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


def from_wire(obj: Any, cls: type[T], names: WireNames = _PLAIN) -> T:
    """Build a message or data type of class ``cls`` from plain wire values or what a binding's
    library parsed, read with ``names`` where it has its own (None for an empty body)."""
    kwargs = {}
    for name, wire, hint in _named(typing.cast(type, cls), names):
        raw = _get(obj, wire)
        if raw is not None:
            kwargs[name] = _convert(raw, hint, names)
        elif typing.get_origin(hint) is list:
            kwargs[name] = []
    return cls(**kwargs)


def _convert(raw: Any, hint: Any, names: WireNames) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_convert(entry, item, names) for entry in raw]
    if dataclasses.is_dataclass(hint):
        return from_wire(raw, hint, names)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    if hint is datetime:
        if isinstance(raw, str):
            raw = datetime.fromisoformat(raw)
        return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    if hint is str:
        return str(raw)
    return raw
