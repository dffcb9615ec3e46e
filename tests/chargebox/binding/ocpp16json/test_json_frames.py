"""OCPP-J frames (OCPP-J 1.6 section 4): what parses, what is refused with which code, what is written."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chargebox.binding.ocpp16json import frames
from chargebox.ocpp import schemas
from chargebox.ocpp.enums import ResetStatus
from chargebox.ocpp.errors import NotSupported
from chargebox.ocpp.messages import HeartbeatConfirmation, HeartbeatRequest, ResetConfirmation


def test_the_three_frames_parse() -> None:
    assert frames.parse('[2,"a1","Reset",{"type":"Soft"}]') == frames.Call("a1", "Reset", {"type": "Soft"})
    assert frames.parse('[3,"a1",{"status":"Accepted"}]') == frames.CallResult("a1", {"status": "Accepted"})
    assert frames.parse('[4,"a1","NotSupported","no",{"x":1}]') == frames.CallError("a1", "NotSupported", "no", {"x": 1})


def test_a_null_payload_is_the_empty_object() -> None:
    # 4.2.1: "If there is no payload JSON allows for two different notations: null or and empty object".
    assert frames.parse('[2,"a1","Heartbeat",null]') == frames.Call("a1", "Heartbeat", {})


@pytest.mark.parametrize(("text", "code", "message_id"), [
    ("not json", "FormationViolation", "-1"),
    (b'[2,"a1","Reset",{"type":"\xff"}]', "FormationViolation", "-1"),  # not UTF-8 (4.1.2)
    ('{"a":1}', "FormationViolation", "-1"),
    ("[2]", "FormationViolation", "-1"),
    ('["2","a1","Reset",{}]', "FormationViolation", "-1"),
    ('[true,"a1","Reset",{}]', "FormationViolation", "-1"),
    ('[2,7,"Reset",{}]', "FormationViolation", "-1"),
    ('[2,"","Reset",{}]', "FormationViolation", "-1"),
    ('[2,"a1",5,{}]', "FormationViolation", "a1"),
    ('[2,"a1","Reset"]', "FormationViolation", "a1"),
    ('[2,"a1","Reset",[]]', "FormationViolation", "a1"),
    ('[2,"a1","Reset",{},{}]', "FormationViolation", "a1"),
    ('[3,"a1","x"]', "FormationViolation", "a1"),
    ('[4,"a1","GenericError",{}]', "FormationViolation", "a1"),
    ('[2,"' + "x" * 37 + '","Reset",{}]', "ProtocolError", "-1"),  # 4.1.4: at most 36 characters
])
def test_a_bad_frame_is_refused_with_its_code(text: str | bytes, code: str, message_id: str) -> None:
    with pytest.raises(frames.BadFrame) as caught:
        frames.parse(text)
    assert (caught.value.error.code, caught.value.message_id) == (code, message_id)


def test_an_unknown_message_type_is_ignored() -> None:
    with pytest.raises(frames.UnknownType):  # 4.1.3: "it SHALL ignore the message payload"
        frames.parse('[5,"a1","Reset",{}]')


def test_frames_are_written_as_the_spec_shows_them() -> None:
    assert json.loads(frames.call("a1", "Heartbeat", schemas.write("Heartbeat", HeartbeatRequest()))) == [
        2, "a1", "Heartbeat", {}]
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    beat = schemas.write("Heartbeat", HeartbeatConfirmation(current_time=when))
    assert json.loads(frames.call_result("a1", beat)) == [3, "a1", {"currentTime": "2026-01-02T03:04:05Z"}]
    reset = schemas.write("Reset", ResetConfirmation(status=ResetStatus.ACCEPTED))
    assert json.loads(frames.call_result("a1", reset)) == [3, "a1", {"status": "Accepted"}]
    # 4.2.3: errorDetails is always an object.
    assert json.loads(frames.call_error("a1", NotSupported("later"))) == [4, "a1", "NotSupported", "later", {}]
