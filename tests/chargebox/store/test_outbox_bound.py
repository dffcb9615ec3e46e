"""The outbox is bounded (issue 16, DESIGN.md): transaction messages are never dropped, and near the
bound the box offers no new session and says why; a connector's newest status replaces the queued
one; the oldest other status-lane message is dropped first; each with one log line."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from chargebox.ocpp.enums import ChargePointErrorCode, ChargePointStatus, FirmwareStatus
from chargebox.ocpp.messages import (
    FirmwareStatusNotificationRequest,
    HeartbeatRequest,
    MeterValuesRequest,
    StartTransactionRequest,
    StatusNotificationRequest,
)
from chargebox.store import Store
from chargebox.store.outbox import DEFAULT_LIMIT, Outbox

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def status(connector: int, value: ChargePointStatus) -> StatusNotificationRequest:
    return StatusNotificationRequest(connector_id=connector, status=value,
                                     error_code=ChargePointErrorCode.NO_ERROR)


def start(n: int) -> StartTransactionRequest:
    return StartTransactionRequest(connector_id=1, id_tag=f"CARD{n}", timestamp=NOW + timedelta(minutes=n),
                                   meter_start=n)


def firmware(value: FirmwareStatus) -> FirmwareStatusNotificationRequest:
    return FirmwareStatusNotificationRequest(status=value)


def outbox(limit: int) -> Outbox:
    return Store.open(":memory:", outbox_limit=limit).outbox


def actions(box: Outbox) -> list[str]:
    return [queued.request.action() for queued in box.all()]


def test_the_default_limit_is_ten_thousand_messages() -> None:
    assert Store.open(":memory:").outbox.limit == DEFAULT_LIMIT == 10_000


def test_a_connectors_newest_status_replaces_the_queued_one_and_transaction_messages_go_first(
        caplog: pytest.LogCaptureFixture) -> None:
    box = outbox(100)
    box.put(start(0), local_tx=0, created=NOW)
    box.put(status(1, ChargePointStatus.CHARGING), local_tx=None, created=NOW)
    box.put(status(2, ChargePointStatus.CHARGING), local_tx=None, created=NOW)
    box.put(start(1), local_tx=1, created=NOW)
    with caplog.at_level(logging.INFO, "chargebox.store.outbox"):
        box.put(status(1, ChargePointStatus.AVAILABLE), local_tx=None, created=NOW)
    # Connector 1's Occupied is gone; the transaction messages go first, then the statuses.
    assert [(type(q.request).__name__, getattr(q.request, "connector_id", None),
             getattr(q.request, "status", None)) for q in box.all()] == [
        ("StartTransactionRequest", 1, None),
        ("StartTransactionRequest", 1, None),
        ("StatusNotificationRequest", 2, ChargePointStatus.CHARGING),
        ("StatusNotificationRequest", 1, ChargePointStatus.AVAILABLE)]
    assert [r.getMessage() for r in caplog.records] == [
        "outbox: a newer StatusNotification/1 replaces queued message 2 (coalesced)"]


def test_transaction_messages_are_never_dropped_and_near_the_bound_sessions_are_refused(
        caplog: pytest.LogCaptureFixture) -> None:
    box = outbox(10)
    for n in range(8):
        box.put(start(n), local_tx=n, created=NOW)
    assert box.refuses_sessions() is None  # 8 < 90 % of 10
    with caplog.at_level(logging.INFO, "chargebox.store.outbox"):
        box.put(start(8), local_tx=8, created=NOW)
        assert box.refuses_sessions() == "the outbox holds 9 messages of at most 10 (storage.outbox_limit)"
        for n in range(9, 15):  # the sessions still running go on: their messages are kept beyond the bound
            box.put(MeterValuesRequest(connector_id=1, transaction_id=0), local_tx=n, created=NOW)
    assert box.depth() == 15 and [q.local_tx for q in box.all()] == list(range(15))
    assert [r.getMessage() for r in caplog.records] == [
        "outbox holds 9 messages, its limit 10: new sessions are refused until it drains"]  # once
    caplog.clear()
    with caplog.at_level(logging.INFO, "chargebox.store.outbox"):
        for queued in box.all()[:7]:
            box.remove(queued.seq)
    assert box.refuses_sessions() is None
    assert [r.getMessage() for r in caplog.records] == [
        "outbox drained to 8 messages: new sessions are offered again"]


def test_at_the_bound_the_oldest_status_lane_message_is_dropped_first(
        caplog: pytest.LogCaptureFixture) -> None:
    box = outbox(4)
    box.put(start(0), local_tx=0, created=NOW)
    box.put(firmware(FirmwareStatus.DOWNLOADED), local_tx=None, created=NOW)
    box.put(status(1, ChargePointStatus.CHARGING), local_tx=None, created=NOW)
    box.put(firmware(FirmwareStatus.INSTALLED), local_tx=None, created=NOW)
    with caplog.at_level(logging.WARNING, "chargebox.store.outbox"):
        assert box.put(firmware(FirmwareStatus.INSTALLATION_FAILED), local_tx=None, created=NOW) is not None
    # Not the transaction's, nor the connector's one status (a newer one replaces it): Downloaded.
    assert [getattr(q.request, "status", None) for q in box.all()] == [
        None, ChargePointStatus.CHARGING, FirmwareStatus.INSTALLED, FirmwareStatus.INSTALLATION_FAILED]
    assert [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()] == [
        "outbox full (4 messages): oldest FirmwareStatusNotification (message 2, "
        "from 2026-01-01T00:00:00+00:00) dropped for FirmwareStatusNotification"]


def test_at_the_bound_a_status_lane_message_with_nothing_older_to_drop_is_dropped_itself(
        caplog: pytest.LogCaptureFixture) -> None:
    box = outbox(2)
    box.put(start(0), local_tx=0, created=NOW)
    box.put(start(1), local_tx=1, created=NOW)
    with caplog.at_level(logging.WARNING, "chargebox.store.outbox"):
        assert box.put(firmware(FirmwareStatus.INSTALLED), local_tx=None, created=NOW) is None
    assert actions(box) == ["StartTransaction", "StartTransaction"]
    dropped = "outbox full (2 messages, none of them droppable): FirmwareStatusNotification dropped"
    assert dropped in caplog.messages
    # A connector's status still takes its one place: the Central System needs the present state.
    assert box.put(status(1, ChargePointStatus.AVAILABLE), local_tx=None, created=NOW) is not None
    assert box.put(status(1, ChargePointStatus.CHARGING), local_tx=None, created=NOW) is not None
    assert actions(box) == ["StartTransaction", "StartTransaction", "StatusNotification"]


def test_a_direct_message_is_never_queued() -> None:
    with pytest.raises(ValueError, match="Heartbeat is sent directly"):
        outbox(10).put(HeartbeatRequest(), local_tx=None, created=NOW)


def test_the_head_is_never_replaced_nor_dropped_since_it_may_be_on_its_way() -> None:
    """Delivery acknowledges the head by its seq, and SQLite gives a deleted last seq again: a
    replaced head would make the acknowledgement remove its replacement unsent."""
    box = outbox(2)
    on_its_way = box.put(status(1, ChargePointStatus.CHARGING), local_tx=None, created=NOW)
    newer = box.put(status(1, ChargePointStatus.AVAILABLE), local_tx=None, created=NOW)
    assert on_its_way != newer and [q.seq for q in box.all()] == [on_its_way, newer]
    box.remove(on_its_way)  # acknowledged
    assert [getattr(q.request, "status") for q in box.all()] == [ChargePointStatus.AVAILABLE]
    first = box.put(firmware(FirmwareStatus.DOWNLOADED), local_tx=None, created=NOW)
    box.remove(newer)
    box.put(status(1, ChargePointStatus.CHARGING), local_tx=None, created=NOW)
    # At the bound the only droppable message is the next to send: the new one is dropped instead.
    assert box.put(firmware(FirmwareStatus.INSTALLED), local_tx=None, created=NOW) is None
    assert [q.seq for q in box.all()][0] == first
    assert actions(box) == ["FirmwareStatusNotification", "StatusNotification"]


def test_a_status_replaced_on_its_way_after_a_transaction_message_came_first_counts_no_attempt() -> None:
    box = outbox(10)
    on_its_way = box.put(status(1, ChargePointStatus.CHARGING), local_tx=None, created=NOW)
    box.put(start(0), local_tx=0, created=NOW)  # now the next to send
    box.put(status(1, ChargePointStatus.AVAILABLE), local_tx=None, created=NOW)
    assert on_its_way is not None and box.count_attempt(on_its_way) is None
    assert actions(box) == ["StartTransaction", "StatusNotification"]


def test_a_status_lane_message_is_of_no_transaction() -> None:
    with pytest.raises(ValueError, match="StatusNotification is of no transaction"):
        outbox(10).put(status(1, ChargePointStatus.CHARGING), local_tx=3, created=NOW)
