"""The OCPP WSDL oracle's tools, shared by the 1.5 and 1.6 WSDL tests: the schema embedded in a WSDL, a
name-independent model of its components and of its wire form (operations, actions, headers), and the
compiled schema and zeep client of a WSDL file.

The official WSDLs in ``shared/spec/wsdl`` are a test oracle (DESIGN.md, "Reference schemas"): the project's
own WSDLs are compared with them component by component, and sample messages are checked against both.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import zeep
from lxml import etree

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP12_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSAW_NS = "http://www.w3.org/2006/05/addressing/wsdl"
XS_NS = "http://www.w3.org/2001/XMLSchema"
ENV12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSA_NS = "http://www.w3.org/2005/08/addressing"
NS = {"wsdl": WSDL_NS, "soap12": SOAP12_NS, "xs": XS_NS}


def wrapper(op: str, suffix: str) -> str:
    """``BootNotification`` -> ``bootNotificationRequest`` (the body element of a PDU)."""
    return op[0].lower() + op[1:] + suffix


def qualified(xml: str, namespace: str) -> etree._Element:
    """A sample body parsed, the PDU and all its children put in ``namespace`` (elementFormDefault
    is qualified in every OCPP WSDL), so samples can be written without prefixes."""
    root = etree.fromstring(xml)
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = f"{{{namespace}}}{el.tag}"
    return root


def extract_schema(wsdl_path: Path) -> etree._Element:
    """The xs:schema inside a WSDL's wsdl:types, as a standalone schema document.

    QName-valued attributes (``type="tns:IdToken"``) depend on namespace declarations that may sit on
    wsdl:definitions, so the copy carries every declaration in scope at the schema element.
    """
    root = etree.parse(str(wsdl_path)).getroot()
    schemas = root.findall("wsdl:types/xs:schema", NS)
    assert len(schemas) == 1, f"{wsdl_path.name}: expected one xs:schema in wsdl:types"
    schema = schemas[0]
    standalone = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=dict(schema.nsmap))
    for child in schema:
        standalone.append(copy.deepcopy(child))
    # Round-trip through text so the tree is a clean document of its own.
    return etree.fromstring(etree.tostring(standalone))


@functools.cache
def compiled_schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(extract_schema(path))


@functools.cache
def zeep_client(path: Path) -> zeep.Client:
    return zeep.Client(str(path), settings=zeep.Settings(strict=True))


class SchemaModel:
    """A name-independent description of a schema's components, for structural comparison.

    Element and attribute types are resolved: a built-in is ``("xs", name)``, a named simple type is
    its base and facets (so two simple types with the same facets compare equal), a complex type is
    ``("complex", name)`` (complex types are compared one by one under their names). Anything the
    model does not know raises, so a construct it cannot compare never passes silently.
    """

    def __init__(self, schema: etree._Element) -> None:
        self.tns = schema.get("targetNamespace")
        self.element_form = schema.get("elementFormDefault")
        self.attribute_form = schema.get("attributeFormDefault", "unqualified")
        self._simple = {e.get("name"): e for e in schema.findall("xs:simpleType", NS)}
        self._complex = {e.get("name"): e for e in schema.findall("xs:complexType", NS)}
        self._elements = {e.get("name"): e for e in schema.findall("xs:element", NS)}
        for child in schema:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            assert local in {"simpleType", "complexType", "element", "annotation"}, local

    def elements(self) -> dict[str, Any]:
        return {name: self._type_of(el) for name, el in self._elements.items()}

    def complex_types(self) -> dict[str, Any]:
        return {name: self._complex_content(el) for name, el in self._complex.items()}

    def simple_types(self) -> dict[str, Any]:
        return {name: self._simple_content(el) for name, el in self._simple.items()}

    def message_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Per global element, every element below it in document order, complex types expanded: one row
        (path, type, minOccurs, maxOccurs, nillable, default, fixed) each, the type a built-in, a simple
        type's content or ``"complex"``. Two schemas whose messages have the same elements, order,
        cardinality and types give the same rows, whatever they name their types."""
        return {name: self._rows(name, self._type_of(el)) for name, el in self._elements.items()}

    def _rows(self, path: str, type_: Any) -> list[tuple[Any, ...]]:
        if type_[0] == "complex":
            content = self._complex_content(self._complex[type_[1]])
        elif type_[0] == "anonymous":
            content = type_[1]
        else:
            return []
        if content[0] == "simpleContent":
            return [(path, *content)]
        rows: list[tuple[Any, ...]] = []
        for name, child_type, *facets in content[1]:
            child = f"{path}/{name}"
            leaf = "complex" if child_type[0] in ("complex", "anonymous") else child_type
            rows.append((child, leaf, *facets))
            rows.extend(self._rows(child, child_type))
        return rows

    def _resolve(self, node: etree._Element, qname_text: str) -> Any:
        prefix, _, local = qname_text.rpartition(":")
        ns = node.nsmap.get(prefix or None)
        if ns == XS_NS:
            return ("xs", local)
        assert ns == self.tns, f"type {qname_text} outside the target namespace"
        if local in self._simple:
            return self._simple_content(self._simple[local])
        if local in self._complex:
            return ("complex", local)
        raise AssertionError(f"unresolved type {qname_text}")

    def _type_of(self, el: etree._Element) -> Any:
        if el.get("type"):
            return self._resolve(el, el.get("type"))
        inline = [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname != "annotation"]
        assert len(inline) == 1, f"element {el.get('name')} has no usable type"
        local = etree.QName(inline[0]).localname
        if local == "simpleType":
            return self._simple_content(inline[0])
        assert local == "complexType", local
        return ("anonymous", self._complex_content(inline[0]))

    def _simple_content(self, st: etree._Element) -> Any:
        restriction = st.find("xs:restriction", NS)
        assert restriction is not None, f"simpleType {st.get('name')}: only restrictions are modelled"
        enums: set[str] = set()
        facets: dict[str, str] = {}
        for facet in restriction:
            if not isinstance(facet.tag, str):
                continue
            local = etree.QName(facet).localname
            if local == "annotation":
                continue
            if local == "enumeration":
                enums.add(facet.get("value"))
            else:
                facets[local] = facet.get("value")
        return (
            "simple",
            self._resolve(restriction, restriction.get("base")),
            frozenset(enums),
            tuple(sorted(facets.items())),
        )

    def _complex_content(self, ct: etree._Element) -> Any:
        assert ct.get("mixed") in (None, "false"), "mixed content is not modelled"
        parts = [c for c in ct if isinstance(c.tag, str) and etree.QName(c).localname != "annotation"]
        if not parts:
            return ("sequence", ())
        assert len(parts) == 1, f"complexType {ct.get('name')}: unexpected content"
        part = parts[0]
        local = etree.QName(part).localname
        if local == "sequence":
            particles = []
            for child in part:
                if not isinstance(child.tag, str):
                    continue
                assert etree.QName(child).localname == "element", "only element particles are modelled"
                assert child.get("ref") is None, "element refs are not modelled"
                particles.append(
                    (
                        child.get("name"),
                        self._type_of(child),
                        child.get("minOccurs", "1"),
                        child.get("maxOccurs", "1"),
                        child.get("nillable", "false"),
                        child.get("default"),
                        child.get("fixed"),
                    )
                )
            return ("sequence", tuple(particles))
        assert local == "simpleContent", local
        ext = part.find("xs:extension", NS)
        assert ext is not None, "only simpleContent extensions are modelled"
        attributes = []
        for attr in ext:
            if not isinstance(attr.tag, str):
                continue
            assert etree.QName(attr).localname == "attribute", "only attributes are modelled"
            attributes.append(
                (
                    attr.get("name"),
                    self._resolve(attr, attr.get("type")),
                    attr.get("use", "optional"),
                    attr.get("default"),
                    attr.get("fixed"),
                    attr.get("form"),
                )
            )
        return ("simpleContent", self._resolve(ext, ext.get("base")), frozenset(attributes))


def wsdl_wire_model(path: Path) -> dict[str, dict[str, Any]]:
    """Per operation, everything of the WSDL that shows on the wire (names of messages etc. do not)."""
    root = etree.parse(str(path)).getroot()
    tns = root.get("targetNamespace")

    def qname(node: etree._Element, attr: str) -> etree.QName:
        prefix, _, local = node.get(attr).rpartition(":")
        return etree.QName(node.nsmap[prefix or None], local)

    messages = {}
    for msg in root.findall("wsdl:message", NS):
        messages[etree.QName(tns, msg.get("name"))] = {
            part.get("name"): qname(part, "element") for part in msg.findall("wsdl:part", NS)
        }

    def body_element(io: etree._Element) -> str:
        parts = messages[qname(io, "message")]
        assert len(parts) == 1
        return next(iter(parts.values())).text

    model: dict[str, dict[str, Any]] = {}
    (port_type,) = root.findall("wsdl:portType", NS)
    for op in port_type.findall("wsdl:operation", NS):
        inp, out = op.find("wsdl:input", NS), op.find("wsdl:output", NS)
        model[op.get("name")] = {
            "input_action": inp.get(f"{{{WSAW_NS}}}Action"),
            "output_action": out.get(f"{{{WSAW_NS}}}Action"),
            "input_body": body_element(inp),
            "output_body": body_element(out),
        }
    (binding,) = root.findall("wsdl:binding", NS)
    soap_binding = binding.find("soap12:binding", NS)
    assert soap_binding is not None, "not a SOAP 1.2 binding"
    for op in binding.findall("wsdl:operation", NS):
        entry = model[op.get("name")]
        soap_op = op.find("soap12:operation", NS)
        entry["soap_action"] = soap_op.get("soapAction")
        entry["style"] = soap_op.get("style") or soap_binding.get("style") or "document"
        for io_name in ("input", "output"):
            io = op.find(f"wsdl:{io_name}", NS)
            entry[f"{io_name}_body_use"] = io.find("soap12:body", NS).get("use")
            entry[f"{io_name}_headers"] = sorted(
                (messages[qname(h, "message")][h.get("part")].text, h.get("use"))
                for h in io.findall("soap12:header", NS)
            )
    entry_count = len(binding.findall("wsdl:operation", NS))
    assert entry_count == len(model), "binding and portType disagree on operations"
    return model


def shape(el: etree._Element) -> Any:
    return (
        el.tag,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(shape(c) for c in el if isinstance(c.tag, str)),
    )


def errors(schema: etree.XMLSchema, doc: etree._Element) -> str:
    schema.validate(doc)
    return "; ".join(str(e) for e in schema.error_log)
