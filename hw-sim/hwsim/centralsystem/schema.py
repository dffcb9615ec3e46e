"""The schema side of the reference Central System: WSDL -> XMLSchema, operations, typed dicts.

A WSDL (OCPP 1.5 Central System or Charge Point service) is read once at start-up:

* the ``xs:schema`` embedded in ``wsdl:types`` becomes an :class:`lxml.etree.XMLSchema` that validates
  body elements;
* the ``wsdl:portType`` operations give, per operation, the input/output wrapper elements and their
  ``wsaw:Action`` values (OCPP 1.5 ch. 8 uses WS-Addressing), so a body element or an Action maps to
  its operation;
* the XSD types are walked into a small type model so a validated body element converts to a plain
  dict (and back) using the *declared* types, not guesses from the text.

Dict convention (``to_dict`` / ``from_dict``):

* keys are element local names; values of ``xs:int`` (and the other integer types) are ``int``,
  ``xs:decimal``/``float``/``double`` are ``float``, ``xs:boolean`` is ``bool``, anything else ``str``;
* an element that may repeat (``maxOccurs`` > 1 or unbounded, on itself or an enclosing group) is
  always a list, even with one item; absent optional elements are absent keys;
* an element with simple content *and* attributes (OCPP 1.5 ``MeterValue/value``) is a dict:
  ``{"#text": "1234", "@measurand": "Energy.Active.Import.Register", ...}``; attributes are always
  ``"@name"`` keys.

All XML is parsed with :func:`parse_xml`: no entity resolution, no network, no DTD loading, no huge
trees, and a DOCTYPE is refused outright (SOAP 1.2 part 1, 5: a SOAP message has no DTD).

This module is part of ``hwsim`` (the outside world) and must never import ``chargebox``.
"""

from __future__ import annotations

import copy
import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from lxml import etree

XS_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP12_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSAW_NS = "http://www.w3.org/2006/05/addressing/wsdl"
WSAM_NS = "http://www.w3.org/2007/05/addressing/metadata"

TEXT_KEY = "#text"
ATTR_PREFIX = "@"

_INT_TYPES = frozenset(
    {
        "int", "integer", "long", "short", "byte",
        "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
        "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    }
)
_FLOAT_TYPES = frozenset({"decimal", "float", "double"})
_BOOL_TYPES = frozenset({"boolean"})

Kind = Literal["int", "float", "bool", "str"]


class SchemaError(ValueError):
    """A WSDL could not be read or does not describe what we need (names the file)."""


class XmlError(ValueError):
    """Bytes that are not acceptable XML: not well-formed, or unsafe (DOCTYPE, entities)."""


# --------------------------------------------------------------------------------------------------
# Safe parsing


def safe_parser() -> etree.XMLParser:
    """A parser that resolves no entities, touches no network and loads no DTD."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse ``data`` safely and return the root element; raise :class:`XmlError` on any problem.

    A document with a DOCTYPE (internal subset or not) is refused, so entity tricks (XXE, "billion
    laughs") never get a chance even if a later lxml changed its defaults.
    """
    if not data or not data.strip():
        raise XmlError("empty body: expected an XML document")
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError as err:
        raise XmlError(f"not well-formed XML: {err}") from err
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlError("DOCTYPE is not allowed in a SOAP message (SOAP 1.2 part 1, section 5)")
    return root


def local_name(el: etree._Element) -> str:
    return etree.QName(el).localname


def namespace(el: etree._Element) -> str | None:
    return etree.QName(el).namespace


# --------------------------------------------------------------------------------------------------
# Type model


@dataclass(eq=False)
class SimpleType:
    kind: Kind
    enumerations: tuple[str, ...] = ()


@dataclass(eq=False)
class ElementDecl:
    name: str
    namespace: str | None
    type: "SimpleType | ComplexType"
    min_occurs: int = 1
    repeated: bool = False

    @property
    def qname(self) -> str:
        return f"{{{self.namespace}}}{self.name}" if self.namespace else self.name


@dataclass(eq=False)
class ComplexType:
    name: str | None = None
    children: list[ElementDecl] = field(default_factory=list)
    attributes: dict[str, SimpleType] = field(default_factory=dict)
    #: set for simple content (text with attributes)
    text: SimpleType | None = None
    #: xs:any present: unknown children are tolerated when converting
    open_content: bool = False

    def child(self, name: str) -> ElementDecl | None:
        for decl in self.children:
            if decl.name == name:
                return decl
        return None


_STRING = SimpleType("str")


@dataclass(frozen=True)
class Operation:
    """One WSDL operation: ``BootNotification`` -> ``bootNotificationRequest`` / ``...Response``."""

    name: str
    input_action: str
    output_action: str
    input_element: str
    output_element: str


def _max_occurs(el: etree._Element) -> float:
    value = el.get("maxOccurs", "1")
    if value == "unbounded":
        return float("inf")
    try:
        return float(int(value))
    except ValueError:
        return 1.0


def _min_occurs(el: etree._Element) -> int:
    try:
        return int(el.get("minOccurs", "1"))
    except ValueError:
        return 1


class WsdlSchema:
    """Everything the Central System needs from one WSDL file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            data = self.path.read_bytes()
        except OSError as err:
            raise SchemaError(f"{self.path}: cannot read WSDL: {err.strerror or err}") from err
        try:
            root = parse_xml(data)
        except XmlError as err:
            raise SchemaError(f"{self.path}: {err}") from err
        if root.tag != f"{{{WSDL_NS}}}definitions":
            raise SchemaError(f"{self.path}: not a WSDL 1.1 document (root is {root.tag})")
        schema_el = root.find(f"{{{WSDL_NS}}}types/{{{XS_NS}}}schema")
        if schema_el is None:
            raise SchemaError(f"{self.path}: no xs:schema inside wsdl:types")
        self._schema_el = schema_el
        self.target_namespace: str = schema_el.get("targetNamespace") or ""
        if not self.target_namespace:
            raise SchemaError(f"{self.path}: the xs:schema has no targetNamespace")
        self._qualified = schema_el.get("elementFormDefault") == "qualified"
        self.schema = self._compile(schema_el)

        self._global_elements: dict[str, etree._Element] = {}
        self._complex_defs: dict[str, etree._Element] = {}
        self._simple_defs: dict[str, etree._Element] = {}
        self._group_defs: dict[str, etree._Element] = {}
        for child in schema_el:
            if not isinstance(child.tag, str):
                continue
            name = child.get("name")
            if name is None:
                continue
            if child.tag == f"{{{XS_NS}}}element":
                self._global_elements[name] = child
            elif child.tag == f"{{{XS_NS}}}complexType":
                self._complex_defs[name] = child
            elif child.tag == f"{{{XS_NS}}}simpleType":
                self._simple_defs[name] = child
            elif child.tag == f"{{{XS_NS}}}group":
                self._group_defs[name] = child
        self._complex_cache: dict[str, ComplexType] = {}
        self._simple_cache: dict[str, SimpleType] = {}
        self.elements: dict[str, ElementDecl] = {}
        for name, el in self._global_elements.items():
            self.elements[name] = self._element_decl(el, global_=True, repeated=False)

        self.operations: dict[str, Operation] = self._read_operations(root)
        if not self.operations:
            raise SchemaError(f"{self.path}: no wsdl:portType operations found")
        self._by_input = {op.input_element: op for op in self.operations.values()}
        self._by_output = {op.output_element: op for op in self.operations.values()}
        self._by_action = {op.input_action: op for op in self.operations.values()}

    # ------------------------------------------------------------------ loading

    def _compile(self, schema_el: etree._Element) -> etree.XMLSchema:
        # Copy with every namespace in scope on wsdl:definitions: QName-valued attributes such as
        # type="tns:IdToken" need prefixes that a plain deepcopy would drop.
        standalone = etree.Element(schema_el.tag, attrib=dict(schema_el.attrib), nsmap=schema_el.nsmap)
        for child in schema_el:
            standalone.append(copy.deepcopy(child))
        try:
            return etree.XMLSchema(standalone)
        except etree.XMLSchemaParseError as err:
            raise SchemaError(f"{self.path}: invalid xs:schema: {err}") from err

    def _resolve(self, ctx: etree._Element, qname: str) -> tuple[str | None, str]:
        prefix, _, local = qname.rpartition(":")
        ns = ctx.nsmap.get(prefix or None)
        return ns, local

    def _read_operations(self, root: etree._Element) -> dict[str, Operation]:
        messages: dict[str, str] = {}
        for msg in root.iterfind(f"{{{WSDL_NS}}}message"):
            parts = [p for p in msg.iterfind(f"{{{WSDL_NS}}}part") if p.get("element")]
            if parts:
                _, elem = self._resolve(parts[0], parts[0].get("element", ""))
                messages[msg.get("name", "")] = elem
        soap_actions: dict[str, str] = {}
        for op in root.iterfind(f"{{{WSDL_NS}}}binding/{{{WSDL_NS}}}operation"):
            soap_op = op.find(f"{{{WSDL_SOAP12_NS}}}operation")
            if soap_op is not None and soap_op.get("soapAction"):
                soap_actions[op.get("name", "")] = soap_op.get("soapAction", "")
        operations: dict[str, Operation] = {}
        for op in root.iterfind(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation"):
            name = op.get("name", "")
            inp = op.find(f"{{{WSDL_NS}}}input")
            out = op.find(f"{{{WSDL_NS}}}output")
            if not name or inp is None or out is None:
                continue
            in_msg = self._resolve(inp, inp.get("message", ""))[1]
            out_msg = self._resolve(out, out.get("message", ""))[1]
            if in_msg not in messages or out_msg not in messages:
                raise SchemaError(f"{self.path}: operation {name}: message without element part")
            in_action = _action(inp) or soap_actions.get(name) or f"/{name}"
            out_action = _action(out) or f"{in_action}Response"
            operations[name] = Operation(
                name=name,
                input_action=in_action,
                output_action=out_action,
                input_element=messages[in_msg],
                output_element=messages[out_msg],
            )
        return operations

    def _element_decl(self, el: etree._Element, *, global_: bool, repeated: bool) -> ElementDecl:
        ref = el.get("ref")
        rep = repeated or _max_occurs(el) > 1
        if ref is not None:
            _, local = self._resolve(el, ref)
            target = self._global_elements.get(local)
            if target is None:
                raise SchemaError(f"{self.path}: element ref {ref!r} not found")
            decl = self._element_decl(target, global_=True, repeated=False)
            return ElementDecl(decl.name, decl.namespace, decl.type, _min_occurs(el), rep)
        name = el.get("name", "")
        form = el.get("form")
        qualified = global_ or form == "qualified" or (form is None and self._qualified)
        ns = self.target_namespace if qualified else None
        typ: SimpleType | ComplexType
        type_attr = el.get("type")
        if type_attr is not None:
            typ = self._named_type(el, type_attr)
        else:
            inline_complex = el.find(f"{{{XS_NS}}}complexType")
            inline_simple = el.find(f"{{{XS_NS}}}simpleType")
            if inline_complex is not None:
                typ = self._complex(inline_complex, None)
            elif inline_simple is not None:
                typ = self._simple(inline_simple, None)
            else:
                typ = _STRING  # xs:anyType: kept as text
        return ElementDecl(name, ns, typ, 1 if global_ else _min_occurs(el), rep)

    def _named_type(self, ctx: etree._Element, qname: str) -> SimpleType | ComplexType:
        ns, local = self._resolve(ctx, qname)
        if ns == XS_NS:
            return _builtin(local)
        if local in self._complex_defs:
            if local not in self._complex_cache:
                self._complex(self._complex_defs[local], local)
            return self._complex_cache[local]
        if local in self._simple_defs:
            if local not in self._simple_cache:
                self._simple_cache[local] = self._simple(self._simple_defs[local], local)
            return self._simple_cache[local]
        raise SchemaError(f"{self.path}: type {qname!r} not found")

    def _simple(self, el: etree._Element, name: str | None) -> SimpleType:
        restriction = el.find(f"{{{XS_NS}}}restriction")
        if restriction is None:
            return _STRING  # xs:list / xs:union: kept as text
        base: SimpleType
        if restriction.get("base"):
            named = self._named_type(restriction, restriction.get("base", ""))
            base = named if isinstance(named, SimpleType) else (named.text or _STRING)
        else:
            inline = restriction.find(f"{{{XS_NS}}}simpleType")
            base = self._simple(inline, None) if inline is not None else _STRING
        enums = tuple(e.get("value", "") for e in restriction.iterfind(f"{{{XS_NS}}}enumeration"))
        return SimpleType(base.kind, enums or base.enumerations)

    def _complex(self, el: etree._Element, name: str | None) -> ComplexType:
        ct = ComplexType(name=name)
        if name is not None:
            self._complex_cache[name] = ct  # registered first: recursive types terminate
        simple_content = el.find(f"{{{XS_NS}}}simpleContent")
        complex_content = el.find(f"{{{XS_NS}}}complexContent")
        if simple_content is not None:
            deriv = _first_child(simple_content)
            if deriv is not None and deriv.get("base"):
                base = self._named_type(deriv, deriv.get("base", ""))
                if isinstance(base, SimpleType):
                    ct.text = base
                else:
                    ct.text = base.text or _STRING
                    ct.attributes.update(base.attributes)
            else:
                ct.text = _STRING
            if deriv is not None:
                self._attributes(deriv, ct)
            return ct
        body = el
        if complex_content is not None:
            deriv = _first_child(complex_content)
            if deriv is None:
                return ct
            if deriv.tag == f"{{{XS_NS}}}extension" and deriv.get("base"):
                base = self._named_type(deriv, deriv.get("base", ""))
                if isinstance(base, ComplexType):
                    ct.children.extend(base.children)
                    ct.attributes.update(base.attributes)
                    ct.open_content = base.open_content
            body = deriv
        for child in body:
            if child.tag in (f"{{{XS_NS}}}sequence", f"{{{XS_NS}}}choice", f"{{{XS_NS}}}all"):
                self._particles(child, ct, repeated=False, optional=False)
            elif child.tag == f"{{{XS_NS}}}group":
                self._particles(child, ct, repeated=False, optional=False)
        self._attributes(body, ct)
        return ct

    def _particles(self, group: etree._Element, ct: ComplexType, *, repeated: bool, optional: bool) -> None:
        rep = repeated or _max_occurs(group) > 1
        opt = optional or _min_occurs(group) == 0 or group.tag == f"{{{XS_NS}}}choice"
        if group.tag == f"{{{XS_NS}}}group" and group.get("ref"):
            _, local = self._resolve(group, group.get("ref", ""))
            target = self._group_defs.get(local)
            if target is None:
                raise SchemaError(f"{self.path}: group {local!r} not found")
            for child in target:
                if child.tag in (f"{{{XS_NS}}}sequence", f"{{{XS_NS}}}choice", f"{{{XS_NS}}}all"):
                    self._particles(child, ct, repeated=rep, optional=opt)
            return
        for child in group:
            if child.tag == f"{{{XS_NS}}}element":
                decl = self._element_decl(child, global_=False, repeated=rep)
                if opt:
                    decl.min_occurs = 0
                ct.children.append(decl)
            elif child.tag in (
                f"{{{XS_NS}}}sequence", f"{{{XS_NS}}}choice", f"{{{XS_NS}}}all", f"{{{XS_NS}}}group"
            ):
                self._particles(child, ct, repeated=rep, optional=opt)
            elif child.tag == f"{{{XS_NS}}}any":
                ct.open_content = True

    def _attributes(self, el: etree._Element, ct: ComplexType) -> None:
        for attr in el.iterfind(f"{{{XS_NS}}}attribute"):
            name = attr.get("name")
            if name is None:
                continue
            if attr.get("type"):
                typ = self._named_type(attr, attr.get("type", ""))
                ct.attributes[name] = typ if isinstance(typ, SimpleType) else _STRING
            else:
                inline = attr.find(f"{{{XS_NS}}}simpleType")
                ct.attributes[name] = self._simple(inline, None) if inline is not None else _STRING

    # ------------------------------------------------------------------ lookups

    def operation_for_element(self, element_local_name: str) -> Operation | None:
        """The operation whose *input* wrapper element is ``element_local_name``."""
        return self._by_input.get(element_local_name)

    def operation_for_response_element(self, element_local_name: str) -> Operation | None:
        return self._by_output.get(element_local_name)

    def operation_for_action(self, action: str) -> Operation | None:
        return self._by_action.get(action)

    def enumeration(self, element: str, *path: str) -> tuple[str, ...]:
        """Enumerated values of a simple-typed element, e.g. ``("bootNotificationResponse", "status")``."""
        decl = self.elements.get(element)
        if decl is None:
            raise KeyError(element)
        for step in path:
            if not isinstance(decl.type, ComplexType):
                raise KeyError(step)
            child = decl.type.child(step)
            if child is None:
                raise KeyError(step)
            decl = child
        typ = decl.type
        if isinstance(typ, ComplexType):
            typ = typ.text or _STRING
        return typ.enumerations

    # ------------------------------------------------------------------ validation

    def validate(self, el: etree._Element) -> list[str]:
        """Validate a body element (the subtree, in place: line numbers stay); return error strings."""
        if self.schema.validate(el):
            return []
        return [_format_error(e) for e in self.schema.error_log]

    # ------------------------------------------------------------------ conversion

    def to_dict(self, el: etree._Element) -> dict[str, Any]:
        """Convert a (validated) body element to a plain dict using the declared types.

        Elements the schema does not know (only in an invalid document) are converted leniently:
        text as ``str``, structure as nested dicts, repeated siblings as lists.
        """
        decl = None
        if namespace(el) == self.target_namespace:
            decl = self.elements.get(local_name(el))
        if decl is not None and isinstance(decl.type, ComplexType):
            value = _complex_to_value(el, decl.type)
        else:
            value = _lenient(el)
        if not isinstance(value, dict):
            return {TEXT_KEY: value}
        return value

    def from_dict(self, element: str, payload: dict[str, Any]) -> etree._Element:
        """Build the global element ``element`` from ``payload``, children in schema order.

        Unknown keys raise :class:`ValueError` (a typo would otherwise vanish silently); missing
        required elements are left for :meth:`validate` to report.
        """
        decl = self.elements.get(element)
        if decl is None:
            raise ValueError(f"{self.path.name}: no global element {element!r}")
        el = etree.Element(decl.qname, nsmap={"ns": self.target_namespace})
        _fill(el, decl.type, payload, element)
        return el


def _action(el: etree._Element) -> str | None:
    return el.get(f"{{{WSAW_NS}}}Action") or el.get(f"{{{WSAM_NS}}}Action")


def _first_child(el: etree._Element) -> etree._Element | None:
    for child in el:
        if isinstance(child.tag, str) and child.tag != f"{{{XS_NS}}}annotation":
            return child
    return None


def _builtin(local: str) -> SimpleType:
    if local in _INT_TYPES:
        return SimpleType("int")
    if local in _FLOAT_TYPES:
        return SimpleType("float")
    if local in _BOOL_TYPES:
        return SimpleType("bool")
    return _STRING


def _format_error(err: Any) -> str:
    return f"line {err.line}: {err.message}" if err.line else str(err.message)


def _convert(text: str | None, typ: SimpleType) -> Any:
    raw = text or ""
    try:
        if typ.kind == "int":
            return int(raw.strip())
        if typ.kind == "float":
            return float(raw.strip())
        if typ.kind == "bool":
            v = raw.strip()
            if v in ("true", "1"):
                return True
            if v in ("false", "0"):
                return False
            return raw
    except ValueError:
        return raw  # only for invalid documents: keep what was sent
    return raw


def _attrs_to_dict(el: etree._Element, ct: ComplexType | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in el.attrib.items():
        qn = etree.QName(key)
        if qn.namespace is not None:
            continue  # xsi:*, xml:* and foreign attributes are not payload
        typ = ct.attributes.get(qn.localname) if ct is not None else None
        out[ATTR_PREFIX + qn.localname] = _convert(value, typ) if typ is not None else value
    return out


def _complex_to_value(el: etree._Element, ct: ComplexType) -> Any:
    if ct.text is not None:
        out: dict[str, Any] = {TEXT_KEY: _convert(el.text, ct.text)}
        out.update(_attrs_to_dict(el, ct))
        return out
    result: dict[str, Any] = _attrs_to_dict(el, ct)
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = local_name(child)
        decl = ct.child(name)
        if decl is None:
            value = _lenient(child)
            repeated = name in result
        else:
            value = _decl_value(child, decl)
            repeated = decl.repeated
        if repeated:
            existing = result.get(name)
            if isinstance(existing, list):
                existing.append(value)
            elif name in result:
                result[name] = [existing, value]
            else:
                result[name] = [value]
        else:
            result[name] = value  # a duplicate only happens in invalid input: last one wins
    return result


def _decl_value(el: etree._Element, decl: ElementDecl) -> Any:
    if isinstance(decl.type, SimpleType):
        return _convert(el.text, decl.type)
    return _complex_to_value(el, decl.type)


def _lenient(el: etree._Element) -> Any:
    children = [c for c in el if isinstance(c.tag, str)]
    attrs = _attrs_to_dict(el, None)
    if not children:
        if attrs:
            return {TEXT_KEY: el.text or "", **attrs}
        return el.text or ""
    out: dict[str, Any] = attrs
    for child in children:
        name = local_name(child)
        value = _lenient(child)
        if name in out:
            prev = out[name]
            out[name] = prev + [value] if isinstance(prev, list) else [prev, value]
        else:
            out[name] = value
    return out


def _format(value: Any, typ: SimpleType, where: str) -> str:
    if isinstance(value, (dict, list, tuple)):
        raise ValueError(f"{where}: expected a single {typ.kind} value, got {type(value).__name__}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # xs:decimal has no exponent: render plainly
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, _dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def _fill(el: etree._Element, typ: SimpleType | ComplexType, value: Any, where: str) -> None:
    if isinstance(typ, SimpleType):
        el.text = _format(value, typ, where)
        return
    if typ.text is not None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == TEXT_KEY:
                    el.text = _format(item, typ.text, where)
                elif key.startswith(ATTR_PREFIX) and key[1:] in typ.attributes:
                    if item is not None:
                        el.set(key[1:], _format(item, typ.attributes[key[1:]], f"{where}/{key}"))
                else:
                    raise ValueError(f"{where}: unknown key {key!r}")
        else:
            el.text = _format(value, typ.text, where)
        return
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a dict, got {type(value).__name__}")
    known = {d.name for d in typ.children}
    for key, item in value.items():
        if key.startswith(ATTR_PREFIX) and key[1:] in typ.attributes:
            if item is not None:
                el.set(key[1:], _format(item, typ.attributes[key[1:]], f"{where}/{key}"))
        elif key not in known:
            raise ValueError(f"{where}: unknown key {key!r} (expected one of {sorted(known)})")
    for decl in typ.children:
        if decl.name not in value or value[decl.name] is None:
            continue
        item = value[decl.name]
        items = item if isinstance(item, (list, tuple)) else [item]
        if len(items) > 1 and not decl.repeated:
            raise ValueError(f"{where}/{decl.name}: element does not repeat, got a list")
        for one in items:
            child = etree.SubElement(el, decl.qname)
            _fill(child, decl.type, one, f"{where}/{decl.name}")
