"""OCPP-J RPC frames (OCPP-J 1.6 section 4): CALL, CALLRESULT and CALLERROR as JSON arrays.

:func:`parse` reads one WebSocket text message and checks the frame's shape only; what the payload
means is the client's business (and the payload validator's). A frame that cannot be read raises a
:class:`BadFrame`, which carries the protocol error to answer with and the message id to answer under.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chargebox.ocpp.errors import FormationViolation, OcppError, ProtocolError

# Table 2 (4.1.3): the message type numbers.
CALL, CALLRESULT, CALLERROR = 2, 3, 4

#: Table 3 (4.1.4): a message id is a string of at most 36 characters (a GUID).
MAX_ID_LENGTH = 36

#: The id of a CALLERROR for a frame whose own id could not be read: OCPP-J 1.6 names none, and
#: this is what other implementations answer (ocpp-rpc, OCPP 2.0.1's RpcFrameworkError).
UNKNOWN_ID = "-1"

@dataclass(frozen=True, slots=True)
class Call:
    """[2, "<UniqueId>", "<Action>", {<Payload>}] (4.2.1)."""

    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    """[3, "<UniqueId>", {<Payload>}] (4.2.2)."""

    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    """[4, "<UniqueId>", "<errorCode>", "<errorDescription>", {<errorDetails>}] (4.2.3)."""

    message_id: str
    code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


Frame = Call | CallResult | CallError


class BadFrame(ValueError):
    """A frame the receiver cannot take; ``error`` is the protocol error to answer with under
    ``message_id`` (:data:`UNKNOWN_ID` when the frame's id could not be read)."""

    def __init__(self, error: OcppError, message_id: str = UNKNOWN_ID) -> None:
        super().__init__(str(error))
        self.error = error
        self.message_id = message_id


class UnknownType(ValueError):
    """A frame whose message type number is not in table 2: its payload is ignored (4.1.3)."""


def _payload(value: Any, message_id: str, what: str) -> dict[str, Any]:
    # 4.2.1/4.2.2: "If there is no payload JSON allows for two different notations: null or and empty object".
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadFrame(FormationViolation(f"{what} must be a JSON object"), message_id)
    return value


def parse(text: str | bytes) -> Frame:
    """One frame from a WebSocket message; BadFrame for one that is not a well-formed frame,
    UnknownType for a message type number that is not 2, 3 or 4."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:  # 4.1.2: the whole message MUST be valid JSON in UTF-8
        raise BadFrame(FormationViolation(f"not JSON: {err}")) from None
    if not isinstance(data, list) or len(data) < 3 or not isinstance(data[0], int) or isinstance(data[0], bool):
        raise BadFrame(FormationViolation("a frame is a JSON array [MessageTypeId, UniqueId, ...]"))
    kind, message_id = data[0], data[1]
    if not isinstance(message_id, str) or not message_id:
        raise BadFrame(FormationViolation("UniqueId must be a non-empty string"))
    if len(message_id) > MAX_ID_LENGTH:
        # 4.2.3: "unique identifier too long" is a content error of the call, not of its JSON.
        raise BadFrame(ProtocolError(f"UniqueId longer than {MAX_ID_LENGTH} characters"))
    if kind == CALL:
        if len(data) != 4 or not isinstance(data[2], str) or not data[2]:
            raise BadFrame(FormationViolation('a CALL is [2, "<UniqueId>", "<Action>", {<Payload>}]'), message_id)
        return Call(message_id, data[2], _payload(data[3], message_id, "a CALL's payload"))
    if kind == CALLRESULT:
        if len(data) != 3:
            raise BadFrame(FormationViolation('a CALLRESULT is [3, "<UniqueId>", {<Payload>}]'), message_id)
        return CallResult(message_id, _payload(data[2], message_id, "a CALLRESULT's payload"))
    if kind == CALLERROR:
        if len(data) != 5 or not isinstance(data[2], str) or not isinstance(data[3], str):
            raise BadFrame(FormationViolation(
                'a CALLERROR is [4, "<UniqueId>", "<errorCode>", "<errorDescription>", {<errorDetails>}]'), message_id)
        return CallError(message_id, data[2], data[3], _payload(data[4], message_id, "a CALLERROR's errorDetails"))
    raise UnknownType(f"message type {kind} (4.1.3: ignored)")


#: One encoder for every frame: json.dumps with options builds a new one per call (issue 19).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _json(frame: list[Any]) -> str:
    return _ENCODER.encode(frame)


def call(message_id: str, action: str, payload: dict[str, Any]) -> str:
    """A CALL frame for a request's payload (:func:`chargebox.ocpp.schemas.write`)."""
    return _json([CALL, message_id, action, payload])


def call_result(message_id: str, payload: dict[str, Any]) -> str:
    """A CALLRESULT frame for a confirmation's payload."""
    return _json([CALLRESULT, message_id, payload])


def call_error(message_id: str, error: OcppError) -> str:
    """A CALLERROR frame for a protocol error; errorDetails is always an object (4.2.3: "MUST fill in {}")."""
    return _json([CALLERROR, message_id, error.code, error.reason, {}])
