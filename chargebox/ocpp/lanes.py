"""Which way each message the box sends goes: the one place that decides it (DESIGN.md, "The outbox is
bounded"; style 8).

- **transaction**: StartTransaction, StopTransaction and a transaction's MeterValues (1.6 section 3.7:
  "transaction-related messages"). Written to the outbox with their journal entry before they are
  sent, delivered in order, one in flight, retried with TransactionMessageAttempts and
  TransactionMessageRetryInterval (3.7.1); never dropped, however full the outbox.
- **status**: StatusNotification (4.9), Firmware- and DiagnosticsStatusNotification (6.15, 6.17) and
  the box's report that a message was set aside. Sent at once when the box is online and nothing
  waits before them, else persisted in the outbox behind what waits there. A StatusNotification
  reports a state, so the newest one of a connector replaces the one queued (:func:`coalescing_key`);
  the others are the first to be dropped when the outbox is at its bound.
- **direct**: everything else (Authorize, BootNotification, Heartbeat, DataTransfer, MeterValues
  outside a transaction...). Sent now, never persisted: its sender handles a failure (Authorize falls
  back to the local list and cache, BootNotification and Heartbeat are tried again, a clock-aligned
  MeterValues outside a transaction is not billing data and is dropped).

This lives with the messages rather than in the engine because the store applies it too (the bound
and coalescing of :class:`chargebox.store.outbox.Outbox`), and the store sits below the engine.
"""

from __future__ import annotations

from enum import StrEnum

from chargebox.ocpp.messages import (
    DataTransferRequest,
    DiagnosticsStatusNotificationRequest,
    FirmwareStatusNotificationRequest,
    MeterValuesRequest,
    Request,
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
)
from chargebox.ocpp.vendor import SET_ASIDE_REPORT, VENDOR_ID


class Lane(StrEnum):
    TRANSACTION = "transaction"
    STATUS = "status"
    DIRECT = "direct"


def lane(request: Request) -> Lane:
    """The lane of ``request``. A MeterValues is a transaction's when it names a transaction: queued
    ones carry a placeholder id that delivery replaces with the Central System's."""
    if isinstance(request, (StartTransactionRequest, StopTransactionRequest)):
        return Lane.TRANSACTION
    if isinstance(request, MeterValuesRequest):
        return Lane.TRANSACTION if request.transaction_id is not None else Lane.DIRECT
    if isinstance(request, (StatusNotificationRequest, FirmwareStatusNotificationRequest,
                            DiagnosticsStatusNotificationRequest)):
        return Lane.STATUS
    if (isinstance(request, DataTransferRequest) and request.vendor_id == VENDOR_ID
            and request.message_id == SET_ASIDE_REPORT):
        return Lane.STATUS  # kept through an outage: the operator's only news of a lost message
    return Lane.DIRECT


def coalescing_key(request: Request) -> str | None:
    """Queued messages with the same key are one: the newest replaces the older (the Central System
    needs a connector's present status, not the ones it went through while the box was offline).
    None for a message that must go as it is: a firmware or diagnostics step is news of its own."""
    if isinstance(request, StatusNotificationRequest):
        return f"StatusNotification/{request.connector_id}"
    return None
