"""Fixtures for driver tests: collect what a driver yields into a queue the test waits on."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import pytest
from hal_helpers import Collector


@pytest.fixture
async def collect() -> AsyncIterator[Callable[[AsyncIterable[Any]], Collector[Any]]]:
    """``collect(reader.cards())`` -> a running :class:`Collector`, stopped at teardown."""
    running: list[Collector[Any]] = []

    def start(source: AsyncIterable[Any]) -> Collector[Any]:
        collector: Collector[Any] = Collector(source)
        running.append(collector)
        return collector

    yield start
    for collector in running:
        await collector.stop()
