"""The one place where typed OCPP messages become plain wire values and back (DESIGN.md, style 6).

The plain form uses the spec's camelCase names, strings for enums and nested dicts and lists. It is
neutral: no binding's or library's names in it, since the outbox stores it on disk as JSON
(datetimes as ISO 8601 text, which ``from_wire`` reads back).

A version's wire says some of it otherwise: its own names (1.6's ``meterValue``, ``interval``), fields
it lacks, 1.6's ungrouped ``transactionData``, enum values it spells otherwise or lacks. A
:class:`WireForm` says how (the versions' forms are in :mod:`chargebox.ocpp.versions`), and a binding
whose form names an element otherwise adds its own ``names`` (the SOAP binding's ``_value_1`` for the
text of 1.5's SampledValue, zeep's name, kept since the binding builds and reads XML with lxml itself).
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
from chargebox.ocpp.errors import Unsendable

T = TypeVar("T")

# (class, field name) -> the name a binding's library gives that field instead of the plain one.
WireNames = Mapping[tuple[type, str], str]


@dataclasses.dataclass(frozen=True, eq=False)
class WireForm:
    """How one wire says the neutral messages, where it does not say them plainly.

    ``said`` maps an enum class to its values this wire spells otherwise: a neutral value to this
    wire's value (a rename like 1.5's ``Amp``, or the nearest value of its own, 1.6's
    EVCommunicationError for Mode3Error) or to None where it has no way to say it: a message holding
    that value is :class:`~chargebox.ocpp.errors.Unsendable` here. Keyed by class, since values of
    two ``StrEnum`` classes compare equal as strings.
    """

    names: WireNames = dataclasses.field(default_factory=dict)
    # (class, field) this wire does not have: left out going out.
    left_out: frozenset[tuple[type, str]] = frozenset()
    # (class, field) of a list of one-field groups that this wire says as the groups' items in one
    # list; read back as one group (1.6's StopTransaction.req transactionData, 6.49).
    ungrouped: frozenset[tuple[type, str]] = frozenset()
    said: Mapping[type[Enum], Mapping[str, str | None]] = dataclasses.field(default_factory=dict)
    # Datetimes as ISO 8601 text (JSON) rather than datetime objects (zeep's XML).
    text_times: bool = False

    def renamed(self, names: WireNames) -> WireForm:
        """This form with a library's own names for some fields."""
        return dataclasses.replace(self, names=MappingProxyType({**self.names, **names}))

    def say(self, member: Enum) -> str:
        """An enum member as this wire's value; Unsendable when this wire has none for it."""
        value = self.said.get(type(member), {}).get(member.value, member.value)
        if value is None:
            raise Unsendable(f"{type(member).__name__} {member.value} has no value on this wire")
        return value

    def read(self, cls: type[Enum], raw: Any) -> Enum:
        """This wire's value as the enum member: a neutral value as itself, else a rename's member."""
        if raw in cls._value2member_map_:
            return cls(raw)
        for neutral, value in self.said.get(cls, {}).items():
            if value == raw:
                return cls(neutral)
        return cls(raw)  # the enum's own error (or its _missing_) for an unknown value

    def values(self, cls: type[Enum]) -> list[str]:
        """The values of an enum class this wire has, in the enum's order."""
        said = self.said.get(cls, {})
        found = [said.get(m.value, m.value) for m in cls]
        return list(dict.fromkeys(v for v in found if v is not None))


PLAIN = WireForm()

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
    """(field name, wire name, type hint) of a message or data type, in wire order; worked out once
    per class (typing.get_type_hints is most of the time a list of 50,000 took to read, issue 19)."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, _WIRE_NAMES.get((cls, f.name), _camel(f.name)), hints[f.name]) for f in dataclasses.fields(cls)
    )


@functools.cache  # a form is hashed by identity (eq=False), and each lives as long as the daemon
def wire_fields(cls: type, form: WireForm) -> tuple[tuple[str, str, Any], ...]:
    """:func:`_fields` in a form's names, without the fields it leaves out."""
    fields = _fields(cls)
    if form is PLAIN:
        return fields
    return tuple((name, form.names.get((cls, name), wire), hint) for name, wire, hint in fields
                 if (cls, name) not in form.left_out)


@functools.cache  # once per class and form: a binding may call it before each large message
def prepare(cls: type, form: WireForm = PLAIN) -> None:
    """Work out now the tables that reading or writing a ``cls`` in ``form`` builds at first use: its
    fields and those of the types inside it, and the shape of each field's type. A binding calls it
    before a large message fills the heap: built while the 50,000 entries of a SendLocalList did, these
    few long-lived tuples each kept a 1 MiB pymalloc arena resident once the entries were freed
    (issue 19: 3 of the 4 arenas a SendLocalList Full left behind)."""
    _kind(cls), _encoding(cls, form), _decoding(cls, form)
    for _, _, hint in wire_fields(cls, form):
        shape, kind = _shape(hint)
        while shape == "list":
            shape, kind = _shape(kind)
        if shape == "record":  # an ungrouped field's group too: from_wire reads through its fields
            prepare(kind, form)


def _ungrouped(groups: list[Any]) -> list[Any]:
    """The items of a list of one-field groups, in one list."""
    return [item for group in groups for item in getattr(group, dataclasses.fields(group)[0].name)]


@functools.cache
def _kind(cls: type) -> str:
    """What :func:`to_wire` does with a value of class ``cls``: worked out once per class, not per value
    (these checks were a quarter of a MeterValues' trip to the wire, issue 19)."""
    if dataclasses.is_dataclass(cls):
        return "record"
    if issubclass(cls, list):
        return "list"
    if issubclass(cls, Enum):
        return "enum"
    if issubclass(cls, datetime):
        return "datetime"
    return "raw"


@functools.cache
def _encoding(cls: type, form: WireForm) -> tuple[tuple[str, str, bool], ...]:
    """(field name, wire name, whether it goes ungrouped) of a class's fields said in ``form``, once."""
    return tuple((name, wire, (cls, name) in form.ungrouped) for name, wire, _ in wire_fields(cls, form))


def to_wire(value: Any, form: WireForm = PLAIN) -> Any:
    """A dataclass message (or any value inside one) as plain wire values, said in ``form``;
    Unsendable when it holds a value that form has no way to say."""
    cls: type = type(value)
    kind = _kind(cls)
    if kind == "raw":
        return value
    if kind == "record":
        wire_form = {}
        for name, wire, ungrouped in _encoding(cls, form):
            field_value = getattr(value, name)
            if field_value is None:
                continue
            if ungrouped:
                field_value = _ungrouped(field_value)
            wire_form[wire] = to_wire(field_value, form)
        return wire_form
    if kind == "list":
        return [to_wire(item, form) for item in value]
    if kind == "enum":
        return form.say(value)
    # OCPP timestamps are UTC (7.x dateTime); a naive datetime here is a programming error.
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} cannot go on the wire")
    utc = value.astimezone(timezone.utc)
    # ISO 8601 in UTC (1.6 3.14, 3.15), with a "Z" as OCPP-J's examples; no fraction when there is none.
    return utc.isoformat().replace("+00:00", "Z") if form.text_times else utc


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


@functools.cache
def _decoding(cls: type, form: WireForm) -> tuple[tuple[str, str, Any, bool, bool], ...]:
    """(field name, wire name, type hint, whether it comes ungrouped, whether it is a list) of a class's
    fields read in ``form``, once per class rather than per message (issue 19)."""
    return tuple((name, wire, hint, (cls, name) in form.ungrouped, typing.get_origin(hint) is list)
                 for name, wire, hint in wire_fields(cls, form))


def from_wire(obj: Any, cls: type[T], form: WireForm = PLAIN) -> T:
    """Build a message or data type of class ``cls`` from plain wire values, a JSON payload or what a
    binding's library parsed, read in ``form`` (None for an empty body)."""
    kwargs = {}
    plain = type(obj) is dict  # a JSON payload: no look-up of what else it may be for each field
    for name, wire, hint, ungrouped, is_list in _decoding(typing.cast(type, cls), form):
        raw = obj.get(wire) if plain else _get(obj, wire)
        if raw is not None and ungrouped:
            (group,) = typing.get_args(hint)
            kwargs[name] = [group(_convert(raw, _fields(group)[0][2], form))] if raw else []
        elif raw is not None:
            kwargs[name] = _convert(raw, hint, form)
        elif is_list:
            kwargs[name] = []
    return cls(**kwargs)


@functools.cache
def _shape(hint: Any) -> tuple[str, Any]:
    """What :func:`_convert` does with a value of type ``hint`` (an optional one's without its None),
    and the type it does it with: worked out once per type, not per value (a list of 50,000 entries
    spent a third of its reading in these checks, issue 19)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return "list", item
    if dataclasses.is_dataclass(hint):
        return "record", hint
    if isinstance(hint, type) and issubclass(hint, Enum):
        return "enum", hint
    if hint in (datetime, str, float):
        return hint.__name__, hint
    return "raw", hint


def _convert(raw: Any, hint: Any, form: WireForm) -> Any:
    shape, hint = _shape(hint)
    if shape == "str":
        return str(raw)
    if shape == "list":
        return [_convert(entry, hint, form) for entry in raw]
    if shape == "record":
        return from_wire(raw, hint, form)
    if shape == "enum":
        return form.read(hint, raw)
    if shape == "datetime":
        if isinstance(raw, str):
            # Python 3.11 reads a "Z" but not RFC 3339's lower-case "t" and "z".
            raw = datetime.fromisoformat(raw.upper())
        return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    if shape == "float":
        return float(raw)  # a decimal (7.14 limit) may come as a JSON integer
    return raw
