"""The reference OCPP 1.5 SOAP Central System of the simulated world (strict about the schema).

In-process: ``CentralSystem(cs_wsdl, cp_wsdl)``; as a process: ``python -m hwsim.centralsystem``
(HTTP JSON control interface in :mod:`hwsim.centralsystem.control`). Never imports ``chargebox``.
"""

from .server import CallRecord, CallResult, CentralSystem, InvalidCallError, Received, UnknownBoxError

__all__ = ["CallRecord", "CallResult", "CentralSystem", "InvalidCallError", "Received", "UnknownBoxError"]
