"""Billing data that is always right (issue 15), through the real daemon, simulator and reference
Central System: one card presentation is one action and no session starts without a real
meterStart; StatusNotifications one per change, in order, ending at the real state; a stop after a
crash takes meterStop and timestamp from one sample; clock-aligned samples carry the boundary time.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import operator, running, wait_until

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"


def record(site: SimulatedSite, action: str, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in site.cs("GET", "/record")
            if r["action"] == action and r["seq"] > since and r["fault"] is None]


def statuses(site: SimulatedSite, connector: int, since: int = 0) -> list[str]:
    return [r["payload"]["status"] for r in record(site, "StatusNotification", since)
            if r["payload"]["connectorId"] == connector]


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def fault(site: SimulatedSite, name: str, active: bool) -> None:
    site.hw("POST", "/fault", {"fault": name, "connector": 1, "active": active})


def hold_card(site: SimulatedSite, hold: float = 0.3) -> None:
    """The card on the reader for ``hold`` seconds; returns once it is taken away."""
    mark = site.hw_seq()
    site.hw("POST", "/card", {"uid": CARD, "hold": hold})
    site.wait_hw("card_removed", after=mark)


def test_a_meter_that_cannot_be_read_refuses_the_card_and_one_presentation_is_one_action() -> None:
    with running(SimulatedSite(sample_interval=30)) as site:
        site.wait_cs("BootNotification")
        fault(site, "meter_silent", True)
        site.hw("POST", "/plug", {"connector": 1})
        hold_card(site)
        time.sleep(0.5)  # lifted for longer than the hold window, and back during the slow meter read
        hold_card(site)
        wait_until(lambda: (operator(site, "status")["connectors"][0]["status"] == "Faulted"
                            and statuses(site, 1)[-1:] == ["Faulted"]), timeout=20)
        (told,) = [r["payload"] for r in record(site, "StatusNotification")
                   if r["payload"]["status"] == "Faulted"]
        assert told["errorCode"] == "PowerMeterFailure"
        log = site.log("chargebox")
        # One refusal: the second presentation came while the first one was still handled.
        assert log.count("card …E680 refused: the meter of connector 1 cannot be read") == 1, log
        assert "presented again while its presentation is handled" in log
        assert record(site, "StartTransaction") == []

        fault(site, "meter_silent", False)  # it answers again: the connector is usable within the retry
        wait_until(lambda: statuses(site, 1)[-1:] == ["Occupied"], timeout=20)  # 1.5: a cable, no transaction
        since = int(site.cs("GET", "/record")[-1]["seq"])
        hold_card(site)
        site.wait_cs("StartTransaction")
        time.sleep(4)  # the time in which a second action would show (the bug: a stop 2 s after the start)
        ((start,), stops) = ([r["payload"] for r in record(site, "StartTransaction", since)],
                             record(site, "StopTransaction", since))
        assert stops == [] and start["meterStart"] > 0
        assert operator(site, "status")["transactions"], "the session goes on"


def test_back_to_back_availability_changes_give_one_notification_per_change_in_order() -> None:
    with running(SimulatedSite()) as site:
        site.wait_cs("BootNotification")
        wait_until(lambda: statuses(site, 1) == ["Available"])
        for _ in range(5):
            since = int(site.cs("GET", "/record")[-1]["seq"])
            for kind in ("Inoperative", "Operative"):
                answer = site.call("ChangeAvailability", {"connectorId": 0, "type": kind})
                assert answer["payload"] == {"status": "Accepted"}, answer
            wait_until(lambda: all(statuses(site, n, since)[-1:] == ["Available"] for n in (0, 1)))
            time.sleep(1)  # the time in which a duplicate or a late one would show
            for n in (0, 1):
                assert statuses(site, n, since) == ["Unavailable", "Available"], (n, statuses(site, n, since))
        assert operator(site, "status")["connectors"][0]["status"] == "Available"


def test_a_stop_after_a_crash_takes_meter_stop_and_timestamp_from_one_sample() -> None:
    with running(SimulatedSite(sample_interval=3)) as site:
        site.wait_cs("BootNotification")
        for silent_at_restart in (False, True):
            since = int(site.cs("GET", "/record")[-1]["seq"])
            mark = site.hw_seq()
            site.hw("POST", "/plug", {"connector": 1})
            hold_card(site)
            site.wait_hw("relay", closed=True, after=mark)
            if silent_at_restart:
                site.wait_cs("MeterValues", len(record(site, "MeterValues")) + 1)  # a sample journalled
                fault(site, "meter_silent", True)
            else:
                time.sleep(1.5)  # charging, before the first sample: nothing journalled since the start
            site.processes["chargebox"].send_signal(signal.SIGKILL)
            site.processes["chargebox"].wait(10)
            killed = time.time()
            site.start_daemon()
            wait_until(lambda: len(record(site, "StopTransaction", since)) == 1, timeout=30)
            (start,) = record(site, "StartTransaction", since)
            (stop,) = record(site, "StopTransaction", since)
            begin, end = start["payload"], stop["payload"]
            assert end["meterStop"] > begin["meterStart"]  # the EV charged
            assert when(end["timestamp"]) > when(begin["timestamp"])  # never energy in no time
            samples = {int(v["#text"]): when(mv["timestamp"]) for r in record(site, "MeterValues", since)
                       for mv in r["payload"]["values"] for v in mv["value"]}
            if silent_at_restart:  # the last journalled sample, with its own time
                assert samples.get(end["meterStop"]) == when(end["timestamp"]), (end, samples)
                fault(site, "meter_silent", False)
            else:  # the reading at the restart, with the restart's time
                assert when(end["timestamp"]).timestamp() >= killed - 1
            site.hw("POST", "/unplug", {"connector": 1})
            wait_until(lambda: operator(site, "status")["connectors"][0]["phase"] == "IDLE", timeout=20)


def test_clock_aligned_samples_carry_the_boundary_time_exactly() -> None:
    with running(SimulatedSite(ocpp={"ClockAlignedDataInterval": 10})) as site:
        site.wait_cs("BootNotification")
        samples = site.wait_cs("MeterValues", 3, timeout=40)
        stamps = [mv["timestamp"] for r in samples for mv in r["payload"]["values"]]
        assert len(stamps) >= 3
        for stamp in stamps:
            moment = when(stamp)
            assert moment.second % 10 == 0 and moment.microsecond == 0, stamps
