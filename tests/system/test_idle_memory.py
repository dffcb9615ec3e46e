"""What the running daemon holds while idle (issue 19: resident memory <= 50 MB), through the real
`chargebox run`: the modules its import log shows (PYTHONPROFILEIMPORTTIME, Python's -X importtime) and
the shared objects /proc/PID/maps shows, once the box has booted. What a site does not use, or only a
request uses, is imported when it is used."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from chargebox.cli import DAEMON_RUNTIME
from chargebox.config import JSON
from chargebox.site import SimulatedSite
from tests.system.sitetools import each_protocol, running

pytestmark = pytest.mark.system

#: Modules an idle daemon on a site without a modem or a firmware installer must not have imported.
NOT_WHILE_IDLE = {
    "ftplib": "the FTP client: a diagnostics upload or a firmware download",
    "chargebox.maintenance.ftp": "the FTP client",
    "tarfile": "the diagnostics archive",
    "chargebox.maintenance.collect": "the diagnostics archive",
    "importlib.metadata": "the library versions of a diagnostics file",
    "chargebox.maintenance.firmware": "UpdateFirmware, served only with [firmware] installer",
    "chargebox.mobile.wakeup": "the modem link, only with [modem]",
    "ctypes": "malloc_trim, looked up at the first large request body",
}
#: Each binding's own, for a site speaking another protocol.
OTHER_BINDING = {
    "SOAP": {"lxml": "the SOAP binding's XML library", "chargebox.binding.soap": "the SOAP binding"},
    "JSON": {"chargebox.binding.ocpp16json": "the OCPP-J binding", "jsonschema": "the OCPP-J schemas",
             # jsonschema's importlib.resources readers import it; the SOAP binding finds its WSDLs by __file__
             "zipfile": "importlib.resources' readers"},
}
#: Shared objects that must not be mapped: libstdc++ came with frozenlist's C++ extension alone.
NOT_MAPPED = ("libstdc++", "_frozenlist", "_ctypes")
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| *(\S+)$", re.MULTILINE)


def _interpreter_startup() -> set[str]:
    """What this interpreter imports before any code of ours runs: `site` and the environment's .pth files
    (a CI machine's base interpreter had one that imports certifi, and with it zipfile). Not the site's doing."""
    bare = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True,
                          check=True)
    return set(_IMPORTED.findall(bare.stderr))


@pytest.mark.parametrize("protocol", each_protocol())
def test_an_idle_daemon_holds_only_what_its_site_uses(protocol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")  # each import, on the daemon's stderr (its log)
    with running(SimulatedSite(protocol=protocol)) as site:
        site.wait_cs("BootNotification")
        site.wait_cs("StatusNotification")  # the connector told: the box runs, with every device
        imported = set(_IMPORTED.findall(site.log("chargebox"))) - _interpreter_startup()
        assert "chargebox.engine.chargepoint" in imported, "no import log: PYTHONPROFILEIMPORTTIME not honoured?"
        unwanted = {**NOT_WHILE_IDLE, **OTHER_BINDING["SOAP" if protocol == JSON else "JSON"]}
        loaded = {name: why for name, why in unwanted.items()
                  if any(module == name or module.startswith(name + ".") for module in imported)}
        assert not loaded, loaded
        maps = Path(f"/proc/{site.processes['chargebox'].pid}/maps").read_text()
        assert not [name for name in NOT_MAPPED if name in maps], [line for line in maps.splitlines()
                                                                   if any(name in line for name in NOT_MAPPED)]


@pytest.mark.parametrize("operator", [{}, {"PYTHONMALLOC": "pymalloc"}], ids=["as shipped", "operator's allocator"])
def test_the_daemon_runs_on_its_tuned_interpreter(operator: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`chargebox run` starts itself again, same process, with the interpreter settings of DAEMON_RUNTIME
    its environment lacks (issue 19); one the operator set is kept."""
    for name in DAEMON_RUNTIME:
        monkeypatch.delenv(name, raising=False)
    for name, value in operator.items():
        monkeypatch.setenv(name, value)
    with running(SimulatedSite()) as site:
        site.wait_cs("BootNotification")  # from the process the site started: the same pid after the exec
        pid = site.processes["chargebox"].pid
        environment = dict(entry.split("=", 1) for entry in
                           Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in entry)
        assert {name: environment.get(name) for name in DAEMON_RUNTIME} == {**DAEMON_RUNTIME, **operator}
        assert Path(f"/proc/{pid}/cmdline").read_text().split("\0")[1:4] == ["-m", "chargebox.cli", "run"]
