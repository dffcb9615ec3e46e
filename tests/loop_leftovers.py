"""What a test left running on its event loop: pending tasks and scheduled timers (DESIGN.md style rule
10, after aioesphomeapi's ``verify_no_lingering_tasks``). A leftover is a leak: a ``close()`` that does not
cancel (and await) its task or timer, or a test that forgets to close what it opened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection

import pytest


def aiohttp_lingering_read(task: asyncio.Task[object]) -> bool:
    """The one exemption, aiohttp's own: after answering a request whose body it did not read whole
    (our 408 and 413), aiohttp reads on for up to ``lingering_time`` (10 s); when the caller hangs up
    meanwhile, neither the lost connection nor ``runner.cleanup()`` ends that read (aiohttp 3.14.5), so
    the connection's task outlives the server by up to 10 s. Only a ``RequestHandler.start`` in that
    read (its ``end_t`` set) on a connection already lost counts."""
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    if frame is None or getattr(coro, "__qualname__", "") != "RequestHandler.start":
        return False
    return "end_t" in frame.f_locals and getattr(frame.f_locals.get("self"), "transport", True) is None


def leftovers(loop: asyncio.AbstractEventLoop, own: Collection[asyncio.Task[object]]) -> list[str]:
    """One line per task (other than ``own``) still pending on ``loop`` and per timer still scheduled on
    it; a cancelled timer is only waiting for the loop to drop it and does not count."""
    tasks = [task for task in asyncio.all_tasks(loop) if task not in own]
    exempt = {task for task in tasks if aiohttp_lingering_read(task)}
    found = [f"task left running: {task!r}" for task in tasks if task not in exempt]
    # ``_scheduled`` is the loop's heap of TimerHandles (call_later/call_at, asyncio.timeout, sleep),
    # ``_ready`` the callbacks due this iteration: under looptime the virtual clock stops with the test,
    # and the next iteration finds every timer left on it due (so a bare timer that fires in the teardown
    # of another async fixture first goes unseen; a task waiting on one does not). BaseEventLoop has no
    # public view of either. An exempt task's own timeout is exempt with it.
    timers = [*getattr(loop, "_scheduled"),
              *(handle for handle in getattr(loop, "_ready") if isinstance(handle, asyncio.TimerHandle))]
    found += [f"timer left scheduled: {timer!r}" for timer in timers
              if not timer.cancelled() and timeout_of(timer) not in exempt]
    return found


def timeout_of(timer: asyncio.TimerHandle) -> asyncio.Task[object] | None:
    """The task an ``asyncio.timeout`` block's timer would cancel, if ``timer`` is one."""
    owner = getattr(getattr(timer, "_callback", None), "__self__", None)
    if not isinstance(owner, asyncio.Timeout):
        return None
    task: asyncio.Task[object] | None = getattr(owner, "_task", None)
    return task


async def fail_on_leftovers() -> None:
    """Fail the test (at teardown) naming every leftover, after cancelling them so that they cannot
    run into the next test or warn at loop close."""
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    found = leftovers(loop, {current} if current is not None else set())
    if not found:
        return
    tasks = [task for task in asyncio.all_tasks(loop) if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for timer in [*getattr(loop, "_scheduled"), *getattr(loop, "_ready")]:
        if isinstance(timer, asyncio.TimerHandle):
            timer.cancel()
    pytest.fail("the test left work on its event loop:\n  " + "\n  ".join(found), pytrace=False)


@pytest.fixture(autouse=True)
async def no_leftover_tasks_or_timers() -> AsyncIterator[None]:
    """Fails the test that leaves a task or timer on its loop. Autouse fixtures are set up first, so
    this teardown runs after every other fixture of the test has closed its things."""
    yield
    await fail_on_leftovers()
