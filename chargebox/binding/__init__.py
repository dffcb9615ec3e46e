"""Protocol bindings: the only places that know a wire format (DESIGN.md, data flow).

A binding turns typed messages from ``chargebox.ocpp`` into wire traffic and back. The engine sees
only typed messages and the two outcomes of a call: a confirmation, or one of the errors below.
"""

from chargebox.errors import ChargeboxError


class BindingError(ChargeboxError):
    """Root of the bindings' errors."""


class CentralSystemUnreachable(BindingError, ConnectionError):
    """The Central System could not be reached (no route, refused, timed out). Not a failure to
    process: a transaction message waits, however long the outage (OCPP 1.6 section 3.7.1)."""


class CallFailed(BindingError):
    """The Central System was reached but did not process the message: a SOAP fault, an HTTP error,
    or a malformed response. Counts as one attempt of TransactionMessageAttempts (1.6 section 3.7.1)."""


class Unsendable(CallFailed, ValueError):
    """The message cannot be expressed on this binding's wire (a value its schema does not allow):
    no attempt can ever succeed, so it must not hold up the messages behind it (the outbox sets it
    aside). Nothing was sent; it is a CallFailed so that every caller that survives a failed call
    survives this one too."""
