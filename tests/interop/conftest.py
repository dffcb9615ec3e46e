"""Fixtures of the interop tests: ts-ocpp and the box on the simulator, per test or per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tsocpp_harness import TsOcpp, running_site, running_tsocpp

from chargebox.site import SimulatedSite


@pytest.fixture
def tsocpp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TsOcpp]:
    yield from running_tsocpp(request, tmp_path)


@pytest.fixture
def site(request: pytest.FixtureRequest, tsocpp: TsOcpp) -> Iterator[SimulatedSite]:
    yield from running_site(request, tsocpp)


@pytest.fixture(scope="module")
def module_tsocpp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TsOcpp]:
    yield from running_tsocpp(request, tmp_path_factory.mktemp("tsocpp"))


@pytest.fixture(scope="module")
def module_site(request: pytest.FixtureRequest, module_tsocpp: TsOcpp) -> Iterator[SimulatedSite]:
    yield from running_site(request, module_tsocpp)
