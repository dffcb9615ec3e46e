"""No idTag in full and no password in any log line, ever: a site runs what puts idTags and passwords in
front of the box (sessions, a refused card, a reservation, UpdateFirmware and GetDiagnostics with FTP
passwords, requests that break the schema with them), then every log its processes wrote is searched."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from chargebox.binding.soap import envelope
from chargebox.site import SimulatedSite
from tests.chargebox.binding.soap_helpers import request_xml
from tests.chargebox.maintenance.ftpserver import PASSWORD, FtpServer
from tests.system.sitetools import running, session, wait_until

pytestmark = pytest.mark.system

CARD = "04A2B3C4D5E680"
REFUSED = "DEADBEEF01020304"
RESERVED = "RESERVED00C0FFEE"
GROUP = "GROUP-PARENT-0042"
STRANGER = "STRANGER00BADA55"
TOO_LONG = "TOOLONG-IDTAG-0123456789"  # 24 characters: IdToken is at most 20 (7.13)
WRONG_PASSWORD = "wrong-pw-7Qz"
SCHEMA_PASSWORD = "pw-in-a-bad-url-9Xk"
ID_TAGS = (CARD, REFUSED, RESERVED, GROUP, STRANGER, TOO_LONG)
PASSWORDS = (PASSWORD, WRONG_PASSWORD, SCHEMA_PASSWORD)


@pytest.fixture
def ftp(tmp_path: Path) -> Iterator[FtpServer]:
    (tmp_path / "remote" / "upload").mkdir(parents=True)
    with FtpServer(tmp_path / "remote") as server:
        yield server


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    extra = ('\n[firmware]\ninstaller = ["/bin/false"]\nretry_interval = 0\n'
             '\n[diagnostics]\nlog_files = ["chargebox.log"]\n')
    with running(SimulatedSite(extra_config=extra, ocpp={"ReservationEnabled": True})) as site:
        yield site


def call(site: SimulatedSite, action: str, **payload: Any) -> dict[str, Any]:
    answer: dict[str, Any] = site.cs("POST", "/call", {"chargeBoxIdentity": site.identity, "action": action,
                                                       "payload": payload})
    assert answer["ok"], answer
    return answer


def raw_call(site: SimulatedSite, action: str, body: str) -> int:
    """A request the reference Central System would refuse to send (it breaks the schema), posted to the box."""
    request = urllib.request.Request(f"http://127.0.0.1:{site.box_port}/", method="POST",
                                     data=request_xml(body, identity=site.identity, action=f"/{action}"),
                                     headers={"Content-Type": envelope.CONTENT_TYPE})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def now(**delta: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


def count(site: SimulatedSite, action: str) -> int:
    return sum(1 for r in site.cs("GET", "/record") if r["action"] == action)


def test_no_log_holds_an_id_tag_in_full_or_a_password(site: SimulatedSite, ftp: FtpServer) -> None:
    site.wait_cs("BootNotification")
    site.cs("POST", "/behaviour", {"id_tags": {REFUSED: "Blocked"}})
    assert session(site, CARD)

    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": REFUSED})
    wait_until(lambda: "not authorized" in site.log("chargebox"))
    site.hw("POST", "/unplug", {"connector": 1})

    reserved = call(site, "ReserveNow", connectorId=1, expiryDate=now(hours=1), idTag=RESERVED, parentIdTag=GROUP,
                    reservationId=7)
    assert reserved["payload"] == {"status": "Accepted"}
    site.cs("POST", "/behaviour", {"fail_next": {"Authorize": 1}})  # the stranger's group cannot be learnt
    refused = call(site, "RemoteStartTransaction", idTag=STRANGER, connectorId=1)
    assert refused["payload"] == {"status": "Rejected"}
    assert call(site, "CancelReservation", reservationId=7)["payload"] == {"status": "Accepted"}

    # Schema errors: libxml2 repeats an offending value in its message (a fault and a log line).
    bad_location = f"ftp://box:{SCHEMA_PASSWORD}@127.0.0.1:99999999999999999999/upload/"
    assert raw_call(site, "GetDiagnostics", f"<o:getDiagnosticsRequest><o:location>{bad_location}</o:location>"
                                            "</o:getDiagnosticsRequest>") == 400
    assert raw_call(site, "RemoteStartTransaction", f"<o:remoteStartTransactionRequest><o:idTag>{TOO_LONG}"
                                                    "</o:idTag></o:remoteStartTransactionRequest>") == 400
    assert raw_call(site, "UpdateFirmware", "<o:updateFirmwareRequest><o:retrieveDate>now</o:retrieveDate>"
                                            f"<o:location>ftp://box:{SCHEMA_PASSWORD}@h/fw</o:location>"
                                            "</o:updateFirmwareRequest>") == 400
    wait_until(lambda: site.log("chargebox").count("does not match the OCPP 1.5 schema") >= 3)

    call(site, "UpdateFirmware", location=ftp.url("missing.whl"), retrieveDate=now(), retries=0)
    site.wait_cs("FirmwareStatusNotification")
    for done, password in enumerate((PASSWORD, WRONG_PASSWORD), start=1):  # one diagnostics upload at a time
        call(site, "GetDiagnostics", location=ftp.url("upload/", password=password), retries=0)
        site.wait_cs("DiagnosticsStatusNotification", done, timeout=30)
    statuses = sorted(r["payload"]["status"] for r in site.cs("GET", "/record")
                      if r["action"] in ("FirmwareStatusNotification", "DiagnosticsStatusNotification"))
    assert statuses == ["DownloadFailed", "UploadFailed", "Uploaded"]

    site.stop()  # every process has written and closed its log
    logs = sorted(site.workdir.rglob("*.log"))
    assert {path.name for path in logs} >= {"chargebox.log", "hwsim.log", "central-system.log"}
    found = [(path.name, secret, line) for path in logs for line in path.read_text(errors="replace").splitlines()
             for secret in ID_TAGS + PASSWORDS if secret.casefold() in line.casefold()]
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)
    daemon = (site.workdir / "chargebox.log").read_text()
    assert "…E680" in daemon and "…0304" in daemon and "box:***@" in daemon  # masked, not missing
