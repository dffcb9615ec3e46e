"""Stopping a task from another one without losing the stopper's own cancellation.

``task.cancel()`` then ``with suppress(CancelledError): await task`` is the usual idiom, and it has a
hole: when the task doing it is itself cancelled while it waits (SIGTERM reaching a device's close
in the middle of a reconnect), the suppress swallows that cancellation too, the caller carries on,
and whatever waits for it to end (a TaskGroup, the daemon's stop) waits forever.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Future[Any] | None) -> None:
    """Cancel ``tasks`` (None and finished ones are skipped) and wait until each has ended; their
    results and errors are dropped. A cancellation of the caller that arrives while it waits is raised,
    not lost; one it was already handling (a stop's cleanup in ``finally``) lets the cleanup go on."""
    current = asyncio.current_task()
    handled = current.cancelling() if current is not None else 0
    for task in tasks:
        if task is not None:
            task.cancel()
    for task in tasks:
        if task is None:
            continue
        try:
            await task
        except asyncio.CancelledError:
            if current is not None and current.cancelling() > handled:
                raise
        except Exception:  # the task's own failure: it is being stopped, not asked
            pass
