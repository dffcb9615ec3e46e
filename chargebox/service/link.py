"""The Central System link as an operator sees it: when the last exchange succeeded, when and why
the last one failed. It wraps the client the charge point calls and the handler of the endpoint,
so it sees every exchange in both directions without the engine knowing of it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from chargebox.clock import Clock
from chargebox.engine.chargepoint import Client
from chargebox.ocpp.messages import Confirmation, Handler, Request


class LinkMonitor:
    """A :class:`~chargebox.engine.chargepoint.Client` that records what passes through it.

    ``started`` is set by the charge point's first request: its devices are open and its loops
    run (its boot loop sends first), which is what "serving" means for ``READY=1``.
    """

    def __init__(self, client: Client, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self.started = asyncio.Event()
        self.last_success: datetime | None = None
        self.last_failure: datetime | None = None
        self.last_error: str | None = None

    async def call(self, request: Request, message_id: str | None = None) -> Confirmation:
        self.started.set()
        try:
            confirmation = await self._client.call(request, message_id)
        except Exception as err:
            self.last_failure = self._clock.now()
            self.last_error = f"{request.action()}: {err}"
            raise
        self.last_success = self._clock.now()
        return confirmation

    def incoming(self, handler: Handler) -> Handler:
        """The endpoint's handler, counting each request the Central System made as an exchange."""

        async def handle(request: Request) -> Confirmation:
            confirmation = await handler(request)
            self.last_success = self._clock.now()
            return confirmation

        return handle
