"""SOAP 1.2 faults of OCPP 1.5 (specification section 8.2) and 1.6 (OCPP-S 1.6 chapter 4, the same Code and
SubCode values; only the SubCode's namespace differs, see each version's SoapProtocol): the wire form of the
protocol errors.

A protocol error (:mod:`chargebox.ocpp.errors`) goes out as a fault with a SOAP 1.2 Code value and an
OCPP subcode; a fault read off the wire comes back as the protocol error of its subcode. Only the two
faults that exist in SOAP alone are defined here.
"""

from __future__ import annotations

from collections.abc import Iterable

from chargebox.ocpp.errors import (
    FormationViolation,
    GenericError,
    InternalError,
    NotImplementedAction,
    NotSupported,
    OccurenceConstraintViolation,
    OcppError,
    PropertyConstraintViolation,
    ProtocolError,
    SecurityError,
    TypeConstraintViolation,
)


class IdentityMismatch(SecurityError):
    """Sender sent the wrong identity value (8.1: the chargeBoxIdentity header names another box)."""

    code = "IdentityMismatch"


class MustUnderstand(ProtocolError):
    """A mandatory header block targeted at the receiver was not understood (SOAP 1.2 Part 1 5.4.6).
    A ProtocolError to OCPP; on the wire a SOAP Code value of its own (see WIRE)."""

    def __init__(self, reason: str = "", not_understood: Iterable[str] = ()) -> None:
        self.not_understood = tuple(not_understood)  # the header blocks' names, "{namespace}local"
        super().__init__(reason)


#: Each error's SOAP 1.2 Code value and OCPP subcode (8.2). The codes the SOAP subcodes lack go out as the
#: nearest subcode: a payload fault as Sender/ProtocolError, an unknown action as NotSupported, any
#: other error as InternalError. MustUnderstand is a Code value of its own, without a subcode.
WIRE: dict[type[OcppError], tuple[str, str]] = {
    SecurityError: ("Sender", "SecurityError"),
    IdentityMismatch: ("Sender", "IdentityMismatch"),
    ProtocolError: ("Sender", "ProtocolError"),
    FormationViolation: ("Sender", "ProtocolError"),
    PropertyConstraintViolation: ("Sender", "ProtocolError"),
    OccurenceConstraintViolation: ("Sender", "ProtocolError"),
    TypeConstraintViolation: ("Sender", "ProtocolError"),
    MustUnderstand: ("MustUnderstand", ""),
    InternalError: ("Receiver", "InternalError"),
    NotSupported: ("Receiver", "NotSupported"),
    NotImplementedAction: ("Receiver", "NotSupported"),
    GenericError: ("Receiver", "InternalError"),
    OcppError: ("Receiver", "InternalError"),
}

#: A fault read off the wire: the error of its code and subcode (the first class of each pair above).
_READ: dict[tuple[str, str], type[OcppError]] = {pair: cls for cls, pair in reversed(WIRE.items())}


def wire_code(error: OcppError) -> tuple[str, str]:
    """The SOAP 1.2 Code value and OCPP subcode ("" for none) ``error`` goes out with."""
    return next(WIRE[cls] for cls in type(error).__mro__ if cls in WIRE)


def fault_for(code: str, subcode: str, reason: str) -> OcppError:
    """The protocol error for a code/subcode read off the wire; an unknown pair is a GenericError
    that names it."""
    cls = _READ.get((code, subcode))
    if cls is not None:
        return cls(reason)
    return GenericError(f"{'/'.join(filter(None, (code, subcode)))}: {reason}")
