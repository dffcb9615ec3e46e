"""UpdateFirmware and GetDiagnostics through the real daemon: the reference Central System calls the
box, the box talks FTP to a pyftpdlib server in this test.

The firmware is a real wheel of this tree with a bumped version, built once per session. The daemon
runs from a virtual environment of its own (it sees the tree's editable install through
``--system-site-packages``), so ``installers/install-wheel`` installs the new version there and
never into the environment running the tests. This test plays systemd's part after the daemon
exits with status 75: it starts it again, as ``RestartForceExitStatus=75`` does.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import chargebox
from chargebox.service.reset import SOFT_RESET_EXIT_STATUS
from chargebox.site import SimulatedSite
from tests.chargebox.maintenance.ftpserver import FtpServer
from tests.conftest import ROOT
from tests.system.sitetools import wait_until

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"
NEW_VERSION = chargebox.__version__ + ".post1"


@pytest.fixture(scope="session")
def new_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this tree whose version is NEW_VERSION: the "new firmware"."""
    tree = tmp_path_factory.mktemp("new-firmware")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("chargebox", "hal", "hw-sim"):
        shutil.copytree(ROOT / name, tree / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    for path, line in ((tree / "pyproject.toml", 'version = "{}"'), (tree / "chargebox" / "__init__.py",
                                                                     '__version__ = "{}"')):
        text = path.read_text()
        assert line.format(chargebox.__version__) in text
        path.write_text(text.replace(line.format(chargebox.__version__), line.format(NEW_VERSION)))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w",
                    str(tree / "dist"), str(tree)], check=True, capture_output=True)
    (wheel,) = (tree / "dist").glob("chargebox-*.whl")
    return wheel


@pytest.fixture
def box_python(tmp_path: Path) -> str:
    """The interpreter of a virtual environment that runs the daemon and takes the new wheel.

    It sees the packages of the environment running the tests (chargebox, its dependencies, pip),
    after its own: a venv made from a venv is based on the base interpreter, so
    ``--system-site-packages`` alone would show it only what that interpreter has. A ``.pth`` line
    that starts with ``import`` runs at startup (site(3)); addsitedir also reads that environment's
    own ``.pth`` files, among them an editable install's."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    own = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], check=True,
                         capture_output=True, text=True).stdout.strip()
    outer = [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    (Path(own) / "tests-outer-environment.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({path!r})" for path in sorted(set(outer))) + "\n")
    return str(python)


@pytest.fixture
def ftp(tmp_path: Path) -> Iterator[FtpServer]:
    (tmp_path / "remote" / "upload").mkdir(parents=True)
    with FtpServer(tmp_path / "remote") as server:
        yield server


def make_site(box_python: str, **firmware: Any) -> SimulatedSite:
    keys = {"installer": [str(ROOT / "installers" / "install-wheel")], "retry_interval": 0, **firmware}
    extra = "\n[firmware]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items())
    extra += '\n[diagnostics]\nlog_files = ["chargebox.log"]\n'
    return SimulatedSite(extra_config=extra, python=box_python)


@pytest.fixture
def site(box_python: str) -> Iterator[SimulatedSite]:
    site = make_site(box_python, max_size=50_000_000)
    try:
        with site:
            yield site
    finally:
        print(site.log("chargebox"))
        site.remove()


def call(site: SimulatedSite, action: str, **payload: Any) -> dict[str, Any]:
    answer: dict[str, Any] = site.cs("POST", "/call", {"chargeBoxIdentity": site.identity, "action": action,
                                                       "payload": payload})
    assert answer["ok"] and answer["valid"], answer
    return answer


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def statuses(site: SimulatedSite, action: str) -> list[str]:
    return [r["payload"]["status"] for r in site.cs("GET", "/record") if r["action"] == action]


def test_update_firmware_to_a_new_version_of_itself_after_the_running_session(
        site: SimulatedSite, ftp: FtpServer, new_wheel: Path) -> None:
    (boot,) = site.wait_cs("BootNotification")
    assert boot["payload"]["firmwareVersion"] == chargebox.__version__
    image = new_wheel.read_bytes()
    (ftp.root / new_wheel.name).write_bytes(image)
    (ftp.root / (new_wheel.name + ".sha256")).write_text(hashlib.sha256(image).hexdigest())
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    site.wait_hw("relay", closed=True)
    site.wait_cs("StartTransaction")

    ftp.cut.after = len(image) // 3  # the link drops a third of the way in
    call(site, "UpdateFirmware", location=ftp.url(new_wheel.name), retrieveDate=now(), retries=2, retryInterval=1)
    site.wait_cs("FirmwareStatusNotification")
    (_, first), (_, resumed) = ftp.cut.transfers[:2]
    assert first >= len(image) // 3 and resumed == len(image) - first < len(image)
    assert statuses(site, "FirmwareStatusNotification") == ["Downloaded"]
    assert site.processes["chargebox"].poll() is None  # waiting for the session, not installing
    # The daemon logs this right after it sent Downloaded: wait for the line, do not race it.
    wait_until(lambda: "installing when the running transactions have ended" in site.log("chargebox"))

    site.hw("POST", "/card", {"uid": CARD})  # the driver ends the session
    site.wait_cs("StopTransaction")
    site.wait_cs("FirmwareStatusNotification", 2)
    assert site.processes["chargebox"].wait(30) == SOFT_RESET_EXIT_STATUS
    site.start_daemon()  # systemd: RestartForceExitStatus=75
    boots = site.wait_cs("BootNotification", 2, timeout=30)
    assert boots[-1]["payload"]["firmwareVersion"] == NEW_VERSION

    record = site.cs("GET", "/record")
    assert all(r["valid"] for r in record), [r["errors"] for r in record if not r["valid"]]
    steps = [r["action"] if r["action"] != "FirmwareStatusNotification" else r["payload"]["status"]
             for r in record if r["action"] in ("StopTransaction", "FirmwareStatusNotification", "BootNotification")]
    assert steps == ["BootNotification", "Downloaded", "StopTransaction", "Installed", "BootNotification"]
    assert "s3cret" not in site.log("chargebox")


def test_get_diagnostics_uploads_one_archive_of_logs_and_state(site: SimulatedSite, ftp: FtpServer) -> None:
    site.wait_cs("BootNotification")
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    site.wait_cs("StartTransaction")
    answer = call(site, "GetDiagnostics", location=ftp.url("upload/"), retries=1, retryInterval=1)
    name = answer["payload"]["fileName"]
    assert name.startswith("CB-SIM-1-") and name.endswith("Z.tar.gz")
    site.wait_cs("DiagnosticsStatusNotification")
    assert statuses(site, "DiagnosticsStatusNotification") == ["Uploaded"]
    with tarfile.open(ftp.root / "upload" / name) as tar:
        content = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert f"serving as {site.identity}" in content["logs/chargebox.log"]
    assert json.loads(content["versions.json"])["chargebox"] == chargebox.__version__
    assert json.loads(content["site-config.json"])["chargebox"]["identity"] == site.identity
    assert json.loads(content["ocpp-configuration.json"])["MeterValueSampleInterval"] == "2"
    (running,) = json.loads(content["transactions.json"])
    assert running["id_tag"] == "…E680" and running["stop_time"] is None
    assert all("s3cret" not in text and CARD not in text for text in content.values())


def test_bad_input_is_told_and_never_stops_the_daemon(site: SimulatedSite, ftp: FtpServer) -> None:
    site.wait_cs("BootNotification")
    port = ftp.port
    # A full disk: the download's part file is /dev/full, where every write fails with ENOSPC.
    (ftp.root / "full.whl").write_bytes(b"x" * 100_000)
    (site.workdir / "firmware").mkdir()
    (site.workdir / "firmware" / "full.whl.part").symlink_to("/dev/full")
    cases = [
        ("not a url at all", "malformed URL"),
        ("http://127.0.0.1/fw.whl", "unsupported scheme 'http'"),
        ("ftp://box:s3cret!@nowhere.invalid/fw.whl", "unknown host 'nowhere.invalid'"),
        (f"ftp://box:wrong-pw@127.0.0.1:{port}/fw.whl", "login as 'box' refused"),
        (f"ftp://box:s3cret!@127.0.0.1:{port}/../../etc/fw.whl", "the path leaves its directory"),
        (f"ftp://box:s3cret!@127.0.0.1:{port}/missing.whl", "550"),
        (f"ftp://box:s3cret!@127.0.0.1:{port}/full.whl", "no space left"),
    ]
    for count, (location, reason) in enumerate(cases, start=1):
        call(site, "UpdateFirmware", location=location, retrieveDate=now(), retries=0)
        site.wait_cs("FirmwareStatusNotification", count)
        assert reason in site.log("chargebox"), reason
    assert statuses(site, "FirmwareStatusNotification") == ["DownloadFailed"] * len(cases)

    bad = call(site, "GetDiagnostics", location="sftp://127.0.0.1/upload/")
    assert "fileName" not in bad["payload"]
    refused = call(site, "GetDiagnostics", location=ftp.url("upload/", password="wrong-pw"), retries=3)
    assert refused["payload"]["fileName"]
    site.wait_cs("DiagnosticsStatusNotification", 2)
    assert statuses(site, "DiagnosticsStatusNotification") == ["UploadFailed", "UploadFailed"]
    log = site.log("chargebox")
    assert "unsupported scheme 'sftp'" in log and "s3cret" not in log and "wrong-pw" not in log
    assert site.processes["chargebox"].poll() is None
    assert call(site, "GetConfiguration", key=["HeartBeatInterval"])["payload"]["configurationKey"]
