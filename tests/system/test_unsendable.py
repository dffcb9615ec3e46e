"""One message the protocol cannot carry never stops the box (issue 15, item 1): a meter register
above what OCPP 1.5's xs:int meterStart holds is refused at the meter (PowerMeterFailure), and a
message already in the outbox that can never be sent is moved aside, shown by ``chargebox queue``,
logged as an error and reported once (DataTransfer), while the messages behind it are delivered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from chargebox.ocpp.vendor import SET_ASIDE_REPORT
from chargebox.ocpp.enums import DiagnosticsStatus, FirmwareStatus
from chargebox.ocpp.messages import (
    DiagnosticsStatusNotificationRequest,
    FirmwareStatusNotificationRequest,
    StartTransactionRequest,
)
from chargebox.site import SimulatedSite
from chargebox.store import Store
from tests.system.sitetools import last_seq, operator, running, set_aside, wait_until

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"
BEYOND_INT = 2**31 + 5000  # Wh: one step past the largest xs:int


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    with running(SimulatedSite(sample_interval=1, ocpp={"LocalPreAuthorize": True,
                                                        "AllowOfflineTxForUnknownId": True})) as site:
        site.wait_cs("BootNotification")
        yield site


def alive(site: SimulatedSite) -> bool:
    return site.processes["chargebox"].poll() is None


def records(site: SimulatedSite, since: int, action: str) -> list[dict[str, Any]]:
    return [r for r in site.cs("GET", "/record") if r["seq"] > since and r["action"] == action]


def test_a_meter_beyond_what_the_protocol_carries_is_a_meter_failure_not_a_crash(site: SimulatedSite) -> None:
    since = last_seq(site)
    site.hw("POST", "/meter", {"connector": 1, "energy_wh": BEYOND_INT})
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    wait_until(lambda: any(r["payload"]["errorCode"] == "PowerMeterFailure"
                           for r in records(site, since, "StatusNotification")), timeout=20)
    # Whatever the box did with the session, it did it without the reading it cannot send, and it
    # still runs: nothing waits in its outbox that could stop it, nothing was set aside.
    wait_until(lambda: not [m for m in operator(site, "queue") if m["set_aside"] is None], timeout=20)
    assert alive(site)
    assert not set_aside(site)
    for start in records(site, since, "StartTransaction"):
        assert start["valid"] and start["payload"]["meterStart"] < 2**31, start
    assert all(r["valid"] for r in site.cs("GET", "/record")), "every request met the schema"
    assert "Traceback" not in site.log("chargebox")


def test_a_poisoned_message_is_set_aside_and_the_rest_flows_on(site: SimulatedSite) -> None:
    assert site.stop_daemon() == 0
    now = datetime.now(timezone.utc)
    store = Store.open(site.workdir / "chargebox.db")
    poisoned = StartTransactionRequest(connector_id=1, id_tag=CARD, timestamp=now, meter_start=BEYOND_INT)
    poisoned_seq = store.outbox.put(poisoned, local_tx=None, created=now)
    store.outbox.put(FirmwareStatusNotificationRequest(status=FirmwareStatus.INSTALLED), local_tx=None, created=now)
    store.outbox.put(DiagnosticsStatusNotificationRequest(status=DiagnosticsStatus.UPLOADED), local_tx=None,
                     created=now)
    (poisoned_id,) = [q.message_id for q in store.outbox.all() if q.seq == poisoned_seq]
    store.db.close()
    since = last_seq(site)

    site.start_daemon()
    site.wait_cs("FirmwareStatusNotification")
    site.wait_cs("DiagnosticsStatusNotification")
    site.wait_cs("DataTransfer")
    assert alive(site)
    assert operator(site, "status")["outbox"] == {"depth": 0, "oldest": None, "set_aside": 1, "limit": 10_000,
                                                  "sessions_refused": None}
    (kept,) = set_aside(site)
    assert kept["seq"] == poisoned_seq and kept["action"] == "StartTransaction"
    assert kept["message_id"] == poisoned_id and kept["payload"]["meterStart"] == BEYOND_INT
    assert "schema" in kept["set_aside"]["reason"]
    errors = [line for line in site.log("chargebox").splitlines() if "ERROR" in line and "moved aside" in line]
    assert errors, "the operator finds it in the log"
    assert not records(site, since, "StartTransaction"), "never sent, in no form"

    # Reported once, with what identifies the message; a restart reports it no more.
    (report,) = [r for r in records(site, since, "DataTransfer") if r["payload"].get("messageId") == SET_ASIDE_REPORT]
    assert report["payload"]["vendorId"] == "chargebox"
    assert json.loads(report["payload"]["data"])["messageId"] == poisoned_id
    assert site.stop_daemon() == 0
    site.start_daemon()
    wait_until(lambda: len(records(site, since, "BootNotification")) == 2)
    site.call("DataTransfer", {"vendorId": "chargebox", "messageId": "Echo", "data": "x"})  # it is serving
    assert len(records(site, since, "DataTransfer")) == 1
    assert len(set_aside(site)) == 1
