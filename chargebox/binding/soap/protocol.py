"""What one OCPP version is over SOAP: everything in which 1.5 SOAP and 1.6 SOAP differ, as data.

The SOAP binding (this package) is one code for both versions; :mod:`chargebox.binding.soap15` and
:mod:`chargebox.binding.soap16` each describe theirs with a :class:`SoapProtocol` beside their WSDLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chargebox.ocpp.versions import Version


@dataclass(frozen=True)
class SoapProtocol:
    """One OCPP version over SOAP 1.2: its ``central_system.protocol`` name, its neutral version
    (operations and wire form), the namespaces of its two services and of its fault subcodes, and
    the project's WSDLs of its two services."""

    name: str
    version: Version
    cs_namespace: str
    cp_namespace: str
    fault_namespace: str
    central_system_wsdl: Path
    charge_point_wsdl: Path
