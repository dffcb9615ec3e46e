"""The reference Central System of the simulated world (strict about the schema): OCPP 1.5 / 1.6 SOAP
and OCPP 1.6 JSON, one business logic (:mod:`.core`) behind each wire.

In-process: ``CentralSystem(cs_wsdl, cp_wsdl)`` (SOAP), ``JsonCentralSystem(schemas_dir)`` (1.6 JSON); as a process: ``python -m hwsim.centralsystem``
(HTTP JSON control interface in :mod:`hwsim.centralsystem.control`). Never imports ``chargebox``.
"""

from .core import CallRecord, CallResult, CentralSystemCore, InvalidCallError, Received, UnknownBoxError
from .jsonserver import JsonCentralSystem
from .server import CentralSystem

__all__ = [
    "CallRecord",
    "CallResult",
    "CentralSystem",
    "CentralSystemCore",
    "InvalidCallError",
    "JsonCentralSystem",
    "Received",
    "UnknownBoxError",
]
