"""FirmwareStatusNotification and DiagnosticsStatusNotification (6.15, 6.17) that survive an outage.

A mobile link is often down when a download fails or an installation ends, and an installation is
followed by a restart. So a notification goes directly only when the box is booted, online and
no notification waits in the outbox; otherwise (or when the direct call fails) it is written to the outbox,
which persists it and sends it after the next BootNotification or reconnection, after the
transaction messages and in order with the other notifications, and retries it like a transaction
message. This is the status lane of :mod:`chargebox.ocpp.lanes`, decided there; only a full outbox
drops one (the oldest first, logged: bills never are).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chargebox.ocpp.messages import Request

if TYPE_CHECKING:
    from chargebox.engine.chargepoint import ChargePoint

log = logging.getLogger(__name__)


async def tell(cp: ChargePoint, request: Request) -> None:
    """``request`` on its lane, the status lane (:meth:`~chargebox.engine.delivery.Courier.post`)."""
    status = getattr(request, "status", "")
    sent = await cp.courier.post(request, online=cp.uplink.booted.is_set() and cp.uplink.online)
    log.info("%s %s %s", request.action(), status, "sent" if sent else "queued in the outbox")
