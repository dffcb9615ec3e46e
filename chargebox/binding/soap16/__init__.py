"""OCPP 1.6 over SOAP: its namespaces, fault subcodes and WSDLs; the binding itself is
:mod:`chargebox.binding.soap`, shared with 1.5 (issue 17).

``wsdl/`` holds the project's own OCPP 1.6 WSDLs, written from the 1.6 specification (edition 2, ch. 4-7)
and its errata sheet: ``ocpp16_centralsystem.wsdl`` (namespace ``urn://Ocpp/Cs/2015/10/``, the operations a
charge point initiates) and ``ocpp16_chargepoint.wsdl`` (``urn://Ocpp/Cp/2015/10/``, the operations a Central
System initiates), SOAP 1.2 document/literal with WS-Addressing and the ``chargeBoxIdentity`` header as in
1.5. They are shipped as package data; tests/chargebox/binding/soap16/test_wsdl16_oracle.py checks their wire
form against the official 1.6 WSDLs where those are present.
"""

from __future__ import annotations

from pathlib import Path

from chargebox.binding.soap.protocol import SoapProtocol
from chargebox.ocpp.versions import OCPP16

CS_NAMESPACE = "urn://Ocpp/Cs/2015/10/"  # OCPP-S 1.6 chapter 8, table 2 (the WSDLs spell it with the "/")
CP_NAMESPACE = "urn://Ocpp/Cp/2015/10/"
WSDL_DIR = Path(__file__).parent / "wsdl"  # not importlib.resources, which loads zipfile (issue 19)
CENTRAL_SYSTEM_WSDL = WSDL_DIR / "ocpp16_centralsystem.wsdl"
CHARGE_POINT_WSDL = WSDL_DIR / "ocpp16_chargepoint.wsdl"

SOAP16 = SoapProtocol(
    name="ocpp1.6-soap", version=OCPP16, cs_namespace=CS_NAMESPACE, cp_namespace=CP_NAMESPACE,
    # OCPP-S 1.6 chapter 4 (the same five subcodes as 1.5) and its errata sheet v1.0 3.3: the SubCode is in
    # the Central System service's namespace, whichever side answers (1.5 had one of its own, 8.2).
    fault_namespace=CS_NAMESPACE,
    central_system_wsdl=CENTRAL_SYSTEM_WSDL, charge_point_wsdl=CHARGE_POINT_WSDL,
)
