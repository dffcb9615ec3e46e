"""An OCPP SOAP service as its WSDL describes it: which body element is which message, and the schema
every message is validated against, in both directions (1.5 chapters 6-8; 1.6 chapters 4-7 and OCPP-S).

The version is a :class:`~chargebox.binding.soap.protocol.SoapProtocol` (1.5 by default, the default
``central_system.protocol``); the WSDLs are the project's own, in each version's ``wsdl/`` folder.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from chargebox.binding.soap.protocol import SoapProtocol
from chargebox.binding.soap15 import SOAP15
from chargebox.ocpp import codec
from chargebox.ocpp.errors import ProtocolError
from chargebox.ocpp.messages import Confirmation, Operation, Request

XSD_NAMESPACE = "http://www.w3.org/2001/XMLSchema"
WSDL_NAMESPACE = "http://schemas.xmlsoap.org/wsdl/"

# libxml2 repeats an offending value in its message: "Element 'x': 'VALUE' is not a valid value of the
# atomic type ...", "[facet 'enumeration'] The value 'VALUE' is not an element of the set ...". That
# value may be an idTag or a location with its FTP password, and the message goes to the log and into
# the fault: the value is replaced, what was wrong with it stays. Greedy up to the last quote before
# the message's own words, so a value holding a quote is replaced whole.
_REPEATED_VALUE = re.compile(
    r"(?<=: )'.*'(?= is not a valid value)"
    r"|(?<=The value )'.*'(?= (?:has a length|is not|is greater|is less|has more|has a total))", re.DOTALL)
REDACTED_VALUE = "'***'"


def schema_node(wsdl: Path) -> etree._Element:
    """The xs:schema embedded in a WSDL's wsdl:types (the local file only: no entities, no network)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    schema = etree.parse(str(wsdl), parser).find(f"{{{WSDL_NAMESPACE}}}types/{{{XSD_NAMESPACE}}}schema")
    if schema is None:
        raise ValueError(f"{wsdl}: no xs:schema in wsdl:types")
    return schema


def validator(schema: etree._Element) -> etree.XMLSchema:
    """An xs:schema element compiled for validation, as a document of its own (its namespace
    declarations were partly on wsdl:definitions)."""
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


def schema_of(wsdl: Path) -> etree.XMLSchema:
    """The WSDL's schema compiled for validation."""
    return validator(schema_node(wsdl))


def _xml_text(value: Any) -> str:
    """A simple value as XML Schema's text for it (xs:boolean, xs:dateTime in UTC with its "Z")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _required(hint: Any) -> Any:
    """An optional field's type without its None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return hint


#: Per complex type of a schema (by name; a top-level element's by the element's name): its child
#: elements in sequence order, each with its position and the local name of its type.
Sequences = dict[str, dict[str, tuple[int, str]]]


def _unprefixed(qname: str) -> str:
    """A type's name without its namespace prefix (``cs:IdTagInfo``: ``IdTagInfo``)."""
    return qname.rpartition(":")[2]


def sequences(schema: etree._Element) -> Sequences:
    """The order of each complex type's elements, which XML Schema's xs:sequence makes part of
    validity; the project's schemas define every type by name (but the simple content of 1.5's
    SampledValue, whose fields are attributes), so one level of lookup per element is enough."""
    found: Sequences = {}
    for complex_type in schema.iterfind(f"{{{XSD_NAMESPACE}}}complexType"):
        found[complex_type.get("name", "")] = {
            element.get("name", ""): (n, _unprefixed(element.get("type", "")))
            for n, element in enumerate(complex_type.iterfind(f"{{{XSD_NAMESPACE}}}sequence/{{{XSD_NAMESPACE}}}element"))}
    for element in schema.iterfind(f"{{{XSD_NAMESPACE}}}element"):
        found[element.get("name", "")] = found.get(_unprefixed(element.get("type", "")), {})
    return found


def redact_values(message: str) -> str:
    """A libxml2 validation message without the value it complains about."""
    return _REPEATED_VALUE.sub(REDACTED_VALUE, message)


class Service:
    """One side's service: the operations it serves, their wrapper elements and their schema, in the
    version of ``protocol``."""

    def __init__(self, wsdl: Path, namespace: str, operations: dict[str, Operation],
                 protocol: SoapProtocol = SOAP15) -> None:
        self.wsdl = wsdl
        self.namespace = namespace
        self.operations = operations
        self.protocol = protocol
        # The version's form of the neutral messages (for 1.5, 1.6's values in 1.5's terms), in zeep's names.
        self._form = protocol.version.form.renamed(protocol.zeep_names)
        # lxml alone: the schema validates, its sequences order what is rendered, and the messages are
        # read off the validated tree; zeep's object per element cost most of the CPU per request,
        # and importing it about 11 MB of the daemon's memory (issue 19).
        node = schema_node(wsdl)
        self._sequences = sequences(node)
        self._schema = validator(node)
        self._by_tag: dict[str, tuple[Operation, type[Request] | type[Confirmation]]] = {}
        for op in operations.values():
            self._by_tag[self.tag(op.name, request=True)] = (op, op.request)
            self._by_tag[self.tag(op.name, request=False)] = (op, op.confirmation)
        self._reading: dict[type, tuple[tuple[str, bool, bool, Any], ...]] = {}  # see _readings

    def prepare(self) -> None:
        """Build now the tables that reading and answering each operation builds at first use (this
        service's and the codec's): called before a large body is read, since built while a list of
        50,000 entries filled the heap they kept its pymalloc arenas resident after it (issue 19)."""
        for op in self.operations.values():
            classes: tuple[type, ...] = (op.request, op.confirmation)
            for cls in classes:
                codec.prepare(cls, self._form)
                self._prepare_readings(cls)

    def _prepare_readings(self, cls: type) -> None:
        for _, _, record, kind in self._readings(cls):
            if record:
                self._prepare_readings(kind)

    def tag(self, action: str, *, request: bool) -> str:
        """The Clark name of an operation's wrapper element, e.g. ``{ns}bootNotificationRequest``."""
        return f"{{{self.namespace}}}{action[:1].lower()}{action[1:]}{'Request' if request else 'Response'}"

    def operation_of(self, element: etree._Element) -> Operation:
        """The operation a body element belongs to; ProtocolError when it is none of this service's."""
        found = self._by_tag.get(element.tag)
        if found is None:
            raise ProtocolError(f"unknown body element {etree.QName(element).localname!r}")
        return found[0]

    def render(self, message: Request | Confirmation, action: str) -> etree._Element:
        """The message as its wrapper element, validated: we never send what the schema refuses.

        Built with lxml straight from the codec's plain form, each type's elements in its schema
        sequence: zeep's render of an object per element was most of the box's CPU per request
        (issue 19)."""
        tag = self.tag(action, request=isinstance(message, Request))
        element = etree.Element(tag, nsmap={"ns0": self.namespace})
        self._fill(element, codec.to_wire(message, self._form), tag.rpartition("}")[2])
        self.validate(element, error=ValueError)
        return element

    def _fill(self, node: etree._Element, value: dict[str, Any], type_name: str) -> None:
        """A complex value's fields as ``node``'s children, in the sequence of its schema type."""
        if "_value_1" in value:  # zeep's name for the text of an element with attributes (1.5 SampledValue)
            for name, item in value.items():
                if name == "_value_1":
                    node.text = _xml_text(item)
                else:
                    node.set(name, _xml_text(item))  # attributeFormDefault: unqualified
            return
        order = self._sequences[type_name]
        for name in sorted(value, key=lambda name: order[name][0]):
            item, child_type = value[name], order[name][1]
            for one in item if isinstance(item, list) else [item]:
                child = etree.SubElement(node, f"{{{self.namespace}}}{name}")
                if isinstance(one, dict):
                    self._fill(child, one, child_type)
                else:
                    child.text = _xml_text(one)

    def parse(self, element: etree._Element) -> Request | Confirmation:
        """A validated body element as its typed message; ProtocolError when it breaks the schema."""
        found = self._by_tag.get(element.tag)
        if found is None:
            raise ProtocolError(f"unknown body element {etree.QName(element).localname!r}")
        self.validate(element)
        _, cls = found
        try:
            return codec.from_wire(self._plain(element, cls), cls, self._form)
        except TypeError as err:
            # The schema lets a required string be empty (<idTag></idTag>), zeep reads it as absent,
            # and the message cannot be built without it: the caller's error, not ours (issue 14, item 8).
            empty = sorted({etree.QName(e).localname for e in element.iter() if len(e) == 0 and not e.text})
            raise ProtocolError(f"{etree.QName(element).localname}: a required element is empty "
                                f"({', '.join(empty) or err})") from err

    def _plain(self, element: etree._Element, cls: type) -> dict[str, Any]:
        """A validated element as the plain values :func:`codec.from_wire` reads for ``cls``, read off
        lxml's tree by the message's fields: zeep's parse built an object per element, 86 % of the time a
        SendLocalList of 50,000 entries took (issue 19). The schema has checked the element already, so
        a value only needs its type: xs:int and xs:boolean here, the rest as text for the codec. An
        empty element is absent, as zeep read it (a required one makes the message fail to build)."""
        children: dict[str, list[etree._Element]] = {}
        for child in element:
            if isinstance(child.tag, str):  # not a comment; a Clark name, {namespace}local
                children.setdefault(child.tag.rpartition("}")[2], []).append(child)
        plain: dict[str, Any] = {}
        for wire, many, record, kind in self._readings(cls):
            found = children.get(wire)
            if wire == "_value_1":  # zeep's name for the text of an element with attributes (1.5 SampledValue)
                plain[wire] = element.text
            elif found is None:
                if wire in element.attrib:
                    plain[wire] = self._value(element.attrib[wire], kind)
            elif record and many:
                plain[wire] = [self._plain(child, kind) for child in found]
            elif record:
                plain[wire] = self._plain(found[0], kind)
            elif many:
                plain[wire] = [self._value(child, kind) for child in found]
            else:
                plain[wire] = self._value(found[0], kind)
        return plain

    def _readings(self, cls: type) -> tuple[tuple[str, bool, bool, Any], ...]:
        """How :meth:`_plain` reads each field of ``cls``: its wire name, whether it is a list, whether
        its value is a record (a dataclass), and the value's type; worked out once per class."""
        readings = self._reading.get(cls)
        if readings is None:
            found = []
            for name, wire, hint in codec.wire_fields(cls, self._form):
                hint = _required(hint)
                if (cls, name) in self._form.ungrouped:  # the items of a list of one-field groups, one list
                    (group,) = typing.get_args(hint)
                    hint = typing.get_type_hints(group)[dataclasses.fields(group)[0].name]
                many = typing.get_origin(hint) is list
                kind = _required(typing.get_args(hint)[0]) if many else hint
                found.append((wire, many, dataclasses.is_dataclass(kind), kind))
            readings = self._reading[cls] = tuple(found)
        return readings

    @staticmethod
    def _value(node: etree._Element | str, kind: Any) -> Any:
        """One simple element's (or attribute's) value as a field of type ``kind`` takes it."""
        text = node if isinstance(node, str) else node.text
        if text is None:
            return None
        if kind is bool:
            return text.strip() in ("true", "1")  # xs:boolean's lexical forms
        if kind is int:
            return int(text)
        return text

    def validate(self, element: etree._Element, error: type[Exception] = ProtocolError) -> None:
        if not self._schema.validate(element):
            problems = "; ".join(f"line {e.line}: {redact_values(e.message)}"
                                 for e in list(self._schema.error_log)[:5])
            raise error(f"{etree.QName(element).localname} does not match the OCPP "
                        f"{self.protocol.version.name} schema: {problems}")


def central_system_service(protocol: SoapProtocol = SOAP15, wsdl: Path | None = None) -> Service:
    """The Central System service (the box's requests: 1.5 4.1-4.10, 1.6 chapter 4), described by
    ``wsdl`` (by default the project's WSDL of that version)."""
    return Service(wsdl or protocol.central_system_wsdl, protocol.cs_namespace,
                   protocol.version.central_system_operations, protocol)


def charge_point_service(protocol: SoapProtocol = SOAP15, wsdl: Path | None = None) -> Service:
    """The Charge Point service (the Central System's requests: 1.5 5.1-5.15, 1.6 chapter 5)."""
    return Service(wsdl or protocol.charge_point_wsdl, protocol.cp_namespace,
                   protocol.version.charge_point_operations, protocol)
