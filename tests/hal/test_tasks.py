"""hal.tasks.cancel_and_wait: stopping a task never swallows the stopper's own cancellation."""

from __future__ import annotations

import asyncio

import pytest

from hal.tasks import cancel_and_wait


def slow_to_stop(release: asyncio.Event) -> asyncio.Task[None]:
    """A task that, once cancelled, takes until ``release`` to end (a device closing its port)."""
    async def body() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await release.wait()
    return asyncio.get_running_loop().create_task(body())


async def test_a_cancellation_that_arrives_while_waiting_is_raised() -> None:
    release = asyncio.Event()
    inner = slow_to_stop(release)
    await asyncio.sleep(0)
    waiting = asyncio.Event()
    went_on = []

    async def closer() -> None:
        waiting.set()
        await cancel_and_wait(inner)
        went_on.append(True)  # the idiom with suppress(CancelledError) got here: a lost SIGTERM

    outer = asyncio.get_running_loop().create_task(closer())
    await waiting.wait()
    outer.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert inner.cancelled() and not went_on


async def test_the_cleanup_of_a_cancelled_task_goes_on() -> None:
    release = asyncio.Event()
    release.set()
    inner = slow_to_stop(release)
    cleaned = []

    async def stopper() -> None:
        try:
            await asyncio.Event().wait()
        finally:  # cancelled: its cleanup stops the inner task and carries on
            await cancel_and_wait(inner, None)
            cleaned.append(True)

    outer = asyncio.get_running_loop().create_task(stopper())
    await asyncio.sleep(0)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert cleaned == [True] and inner.cancelled()


async def test_the_stopped_tasks_own_failures_are_dropped() -> None:
    async def fails_when_stopped() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            raise OSError("port gone")

    done = asyncio.get_running_loop().create_future()
    done.set_result(1)
    failing = asyncio.get_running_loop().create_task(fails_when_stopped())
    await asyncio.sleep(0)
    await cancel_and_wait(failing, done)
    assert failing.done()
