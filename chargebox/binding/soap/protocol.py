"""What one OCPP version is over SOAP: everything in which 1.5 SOAP and 1.6 SOAP differ, as data.

The SOAP binding (this package) is one code for both versions; :mod:`chargebox.binding.soap15` and
:mod:`chargebox.binding.soap16` each describe theirs with a :class:`SoapProtocol` beside their WSDLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chargebox.ocpp.codec import WireNames
from chargebox.ocpp.versions import Version


# One instance per version: equal and hashed by identity (its Version holds dicts).
@dataclass(frozen=True, eq=False)
class SoapProtocol:
    """One OCPP version over SOAP 1.2: its ``central_system.protocol`` name, its neutral version
    (operations and wire form), the namespaces of its two services and of its fault subcodes, and
    the project's WSDLs of its two services; ``zeep_names``: the fields zeep names otherwise in its WSDLs.

    Only this binding knows zeep's names: the codec's plain form, which the outbox stores, keeps the
    neutral ones (DESIGN.md: nothing on disk is in a binding's or a library's form)."""

    name: str
    version: Version
    cs_namespace: str
    cp_namespace: str
    fault_namespace: str
    central_system_wsdl: Path
    charge_point_wsdl: Path
    zeep_names: WireNames = field(default_factory=dict)
