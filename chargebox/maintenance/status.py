"""FirmwareStatusNotification and DiagnosticsStatusNotification (6.15, 6.17) that are never lost.

A mobile link is often down when a download fails or an installation ends, and an installation is
followed by a restart. So a notification goes directly only when the box is booted, online and
nothing waits in the outbox before it; otherwise (or when the direct call fails) it is written to
the outbox, which persists it and sends it after the next BootNotification or reconnection, in order
with what waited before it, and retries it like a transaction message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chargebox.ocpp.errors import BindingError
from chargebox.ocpp.messages import Request

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint

log = logging.getLogger(__name__)


async def tell(cp: ChargePoint, request: Request) -> None:
    status = getattr(request, "status", "")
    if cp.booted.is_set() and cp.online and cp.outbox.depth() == 0:
        try:
            await cp.send(request)
            log.info("%s %s sent", request.action(), status)
            return
        except BindingError as err:
            log.warning("%s %s not sent now (%s); it waits in the outbox", request.action(), status, err)
    cp.outbox.put(request, local_tx=None, created=cp.clock.now())
    cp.courier.wake()
    log.info("%s %s queued in the outbox", request.action(), status)
