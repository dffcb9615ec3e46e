"""The reference Central System speaking OCPP 1.6 JSON, driven by an independent charge point: the PyPI
``ocpp`` package (mobilityhouse) over an aiohttp WebSocket, and raw frames where the peer must misbehave."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web
import pytest
from tests.conftest import OFFICIAL_WSDL
from tests.mobilityhouse import AiohttpConnection
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, RegistrationStatus, RemoteStartStopStatus, TriggerMessageStatus

from hwsim.centralsystem import CentralSystem, JsonCentralSystem
from hwsim.centralsystem.control import ControlServer

SCHEMAS = OFFICIAL_WSDL.parent / "json" / "v16" if OFFICIAL_WSDL is not None else Path("/nonexistent")

pytestmark = pytest.mark.skipif(
    not (SCHEMAS / "BootNotification.json").is_file(),
    reason="official OCPP 1.6 JSON schemas (../shared/spec/json/v16) not present",
)


class TestChargePoint(ChargePoint):  # type: ignore[misc]
    """Answers what the Central System calls and remembers it."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remote_starts: list[tuple[str, int | None]] = []
        self.triggers: list[str] = []

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> Any:
        self.remote_starts.append((id_tag, connector_id))
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    @on(Action.trigger_message)
    def on_trigger(self, requested_message: str, **_: Any) -> Any:
        self.triggers.append(requested_message)
        return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)


@pytest.fixture
async def cs() -> AsyncIterator[JsonCentralSystem]:
    server = JsonCentralSystem(SCHEMAS, heartbeat_interval=120)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def connected(url: str, protocols: tuple[str, ...] = ("ocpp1.6",),
                    auth: tuple[str, str] | None = None) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    headers = {"Authorization": aiohttp.encode_basic_auth(*auth)} if auth else {}
    async with aiohttp.ClientSession() as session, session.ws_connect(url, protocols=protocols,
                                                                      headers=headers) as ws:
        yield ws


@contextlib.asynccontextmanager
async def charge_point(url: str, identity: str, auth: tuple[str, str] | None = None
                       ) -> AsyncIterator[TestChargePoint]:
    async with connected(f"{url}/{identity}", auth=auth) as ws:
        cp = TestChargePoint(identity, AiohttpConnection(ws), response_timeout=5)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task


async def raw_call(ws: aiohttp.ClientWebSocketResponse, frame: Any) -> list[Any]:
    await ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
    answer: list[Any] = json.loads(await ws.receive_str(timeout=5))
    return answer


async def test_a_session_boot_authorize_start_meter_values_stop(cs: JsonCentralSystem) -> None:
    cs.id_tags = {"CARD-OK": "Accepted"}
    cs.default_id_tag_status = "Invalid"
    async with charge_point(cs.url, "CB1") as cp:
        boot = await cp.call(call.BootNotification(charge_point_model="M1", charge_point_vendor="V1"))
        assert boot.status == RegistrationStatus.accepted and boot.interval == 120
        assert (await cp.call(call.Authorize(id_tag="CARD-OK"))).id_tag_info["status"] == "Accepted"
        assert (await cp.call(call.Authorize(id_tag="CARD-NO"))).id_tag_info["status"] == "Invalid"
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag="CARD-OK", meter_start=100,
                                                    timestamp="2026-12-03T08:00:00Z"))
        assert start.transaction_id == 1 and start.id_tag_info["status"] == "Accepted"
        await cp.call(call.MeterValues(connector_id=1, transaction_id=1, meter_value=[
            {"timestamp": "2026-12-03T08:05:00Z", "sampledValue": [
                {"value": "1100", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]))
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        await cp.call(call.StopTransaction(meter_stop=2100, timestamp="2026-12-03T08:10:00Z", transaction_id=1,
                                           reason="Local"))
        await cp.call(call.Heartbeat())
    actions = [r.action for r in cs.received()]
    assert actions == ["BootNotification", "Authorize", "Authorize", "StartTransaction", "MeterValues",
                       "StatusNotification", "StopTransaction", "Heartbeat"]
    assert all(r.valid and r.charge_box_identity == "CB1" and r.path == "/ocpp/CB1" for r in cs.record)
    assert cs.record[0].response is not None and cs.record[0].response["interval"] == 120
    assert cs.transactions[1]["stop"]["meterStop"] == 2100


async def test_a_call_through_the_control_interface_reaches_the_charge_point(cs: JsonCentralSystem) -> None:
    control = ControlServer(cs)
    await control.start()
    try:
        async with charge_point(cs.url, "CB1") as cp, aiohttp.ClientSession() as session:
            await cp.call(call.BootNotification(charge_point_model="M1", charge_point_vendor="V1"))
            body = {"chargeBoxIdentity": "CB1", "action": "RemoteStartTransaction",
                    "payload": {"idTag": "CARD-7", "connectorId": 2}}
            async with session.post(f"{control.url}call", json=body) as resp:
                assert resp.status == 200
                result = await resp.json()
            assert result["ok"] and result["valid"] and result["payload"] == {"status": "Accepted"}
            assert cp.remote_starts == [("CARD-7", 2)]
            body = {"chargeBoxIdentity": "CB1", "action": "TriggerMessage",
                    "payload": {"requestedMessage": "StatusNotification", "connectorId": 1}}
            async with session.post(f"{control.url}call", json=body) as resp:
                assert (await resp.json())["payload"] == {"status": "Accepted"}
            assert cp.triggers == ["StatusNotification"]
            # a 1.6 operation the test charge point has no handler for: its library's CALLERROR comes back
            profile = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                       "chargingProfileKind": "Absolute", "chargingSchedule": {
                           "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}}
            body = {"chargeBoxIdentity": "CB1", "action": "SetChargingProfile",
                    "payload": {"connectorId": 0, "csChargingProfiles": profile}}
            async with session.post(f"{control.url}call", json=body) as resp:
                result = await resp.json()
            assert not result["ok"] and result["valid"] and result["fault"]["code"] == "NotImplemented"
            # our own request is checked against the schema before it leaves
            body = {"chargeBoxIdentity": "CB1", "action": "Reset", "payload": {"type": "Sideways"}}
            async with session.post(f"{control.url}call", json=body) as resp:
                assert resp.status == 400 and "Sideways" in (await resp.json())["error"]
            async with session.get(f"{control.url}health") as resp:
                assert (await resp.json())["protocol"] == "ocpp1.6-json"
        async with aiohttp.ClientSession() as session:
            body = {"chargeBoxIdentity": "CB1", "action": "Reset", "payload": {"type": "Soft"}}
            async with session.post(f"{control.url}call", json=body) as resp:
                assert resp.status == 404  # disconnected: no socket to carry it
    finally:
        await control.stop()
    assert [c.action for c in cs.calls] == ["RemoteStartTransaction", "TriggerMessage", "SetChargingProfile"]


async def test_a_long_list_its_round_trip_and_calls_repeated_through_the_control_interface(
        cs: JsonCentralSystem) -> None:
    """Issue 19's benchmarks: /call takes a SendLocalList over aiohttp's 1 MiB default and says its round
    trip on the socket; /repeat makes the same call for some seconds, one at a time, and counts them."""
    control = ControlServer(cs)
    await control.start()
    try:
        async with connected(f"{cs.url}/CB1") as ws, aiohttp.ClientSession() as session:
            async def answer_all() -> None:
                async for message in ws:
                    frame = json.loads(message.data)
                    payload = {"status": "Accepted"} if frame[2] == "SendLocalList" else {"listVersion": 3}
                    await ws.send_str(json.dumps([3, frame[1], payload]))

            box = asyncio.create_task(answer_all())
            entries = [{"idTag": f"{n:020d}", "idTagInfo": {"status": "Accepted"}} for n in range(30000)]
            body = {"chargeBoxIdentity": "CB1", "action": "SendLocalList", "timeout": 30, "payload": {
                "updateType": "Full", "listVersion": 1, "localAuthorizationList": entries}}
            assert len(json.dumps(body)) > 1 << 20
            async with session.post(f"{control.url}call", json=body) as resp:
                result = await resp.json()
            assert result["ok"] and 0 < result["round_trip"] < 30, result
            body = {"chargeBoxIdentity": "CB1", "action": "GetLocalListVersion", "payload": {}, "seconds": 0.5}
            async with session.post(f"{control.url}repeat", json=body) as resp:
                result = await resp.json()
            assert result["answered"] > 10 and result["failed"] == 0 and result["seconds"] >= 0.5, result
            assert len(cs.calls) == 1 + result["answered"]
            for wrong, status in [({**body, "seconds": 0}, 400), ({**body, "action": "Dance"}, 400),
                                  ({**body, "chargeBoxIdentity": "CB2"}, 404), ({**body, "url": "x"}, 400)]:
                async with session.post(f"{control.url}repeat", json=wrong) as resp:
                    assert resp.status == status, wrong
            box.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await box
    finally:
        await control.stop()


async def test_a_charge_point_answering_with_callerror_or_an_invalid_payload(cs: JsonCentralSystem) -> None:
    async with connected(f"{cs.url}/CB1") as ws:
        async def box() -> None:
            for answer in ([4, None, "NotSupported", "no", {}], [3, None, {"status": "Maybe"}]):
                frame = json.loads(await ws.receive_str(timeout=5))
                answer[1] = frame[1]
                await ws.send_str(json.dumps(answer))

        task = asyncio.create_task(box())
        refused = await cs.call("CB1", "ClearCache", {})
        invalid = await cs.call("CB1", "ClearCache", {})
        await task
    assert not refused.ok and refused.valid and refused.fault == ("NotSupported", None, "no")
    assert not invalid.ok and not invalid.valid and any("Maybe" in e for e in invalid.errors)


@pytest.mark.parametrize(
    ("frame", "code", "error"),
    [
        ([2, "m1", "BootNotification", {"chargePointVendor": "V1"}], "ProtocolError", "chargePointModel"),
        ([2, "m1", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "M"}],
         "TypeConstraintViolation", "5 is not of type 'string'"),
        ([2, "m1", "Authorize", {"idTag": "X" * 21}], "PropertyConstraintViolation", "too long"),
        ([2, "m1", "Heartbeat", {"extra": 1}], "FormationViolation", "extra"),
        ([2, "m1", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "yesterday"}],
         "PropertyConstraintViolation", "date-time"),
        ([2, "m1", "RemoteStartTransaction", {"idTag": "A"}], "NotImplemented", "not an operation"),
        ([2, "m1", "Heartbeat"], "FormationViolation", "has 4 elements"),
    ],
)
async def test_an_invalid_call_gets_the_right_callerror_and_is_recorded(
    cs: JsonCentralSystem, frame: list[Any], code: str, error: str
) -> None:
    async with connected(f"{cs.url}/CB1") as ws:
        answer = await raw_call(ws, frame)
    assert answer[:3] == [4, "m1", code] and answer[4] == {}
    [rec] = cs.received(valid=False)
    assert rec.fault == code and rec.message_id == "m1" and rec.response is None
    assert any(error in e for e in rec.errors), rec.errors


async def test_garbage_and_stray_answers_are_recorded_and_the_connection_stays(cs: JsonCentralSystem) -> None:
    async with connected(f"{cs.url}/CB1") as ws:
        await ws.send_str("{not json")
        await ws.send_str(json.dumps([3, "nobody-asked", {}]))
        answer = await raw_call(ws, [2, "m2", "Heartbeat", {}])
    assert answer[:2] == [3, "m2"]
    bad = cs.received(valid=False)
    assert [r.fault for r in bad] == [None, None]
    assert "not JSON" in bad[0].errors[0] and "no CALL of ours" in bad[1].errors[0]


async def test_a_box_without_the_ocpp16_subprotocol_is_refused(cs: JsonCentralSystem) -> None:
    async with connected(f"{cs.url}/CB1", protocols=("ocpp1.5",)) as ws:
        assert ws.protocol is None  # 3.2: the handshake completes without Sec-WebSocket-Protocol...
        msg = await ws.receive(timeout=5)  # ...and the Central System closes at once
        assert msg.type == aiohttp.WSMsgType.CLOSE
    [rec] = cs.received(valid=False)
    assert rec.charge_box_identity == "CB1" and "subprotocol ocpp1.6 not offered" in rec.errors[0]
    assert not cs.connections


async def test_basic_auth(caplog: pytest.LogCaptureFixture) -> None:
    server = JsonCentralSystem(SCHEMAS, basic_auth=("CB1", "s3cret-key-1234"))
    await server.start()
    try:
        for identity, auth in (("CB1", None), ("CB1", ("CB1", "wrong-key-99")),
                               ("CB2", ("CB1", "s3cret-key-1234"))):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                async with connected(f"{server.url}/{identity}", auth=auth):
                    pass
            assert refused.value.status == 401
        async with charge_point(server.url, "CB1", ("CB1", "s3cret-key-1234")) as cp:
            boot = await cp.call(call.BootNotification(charge_point_model="M1", charge_point_vendor="V1"))
            assert boot.status == RegistrationStatus.accepted
    finally:
        await server.stop()
    errors = [r.errors[0] for r in server.received(valid=False)]
    assert errors == ["no HTTP Basic authorization (security profile 1/2)", "wrong HTTP Basic credentials for 'CB1'",
                      "HTTP Basic user 'CB1' is not the identity in the path 'CB2'"]
    assert server.received("BootNotification")
    text = json.dumps([r.to_json() for r in server.record]) + caplog.text
    assert "s3cret" not in text and "wrong-key" not in text
    assert base64.b64encode(b"CB1:s3cret-key-1234").decode() not in text


async def test_outages_drop_the_socket_and_lose_the_answer(cs: JsonCentralSystem) -> None:
    async with connected(f"{cs.url}/CB1") as ws:
        await cs.set_outage("answer_lost")
        await ws.send_str(json.dumps([2, "m1", "StartTransaction",
                                      {"connectorId": 1, "idTag": "A", "meterStart": 0,
                                       "timestamp": "2026-12-03T08:00:00Z"}]))
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
    await cs.set_outage(None)
    assert cs.received("StartTransaction")[0].response == {"transactionId": 1, "idTagInfo": {"status": "Accepted"}}
    async with connected(f"{cs.url}/CB1") as ws:
        cs.reject_connections = True  # the network is cut: the open socket drops
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
    with pytest.raises(aiohttp.ClientError):
        async with connected(f"{cs.url}/CB1"):
            pass
    assert cs.rejected_count >= 1
    cs.reject_connections = False
    await cs.set_outage("refused")
    with pytest.raises(aiohttp.ClientConnectionError):
        async with connected(f"{cs.url}/CB1"):
            pass
    await cs.set_outage(None)
    async with connected(f"{cs.url}/CB1") as ws:
        assert (await raw_call(ws, [2, "m9", "Heartbeat", {}]))[:2] == [3, "m9"]


async def test_the_journal_keeps_transactions_across_a_restart(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    start = {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "2026-12-03T08:00:00Z"}
    for expected in ([3, "m1", {"transactionId": 1, "idTagInfo": {"status": "Accepted"}}],
                     [3, "m1", {"transactionId": 2, "idTagInfo": {"status": "Accepted"}}]):
        server = JsonCentralSystem(SCHEMAS, journal=journal)
        await server.start()
        try:
            async with connected(f"{server.url}/CB1") as ws:
                start["meterStart"] += 1  # type: ignore[operator]
                assert await raw_call(ws, [2, "m1", "StartTransaction", start]) == expected
        finally:
            await server.stop()
    assert [r.seq for r in server.record] == [1, 2] and sorted(server.transactions) == [1, 2]


def test_the_command_speaks_16_json_and_says_when_it_checks_frames_only(tmp_path: Path) -> None:
    probe = (
        "import asyncio, aiohttp, json, sys\n"
        "async def main():\n"
        "    url = json.loads(sys.stdin.readline())['url']\n"
        "    async with aiohttp.ClientSession() as s, s.ws_connect(url + '/CB1', protocols=('ocpp1.6',)) as ws:\n"
        "        await ws.send_str(json.dumps([2, 'a', 'Heartbeat', {}]))\n"
        "        print(await ws.receive_str(timeout=5))\n"
        "asyncio.run(main())\n"
    )
    for extra, warned in (([], True), (["--json-schemas", str(SCHEMAS)], False)):
        proc = subprocess.Popen(
            [sys.executable, "-m", "hwsim.centralsystem", "--protocol", "ocpp1.6-json", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            ready = json.loads(line)
            assert ready["protocol"] == "ocpp1.6-json" and ready["url"].startswith("ws://")
            answer = subprocess.run([sys.executable, "-c", probe], input=line, capture_output=True, text=True,
                                    timeout=30)
            assert json.loads(answer.stdout)[:2] == [3, "a"], answer.stderr
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert ("no JSON schemas given: OCPP-J frames are checked, payloads are not" in stderr) is warned


def test_the_command_refuses_json_options_with_soap(capsys: pytest.CaptureFixture[str]) -> None:
    from hwsim.centralsystem.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["--basic-auth", "CB1:key"])
    assert exited.value.code == 2
    assert "--basic-auth: only with --protocol ocpp1.6-json" in capsys.readouterr().err


async def test_16_soap_answers_with_the_16_schema() -> None:
    """The SOAP wire with the 1.6 WSDLs: 1.6 namespace, BootNotification's ``interval`` (6.4)."""
    assert OFFICIAL_WSDL is not None
    server = CentralSystem(OFFICIAL_WSDL / "OCPP_CentralSystemService_1.6.wsdl",
                           OFFICIAL_WSDL / "OCPP_ChargePointService_1.6.wsdl", heartbeat_interval=90)
    assert server.protocol == "ocpp1.6-soap"
    ns = "urn://Ocpp/Cs/2015/10/"
    wsa = "http://www.w3.org/2005/08/addressing"
    body = (f'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="{wsa}" '
            f'xmlns:cs="{ns}"><soap:Header><cs:chargeBoxIdentity>CB1</cs:chargeBoxIdentity>'
            f"<wsa:Action>/BootNotification</wsa:Action><wsa:MessageID>urn:uuid:1</wsa:MessageID>"
            f"<wsa:To>http://cs/</wsa:To></soap:Header><soap:Body><cs:bootNotificationRequest>"
            f"<cs:chargePointVendor>V</cs:chargePointVendor><cs:chargePointModel>M</cs:chargePointModel>"
            f"</cs:bootNotificationRequest></soap:Body></soap:Envelope>")
    await server.start()
    try:
        async with aiohttp.ClientSession() as session, session.post(
            server.url, data=body.encode(), headers={"Content-Type": "application/soap+xml; charset=utf-8"}
        ) as resp:
            text = await resp.text()
    finally:
        await server.stop()
    [rec] = server.record
    assert rec.valid, rec.errors
    assert rec.response is not None and rec.response["interval"] == 90 and resp.status == 200
    assert ns in text and "interval>90<" in text


async def test_tls_with_client_certificates_security_profile_3(tmp_path: Path) -> None:
    """``--tls-cert/--tls-key/--tls-client-ca`` make a ``wss://`` endpoint that wants the box's certificate."""
    from tls_pki import make_pki

    from hwsim.centralsystem.__main__ import _tls, build_parser

    pki = make_pki(tmp_path)
    args = build_parser().parse_args(["--protocol", "ocpp1.6-json", "--tls-cert", str(pki.cs_server.cert),
                                      "--tls-key", str(pki.cs_server.key), "--tls-client-ca", str(pki.ca.cert_file)])
    server_tls, _ = _tls(args)
    server = JsonCentralSystem(SCHEMAS, server_tls=server_tls)
    await server.start()
    assert server.url.startswith("wss://")
    box = ssl.create_default_context(cafile=str(pki.ca.cert_file))
    try:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientError):  # no client certificate: the handshake fails
                async with session.ws_connect(f"{server.url}/CB1", protocols=("ocpp1.6",), ssl=box):
                    pass
            box.load_cert_chain(str(pki.box_client.cert), str(pki.box_client.key))
            async with session.ws_connect(f"{server.url}/CB1", protocols=("ocpp1.6",), ssl=box) as ws:
                assert (await raw_call(ws, [2, "t1", "Heartbeat", {}]))[:2] == [3, "t1"]
    finally:
        await server.stop()


async def test_16_soap_calls_the_box_in_the_16_namespace() -> None:
    """TriggerMessage (1.6 only) over SOAP: the request is in ``urn://Ocpp/Cp/2015/10/`` and the answer is
    checked against the 1.6 Charge Point WSDL."""
    from lxml import etree

    from tests.hwsim.test_centralsystem import StubBox

    assert OFFICIAL_WSDL is not None
    cp_ns = "urn://Ocpp/Cp/2015/10/"
    server = CentralSystem(OFFICIAL_WSDL / "OCPP_CentralSystemService_1.6.wsdl",
                           OFFICIAL_WSDL / "OCPP_ChargePointService_1.6.wsdl")

    async def accept(request: etree._Element) -> aiohttp.web.Response:
        message_id = request.find("{http://www.w3.org/2003/05/soap-envelope}Header/"
                                  "{http://www.w3.org/2005/08/addressing}MessageID").text
        text = (f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                f'xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:cp="{cp_ns}"><s:Header>'
                f"<a:Action>/TriggerMessageResponse</a:Action><a:RelatesTo>{message_id}</a:RelatesTo></s:Header>"
                f"<s:Body><cp:triggerMessageResponse><cp:status>Accepted</cp:status></cp:triggerMessageResponse>"
                f"</s:Body></s:Envelope>")
        return aiohttp.web.Response(body=text.encode(), content_type="application/soap+xml")

    async with StubBox(server.cp_schema, accept) as box:
        result = await server.call("CB1", "TriggerMessage", {"requestedMessage": "Heartbeat"}, url=box.url)
    assert result.ok and result.valid and result.payload == {"status": "Accepted"}, result.errors
    [(_, root)] = box.received
    body = root.find("{http://www.w3.org/2003/05/soap-envelope}Body")[0]
    assert body.tag == f"{{{cp_ns}}}triggerMessageRequest"


async def test_hold_delivers_at_once_to_a_connected_box(cs: JsonCentralSystem) -> None:
    """A CALLRESULT is an answer even without an HTTP status: the command is delivered, not held."""
    control = ControlServer(cs)
    await control.start()
    try:
        async with charge_point(cs.url, "CB1") as cp, aiohttp.ClientSession() as session:
            body = {"chargeBoxIdentity": "CB1", "action": "RemoteStartTransaction", "payload": {"idTag": "C1"}}
            async with session.post(f"{control.url}hold", json=body) as resp:
                held = await resp.json()
    finally:
        await control.stop()
    assert held["state"] == "delivered" and held["sms"] is None and cp.remote_starts == [("C1", None)]
