"""Each message the box sends has one lane, decided by one function (issue 16, DESIGN.md style 8)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chargebox.ocpp.enums import ChargePointErrorCode, ChargePointStatus, DiagnosticsStatus, FirmwareStatus
from chargebox.ocpp.lanes import Lane, coalescing_key, lane
from chargebox.ocpp.messages import (
    AuthorizeRequest,
    BootNotificationRequest,
    DataTransferRequest,
    DiagnosticsStatusNotificationRequest,
    FirmwareStatusNotificationRequest,
    HeartbeatRequest,
    MeterValuesRequest,
    Request,
    StartTransactionRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
)
from chargebox.ocpp.vendor import set_aside_report

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def status(connector: int, value: ChargePointStatus = ChargePointStatus.AVAILABLE) -> Request:
    return StatusNotificationRequest(connector_id=connector, status=value,
                                     error_code=ChargePointErrorCode.NO_ERROR)


@pytest.mark.parametrize(("request_", "expected"), [
    (StartTransactionRequest(connector_id=1, id_tag="A", timestamp=NOW, meter_start=0), Lane.TRANSACTION),
    (StopTransactionRequest(transaction_id=0, id_tag=None, timestamp=NOW, meter_stop=1), Lane.TRANSACTION),
    (MeterValuesRequest(connector_id=1, transaction_id=0), Lane.TRANSACTION),  # queued: a placeholder id
    (MeterValuesRequest(connector_id=1), Lane.DIRECT),  # clock-aligned outside a transaction
    (status(1), Lane.STATUS),
    (FirmwareStatusNotificationRequest(status=FirmwareStatus.INSTALLED), Lane.STATUS),
    (DiagnosticsStatusNotificationRequest(status=DiagnosticsStatus.UPLOADED), Lane.STATUS),
    (set_aside_report("StopTransaction", "id", 3, "why"), Lane.STATUS),
    (DataTransferRequest(vendor_id="chargebox", message_id="Echo"), Lane.DIRECT),
    (DataTransferRequest(vendor_id="other", message_id="MessageSetAside"), Lane.DIRECT),
    (AuthorizeRequest(id_tag="A"), Lane.DIRECT),
    (HeartbeatRequest(), Lane.DIRECT),
    (BootNotificationRequest(charge_point_vendor="v", charge_point_model="m"), Lane.DIRECT),
])
def test_each_message_has_its_lane(request_: Request, expected: Lane) -> None:
    assert lane(request_) is expected


def test_a_connectors_statuses_coalesce_and_nothing_else_does() -> None:
    assert coalescing_key(status(1, ChargePointStatus.CHARGING)) == coalescing_key(status(1))
    assert coalescing_key(status(1)) != coalescing_key(status(2))
    assert coalescing_key(status(0)) is not None  # the box itself (connector 0)
    assert coalescing_key(FirmwareStatusNotificationRequest(status=FirmwareStatus.DOWNLOADED)) is None
    started = StartTransactionRequest(connector_id=1, id_tag="A", timestamp=NOW, meter_start=0)
    assert coalescing_key(started) is None
