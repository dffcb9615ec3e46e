"""The daemon's stop is bounded step by step (README, The service: exit within seconds)."""

from __future__ import annotations

import asyncio

import pytest

from chargebox.daemon import _within


@pytest.mark.looptime
async def test_a_step_that_hangs_is_given_up_and_the_tasks_still_running_are_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    never = asyncio.Event()
    stuck = asyncio.create_task(never.wait(), name="stuck-lane")
    loop = asyncio.get_running_loop()
    began = loop.time()
    await _within(never.wait(), 2.0, "the control socket")
    assert loop.time() - began == pytest.approx(2.0)
    assert "the control socket did not finish within 2.0 s" in caplog.text
    assert "stuck-lane at locks.py:" in caplog.text and " wait" in caplog.text
    stuck.cancel()
    await asyncio.gather(stuck, return_exceptions=True)


async def test_a_step_that_finishes_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    await _within(asyncio.sleep(0), 2.0, "the endpoint")
    assert caplog.text == ""
