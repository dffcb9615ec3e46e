"""SOAP 1.2 envelopes with the chargeBoxIdentity header (8.1), WS-Addressing (8.3) and faults (8.2), for
1.5 and 1.6 alike (1.6: OCPP-S chapters 3-4); the caller gives its version's namespaces.

Header blocks are read only when targeted at the box; a mandatory one it does not understand stops
the message with a MustUnderstand fault before anything is processed (SOAP 1.2 Part 1 5.2.3).

Parsing is hardened: no DTD, no entities, no network, libxml2's default depth and size limits
(``huge_tree`` off). Callers bound the body size before they get here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from lxml import etree

from chargebox.binding.soap.faults import MustUnderstand, fault_for, wire_code
from chargebox.binding.soap15 import SOAP15
from chargebox.ocpp.errors import OcppError, ProtocolError

SOAP12_NAMESPACE = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NAMESPACE = "http://www.w3.org/2005/08/addressing"
WSA_ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
WSA_NONE = "http://www.w3.org/2005/08/addressing/none"  # WS-Addressing 1.0 Core 2.1: discard the reply
CONTENT_TYPE = "application/soap+xml"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
    remove_comments=True, remove_pis=True,
)
_S = f"{{{SOAP12_NAMESPACE}}}"
_A = f"{{{WSA_NAMESPACE}}}"


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass(slots=True)
class Addressing:
    """The headers of one message: identity (8.1) and WS-Addressing (8.3)."""

    charge_box_identity: str | None = None
    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    from_url: str | None = None
    reply_to: str | None = None
    fault_to: str | None = None
    relates_to: str | None = None


@dataclass(slots=True)
class Envelope:
    headers: Addressing
    body: etree._Element | None  # the payload element, or None for a fault or an empty body
    fault: OcppError | None = None


def parse(data: bytes, identity_namespace: str) -> Envelope:
    """Parse a SOAP 1.2 envelope; ProtocolError for anything that is not one."""
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as err:
        raise ProtocolError(f"body is not well-formed XML: {err}") from err
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ProtocolError("a DOCTYPE is not allowed in a SOAP message")
    if root.tag == f"{{{SOAP11_NAMESPACE}}}Envelope":
        raise ProtocolError("SOAP 1.1 envelope; OCPP requires SOAP 1.2 (1.5 chapter 8, OCPP-S 1.6 chapter 2)")
    if root.tag != f"{_S}Envelope":
        raise ProtocolError(f"root element is {root.tag!r}, not a SOAP 1.2 Envelope")
    headers = Addressing()
    seen: set[str] = set()
    for name, element in _header_blocks(root.find(f"{_S}Header"), identity_namespace):
        if name in seen:  # WS-Addressing 1.0 Core 3.2: each property at most once
            raise ProtocolError(f"header {name} given twice")
        seen.add(name)
        _read_header(headers, name, element)
    if seen - {"chargeBoxIdentity", "Action"} and headers.action is None:
        # WS-Addressing 1.0 Core 3.2: a message that uses addressing carries its [action].
        raise ProtocolError("WS-Addressing headers without wsa:Action")
    body = root.find(f"{_S}Body")
    if body is None:
        raise ProtocolError("SOAP Envelope has no Body")
    children = [child for child in body if isinstance(child.tag, str)]
    if len(children) > 1:
        raise ProtocolError("SOAP Body holds more than one element")
    payload = children[0] if children else None
    if payload is not None and payload.tag == f"{_S}Fault":
        return Envelope(headers, None, _read_fault(payload))
    return Envelope(headers, payload)


# Header element -> Addressing field; the endpoint references (From, ReplyTo, FaultTo) hold an Address.
_ADDRESSING_FIELDS = {"Action": "action", "MessageID": "message_id", "To": "to", "RelatesTo": "relates_to",
                      "From": "from_url", "ReplyTo": "reply_to", "FaultTo": "fault_to"}
_ENDPOINT_REFERENCES = {"From", "ReplyTo", "FaultTo"}
# SOAP 1.2 Part 1 2.2: the box is every message's ultimate receiver, so it acts in these two roles
# (no role attribute means ultimateReceiver, 5.2.2); "none" and any other role are not its own.
_ULTIMATE_RECEIVER = f"{SOAP12_NAMESPACE}/role/ultimateReceiver"
_OWN_ROLES = {f"{SOAP12_NAMESPACE}/role/next", _ULTIMATE_RECEIVER}
_XS_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}
_XML_WHITESPACE = " \t\r\n"  # what xs:boolean and xs:anyURI collapse (XML Schema 2, 4.3.6)


def _header_blocks(header: etree._Element | None, identity_namespace: str) -> list[tuple[str, etree._Element]]:
    """The header blocks targeted at the box that it understands, each with its name.

    SOAP 1.2 Part 1 2.6 and 5.2.3: before anything is processed, a mandatory block (mustUnderstand
    true or 1) targeted at the box that it does not understand is a MustUnderstand fault naming
    every such block; blocks for other roles, and optional ones it does not know, are ignored.
    """
    understood: list[tuple[str, etree._Element]] = []
    not_understood: list[str] = []
    for element in header if header is not None else ():
        if not isinstance(element.tag, str):
            continue
        must = element.get(f"{_S}mustUnderstand", "false")
        mandatory = _XS_BOOLEAN.get(must.strip(_XML_WHITESPACE))
        if mandatory is None:
            raise ProtocolError(f"header {element.tag}: mustUnderstand {must!r} is not an xs:boolean")
        if element.get(f"{_S}role", _ULTIMATE_RECEIVER).strip(_XML_WHITESPACE) not in _OWN_ROLES:
            continue
        name = _understood_name(etree.QName(element), identity_namespace)
        if name is not None:
            understood.append((name, element))
        elif mandatory:
            not_understood.append(element.tag)
    if not_understood:
        raise MustUnderstand(f"mandatory header not understood: {', '.join(not_understood)}", not_understood)
    return understood


def _understood_name(qname: etree.QName, identity_namespace: str) -> str | None:
    # 8.1: the header name "chargeBoxIdentity" SHALL be treated as case insensitive.
    if qname.namespace == identity_namespace and qname.localname.lower() == "chargeboxidentity":
        return "chargeBoxIdentity"
    if qname.namespace == WSA_NAMESPACE and qname.localname in _ADDRESSING_FIELDS:
        return qname.localname
    return None


def _read_header(headers: Addressing, name: str, element: etree._Element) -> None:
    if name == "chargeBoxIdentity":
        headers.charge_box_identity = (element.text or "").strip()
        return
    if name in _ENDPOINT_REFERENCES:
        address = element.find(f"{_A}Address")
        if address is None:
            raise ProtocolError(f"wsa:{name} without wsa:Address")
        element = address
    setattr(headers, _ADDRESSING_FIELDS[name], (element.text or "").strip())


def _read_fault(fault: etree._Element) -> OcppError:
    code = fault.findtext(f"{_S}Code/{_S}Value", "").strip()
    subcode = fault.findtext(f"{_S}Code/{_S}Subcode/{_S}Value", "").strip()
    reason = fault.findtext(f"{_S}Reason/{_S}Text", "").strip()
    return fault_for(code.rpartition(":")[2], subcode.rpartition(":")[2], reason)


def build(
    headers: Addressing, identity_namespace: str, body: etree._Element | None = None,
    fault: OcppError | None = None, fault_namespace: str = SOAP15.fault_namespace,
) -> bytes:
    """Serialize an envelope with the given headers and a payload element or a fault, whose OCPP
    subcode is in ``fault_namespace`` (the version's).

    The envelope and its headers are written as text around the payload's own serialization: an
    lxml element per header cost more than the rest of a request's render and validation (issue 19,
    the box's CPU per request); the bytes are those lxml wrote for the same tree. ValueError, as
    lxml raises, for a header value that XML cannot carry."""
    parts = [_DECLARATION, f'<s:Envelope xmlns:s="{SOAP12_NAMESPACE}" xmlns:a="{WSA_NAMESPACE}">']
    header = []
    if headers.charge_box_identity is not None:
        header.append(f'<o:chargeBoxIdentity xmlns:o="{_xml_text(identity_namespace, _ATTRIBUTE)}">'
                      f'{_xml_text(headers.charge_box_identity)}</o:chargeBoxIdentity>')
    for name, value in (("Action", headers.action), ("MessageID", headers.message_id), ("To", headers.to),
                        ("RelatesTo", headers.relates_to)):
        if value is not None:
            header.append(f"<a:{name}>{_xml_text(value)}</a:{name}>")
    for name, value in (("From", headers.from_url), ("ReplyTo", headers.reply_to), ("FaultTo", headers.fault_to)):
        if value is not None:
            header.append(f"<a:{name}><a:Address>{_xml_text(value)}</a:Address></a:{name}>")
    if isinstance(fault, MustUnderstand):
        header.extend(_not_understood(fault.not_understood))
    parts.append(f"<s:Header>{''.join(header)}</s:Header>" if header else "<s:Header/>")
    if fault is not None:
        payload: etree._Element | None = _fault_element(fault, fault_namespace)
    else:
        payload = body
    if payload is None:
        parts.append("<s:Body/></s:Envelope>")
        return "".join(parts).encode()
    parts.append("<s:Body>")
    return b"".join(("".join(parts).encode(), etree.tostring(payload, encoding="utf-8", xml_declaration=False,
                                                          with_tail=False), b"</s:Body></s:Envelope>"))


_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"
# What lxml escapes in element text, and in an attribute value besides; XML 1.0 section 2.2's characters
# (what lxml refuses: control characters, lone surrogates, U+FFFE and U+FFFF).
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;",
                           "\n": "&#10;", "\t": "&#9;"})
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str, table: dict[int, str] = _TEXT) -> str:
    if _NOT_XML.search(value):
        raise ValueError("All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters")
    return value.translate(table)


def _not_understood(names: tuple[str, ...]) -> list[str]:
    # SOAP 1.2 Part 1 5.4.8: one NotUnderstood block per mandatory block not understood, its
    # (unqualified) qname attribute an xs:QName whose prefix is declared on the element.
    blocks = []
    for name in names:
        qname = etree.QName(name)
        if qname.namespace:
            blocks.append(f'<s:NotUnderstood xmlns:n="{_xml_text(qname.namespace, _ATTRIBUTE)}" '
                          f'qname="n:{_xml_text(qname.localname, _ATTRIBUTE)}"/>')
        else:
            blocks.append(f'<s:NotUnderstood qname="{_xml_text(qname.localname, _ATTRIBUTE)}"/>')
    return blocks


def _fault_element(fault: OcppError, fault_namespace: str) -> etree._Element:
    element = etree.Element(f"{_S}Fault", nsmap={"s": SOAP12_NAMESPACE, "o": fault_namespace})
    code_value, subcode_value = wire_code(fault)
    code = etree.SubElement(element, f"{_S}Code")
    etree.SubElement(code, f"{_S}Value").text = f"s:{code_value}"
    if subcode_value:  # a MustUnderstand fault has none (8.2 lists subcodes for Sender and Receiver only)
        subcode = etree.SubElement(code, f"{_S}Subcode")
        etree.SubElement(subcode, f"{_S}Value").text = f"o:{subcode_value}"
    reason = etree.SubElement(element, f"{_S}Reason")
    text = etree.SubElement(reason, f"{_S}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = fault.reason
    return element
