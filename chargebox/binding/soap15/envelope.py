"""SOAP 1.2 envelopes with the chargeBoxIdentity header (8.1), WS-Addressing (8.3) and faults (8.2).

Parsing is hardened: no DTD, no entities, no network, libxml2's default depth and size limits
(``huge_tree`` off). Callers bound the body size before they get here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from chargebox.binding.soap15.faults import ProtocolError, SoapFault, fault_for

SOAP12_NAMESPACE = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NAMESPACE = "http://www.w3.org/2005/08/addressing"
FAULT_SUBCODE_NAMESPACE = "urn://Ocpp/2012/02/"  # 8.2
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
    fault: SoapFault | None = None


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
        raise ProtocolError("SOAP 1.1 envelope; OCPP 1.5 requires SOAP 1.2 (chapter 8)")
    if root.tag != f"{_S}Envelope":
        raise ProtocolError(f"root element is {root.tag!r}, not a SOAP 1.2 Envelope")
    headers = Addressing()
    header = root.find(f"{_S}Header")
    seen: set[str] = set()
    for element in header if header is not None else ():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        # 8.1: the header name "chargeBoxIdentity" SHALL be treated as case insensitive.
        if qname.namespace == identity_namespace and qname.localname.lower() == "chargeboxidentity":
            name = "chargeBoxIdentity"
        elif qname.namespace == WSA_NAMESPACE and qname.localname in _ADDRESSING_FIELDS:
            name = qname.localname
        else:
            continue
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


def _read_fault(fault: etree._Element) -> SoapFault:
    code = fault.findtext(f"{_S}Code/{_S}Value", "").strip()
    subcode = fault.findtext(f"{_S}Code/{_S}Subcode/{_S}Value", "").strip()
    reason = fault.findtext(f"{_S}Reason/{_S}Text", "").strip()
    return fault_for(code.rpartition(":")[2], subcode.rpartition(":")[2], reason)


def build(
    headers: Addressing, identity_namespace: str, body: etree._Element | None = None,
    fault: SoapFault | None = None,
) -> bytes:
    """Serialize an envelope with the given headers and a payload element or a fault."""
    envelope = etree.Element(f"{_S}Envelope", nsmap={"s": SOAP12_NAMESPACE, "a": WSA_NAMESPACE})
    header = etree.SubElement(envelope, f"{_S}Header")
    if headers.charge_box_identity is not None:
        identity = etree.SubElement(header, f"{{{identity_namespace}}}chargeBoxIdentity", nsmap={"o": identity_namespace})
        identity.text = headers.charge_box_identity
    for name, value in (("Action", headers.action), ("MessageID", headers.message_id), ("To", headers.to),
                        ("RelatesTo", headers.relates_to)):
        if value is not None:
            etree.SubElement(header, f"{_A}{name}").text = value
    for name, value in (("From", headers.from_url), ("ReplyTo", headers.reply_to), ("FaultTo", headers.fault_to)):
        if value is not None:
            etree.SubElement(etree.SubElement(header, f"{_A}{name}"), f"{_A}Address").text = value
    soap_body = etree.SubElement(envelope, f"{_S}Body")
    if fault is not None:
        soap_body.append(_fault_element(fault))
    elif body is not None:
        soap_body.append(body)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def _fault_element(fault: SoapFault) -> etree._Element:
    element = etree.Element(f"{_S}Fault", nsmap={"o": FAULT_SUBCODE_NAMESPACE})
    code = etree.SubElement(element, f"{_S}Code")
    etree.SubElement(code, f"{_S}Value").text = f"s:{fault.code}"
    subcode = etree.SubElement(code, f"{_S}Subcode")
    etree.SubElement(subcode, f"{_S}Value").text = f"o:{fault.subcode}"
    reason = etree.SubElement(element, f"{_S}Reason")
    text = etree.SubElement(reason, f"{_S}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = fault.reason
    return element
