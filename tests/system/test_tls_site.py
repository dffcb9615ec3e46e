"""The whole site over HTTPS both ways (chapter 8 leaves TLS to the deployment; DEVELOPERS.md asks for
it): the daemon reaches its Central System over HTTPS, trusting the site's CA and presenting its
client certificate, and serves its endpoint over HTTPS, requiring the Central System's client
certificate; all of it as configured in the site config, through the real processes."""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tls_pki import Issued, Pki, make_pki

from chargebox.site import SimulatedSite, SiteTls
from tests.system.sitetools import official_wsdls, running

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"


def pair(issued: Issued) -> tuple[Path, Path]:
    return issued.cert, issued.key


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


@pytest.fixture
def site(pki: Pki) -> Iterator[SimulatedSite]:
    tls = SiteTls(ca=pki.ca.cert_file, central_system=pair(pki.cs_server), central_system_client=pair(pki.cs_client),
                  box=pair(pki.box_server), box_client=pair(pki.box_client))
    with running(SimulatedSite(tls=tls, **official_wsdls())) as site:  # type: ignore[arg-type]
        yield site


def test_a_session_and_a_remote_command_run_over_https_both_ways(site: SimulatedSite) -> None:
    site.wait_cs("BootNotification")
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    site.wait_hw("relay", closed=True)
    (start,) = site.wait_cs("StartTransaction")
    answer = site.call("RemoteStopTransaction", {"transactionId": start["response"]["transactionId"]})
    assert answer["payload"] == {"status": "Accepted"}, answer
    site.wait_cs("StopTransaction")
    site.wait_hw("relay", closed=False)

    record = site.cs("GET", "/record")
    assert all(r["valid"] for r in record), [r["errors"] for r in record if not r["valid"]]
    assert {r["from_url"] for r in record} == {f"https://127.0.0.1:{site.box_port}/"}


def test_the_endpoint_refuses_a_caller_without_the_client_certificate(site: SimulatedSite, pki: Pki) -> None:
    site.wait_cs("BootNotification")
    trusting = ssl.create_default_context(cafile=str(pki.ca.cert_file))  # trusts the box, presents nothing
    request = urllib.request.Request(f"https://127.0.0.1:{site.box_port}/", data=b"<x/>", method="POST")
    with pytest.raises(OSError):  # the handshake fails: certificate required
        urllib.request.urlopen(request, context=trusting, timeout=10)
    plain = urllib.request.Request(f"http://127.0.0.1:{site.box_port}/", data=b"<x/>", method="POST")
    with pytest.raises(OSError):  # and plain HTTP is not served at all
        urllib.request.urlopen(plain, timeout=10)
