"""chargebox's own DataTransfer messages (1.5 section 4.3, 1.6 section 4.3: information "for a
function not supported by OCPP"): their vendorId, messageIds and the layout of their data, which
is JSON text inside the message whatever the binding's wire format."""

from __future__ import annotations

import json

from chargebox.ocpp.messages import DataTransferRequest

#: The vendorId of every DataTransfer the box sends or answers as its own.
VENDOR_ID = "chargebox"
#: DataTransfer.req messageId of the report that an outbox message was moved aside.
SET_ASIDE_REPORT = "MessageSetAside"


def set_aside_report(action: str, message_id: str, local_tx: int | None, reason: str) -> DataTransferRequest:
    """The report that a message can never be sent: which one (its action, the message id each
    attempt carried, its local transaction) and why, the reason cut at 500 characters."""
    data = json.dumps({"action": action, "messageId": message_id, "localTransaction": local_tx,
                       "reason": reason[:500]})
    return DataTransferRequest(vendor_id=VENDOR_ID, message_id=SET_ASIDE_REPORT, data=data)
