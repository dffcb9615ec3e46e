"""The reference Central System of the simulator: strict OCPP 1.5 SOAP 1.2, recorded, drivable."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from lxml import etree

from hwsim.centralsystem import CallResult, CentralSystem, InvalidCallError, Received, UnknownBoxError
from hwsim.centralsystem.__main__ import main as cli_main
from hwsim.centralsystem.control import ControlServer
from hwsim.centralsystem.schema import WsdlSchema, XmlError, parse_xml


def _find_wsdl_dir() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "spec" / "wsdl"
        if candidate.is_dir():
            return candidate
    return None


WSDL_DIR = _find_wsdl_dir()
CS_WSDL = WSDL_DIR / "ocpp_centralsystemservice_1.5_final.wsdl" if WSDL_DIR else Path("/nonexistent")
CP_WSDL = WSDL_DIR / "ocpp_chargepointservice_1.5_final.wsdl" if WSDL_DIR else Path("/nonexistent")

pytestmark = pytest.mark.skipif(
    not (CS_WSDL.is_file() and CP_WSDL.is_file()),
    reason="official OCPP 1.5 WSDLs (../shared/spec/wsdl) not present",
)

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
CS_NS = "urn://Ocpp/Cs/2012/06/"
CP_NS = "urn://Ocpp/Cp/2012/06/"
OCPP_FAULT = "urn://Ocpp/2012/02/"
CT12 = "application/soap+xml; charset=utf-8"


def soap_request(
    body: str,
    action: str | None,
    *,
    identity: str | None = "CB1",
    message_id: str | None = "urn:uuid:11111111-2222-3333-4444-555555555555",
    to: str | None = "http://cs.example/ocpp",
    from_url: str | None = None,
    env_ns: str = SOAP12,
    prolog: str = "",
) -> bytes:
    """A hand-written SOAP request for the Central System service."""
    headers = []
    if identity is not None:
        headers.append(f"<cs:chargeBoxIdentity>{identity}</cs:chargeBoxIdentity>")
    if action is not None:
        headers.append(f"<wsa:Action>{action}</wsa:Action>")
    if message_id is not None:
        headers.append(f"<wsa:MessageID>{message_id}</wsa:MessageID>")
    if to is not None:
        headers.append(f"<wsa:To>{to}</wsa:To>")
    if from_url is not None:
        headers.append(f"<wsa:From><wsa:Address>{from_url}</wsa:Address></wsa:From>")
    text = (
        f'{prolog}<soap:Envelope xmlns:soap="{env_ns}" xmlns:wsa="{WSA}" xmlns:cs="{CS_NS}">'
        f"<soap:Header>{''.join(headers)}</soap:Header>"
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
    return text.encode()


BOOT_BODY = (
    "<cs:bootNotificationRequest>"
    "<cs:chargePointVendor>Acme</cs:chargePointVendor>"
    "<cs:chargePointModel>Box-1</cs:chargePointModel>"
    "<cs:firmwareVersion>0.1.0</cs:firmwareVersion>"
    "</cs:bootNotificationRequest>"
)


def start_body(id_tag: str = "CARD01", connector: int = 1, meter: int = 1234) -> str:
    return (
        "<cs:startTransactionRequest>"
        f"<cs:connectorId>{connector}</cs:connectorId><cs:idTag>{id_tag}</cs:idTag>"
        "<cs:timestamp>2024-05-01T10:00:00Z</cs:timestamp>"
        f"<cs:meterStart>{meter}</cs:meterStart>"
        "</cs:startTransactionRequest>"
    )


@pytest.fixture
def cs_schema() -> WsdlSchema:
    return WsdlSchema(CS_WSDL)


@pytest.fixture
def cp_schema() -> WsdlSchema:
    return WsdlSchema(CP_WSDL)


@pytest.fixture
async def cs() -> AsyncIterator[CentralSystem]:
    central = CentralSystem(CS_WSDL, CP_WSDL, heartbeat_interval=60)
    await central.start()
    try:
        yield central
    finally:
        await central.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Answer:
    def __init__(self, status: int, headers: Any, root: etree._Element) -> None:
        self.status = status
        self.headers = headers
        self.root = root

    @property
    def body(self) -> etree._Element:
        body = self.root.find(f"{{{SOAP12}}}Body")
        assert body is not None
        return body[0]

    def header(self, name: str) -> str | None:
        el = self.root.find(f"{{{SOAP12}}}Header/{{{WSA}}}{name}")
        return None if el is None else el.text

    def fault(self) -> tuple[str, str, str]:
        f = self.body
        assert f.tag == f"{{{SOAP12}}}Fault"
        value = f.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value")
        sub = f.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
        reason = f.find(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text")
        assert value is not None and sub is not None and reason is not None
        code_prefix, _, code = value.text.partition(":")
        sub_prefix, _, subcode = sub.text.partition(":")
        assert value.nsmap[code_prefix] == SOAP12
        assert sub.nsmap[sub_prefix] == OCPP_FAULT
        return code, subcode, reason.text or ""


async def post(
    http: aiohttp.ClientSession,
    cs: CentralSystem,
    data: bytes,
    *,
    content_type: str = CT12,
    headers: dict[str, str] | None = None,
) -> Answer:
    all_headers = {"Content-Type": content_type, **(headers or {})}
    async with http.post(cs.url + "ocpp", data=data, headers=all_headers) as resp:
        assert resp.headers["Content-Type"].startswith("application/soap+xml")
        raw = await resp.read()
        return Answer(resp.status, resp.headers, parse_xml(raw))


# --------------------------------------------------------------------------------------------------
# valid requests


async def test_boot_notification_is_accepted_and_recorded(
    cs: CentralSystem, http: aiohttp.ClientSession, cs_schema: WsdlSchema
) -> None:
    answer = await post(http, cs, soap_request(BOOT_BODY, "/BootNotification"))

    assert answer.status == 200
    assert answer.body.tag == f"{{{CS_NS}}}bootNotificationResponse"
    assert cs_schema.validate(answer.body) == []
    assert answer.header("Action") == "/BootNotificationResponse"
    assert answer.header("RelatesTo") == "urn:uuid:11111111-2222-3333-4444-555555555555"
    response = cs_schema.to_dict(answer.body)
    assert response["status"] == "Accepted"
    assert response["heartbeatInterval"] == 60
    assert response["currentTime"].endswith("Z")

    [rec] = cs.record
    assert isinstance(rec, Received)
    assert rec.valid and rec.errors == []
    assert rec.seq == 1
    assert rec.action == "BootNotification"
    assert rec.charge_box_identity == "CB1"
    assert rec.message_id == "urn:uuid:11111111-2222-3333-4444-555555555555"
    assert rec.payload == {"chargePointVendor": "Acme", "chargePointModel": "Box-1", "firmwareVersion": "0.1.0"}
    assert rec.response is not None and rec.response["status"] == "Accepted"


async def test_boot_status_only_takes_schema_values(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="Rejected"):
        cs.boot_status = "Pending"  # not in OCPP 1.5 RegistrationStatus
    cs.boot_status = "Rejected"
    answer = await post(http, cs, soap_request(BOOT_BODY, "/BootNotification"))
    assert answer.body.find(f"{{{CS_NS}}}status").text == "Rejected"


async def test_authorize_looks_up_id_tags_case_insensitively(
    cs: CentralSystem, http: aiohttp.ClientSession
) -> None:
    cs.id_tags = {"blocked1": "Blocked"}

    async def status_for(tag: str) -> str:
        body = f"<cs:authorizeRequest><cs:idTag>{tag}</cs:idTag></cs:authorizeRequest>"
        answer = await post(http, cs, soap_request(body, "/Authorize"))
        assert answer.status == 200
        return answer.body.find(f"{{{CS_NS}}}idTagInfo/{{{CS_NS}}}status").text

    assert await status_for("BLOCKED1") == "Blocked"
    assert await status_for("someone") == "Accepted"
    cs.default_id_tag_status = "Invalid"
    assert await status_for("someone") == "Invalid"
    assert [r.payload for r in cs.record] == [{"idTag": "BLOCKED1"}, {"idTag": "someone"}, {"idTag": "someone"}]


async def test_start_transaction_gets_incrementing_ids_and_typed_payload(
    cs: CentralSystem, http: aiohttp.ClientSession
) -> None:
    ids = []
    for meter in (1234, 5678):
        answer = await post(http, cs, soap_request(start_body(meter=meter), "/StartTransaction"))
        assert answer.status == 200
        ids.append(int(answer.body.find(f"{{{CS_NS}}}transactionId").text))
    assert ids == [1, 2]
    first = cs.record[0].payload
    assert first == {"connectorId": 1, "idTag": "CARD01", "timestamp": "2024-05-01T10:00:00Z", "meterStart": 1234}
    assert isinstance(first["connectorId"], int) and isinstance(first["meterStart"], int)
    assert cs.record[0].response == {"transactionId": 1, "idTagInfo": {"status": "Accepted"}}
    assert cs.transactions[2]["start"]["meterStart"] == 5678


async def test_a_central_system_started_again_on_its_journal_keeps_record_and_transactions(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    journal = tmp_path / "cs.jsonl"
    first = CentralSystem(CS_WSDL, CP_WSDL, journal=journal)
    await first.start()
    for meter in (1234, 5678):
        await post(http, first, soap_request(start_body(meter=meter), "/StartTransaction"))
    await first.stop()
    with journal.open("a") as cut:
        cut.write('{"seq": 3, "action": "StartTr')  # the line being written when it was killed
    again = CentralSystem(CS_WSDL, CP_WSDL, journal=journal)
    await again.start()
    try:
        assert [r.to_json() for r in again.record] == [r.to_json() for r in first.record]
        assert again.transactions[2]["start"]["meterStart"] == 5678
        retransmitted = await post(http, again, soap_request(start_body(meter=1234), "/StartTransaction"))
        assert int(retransmitted.body.find(f"{{{CS_NS}}}transactionId").text) == 1  # known: the same one
        new = await post(http, again, soap_request(start_body(meter=9999), "/StartTransaction"))
        assert int(new.body.find(f"{{{CS_NS}}}transactionId").text) == 3
        assert [r.seq for r in again.record] == [1, 2, 3, 4]
    finally:
        await again.stop()
    assert len(journal.read_text().splitlines()) == 5  # the cut line stands alone


async def test_outages_refused_black_hole_and_answer_lost(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    request = soap_request(start_body(meter=1), "/StartTransaction")
    await cs.set_outage("answer_lost")
    with pytest.raises(aiohttp.ClientError):
        await post(http, cs, request)
    assert len(cs.record) == 1 and cs.record[0].response is not None  # processed; the answer lost
    await cs.set_outage("black_hole")
    pending = asyncio.ensure_future(post(http, cs, request))
    await asyncio.sleep(0.2)
    assert not pending.done() and len(cs.record) == 1  # nothing comes back, nothing is processed
    await cs.set_outage("refused")
    with pytest.raises(aiohttp.ClientConnectorError):
        async with aiohttp.ClientSession() as fresh:
            await post(fresh, cs, request)
    await cs.set_outage(None)
    with pytest.raises(aiohttp.ClientError):
        await pending  # dropped when the outage ends
    assert (await post(http, cs, request)).status == 200
    with pytest.raises(ValueError):
        await cs.set_outage("flood")


async def test_stop_transaction_answers_id_tag_info_only_with_an_id_tag(
    cs: CentralSystem, http: aiohttp.ClientSession
) -> None:
    body = (
        "<cs:stopTransactionRequest><cs:transactionId>7</cs:transactionId>{tag}"
        "<cs:timestamp>2024-05-01T11:00:00Z</cs:timestamp><cs:meterStop>2000</cs:meterStop>"
        "</cs:stopTransactionRequest>"
    )
    with_tag = await post(http, cs, soap_request(body.format(tag="<cs:idTag>CARD01</cs:idTag>"), "/StopTransaction"))
    without = await post(http, cs, soap_request(body.format(tag=""), "/StopTransaction"))
    assert cs.record[0].response == {"idTagInfo": {"status": "Accepted"}}
    assert cs.record[1].response == {}
    assert with_tag.status == without.status == 200
    assert len(without.body) == 0


async def test_meter_values_with_several_values_are_lists(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    body = (
        "<cs:meterValuesRequest><cs:connectorId>2</cs:connectorId><cs:transactionId>9</cs:transactionId>"
        "<cs:values><cs:timestamp>2024-05-01T10:00:00Z</cs:timestamp>"
        '<cs:value measurand="Energy.Active.Import.Register" unit="Wh" context="Sample.Periodic">1500</cs:value>'
        '<cs:value measurand="Current.Import" unit="Amp">16.0</cs:value>'
        "</cs:values>"
        "<cs:values><cs:timestamp>2024-05-01T10:15:00Z</cs:timestamp><cs:value>1800</cs:value></cs:values>"
        "</cs:meterValuesRequest>"
    )
    answer = await post(http, cs, soap_request(body, "/MeterValues"))
    assert answer.status == 200
    assert answer.body.tag == f"{{{CS_NS}}}meterValuesResponse" and len(answer.body) == 0
    payload = cs.record[0].payload
    assert payload == {
        "connectorId": 2,
        "transactionId": 9,
        "values": [
            {
                "timestamp": "2024-05-01T10:00:00Z",
                "value": [
                    {
                        "#text": "1500",
                        "@measurand": "Energy.Active.Import.Register",
                        "@unit": "Wh",
                        "@context": "Sample.Periodic",
                    },
                    {"#text": "16.0", "@measurand": "Current.Import", "@unit": "Amp"},
                ],
            },
            {"timestamp": "2024-05-01T10:15:00Z", "value": [{"#text": "1800"}]},
        ],
    }


async def test_heartbeat_notifications_and_data_transfer(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    hb = await post(http, cs, soap_request("<cs:heartbeatRequest/>", "/Heartbeat"))
    assert hb.body.find(f"{{{CS_NS}}}currentTime").text.endswith("Z")
    status = (
        "<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId><cs:status>Available</cs:status>"
        "<cs:errorCode>NoError</cs:errorCode></cs:statusNotificationRequest>"
    )
    assert (await post(http, cs, soap_request(status, "/StatusNotification"))).status == 200
    fw = "<cs:firmwareStatusNotificationRequest><cs:status>Installed</cs:status></cs:firmwareStatusNotificationRequest>"
    assert (await post(http, cs, soap_request(fw, "/FirmwareStatusNotification"))).status == 200
    diag = "<cs:diagnosticsStatusNotificationRequest><cs:status>Uploaded</cs:status></cs:diagnosticsStatusNotificationRequest>"
    assert (await post(http, cs, soap_request(diag, "/DiagnosticsStatusNotification"))).status == 200
    dt = "<cs:dataTransferRequest><cs:vendorId>acme</cs:vendorId></cs:dataTransferRequest>"
    answer = await post(http, cs, soap_request(dt, "/DataTransfer"))
    assert answer.body.find(f"{{{CS_NS}}}status").text == "UnknownVendorId"
    assert all(r.valid for r in cs.record) and len(cs.record) == 5


# --------------------------------------------------------------------------------------------------
# violations


VIOLATIONS: dict[str, tuple[bytes, str, str]] = {
    "no chargeBoxIdentity": (soap_request(BOOT_BODY, "/BootNotification", identity=None), CT12, "chargeBoxIdentity"),
    "wrong enum": (
        soap_request(
            "<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId><cs:status>Charging</cs:status>"
            "<cs:errorCode>NoError</cs:errorCode></cs:statusNotificationRequest>",
            "/StatusNotification",
        ),
        CT12,
        "Charging",
    ),
    "int as text": (soap_request(start_body().replace(">1234<", ">12.5<"), "/StartTransaction"), CT12, "meterStart"),
    "SOAP 1.1 envelope": (soap_request(BOOT_BODY, "/BootNotification", env_ns=SOAP11), "text/xml; charset=utf-8", "SOAP 1.1"),
    "SOAP 1.1 content type": (soap_request(BOOT_BODY, "/BootNotification"), "text/xml", "text/xml"),
    "DOCTYPE entity": (
        soap_request(
            BOOT_BODY.replace("Acme", "&xxe;"),
            "/BootNotification",
            prolog='<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        ),
        CT12,
        "DOCTYPE",
    ),
    "action mismatch": (soap_request(BOOT_BODY, "/Heartbeat"), CT12, "does not match"),
    "no MessageID": (soap_request(BOOT_BODY, "/BootNotification", message_id=None), CT12, "MessageID"),
    "no To": (soap_request(BOOT_BODY, "/BootNotification", to=None), CT12, "wsa:To"),
    "response element as request": (
        soap_request("<cs:heartbeatResponse><cs:currentTime>x</cs:currentTime></cs:heartbeatResponse>", "/Heartbeat"),
        CT12,
        "heartbeatResponse",
    ),
    "not XML": (b"<soap:Envelope", CT12, "well-formed"),
    "content type action differs": (
        soap_request(BOOT_BODY, "/BootNotification"),
        CT12 + '; action="/Heartbeat"',
        "Content-Type action",
    ),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
async def test_violations_get_a_sender_protocol_error_and_are_recorded_invalid(
    cs: CentralSystem, http: aiohttp.ClientSession, case: str
) -> None:
    data, content_type, expected = VIOLATIONS[case]
    answer = await post(http, cs, data, content_type=content_type)

    assert answer.status == 400
    code, subcode, reason = answer.fault()
    assert (code, subcode) == ("Sender", "ProtocolError")
    assert expected in reason
    [rec] = cs.record
    assert rec.valid is False
    assert rec.fault == "Sender/ProtocolError"
    assert any(expected in e for e in rec.errors), rec.errors
    assert cs.received("BootNotification") == []


async def test_doctype_entity_is_never_expanded(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    data, content_type, _ = VIOLATIONS["DOCTYPE entity"]
    answer = await post(http, cs, data, content_type=content_type)
    assert "root:" not in etree.tostring(answer.root).decode()
    assert cs.record[0].payload is None
    with pytest.raises(XmlError):
        parse_xml(b'<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')


# --------------------------------------------------------------------------------------------------
# compression, injected failures, the cut network


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", lambda b: zlib.compress(b, wbits=-15))],
    ids=["gzip", "deflate-zlib", "deflate-raw"],
)
async def test_compressed_request_is_accepted(
    cs: CentralSystem, http: aiohttp.ClientSession, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    data = compress(soap_request(BOOT_BODY, "/BootNotification"))
    answer = await post(http, cs, data, headers={"Content-Encoding": encoding})
    assert answer.status == 200
    assert cs.record[0].valid and cs.record[0].content_encoding == encoding


async def test_garbage_compression_and_bombs_are_refused(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    bad = await post(http, cs, b"not gzip at all", headers={"Content-Encoding": "gzip"})
    bomb = await post(http, cs, gzip.compress(b" " * (2 * 1024 * 1024)), headers={"Content-Encoding": "gzip"})
    brotli = await post(http, cs, b"xx", headers={"Content-Encoding": "br"})
    assert bad.status == bomb.status == brotli.status == 400
    assert "not valid gzip" in cs.record[0].errors[0]
    assert "larger than" in cs.record[1].errors[0]
    assert "unsupported Content-Encoding" in cs.record[2].errors[0]


async def test_large_response_is_gzipped_when_accepted(cs: CentralSystem) -> None:
    # Many invalid meter values give a fault whose reason is well over 1 KiB.
    values = "".join(f'<cs:value unit="Parsec{i}">1</cs:value>' for i in range(40))
    body = (
        "<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:values>"
        f"<cs:timestamp>2024-05-01T10:00:00Z</cs:timestamp>{values}</cs:values></cs:meterValuesRequest>"
    )
    data = soap_request(body, "/MeterValues")
    async with aiohttp.ClientSession(auto_decompress=False) as raw_http:
        async with raw_http.post(
            cs.url, data=data, headers={"Content-Type": CT12, "Accept-Encoding": "gzip"}
        ) as resp:
            assert resp.status == 400
            assert resp.headers.get("Content-Encoding") == "gzip"
            root = parse_xml(gzip.decompress(await resp.read()))
        async with raw_http.post(cs.url, data=data, headers={"Content-Type": CT12, "Accept-Encoding": "identity"}) as resp:
            assert "Content-Encoding" not in resp.headers
    assert root.find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault") is not None
    # A small answer stays uncompressed even when gzip is accepted.
    async with aiohttp.ClientSession(auto_decompress=False) as raw_http:
        async with raw_http.post(
            cs.url,
            data=soap_request("<cs:heartbeatRequest/>", "/Heartbeat"),
            headers={"Content-Type": CT12, "Accept-Encoding": "gzip"},
        ) as resp:
            assert resp.status == 200 and "Content-Encoding" not in resp.headers


async def test_fail_next_answers_internal_error_then_recovers(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    cs.fail_next["StartTransaction"] = 1
    failed = await post(http, cs, soap_request(start_body(), "/StartTransaction"))
    assert failed.status == 500
    assert failed.fault()[:2] == ("Receiver", "InternalError")
    assert failed.header("RelatesTo") == "urn:uuid:11111111-2222-3333-4444-555555555555"
    ok = await post(http, cs, soap_request(start_body(), "/StartTransaction"))
    assert ok.status == 200
    assert ok.body.find(f"{{{CS_NS}}}transactionId").text == "1"
    assert [(r.valid, r.fault) for r in cs.record] == [(True, "Receiver/InternalError"), (True, None)]
    assert cs.fail_next["StartTransaction"] == 0


async def test_reject_connections_cuts_the_network(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    cs.reject_connections = True
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(http, cs, soap_request("<cs:heartbeatRequest/>", "/Heartbeat"))
    assert cs.record == [] and cs.rejected_count == 1
    result = await cs.call("CB1", "ClearCache", {}, url="http://127.0.0.1:9/")
    assert not result.ok and "network cut" in result.errors[0]
    cs.reject_connections = False
    assert (await post(http, cs, soap_request("<cs:heartbeatRequest/>", "/Heartbeat"))).status == 200


async def test_wait_for_returns_when_requests_arrive(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    waiter = asyncio.create_task(cs.wait_for("StartTransaction", count=2, timeout=5))
    await post(http, cs, soap_request("<cs:heartbeatRequest/>", "/Heartbeat"))
    await post(http, cs, soap_request(start_body(), "/StartTransaction"))
    assert not waiter.done()
    await post(http, cs, soap_request(start_body(), "/StartTransaction"))
    records = await waiter
    assert [r.seq for r in records] == [2, 3]
    with pytest.raises(TimeoutError, match="StopTransaction"):
        await cs.wait_for("StopTransaction", timeout=0.01)


async def test_wait_for_looks_at_each_record_once(cs: CentralSystem, http: aiohttp.ClientSession) -> None:
    """A wait for many requests (an outbox drain of 10,000) costs the Central System one look at each
    new record, not a pass over the whole record per request (issue 19: that made it the bottleneck)."""

    class Counting(list[Received]):
        """The record, counting the records read out of it."""

        read = 0

        def __iter__(self) -> Iterator[Received]:
            Counting.read += len(self)
            return super().__iter__()

        def __getitem__(self, index: Any) -> Any:
            items = super().__getitem__(index)
            Counting.read += len(items) if isinstance(index, slice) else 1
            return items

    await post(http, cs, soap_request("<cs:heartbeatRequest/>", "/Heartbeat"))  # before the wait
    cs.record = Counting(cs.record)
    waiter = asyncio.create_task(cs.wait_for("Heartbeat", count=40, timeout=10, since=1))
    await asyncio.sleep(0)  # waiting
    for _ in range(40):
        await post(http, cs, soap_request("<cs:heartbeatRequest/>", "/Heartbeat"))
    looked, Counting.read = Counting.read, 0
    assert [r.seq for r in await waiter] == list(range(2, 42))
    assert looked <= 2 * 41  # each new record about once while waiting; not 41 * 41 / 2


# --------------------------------------------------------------------------------------------------
# calling a box


BoxHandler = Callable[[etree._Element], Awaitable[web.Response]]


class StubBox:
    """A tiny charge box: records what it gets and answers with ``handler``."""

    def __init__(self, cp_schema: WsdlSchema, handler: BoxHandler) -> None:
        self.cp_schema = cp_schema
        self.handler = handler
        self.received: list[tuple[dict[str, str], etree._Element]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        root = parse_xml(await request.read())
        self.received.append((dict(request.headers), root))
        return await self.handler(root)

    async def __aenter__(self) -> "StubBox":
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/box"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def box_response(request: etree._Element, action: str, body: str, *, relates_to: str | None = None) -> web.Response:
    message_id = request.find(f"{{{SOAP12}}}Header/{{{WSA}}}MessageID").text
    text = (
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:cp="{CP_NS}"><s:Header>'
        f"<a:Action>{action}</a:Action><a:RelatesTo>{relates_to or message_id}</a:RelatesTo>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )
    return web.Response(body=text.encode(), content_type="application/soap+xml")


async def accept_remote_start(request: etree._Element) -> web.Response:
    return box_response(
        request,
        "/RemoteStartTransactionResponse",
        "<cp:remoteStartTransactionResponse><cp:status>Accepted</cp:status></cp:remoteStartTransactionResponse>",
    )


async def test_call_sends_a_valid_request_and_checks_the_answer(
    cs: CentralSystem, http: aiohttp.ClientSession, cp_schema: WsdlSchema
) -> None:
    async with StubBox(cp_schema, accept_remote_start) as box:
        # The box announces its URL in wsa:From (OCPP 1.5, 8.3); call() then finds it by identity.
        await post(http, cs, soap_request("<cs:heartbeatRequest/>", "/Heartbeat", identity="CB7", from_url=box.url))
        assert cs.box_urls == {"CB7": box.url}

        result = await cs.call("CB7", "RemoteStartTransaction", {"idTag": "CARD01", "connectorId": 1})

        assert isinstance(result, CallResult)
        assert result.ok and result.valid and result.errors == []
        assert result.payload == {"status": "Accepted"}
        assert result.fault is None
        [(headers, request)] = box.received
        assert headers["Content-Type"].startswith("application/soap+xml")
        header = request.find(f"{{{SOAP12}}}Header")
        assert header.find(f"{{{CP_NS}}}chargeBoxIdentity").text == "CB7"
        assert header.find(f"{{{WSA}}}Action").text == "/RemoteStartTransaction"
        assert header.find(f"{{{WSA}}}To").text == box.url
        assert header.find(f"{{{WSA}}}MessageID").text == result.message_id
        assert header.find(f"{{{WSA}}}MessageID").text.startswith("urn:uuid:")
        assert header.find(f"{{{WSA}}}From/{{{WSA}}}Address").text == cs.url
        body = request.find(f"{{{SOAP12}}}Body")[0]
        assert cp_schema.validate(body) == []
        assert cp_schema.to_dict(body) == {"idTag": "CARD01", "connectorId": 1}
        [call] = cs.calls
        assert call.action == "RemoteStartTransaction" and call.result is result


async def test_call_with_invalid_xml_answer_is_not_valid(cs: CentralSystem, cp_schema: WsdlSchema) -> None:
    async def broken(request: etree._Element) -> web.Response:
        return web.Response(body=b"<s:Envelope><unclosed>", content_type="application/soap+xml")

    async with StubBox(cp_schema, broken) as box:
        result = await cs.call("CB7", "RemoteStartTransaction", {"idTag": "CARD01"}, url=box.url)
    assert not result.ok and not result.valid
    assert result.payload is None and result.fault is None
    assert any("well-formed" in e for e in result.errors)


async def test_call_with_schema_invalid_answer_is_not_valid(cs: CentralSystem, cp_schema: WsdlSchema) -> None:
    async def wrong(request: etree._Element) -> web.Response:
        return box_response(
            request,
            "/RemoteStartTransactionResponse",
            "<cp:remoteStartTransactionResponse><cp:status>Maybe</cp:status></cp:remoteStartTransactionResponse>",
            relates_to="urn:uuid:somebody-else",
        )

    async with StubBox(cp_schema, wrong) as box:
        result = await cs.call("CB7", "RemoteStartTransaction", {"idTag": "CARD01"}, url=box.url)
    assert not result.ok and not result.valid
    assert result.payload == {"status": "Maybe"}
    assert any("Maybe" in e for e in result.errors)
    assert any("RelatesTo" in e for e in result.errors)


async def test_call_reports_a_fault(cs: CentralSystem, cp_schema: WsdlSchema) -> None:
    async def mismatch(request: etree._Element) -> web.Response:
        message_id = request.find(f"{{{SOAP12}}}Header/{{{WSA}}}MessageID").text
        text = (
            f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:o="{OCPP_FAULT}"><s:Header>'
            f"<a:Action>{WSA}/soap/fault</a:Action><a:RelatesTo>{message_id}</a:RelatesTo></s:Header>"
            "<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>o:IdentityMismatch</s:Value>"
            '</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">not me</s:Text></s:Reason></s:Fault></s:Body>'
            "</s:Envelope>"
        )
        return web.Response(status=400, body=text.encode(), content_type="application/soap+xml")

    async with StubBox(cp_schema, mismatch) as box:
        result = await cs.call("CB7", "Reset", {"type": "Soft"}, url=box.url)
    assert not result.ok and result.valid
    assert result.fault == ("Sender", "IdentityMismatch", "not me")


async def test_call_refuses_our_own_invalid_request_and_unknown_boxes(cs: CentralSystem) -> None:
    with pytest.raises(InvalidCallError):
        await cs.call("CB7", "Reset", {"type": "Sideways"}, url="http://127.0.0.1:9/")
    with pytest.raises(InvalidCallError):
        await cs.call("CB7", "Reset", {"typo": "Soft"}, url="http://127.0.0.1:9/")
    with pytest.raises(KeyError):
        await cs.call("CB7", "Explode", {}, url="http://127.0.0.1:9/")
    with pytest.raises(UnknownBoxError):
        await cs.call("nobody", "Reset", {"type": "Soft"})
    assert cs.calls == []


# --------------------------------------------------------------------------------------------------
# the control interface


async def test_control_interface_round_trip(
    cs: CentralSystem, http: aiohttp.ClientSession, cp_schema: WsdlSchema
) -> None:
    control = ControlServer(cs)
    await control.start()
    base = control.url
    try:
        async with http.get(base + "health") as resp:
            health = await resp.json()
            assert resp.status == 200 and health["status"] == "ok" and health["soap_port"] == cs.port

        async with http.post(base + "behaviour", json={"boot_status": "Rejected", "fail_next": {"Heartbeat": 1}}) as resp:
            assert resp.status == 200
            assert (await resp.json())["boot_status"] == "Rejected"
        async with http.post(base + "behaviour", json={"boot_status": "Maybe"}) as resp:
            assert resp.status == 400 and "Maybe" in (await resp.json())["error"]
        async with http.post(base + "behaviour", json={"colour": "red"}) as resp:
            assert resp.status == 400
        async with http.post(base + "behaviour", json={"id_tags": {"CARD9": "Blocked"}, "heartbeat_interval": 30}) as resp:
            assert resp.status == 200
        assert cs.id_tags == {"CARD9": "Blocked"} and cs.heartbeat_interval == 30

        waiting = asyncio.create_task(http.get(base + "wait", params={"action": "BootNotification", "timeout": "5"}))
        answer = await post(http, cs, soap_request(BOOT_BODY, "/BootNotification"))
        assert answer.body.find(f"{{{CS_NS}}}status").text == "Rejected"
        async with await waiting as resp:
            assert resp.status == 200
            [waited] = await resp.json()
            assert waited["action"] == "BootNotification" and waited["payload"]["chargePointVendor"] == "Acme"

        async with http.get(base + "wait", params={"action": "StopTransaction", "timeout": "0.01"}) as resp:
            assert resp.status == 504

        async with http.get(base + "record") as resp:
            records = await resp.json()
            assert [r["seq"] for r in records] == [1] and records[0]["valid"] is True
            assert records[0]["wall_time"].endswith("Z")
        async with http.get(base + "record", params={"since": "1"}) as resp:
            assert await resp.json() == []

        async with StubBox(cp_schema, accept_remote_start) as box:
            call = {
                "chargeBoxIdentity": "CB1",
                "action": "RemoteStartTransaction",
                "payload": {"idTag": "CARD01"},
                "url": box.url,
            }
            async with http.post(base + "call", json=call) as resp:
                result = await resp.json()
                assert resp.status == 200
                assert result["ok"] is True and result["payload"] == {"status": "Accepted"}
            async with http.post(base + "call", json={**call, "payload": {"idTag": "x" * 21}}) as resp:
                assert resp.status == 400 and (await resp.json())["errors"]
            async with http.post(base + "call", json={**call, "url": None, "chargeBoxIdentity": "ghost"}) as resp:
                assert resp.status == 404
        async with http.get(base + "calls") as resp:
            assert [c["result"]["ok"] for c in await resp.json()] == [True]
    finally:
        await control.stop()


# --------------------------------------------------------------------------------------------------
# the converter and the command line


def test_converter_types_and_lists_round_trip(cp_schema: WsdlSchema) -> None:
    payload = {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
        "unknownKey": ["Nope"],
    }
    element = cp_schema.from_dict("getConfigurationResponse", payload)
    assert cp_schema.validate(element) == []
    assert cp_schema.to_dict(element) == payload
    assert cp_schema.operations["GetConfiguration"].output_action == "/GetConfigurationResponse"
    assert cp_schema.operation_for_element("resetRequest").name == "Reset"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="unknown key"):
        cp_schema.from_dict("resetRequest", {"kind": "Soft"})


def test_cli_refuses_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main(["--cs-wsdl", str(tmp_path / "missing.wsdl"), "--cp-wsdl", str(CP_WSDL)])
    assert exc.value.code == 2
    assert "missing.wsdl: no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["--cs-wsdl", str(CS_WSDL), "--cp-wsdl", str(CP_WSDL), "--port", "70000"])
    bad = tmp_path / "bad.wsdl"
    bad.write_text("<definitions/>")
    assert cli_main(["--cs-wsdl", str(bad), "--cp-wsdl", str(CP_WSDL)]) == 2
    assert "not a WSDL" in capsys.readouterr().err
    assert cli_main(["--cs-wsdl", str(CP_WSDL), "--cp-wsdl", str(CS_WSDL)]) == 2
    assert "not an OCPP Central System service WSDL" in capsys.readouterr().err


@pytest.mark.parametrize(("tls", "message"), [
    (["--cert", "missing.pem"], "--cert missing.pem: no such file"),
    (["--key", "cs.key"], "--key needs --cert"),
    (["--client-ca", "cs.key"], "--client-ca needs --cert"),
    (["--client-key", "cs.key"], "--client-key needs --client-cert"),
    (["--cert", "cs.key"], "cannot load the certificates"),  # a key is not a certificate
])
def test_cli_refuses_bad_tls_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], tls: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cs.key").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SystemExit) as exc:
        cli_main(["--cs-wsdl", str(CS_WSDL), "--cp-wsdl", str(CP_WSDL), *tls])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


async def test_cli_process_listens_and_stops_on_sigterm(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    ready = tmp_path / "ready.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hwsim.centralsystem",
        "--cs-wsdl", str(CS_WSDL), "--cp-wsdl", str(CP_WSDL), "--ready-file", str(ready),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        event = json.loads(line)
        assert event["event"] == "listening"
        assert json.loads(ready.read_text()) == event
        async with http.get(f"http://127.0.0.1:{event['control_port']}/health") as resp:
            assert (await resp.json())["soap_port"] == event["soap_port"]
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
