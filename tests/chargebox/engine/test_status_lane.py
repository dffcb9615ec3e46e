"""The status lane (chargebox.ocpp.lanes, issue 16): a status goes at once when the box is online
and no older status waits, overtaking transaction messages (DESIGN.md: other messages may); else it
is persisted and goes after the transaction messages, a connector's newer status replacing its
queued one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chargebox.engine.configuration import Configuration
from chargebox.engine.delivery import Courier
from chargebox.ocpp.enums import ChargePointErrorCode, ChargePointStatus
from chargebox.ocpp.errors import CentralSystemUnreachable
from chargebox.ocpp.messages import (
    Confirmation,
    HeartbeatRequest,
    Request,
    StartTransactionRequest,
    StatusNotificationConfirmation,
    StatusNotificationRequest,
)
from chargebox.store import Store
from chargebox.store.outbox import Queued

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
START = StartTransactionRequest(connector_id=1, id_tag="0A0B0C0D", timestamp=NOW, meter_start=0)


def status(value: ChargePointStatus) -> StatusNotificationRequest:
    return StatusNotificationRequest(connector_id=1, status=value, error_code=ChargePointErrorCode.NO_ERROR)


class Link:
    def __init__(self) -> None:
        self.sent: list[Request] = []
        self.reachable = True

    async def send(self, request: Request, message_id: str | None) -> Confirmation:
        if not self.reachable:
            raise CentralSystemUnreachable("cut")
        self.sent.append(request)
        return StatusNotificationConfirmation()


def courier(link: Link) -> tuple[Courier, Store]:
    store = Store.open(":memory:")

    def acknowledged(queued: Queued, confirmation: Confirmation) -> None:
        raise AssertionError("nothing is delivered from the outbox here")

    return Courier(store, Configuration(store.settings), link.send, acknowledged, lambda: NOW), store


async def test_online_a_status_overtakes_waiting_transaction_messages() -> None:
    link = Link()
    post, store = courier(link)
    store.outbox.put(START, local_tx=1, created=NOW)
    assert await post.post(status(ChargePointStatus.CHARGING), online=True)
    assert link.sent == [status(ChargePointStatus.CHARGING)] and store.outbox.depth() == 1


async def test_a_status_that_cannot_go_waits_and_the_next_goes_after_it_not_before() -> None:
    link = Link()
    post, store = courier(link)
    link.reachable = False
    assert not await post.post(status(ChargePointStatus.CHARGING), online=True)  # the attempt fails
    link.reachable = True
    store.outbox.put(START, local_tx=1, created=NOW)
    assert not await post.post(status(ChargePointStatus.AVAILABLE), online=True)  # an older status waits
    assert not await post.post(status(ChargePointStatus.CHARGING), online=False)
    assert link.sent == []
    # The transaction message first; the connector's three statuses are one, the newest.
    assert [q.request for q in store.outbox.all()] == [START, status(ChargePointStatus.CHARGING)]


async def test_only_a_status_lane_message_is_posted() -> None:
    post, _ = courier(Link())
    with pytest.raises(ValueError, match="Heartbeat is not a status-lane message"):
        await post.post(HeartbeatRequest(), online=True)
