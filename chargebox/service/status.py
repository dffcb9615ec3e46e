"""What ``chargebox status`` and ``chargebox queue`` show, built from the running charge point's
public state and its database (plain JSON-ready values; the control socket sends them as they are).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

import chargebox
from chargebox.engine.chargepoint import ChargePoint
from chargebox.engine.connector import Fault
from chargebox.logfields import mask_id_tag
from chargebox.ocpp import codec
from chargebox.service.link import LinkMonitor


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _fault(fault: Fault | None) -> str | None:
    """The error code (7.7) with its info text, as StatusNotification reports them."""
    if fault is None:
        return None
    return f"{fault.code.value}: {fault.info}" if fault.info else fault.code.value


def snapshot(charge_point: ChargePoint, link: LinkMonitor, *, identity: str, central_system_url: str,
             protocol: str) -> dict[str, Any]:
    """Connectors, running transactions, the Central System link, the last heartbeat, the outbox.

    IdTags are masked as in the logs (``[log] mask_id_tags``): an operator on the phone needs to
    tell sessions apart, not to read cards.
    """
    clock = charge_point.clock
    now = clock.now()
    heartbeat, registration = charge_point.uplink.last_heartbeat, charge_point.uplink.registration
    oldest = charge_point.outbox.head()
    return {
        "version": chargebox.__version__,
        "pid": os.getpid(),
        "identity": identity,
        "time": now.isoformat(),
        "clock_synchronised": clock.synced,
        "central_system": {
            "url": central_system_url,
            "protocol": protocol,  # central_system.protocol
            "registration": registration.value if registration else None,
            "booted": charge_point.uplink.booted.is_set(),
            "last_success": _iso(link.last_success),
            "last_failure": _iso(link.last_failure),
            "last_error": link.last_error,
        },
        # The charge point keeps heartbeat times on the loop clock; shown as wall time.
        "last_heartbeat": _iso(now - timedelta(seconds=clock.monotonic() - heartbeat))
        if heartbeat is not None else None,
        "connectors": [
            {
                "id": number,
                "status": port.machine.status.value,
                "phase": port.machine.phase.name,
                "fault": _fault(port.machine.fault),
                "local_tx": port.local_tx,
                # Issue 18: the limit in force and where it comes from, and what the pilot offers now.
                "limit": None if port.machine.limit_in_force is None else {
                    "amps": port.machine.limit_in_force[0], "source": port.machine.limit_in_force[1],
                    "offered": port.hardware.pilot.offered},
            }
            for number, port in charge_point.ports.items()
        ],
        "transactions": [
            {
                "local_tx": entry.local_id,
                "connector": entry.connector_id,
                "transaction_id": entry.transaction_id,
                "id_tag": mask_id_tag(entry.id_tag),
                "start_time": entry.start_time.isoformat(),
                "meter_start": entry.meter_start,
                "meter_last": entry.meter_last,
            }
            for entry in charge_point.journal.running()
        ],
        "outbox": {
            "depth": charge_point.outbox.depth(),
            "limit": charge_point.outbox.limit,
            # Why no new session is offered now (near the limit), or None (README, storage.outbox_limit).
            "sessions_refused": charge_point.outbox.refuses_sessions(),
            "set_aside": len(charge_point.outbox.aside()),  # never sendable: kept for the operator
            "oldest": oldest.created.isoformat() if oldest is not None else None,
        },
    }


def queue(charge_point: ChargePoint) -> list[dict[str, Any]]:
    """Every message waiting in the outbox, in the order and the form it will be sent in (a
    transaction's messages first, each lane oldest first); then the messages set
    aside because they can never be sent (``set_aside``: why and when; ``None`` for a waiting one).

    Unmasked: this is the export for reconciling with the Central System after a long outage, and
    the control socket that serves it is for root and the service user only. A message of a
    transaction carries the Central System's transactionId once known (``transaction_id``);
    ``message_id`` is the id every attempt to send it carries.
    """
    journal = charge_point.journal

    def transaction_id(local_tx: int | None) -> int | None:
        try:
            return journal.get(local_tx).transaction_id if local_tx is not None else None
        except KeyError:  # a message set aside because the journal does not hold its transaction
            return None

    waiting = [
        {
            "seq": queued.seq,
            "action": queued.request.action(),
            "local_tx": queued.local_tx,
            "transaction_id": transaction_id(queued.local_tx),
            "created": queued.created.isoformat(),
            "attempts": queued.attempts,
            "message_id": queued.message_id,
            "payload": codec.to_wire(queued.request),
            "set_aside": None,
        }
        for queued in charge_point.outbox.all()
    ]
    aside = [
        {
            "seq": kept.seq,
            "action": kept.action,
            "local_tx": kept.local_tx,
            "transaction_id": transaction_id(kept.local_tx),
            "created": kept.created,
            "attempts": kept.attempts,
            "message_id": kept.message_id,
            "payload": _stored(kept.payload),
            "set_aside": {"reason": kept.reason, "moved": kept.moved},
        }
        for kept in charge_point.outbox.aside()
    ]
    return waiting + aside


def _stored(payload: str) -> Any:
    """A set-aside message's payload as its stored JSON, or the text itself when it is not JSON."""
    try:
        return json.loads(payload)
    except ValueError:
        return payload
