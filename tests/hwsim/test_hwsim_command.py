"""The ``hwsim`` command as a newcomer meets it: its version, and a reference Central System that
starts without being told where the WSDLs are (issue 14 item 10)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

from hwsim.centralsystem.__main__ import build_parser as central_system_parser
from hwsim.centralsystem.__main__ import project_wsdls
from hwsim.cli import build_parser

from tests.conftest import ROOT


def hwsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hwsim.cli", *args], check=False, capture_output=True, text=True,
                          timeout=60)


def test_version() -> None:
    done = hwsim("--version")
    assert (done.returncode, done.stdout) == (0, f"hwsim {importlib.metadata.version('chargebox')}\n")


def test_the_central_system_is_named_as_it_is_run() -> None:
    done = hwsim("central-system", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: hwsim central-system ")


def test_the_project_wsdls_are_found_without_importing_the_daemon() -> None:
    """The simulated world runs none of the daemon's code (DESIGN.md): the WSDLs are located as the
    installed package's data files, and chargebox is not imported."""
    assert project_wsdls() == (ROOT / "chargebox/binding/soap15/wsdl/ocpp15_centralsystem.wsdl",
                               ROOT / "chargebox/binding/soap15/wsdl/ocpp15_chargepoint.wsdl")
    probe = ("import sys; from hwsim.centralsystem.__main__ import project_wsdls; "
             "assert project_wsdls() is not None; print(sorted(m for m in sys.modules if m.startswith('chargebox')))")
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=60)
    assert done.stdout == "[]\n"


def test_the_central_system_starts_with_the_project_wsdls() -> None:
    with subprocess.Popen([sys.executable, "-m", "hwsim.cli", "central-system", "--port", "0", "--control-port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            ready = json.loads(process.stdout.readline())
            assert ready["event"] == "listening" and ready["soap_port"] > 0
        finally:
            process.terminate()
            process.wait(10)
        assert process.stderr is not None and "Traceback" not in process.stderr.read()


def test_log_levels_in_any_case() -> None:
    assert build_parser().parse_args(["run", "--log-level", "info"]).log_level == "INFO"
    assert central_system_parser().parse_args(["--log-level", "debug"]).log_level == "DEBUG"
