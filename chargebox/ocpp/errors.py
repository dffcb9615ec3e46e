"""The outcomes of a call that are not a confirmation, in no binding's terms (DESIGN.md, data flow).

The engine sees only these: the Central System was not reached, or it was reached and did not process
the message. A protocol error carries its OCPP error code as a class attribute (OCPP-J 1.6 section
4.2.3, table 7, the codes of OCPP 1.6 on any binding); a binding turns it into its wire form (a SOAP
fault of OCPP 1.5 section 8.2, a CALLERROR) and a fault it receives back into one of these.
"""

from __future__ import annotations

from typing import ClassVar

from chargebox.errors import ChargeboxError


class BindingError(ChargeboxError):
    """A call that produced no confirmation: the root of what a binding raises to the engine."""


class CentralSystemUnreachable(BindingError, ConnectionError):
    """The Central System could not be reached (no route, refused, timed out). Not a failure to
    process: a transaction message waits, however long the outage (OCPP 1.6 section 3.7.1)."""


class CallFailed(BindingError):
    """The other party was reached but did not process the message: a protocol error, an HTTP error,
    or a malformed response. Counts as one attempt of TransactionMessageAttempts (1.6 section 3.7.1)."""


class Unsendable(CallFailed, ValueError):
    """The message cannot be expressed on this binding's wire (a value its schema does not allow):
    no attempt can ever succeed, so it must not hold up the messages behind it (the outbox sets it
    aside). Nothing was sent; it is a CallFailed so that every caller that survives a failed call
    survives this one too."""


class OcppError(CallFailed):
    """A protocol error: the receiver refuses a message with an OCPP error code (OCPP-J 1.6 4.2.3).
    Raised by the engine for the binding to answer with, and by a binding for a refusal it received."""

    code: ClassVar[str] = "GenericError"
    #: The code's description in OCPP-J 1.6 table 7, the reason sent when none is given: an attribute,
    #: since the daemon runs without docstrings (python -OO, cli.DAEMON_RUNTIME).
    description: ClassVar[str] = "Any other error not covered by the other codes."

    def __init__(self, reason: str = "") -> None:
        self.reason = reason or self.description
        super().__init__(f"{self.code}: {self.reason}")


class NotImplementedAction(OcppError, NotImplementedError):
    # Named so as not to shadow the builtin constant NotImplemented.
    code = "NotImplemented"
    description = "Requested Action is not known by receiver."


class NotSupported(OcppError, NotImplementedError):
    code = "NotSupported"
    description = "Requested Action is recognized but not supported by the receiver."


class InternalError(OcppError):
    code = "InternalError"
    description = "An internal error occurred and the receiver was not able to process the requested Action."


class ProtocolError(OcppError, ValueError):
    code = "ProtocolError"
    description = "Payload for Action is incomplete, or the message does not comply with the protocol."


class SecurityError(OcppError, PermissionError):
    code = "SecurityError"
    description = ("A security issue prevented the receiver from completing the Action "
                   "(authentication, authorization).")


class FormationViolation(OcppError, ValueError):
    code = "FormationViolation"
    description = "Payload for Action is syntactically incorrect or does not conform to the PDU structure."


class PropertyConstraintViolation(OcppError, ValueError):
    code = "PropertyConstraintViolation"
    description = "Payload is syntactically correct but at least one field contains an invalid value."


class OccurenceConstraintViolation(OcppError, ValueError):
    code = "OccurenceConstraintViolation"  # sic, the spelling of OCPP-J 1.6 table 7
    description = "Payload is syntactically correct but at least one field violates occurrence constraints."


class TypeConstraintViolation(OcppError, TypeError):
    code = "TypeConstraintViolation"
    description = "Payload is syntactically correct but at least one field violates data type constraints."


class GenericError(OcppError):
    code = "GenericError"  # its description is OcppError's
