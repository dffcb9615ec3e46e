"""The service under a real systemd: a minimal Debian bookworm root (debootstrap, cached in
``~/.cache/chargebox``), chargebox installed into it by the README's own OEM image commands (read
from the README, run for this host's architecture so the result can boot here), booted with
``systemd-nspawn -b``. The simulator and the reference Central System run on the host; the
container shares its network, so the box's config points at them on loopback.

Checked: the unit goes active once READY, a whole session reaches the journal, ``systemctl stop``
exits 0 and opens the relay, a soft reset comes back, a hung loop is killed by the watchdog and
restarted, a bad config ends in 78 and is not restarted.
"""

from __future__ import annotations

import json
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chargebox.service.install import CONFIG, PREFIX, TREE, UNIT
from chargebox.site import SimulatedSite
from tests.system.debian import Container, debian_root, unavailable
from tests.system.sitetools import wait_until
from tests.system.test_service_install import UNTRACKED, readme_block

pytestmark = [pytest.mark.system, pytest.mark.network, pytest.mark.timeout(900),
              pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")]
IMAGE_PYTHON = "3.11"  # bookworm's
HOST_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
# The README's image is built with the image's Python minor version; the installer refuses another.
pytestmark.append(pytest.mark.skipif(HOST_PYTHON != IMAGE_PYTHON,
                                     reason=f"the image has Python {IMAGE_PYTHON}, these tests run on {HOST_PYTHON}"))
IDENTITY = "CB-SIM-1"
ID_TAG = "04A2B3C4D5E680"


class ContainerSite(SimulatedSite):
    """The simulator and the reference Central System on the host; the daemon is the container's service."""

    def start_daemon(self) -> subprocess.Popen[str]:  # type: ignore[override]
        return None  # type: ignore[return-value]

    def box_config(self) -> str:
        """The site's config as the box reads it from /etc/chargebox: its files where the unit
        lets it write, and no card reader (the simulator's is a pseudo-terminal of the host's)."""
        text = self.config_path.read_text()
        for old, new in (('path = "chargebox.db"', 'path = "/var/lib/chargebox/chargebox.db"'),
                         ('control_socket = "control.sock"', 'control_socket = "/run/chargebox/control.sock"')):
            assert old in text, old
            text = text.replace(old, new)
        return text[:text.index("[reader]")] + text[text.index("[[connector]]"):]


@dataclass
class Box:
    container: Container
    site: ContainerSite
    root: Path
    timings: dict[str, float]

    def systemctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.container.run("systemctl", *args)

    def show(self, *properties: str) -> dict[str, str]:
        out = self.systemctl("show", "chargebox.service", *(f"--property={p}" for p in properties)).stdout
        return dict(line.split("=", 1) for line in out.splitlines())

    def journal(self, *matches: str) -> list[dict[str, Any]]:
        out = self.container.run("journalctl", "--no-pager", "-o", "json", *matches).stdout
        return [json.loads(line) for line in out.splitlines()]

    def boots(self) -> int:
        return sum(1 for r in self.site.cs("GET", "/record") if r["action"] == "BootNotification")

    def ensure_running(self) -> None:
        """Each test starts from a running service, its first BootNotification answered."""
        if self.show("ActiveState")["ActiveState"] != "active":
            boots = self.boots()
            started = self.systemctl("start", "chargebox")
            assert started.returncode == 0, started.stderr
            self.site.wait_cs("BootNotification", boots + 1, timeout=30)


def run_image_commands(tree: Path, root: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """The README's OEM image commands, verbatim but for the architecture (this host's, so the image
    boots here) and the image's mount point."""
    results = {}
    script: list[str] = []
    for command in readme_block("## Building an OEM image"):
        command = command.replace("aarch64", platform.machine()).replace("/mnt/image", str(root))
        script.append(command)
        if command.startswith("platforms="):  # a shell variable for the lines after it
            continue
        results[command] = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(script)], cwd=tree,
                                          capture_output=True, text=True, check=False, timeout=600)
        assert results[command].returncode == 0, command + "\n" + results[command].stdout + results[command].stderr
        script = [line for line in script if line.startswith("platforms=")]
    return results


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    work = tmp_path_factory.mktemp("debian")
    timings: dict[str, float] = {}
    root, timings["root"] = debian_root(work / "root")
    tree = work / "src"
    shutil.copytree(TREE, tree, ignore=UNTRACKED)
    started = time.monotonic()
    results = run_image_commands(tree, root)
    timings["install"] = time.monotonic() - started
    (verify,) = (result for command, result in results.items() if command.startswith("systemd-analyze verify"))
    assert (verify.stdout, verify.stderr) == ("", ""), "the README promises no output"
    site_packages = root / PREFIX / "lib" / f"python{IMAGE_PYTHON}" / "site-packages"
    compiled = site_packages / "chargebox" / "__pycache__"
    assert list(compiled.glob(f"*.cpython-{HOST_PYTHON.replace('.', '')}.pyc"))  # the tools
    assert list(compiled.glob(f"*.cpython-{HOST_PYTHON.replace('.', '')}.opt-2.pyc"))  # the daemon (DAEMON_RUNTIME)
    assert not (root / "opt" / ".chargebox.new").exists()

    site = ContainerSite(heartbeat_interval=300, sample_interval=2)
    container = Container(root, f"chargebox-test-{time.monotonic_ns() % 10**8}", work / "console.log")
    try:
        with site:
            (root / CONFIG).write_text(site.box_config())
            started = time.monotonic()
            container.boot()
            timings["boot"] = time.monotonic() - started
            yield Box(container, site, root, timings)
            print(container.run("journalctl", "--no-pager", "-u", "chargebox").stdout)
    finally:
        assert container.poweroff() == 0, container.log()
        print(f"timings (s): {timings}")
        shutil.rmtree(work, ignore_errors=True)


def test_at_boot_the_unit_goes_active_once_ready_as_the_service_user(box: Box) -> None:
    box.site.wait_cs("BootNotification", timeout=30)
    state = box.show("ActiveState", "SubState", "StatusText", "MainPID", "NRestarts")
    assert (state["ActiveState"], state["SubState"], state["NRestarts"]) == ("active", "running", "0")
    # Type=notify: active means READY=1 came, with the daemon's STATUS=.
    assert state["StatusText"] == f"serving as {IDENTITY} at http://127.0.0.1:{box.site.box_port}/"
    pid = state["MainPID"]
    owner = box.container.run("stat", "-c", "%U", f"/proc/{pid}").stdout.strip()
    assert owner == "chargebox"  # created at first boot by systemd-sysusers
    # LimitNOFILE=65536, or as close as the host's hard limit lets the container go (systemd's default: 1024).
    limits = box.container.run("cat", f"/proc/{pid}/limits").stdout
    expected = min(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    assert re.search(rf"Max open files\s+{expected}\s+{expected}\s", limits), limits
    config = box.container.run("stat", "-c", "%U:%G %a", f"/{CONFIG}").stdout.strip()
    assert config == "root:chargebox 640"  # systemd-tmpfiles at boot
    (documentation,) = box.show("Documentation")["Documentation"].split()
    assert box.container.run("test", "-s", documentation.removeprefix("file:")).returncode == 0


def test_stop_exits_zero_and_opens_the_relay(box: Box) -> None:
    box.ensure_running()
    mark = box.site.hw_seq()
    box.site.hw("POST", "/plug", {"connector": 1})
    started = box.site.call("RemoteStartTransaction", {"idTag": ID_TAG, "connectorId": 1})
    assert started["payload"] == {"status": "Accepted"}, started
    box.site.wait_hw("relay", closed=True, after=mark, timeout=20)
    mark = box.site.hw_seq()
    stopped = box.systemctl("stop", "chargebox")
    assert stopped.returncode == 0, stopped.stderr
    box.site.wait_hw("relay", closed=False, after=mark)
    assert box.show("ExecMainStatus", "Result", "ActiveState") == {
        "ExecMainStatus": "0", "Result": "success", "ActiveState": "inactive"}
    box.site.hw("POST", "/unplug", {"connector": 1})


@pytest.fixture(scope="module")
def session(box: Box) -> dict[str, Any]:
    """One whole session through the service: remote start, charging, remote stop, unplugged;
    the StartTransaction the Central System received."""
    box.ensure_running()
    since = box.site.hw_seq()
    box.site.hw("POST", "/plug", {"connector": 1})
    started = box.site.call("RemoteStartTransaction", {"idTag": ID_TAG, "connectorId": 1})
    assert started["payload"] == {"status": "Accepted"}, started
    box.site.wait_hw("relay", closed=True, after=since, timeout=20)
    starts = len([r for r in box.site.cs("GET", "/record") if r["action"] == "StartTransaction"])
    start = box.site.wait_cs("StartTransaction", starts)[-1]
    transaction = start["response"]["transactionId"]
    box.site.wait_cs("MeterValues")
    stopped = box.site.call("RemoteStopTransaction", {"transactionId": transaction})
    assert stopped["payload"] == {"status": "Accepted"}, stopped
    box.site.wait_hw("relay", closed=False, after=since)
    wait_until(lambda: any(r["payload"]["transactionId"] == transaction
                           for r in box.site.cs("GET", "/record") if r["action"] == "StopTransaction"))
    box.site.hw("POST", "/unplug", {"connector": 1})
    start_record: dict[str, Any] = start
    return start_record


def test_the_journal_holds_the_session_under_the_services_name(box: Box, session: dict[str, Any]) -> None:
    entries = box.journal("--unit=chargebox.service")
    daemon = [e for e in entries if e.get("_PID") != "1"]  # not systemd's own lines about the unit
    assert daemon and {e.get("SYSLOG_IDENTIFIER") for e in daemon} == {"chargebox"}
    text = "\n".join(str(e.get("MESSAGE")) for e in daemon)
    assert f"serving as {IDENTITY}" in text and "boot accepted" in text
    assert ID_TAG not in text  # masked, never in full


def test_the_sessions_journal_entries_carry_its_fields(box: Box, session: dict[str, Any]) -> None:
    transaction = str(session["response"]["transactionId"])
    entries = box.journal("--unit=chargebox.service", "CONNECTOR=1")
    assert entries, "no entry with CONNECTOR=1"
    assert any(e.get("TRANSACTION") == transaction for e in entries)
    assert any(e.get("LOCAL_TX") for e in entries)
    assert any(e.get("ID_TAG") == "…" + ID_TAG[-4:] for e in entries)
    assert {"StartTransaction", "StopTransaction"} <= {e.get("ACTION") for e in entries}
    assert any(e.get("TRANSACTION") == transaction and e.get("ACTION") == "StopTransaction" for e in entries)
    assert all(ID_TAG not in json.dumps(e, ensure_ascii=False) for e in box.journal("--unit=chargebox.service"))


def test_a_soft_reset_comes_back(box: Box) -> None:
    box.ensure_running()
    before = box.show("MainPID", "NRestarts", "ExecMainStartTimestampMonotonic")
    boots = box.boots()
    answer = box.site.call("Reset", {"type": "Soft"})
    assert answer["payload"] == {"status": "Accepted"}, answer
    box.site.wait_cs("BootNotification", boots + 1, timeout=30)  # RestartSec=5, then a new daemon
    after = box.show("MainPID", "NRestarts", "ActiveState")
    assert after["ActiveState"] == "active" and after["MainPID"] != before["MainPID"]
    assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1
    # Exit status 75 is a success to the unit (SuccessExitStatus=) that is restarted all the same,
    # RestartSec= (5 s) later, as the README says.
    manager = [(int(e["__MONOTONIC_TIMESTAMP"]) / 1e6, e["MESSAGE"])
               for e in box.journal("--unit=chargebox.service", "_PID=1", "--boot")
               if int(e["__MONOTONIC_TIMESTAMP"]) > int(before["ExecMainStartTimestampMonotonic"])]
    said = "\n".join(message for _, message in manager)
    assert "Scheduled restart job" in said and "Failed with result" not in said, said
    ended = next(when for when, message in manager if "Deactivated successfully" in message)
    starting = next(when for when, message in manager if when > ended and message.startswith("Starting chargebox"))
    assert 5 <= starting - ended < 6, said
    daemon = "\n".join(e["MESSAGE"] for e in box.journal("--unit=chargebox.service", "SYSLOG_IDENTIFIER=chargebox"))
    assert "soft reset: stopping; systemd restarts the daemon" in daemon


def test_a_hung_event_loop_is_killed_by_the_watchdog_and_restarted(box: Box) -> None:
    """SIGSTOP hangs the whole daemon, its event loop with it, as a blocking call on the loop would.
    A drop-in shortens the watchdog (30 s) and the abort grace (TimeoutStopSec, 30 s: a stopped
    process only dies of SIGKILL) to keep the test short; the rest is the unit as shipped."""
    dropin = box.root / f"{UNIT}.d" / "test-watchdog.conf"
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text("[Service]\nWatchdogSec=2\nTimeoutAbortSec=2\n")
    try:
        assert box.systemctl("daemon-reload").returncode == 0
        boots = box.boots()
        assert box.systemctl("restart", "chargebox").returncode == 0
        boots = len(box.site.wait_cs("BootNotification", boots + 1, timeout=30))
        before = box.show("MainPID", "NRestarts")
        assert box.systemctl("kill", "--kill-whom=main", "--signal=SIGSTOP", "chargebox").returncode == 0
        box.site.wait_cs("BootNotification", boots + 1, timeout=40)  # 2 s + 2 s + RestartSec 5 s
        after = box.show("MainPID", "NRestarts", "ActiveState")
        assert after["ActiveState"] == "active" and after["MainPID"] != before["MainPID"]
        assert int(after["NRestarts"]) == int(before["NRestarts"]) + 1
        manager = "\n".join(e["MESSAGE"] for e in box.journal("--unit=chargebox.service", "_PID=1"))
        assert "Watchdog timeout" in manager and "Failed with result 'watchdog'" in manager, manager
    finally:
        dropin.unlink()
        box.systemctl("daemon-reload")
        box.systemctl("restart", "chargebox")


def test_a_bad_config_ends_in_78_and_is_not_restarted(box: Box) -> None:
    box.ensure_running()
    good = (box.root / CONFIG).read_text()
    (box.root / CONFIG).write_text(good.replace(f'identity = "{IDENTITY}"', "identity = 42"))
    try:
        restarts = int(box.show("NRestarts")["NRestarts"])
        assert box.systemctl("restart", "chargebox").returncode != 0
        state = box.show("ExecMainStatus", "Result", "ActiveState", "SubState", "NRestarts")
        # Failed for good, not "activating (auto-restart)": RestartPreventExitStatus=78.
        assert state == {"ExecMainStatus": "78", "Result": "exit-code", "ActiveState": "failed",
                         "SubState": "failed", "NRestarts": str(restarts)}
        said = "\n".join(e["MESSAGE"] for e in box.journal("--unit=chargebox.service", "SYSLOG_IDENTIFIER=chargebox"))
        assert "chargebox.identity" in said and "Traceback" not in said, said
    finally:
        (box.root / CONFIG).write_text(good)


def test_the_readmes_install_on_a_box_replaces_the_running_one(box: Box) -> None:
    """The README's install on a Raspberry Pi, verbatim, inside the booted box from a clone of this
    tree (its dependencies from PyPI): the environment is rebuilt beside the running one and moved
    into place, the site's config kept and checked, and the service runs the result."""
    box.ensure_running()
    shutil.copytree(TREE, box.root / "root" / "chargebox", ignore=UNTRACKED)
    # The box reaches PyPI through the host's network: it trusts what the host trusts there (a
    # proxy that intercepts TLS has its own CA in the host's bundle).
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", box.root / "etc/ssl/certs/ca-certificates.crt")
    outputs = []
    for command in readme_block("## Installing on a Raspberry Pi"):
        done = box.container.run("sh", "-c", f"cd /root/chargebox && {command}", timeout=600)
        assert done.returncode == 0, command + "\n" + done.stdout + done.stderr
        outputs.append(done.stdout)
    assert f"kept the existing /{CONFIG}" in outputs[-1]
    assert "start it with: systemctl start chargebox" in outputs[-1]  # check-config found nothing wrong
    assert box.container.run("test", "-e", "/opt/.chargebox.new").returncode != 0
    compiled = box.container.run("sh", "-c", f"ls /{PREFIX}/lib/python{IMAGE_PYTHON}/site-packages/chargebox/__pycache__")
    assert f"cpython-{IMAGE_PYTHON.replace('.', '')}.pyc" in compiled.stdout
    boots = box.boots()
    assert box.systemctl("restart", "chargebox").returncode == 0
    box.site.wait_cs("BootNotification", boots + 1, timeout=30)
    assert box.show("ActiveState")["ActiveState"] == "active"
