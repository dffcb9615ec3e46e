"""Shared fixtures: where the official OCPP 1.5 WSDLs (the conformance oracle) are, if anywhere; no test
leaves a task or timer behind on its event loop."""

from __future__ import annotations

from pathlib import Path

import pytest
from loop_leftovers import no_leftover_tasks_or_timers  # noqa: F401  # autouse: every test, DESIGN.md rule 10

pytest_plugins = ["pytester"]  # test_loop_leftovers.py runs that fixture on tests of its own

ROOT = Path(__file__).resolve().parents[1]


def find_official_wsdl_dir() -> Path | None:
    """``shared/spec/wsdl`` beside the repository root (or beside one of its parents)."""
    for parent in [ROOT, *ROOT.parents]:
        candidate = parent.parent / "shared" / "spec" / "wsdl"
        if (candidate / "ocpp_centralsystemservice_1.5_final.wsdl").is_file():
            return candidate
    return None


OFFICIAL_WSDL = find_official_wsdl_dir()


@pytest.fixture
def official_wsdl() -> Path:
    """The folder of the official WSDLs; the test is skipped where it is absent (a fresh clone)."""
    if OFFICIAL_WSDL is None:
        pytest.skip("official OCPP 1.5 WSDLs (../shared/spec/wsdl) not present")
    return OFFICIAL_WSDL
