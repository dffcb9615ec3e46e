"""TLS both ways (chapter 8), with certificates made at test time: the box trusts its Central System
by a CA file or a pinned certificate and can present a client certificate; its endpoint serves HTTPS
and can require the Central System's client certificate. Whatever is refused is refused during the
handshake: the peer never receives a byte of SOAP."""

from __future__ import annotations

import ssl

import aiohttp
import pytest
from ocpp_samples import T0
from soap_helpers import REMOTE_START, heartbeat_answer, post, recording_app, serving
from tls_pki import Issued, Pki, caller, make_pki

from chargebox import tls
from chargebox.binding.soap import envelope
from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.config import ClientTransport
from chargebox.ocpp.enums import RemoteStartStopStatus
from chargebox.ocpp.errors import CentralSystemUnreachable
from chargebox.ocpp.messages import (
    Confirmation,
    HeartbeatConfirmation,
    HeartbeatRequest,
    RemoteStartTransactionConfirmation,
    Request,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


# -- the box's client to an HTTPS Central System ---------------------------------------------------

async def heartbeat_over_tls(server: ssl.SSLContext, client: ssl.SSLContext) -> list[bytes]:
    """One Heartbeat to an HTTPS stub Central System; what the stub received."""
    received: list[bytes] = []
    async with serving(recording_app(heartbeat_answer, received), server) as url:
        box = CentralSystemClient(url, "CB-1", lambda: None, ssl_context=client)
        try:
            assert await box.call(HeartbeatRequest()) == HeartbeatConfirmation(current_time=T0)
        finally:
            await box.close()
    return received


async def refused_over_tls(server: ssl.SSLContext, client: ssl.SSLContext | None) -> None:
    received: list[bytes] = []
    async with serving(recording_app(heartbeat_answer, received), server) as url:
        box = CentralSystemClient(url, "CB-1", lambda: None, ssl_context=client)
        try:
            with pytest.raises(CentralSystemUnreachable):
                await box.call(HeartbeatRequest())
        finally:
            await box.close()
    assert received == []


async def test_a_central_system_from_the_configured_ca_is_trusted(pki: Pki) -> None:
    received = await heartbeat_over_tls(tls.server_context(pki.cs_server.cert, pki.cs_server.key),
                                        tls.client_context(ca_file=pki.ca.cert_file))
    assert len(received) == 1


async def test_a_central_system_from_another_ca_is_refused(pki: Pki) -> None:
    await refused_over_tls(tls.server_context(pki.cs_server.cert, pki.cs_server.key),
                           tls.client_context(ca_file=pki.wrong_ca.cert_file))


async def test_without_tls_keys_the_box_trusts_only_the_systems_cas(pki: Pki) -> None:
    # No ca_file, pin or client certificate: the config gives no context of ours, and aiohttp's
    # default one verifies against the system's CAs, which do not include the test CA.
    assert ClientTransport().ssl_context() is None
    await refused_over_tls(tls.server_context(pki.cs_server.cert, pki.cs_server.key), None)


async def test_a_pinned_self_signed_central_system_is_trusted(pki: Pki) -> None:
    await heartbeat_over_tls(tls.server_context(pki.self_signed.cert, pki.self_signed.key),
                             tls.client_context(pin_sha256=pki.self_signed.sha256))


async def test_a_central_system_that_is_not_the_pinned_one_is_refused(pki: Pki) -> None:
    await refused_over_tls(tls.server_context(pki.cs_server.cert, pki.cs_server.key),
                           tls.client_context(pin_sha256=pki.self_signed.sha256))


async def test_pin_and_ca_are_both_checked(pki: Pki) -> None:
    server = tls.server_context(pki.cs_server.cert, pki.cs_server.key)
    await heartbeat_over_tls(server, tls.client_context(ca_file=pki.ca.cert_file, pin_sha256=pki.cs_server.sha256))
    await refused_over_tls(server, tls.client_context(ca_file=pki.ca.cert_file, pin_sha256=pki.self_signed.sha256))
    await refused_over_tls(tls.server_context(pki.self_signed.cert, pki.self_signed.key),
                           tls.client_context(ca_file=pki.ca.cert_file, pin_sha256=pki.self_signed.sha256))


async def test_the_box_presents_its_client_certificate_where_the_central_system_requires_one(pki: Pki) -> None:
    server = tls.server_context(pki.cs_server.cert, pki.cs_server.key, client_ca_file=pki.ca.cert_file)
    await heartbeat_over_tls(server, tls.client_context(ca_file=pki.ca.cert_file, cert_file=pki.box_client.cert,
                                                        key_file=pki.box_client.key))
    await refused_over_tls(server, tls.client_context(ca_file=pki.ca.cert_file))


# -- the box's endpoint over HTTPS -----------------------------------------------------------------

HANDLED: list[Request] = []


async def accept(request: Request) -> Confirmation:
    HANDLED.append(request)
    return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)


async def call_box(pki: Pki, server: ssl.SSLContext, client: Issued | None) -> tuple[int, bytes]:
    async with serving(ChargePointEndpoint("CB-1", accept), server) as url, aiohttp.ClientSession() as session:
        async with session.post(url, data=REMOTE_START, ssl=caller(pki, client),
                                headers={"Content-Type": envelope.CONTENT_TYPE}) as response:
            return response.status, await response.read()


async def test_the_endpoint_serves_https_with_its_certificate(pki: Pki) -> None:
    status, _ = await call_box(pki, tls.server_context(pki.box_server.cert, pki.box_server.key), None)
    assert status == 200


async def test_the_endpoint_accepts_a_central_system_with_a_client_certificate_from_its_ca(pki: Pki) -> None:
    server = tls.server_context(pki.box_server.cert, pki.box_server.key, client_ca_file=pki.ca.cert_file)
    status, _ = await call_box(pki, server, pki.cs_client)
    assert status == 200


@pytest.mark.parametrize("client", ["none", "stranger"])
async def test_the_endpoint_refuses_a_caller_without_a_client_certificate_from_its_ca(pki: Pki, client: str) -> None:
    server = tls.server_context(pki.box_server.cert, pki.box_server.key, client_ca_file=pki.ca.cert_file)
    HANDLED.clear()
    with pytest.raises((aiohttp.ClientConnectionError, ssl.SSLError)):
        await call_box(pki, server, pki.stranger_client if client == "stranger" else None)
    assert HANDLED == []


async def test_the_endpoint_refuses_plain_http_when_it_serves_https(pki: Pki) -> None:
    server = tls.server_context(pki.box_server.cert, pki.box_server.key)
    async with serving(ChargePointEndpoint("CB-1", accept), server) as url:
        with pytest.raises(aiohttp.ClientError):
            await post(url.replace("https:", "http:"), REMOTE_START)


# -- fingerprints ----------------------------------------------------------------------------------

def test_a_fingerprint_is_64_hex_digits_with_or_without_colons() -> None:
    digest = bytes(range(32))
    assert tls.parse_fingerprint(digest.hex()) == digest
    assert tls.parse_fingerprint(":".join(f"{b:02X}" for b in digest)) == digest
    for bad in ("", "abc", digest.hex()[:-2], "zz" * 32, digest.hex() + "00"):
        with pytest.raises(ValueError, match="SHA-256"):
            tls.parse_fingerprint(bad)
