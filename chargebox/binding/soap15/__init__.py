"""OCPP 1.5 over SOAP: its namespaces and WSDLs (the project's own, written from the specification,
in ``wsdl/``); the binding itself is :mod:`chargebox.binding.soap`, shared with 1.6."""

from __future__ import annotations

from pathlib import Path

from chargebox.binding.soap.protocol import SoapProtocol
from chargebox.ocpp.datatypes import SampledValue
from chargebox.ocpp.versions import OCPP15

CS_NAMESPACE = "urn://Ocpp/Cs/2012/06/"  # chapter 8: the versions of the WSDLs
CP_NAMESPACE = "urn://Ocpp/Cp/2012/06/"
WSDL_DIR = Path(__file__).parent / "wsdl"  # not importlib.resources, which loads zipfile (issue 19)
CENTRAL_SYSTEM_WSDL = WSDL_DIR / "ocpp15_centralsystem.wsdl"
CHARGE_POINT_WSDL = WSDL_DIR / "ocpp15_chargepoint.wsdl"

SOAP15 = SoapProtocol(
    name="ocpp1.5-soap", version=OCPP15, cs_namespace=CS_NAMESPACE, cp_namespace=CP_NAMESPACE,
    fault_namespace="urn://Ocpp/2012/02/",  # 8.2: the SubCode's namespace
    central_system_wsdl=CENTRAL_SYSTEM_WSDL, charge_point_wsdl=CHARGE_POINT_WSDL,
    # zeep names the text content of a simple-content type ``_value_1`` (7.27: a MeterValue's ``value`` is a
    # string with attributes); 1.6's SampledValue has a value element instead (1.6 7.43).
    zeep_names={(SampledValue, "value"): "_value_1"},
)
