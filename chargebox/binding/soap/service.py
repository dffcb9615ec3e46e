"""An OCPP SOAP service as its WSDL describes it: which body element is which message, and the schema
every message is validated against, in both directions (1.5 chapters 6-8; 1.6 chapters 4-7 and OCPP-S).

The version is a :class:`~chargebox.binding.soap.protocol.SoapProtocol` (1.5 by default, the default
``central_system.protocol``); the WSDLs are the project's own, in each version's ``wsdl/`` folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import zeep
import zeep.xsd
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


# The schema imports nothing; should it try, zeep refuses: no DTD, no entities, no network.
_ZEEP_SETTINGS = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)


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
        # Only the types are needed, not a zeep Client: the messages are (de)serialised here and sent
        # by our own client, and a Client's WSDL machinery costs the daemon about 1 MB (issue 4).
        node = schema_node(wsdl)
        self._types = zeep.xsd.Schema(node, settings=_ZEEP_SETTINGS)
        self._schema = validator(node)
        self._by_tag: dict[str, tuple[Operation, type[Request] | type[Confirmation]]] = {}
        for op in operations.values():
            self._by_tag[self.tag(op.name, request=True)] = (op, op.request)
            self._by_tag[self.tag(op.name, request=False)] = (op, op.confirmation)

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
        """The message as its wrapper element, validated: we never send what the schema refuses."""
        element_type = self._types.get_element(self.tag(action, request=isinstance(message, Request)))
        holder = etree.Element("holder")
        element_type.render(holder, element_type(**codec.to_wire(message, self._form)))
        element = holder[0]
        self.validate(element, error=ValueError)
        return element

    def parse(self, element: etree._Element) -> Request | Confirmation:
        """A validated body element as its typed message; ProtocolError when it breaks the schema."""
        found = self._by_tag.get(element.tag)
        if found is None:
            raise ProtocolError(f"unknown body element {etree.QName(element).localname!r}")
        self.validate(element)
        _, cls = found
        parsed: Any = self._types.get_element(element.tag).parse(element, self._types)
        try:
            return codec.from_wire(parsed, cls, self._form)
        except TypeError as err:
            # The schema lets a required string be empty (<idTag></idTag>), zeep reads it as absent,
            # and the message cannot be built without it: the caller's error, not ours (issue 14, item 8).
            empty = sorted({etree.QName(e).localname for e in element.iter() if len(e) == 0 and not e.text})
            raise ProtocolError(f"{etree.QName(element).localname}: a required element is empty "
                                f"({', '.join(empty) or err})") from err

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
