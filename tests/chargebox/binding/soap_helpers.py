"""Helpers of the binding tests: real sockets on loopback, requests as the wire sees them, faults
read off the wire, and a stub Central System answering through the project's own service."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web
from lxml import etree
from ocpp_samples import T0

from chargebox.binding.soap import envelope
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap.protocol import SoapProtocol
from chargebox.binding.soap15 import CP_NAMESPACE, CS_NAMESPACE, SOAP15
from chargebox.binding.soap16 import SOAP16
from chargebox.binding.soap.service import central_system_service, schema_of
from chargebox.ocpp.messages import HeartbeatConfirmation

S = envelope.SOAP12_NAMESPACE
A = envelope.WSA_NAMESPACE
#: The official WSDLs of each SOAP version, by side.
OFFICIAL_FILES = {
    SOAP15.name: {"cs": "ocpp_centralsystemservice_1.5_final.wsdl",
                  "cp": "ocpp_chargepointservice_1.5_final.wsdl"},
    SOAP16.name: {"cs": "OCPP_CentralSystemService_1.6.wsdl", "cp": "OCPP_ChargePointService_1.6.wsdl"},
}


def request_xml(body: str, *, identity: str | None = "CB-1", action: str = "/RemoteStartTransaction",
                headers: str = "", namespace: str = CP_NAMESPACE, message_id: str = "urn:uuid:1") -> bytes:
    """A SOAP 1.2 request as a Central System would write it; ``headers`` adds header elements."""
    identity_xml = f"<o:chargeBoxIdentity>{identity}</o:chargeBoxIdentity>" if identity is not None else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="{S}" xmlns:a="{A}" xmlns:o="{namespace}">
 <s:Header>{identity_xml}<a:Action>{action}</a:Action>
 <a:MessageID>{message_id}</a:MessageID><a:To>http://box/</a:To>{headers}</s:Header>
 <s:Body>{body}</s:Body></s:Envelope>""".encode()


REMOTE_START_BODY = ("<o:remoteStartTransactionRequest><o:idTag>ABC</o:idTag><o:connectorId>1</o:connectorId>"
                     "</o:remoteStartTransactionRequest>")
REMOTE_START = request_xml(REMOTE_START_BODY)


@contextlib.asynccontextmanager
async def serving(served: web.Application | ChargePointEndpoint, ssl_context: ssl.SSLContext | None = None,
                  ) -> AsyncIterator[str]:
    """An app, or the box's endpoint as the daemon serves it, on a free loopback port; yields its base URL."""
    if isinstance(served, ChargePointEndpoint):
        runner: web.AppRunner = served.runner()
        await runner.setup()
        site: web.BaseSite = served.site(runner, "127.0.0.1", 0, ssl_context)
    else:
        runner = web.AppRunner(served, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    scheme = "https" if ssl_context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def post(url: str, body: bytes, content_type: str = envelope.CONTENT_TYPE,
               headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.post(
        url, data=body, headers={"Content-Type": content_type, **(headers or {})}
    ) as response:
        return response.status, await response.read()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.1 response read off a raw connection."""
    status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines if line)
    headers = {name.strip().lower(): value.strip() for name, _, value in fields}
    return int(status_line.split()[1]), headers, await reader.readexactly(int(headers.get("content-length", 0)))


def fault_of(body: bytes, protocol: SoapProtocol = SOAP15) -> tuple[str, str]:
    """(Code, Subcode) of a SOAP 1.2 fault on the wire, checking the subcode's namespace (1.5 8.2:
    urn://Ocpp/2012/02/; OCPP-S 1.6 chapter 4 and its errata 3.3: urn://Ocpp/Cs/2015/10/)."""
    root = etree.fromstring(body)
    assert root.tag == f"{{{S}}}Envelope", body
    value = root.findtext(f".//{{{S}}}Code/{{{S}}}Value")
    subcode = root.findtext(f".//{{{S}}}Subcode/{{{S}}}Value")
    assert value and subcode, body
    fault = root.find(f".//{{{S}}}Fault")
    assert fault is not None
    code_prefix, subcode_prefix = value.split(":")[0], subcode.split(":")[0]
    assert fault.nsmap.get(code_prefix) == S  # SOAP 1.2 Code values are env: QNames
    assert fault.nsmap.get(subcode_prefix) == protocol.fault_namespace
    return value.split(":")[-1], subcode.split(":")[-1]


@functools.cache
def official_schema(folder: Path, side: str, protocol: SoapProtocol = SOAP15) -> etree.XMLSchema:
    """The official schema of the Central System ("cs") or Charge Point ("cp") service of ``protocol``."""
    return schema_of(folder / OFFICIAL_FILES[protocol.name][side])


Answer = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


def recording_app(answer: Answer, received: list[bytes]) -> web.Application:
    """An HTTP server at ``/`` that records each request body and answers with ``answer``."""

    async def soap(http: web.Request) -> web.StreamResponse:
        body = await http.read()
        received.append(body)
        return await answer(http, body)

    app = web.Application()
    app.router.add_post("/", soap)
    return app


def heartbeat_reply(body: bytes) -> bytes:
    """A Central System's answer to the Heartbeat in ``body``: currentTime T0, related to its MessageID."""
    sent = envelope.parse(body, CS_NAMESPACE)
    conf = central_system_service().render(HeartbeatConfirmation(current_time=T0), "Heartbeat")
    return envelope.build(envelope.Addressing(action="/HeartbeatResponse", relates_to=sent.headers.message_id),
                          CS_NAMESPACE, conf)


async def heartbeat_answer(_http: web.Request, body: bytes) -> web.Response:
    return web.Response(body=heartbeat_reply(body), content_type=envelope.CONTENT_TYPE)
