"""SOAP 1.2 faults of OCPP 1.5 (specification section 8.2), each with its wire code and subcode."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from chargebox.binding import CallFailed


class SoapFault(CallFailed):
    """A SOAP fault. ``code`` is the SOAP 1.2 Code value, ``subcode`` the OCPP subcode (8.2)."""

    code: ClassVar[str] = "Receiver"
    subcode: ClassVar[str] = "InternalError"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason or self.__class__.__doc__ or self.subcode
        super().__init__(f"{'/'.join(filter(None, (self.code, self.subcode)))}: {self.reason}")


class SecurityError(SoapFault, PermissionError):
    """Sender failed authentication or is not authorized to use the requested operation."""

    code = "Sender"
    subcode = "SecurityError"


class IdentityMismatch(SoapFault):
    """Sender sent the wrong identity value."""

    code = "Sender"
    subcode = "IdentityMismatch"


class ProtocolError(SoapFault, ValueError):
    """Sender's message does not comply with protocol specification."""

    code = "Sender"
    subcode = "ProtocolError"


class InternalError(SoapFault):
    """An internal error occurred and the receiver is not able to complete the operation."""

    code = "Receiver"
    subcode = "InternalError"


class NotSupported(SoapFault, NotImplementedError):
    """The receiver does not support the requested operation."""

    code = "Receiver"
    subcode = "NotSupported"


class MustUnderstand(SoapFault):
    """A mandatory header block targeted at the receiver was not understood."""

    # SOAP 1.2 Part 1 5.4.6: a Code value of its own; OCPP 1.5 (8.2) defines no subcode for it.
    code = "MustUnderstand"
    subcode = ""

    def __init__(self, reason: str = "", not_understood: Iterable[str] = ()) -> None:
        self.not_understood = tuple(not_understood)  # the header blocks' names, "{namespace}local"
        super().__init__(reason)


FAULTS: dict[tuple[str, str], type[SoapFault]] = {
    (cls.code, cls.subcode): cls
    for cls in (SecurityError, IdentityMismatch, ProtocolError, InternalError, NotSupported, MustUnderstand)
}


def fault_for(code: str, subcode: str, reason: str) -> SoapFault:
    """The fault class for a code/subcode read off the wire; unknown pairs become a plain SoapFault."""
    cls = FAULTS.get((code, subcode))
    if cls is not None:
        return cls(reason)
    fault = SoapFault(reason)
    fault.code, fault.subcode = code, subcode  # type: ignore[misc]
    return fault
