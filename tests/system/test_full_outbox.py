"""A bounded outbox through the real processes (issue 16; DESIGN.md, "The outbox is bounded"): with
the Central System unreachable, sessions and status changes fill a small outbox; statuses coalesce;
near the bound a card is refused, and the log and `chargebox status` say why; when the Central
System is back everything drains in order, no transaction message lost, and sessions are offered
again. (A refused RemoteStartTransaction is in the engine's tests: the reference Central System
sends nothing while the network is cut.)"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import (
    last_seq,
    network,
    operator,
    queued,
    running,
    session,
    transactions,
    unplug,
    wait_until,
)

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"
LIMIT = 5


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    # Samples and clock-aligned values off: the outbox holds the sessions' starts and stops and the statuses.
    with running(SimulatedSite(sample_interval=0, outbox_limit=LIMIT, ocpp={
            "OfflineRetryInterval": 1, "AllowOfflineTxForUnknownId": True, "LocalPreAuthorize": True,
            "ClockAlignedDataInterval": 0})) as site:
        site.wait_cs("StatusNotification")  # booted, connector 1 announced Available
        yield site


def test_a_full_outbox_refuses_new_sessions_until_it_drains_and_loses_no_bill(site: SimulatedSite) -> None:
    since = last_seq(site)
    network(site, False)
    assert session(site, CARD) and session(site, CARD)  # offline: started for an unknown card
    # Each session changed connector 1's status twice (Occupied, Available): one status waits, the
    # newest, after the transaction messages (they go first).
    waiting = queued(site)
    assert [m["action"] for m in waiting] == ["StartTransaction", "StopTransaction",
                                              "StartTransaction", "StopTransaction", "StatusNotification"]
    assert waiting[-1]["payload"]["status"] == "Available"
    assert "StatusNotification/1 replaces queued message" in site.log("chargebox")

    mark = site.hw_seq()
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    reason = f"the outbox holds 5 messages of at most {LIMIT} (storage.outbox_limit)"
    wait_until(lambda: f"no new session: {reason}" in site.log("chargebox"))
    status = operator(site, "status")
    assert status["outbox"]["sessions_refused"] == reason and status["outbox"]["limit"] == LIMIT
    command = [sys.executable, "-m", "chargebox.cli", "status", "--config", str(site.config_path)]
    text = subprocess.run(command, capture_output=True, text=True, check=True, timeout=20).stdout
    assert f"new sessions    refused: {reason}" in text
    events = [e for e in site.hw("GET", "/events") if e["seq"] > mark]
    assert not [e for e in events if e["kind"] == "relay" and e["closed"]]  # never charged
    unplug(site)

    network(site, True)  # returns when the outbox is empty
    record = [r for r in site.cs("GET", "/record") if r["seq"] > since]
    bills = [r["action"] for r in record if r["action"] in ("StartTransaction", "StopTransaction")]
    assert bills == ["StartTransaction", "StopTransaction"] * 2  # in order, each once
    pairs = transactions(site, since)
    assert len(pairs) == 2 and all(stop is not None for _, stop in pairs)
    statuses = [r["payload"]["status"] for r in record
                if r["action"] == "StatusNotification" and r["fault"] is None]
    assert statuses == ["Available"]  # the present state, once
    assert operator(site, "status")["outbox"]["sessions_refused"] is None
    assert "new sessions are offered again" in site.log("chargebox")
    assert session(site, CARD)  # offered again
