"""Nothing is lost, and nothing is sent twice unrecognisably: the daemon is killed with SIGKILL at
random moments, session after session, while the Central System comes and goes (connections reset
or refused, requests black-holed, answers lost as when the Central System dies after its commit),
and the reference Central System's record is checked against the box's own journal (DESIGN.md,
invariants; issue 4, power loss; issue 15, item 6): every session's StartTransaction and
StopTransaction arrived, every resend of a message carried its first attempt's message id
(wsa:MessageID, or OCPP-J's), and everything the Central System received was valid against its schemas.

It runs in each protocol (issue 17), each for ``CRASH_SECONDS`` (default 60) or, with
``CRASH_KILLS=N``, until the daemon was killed N times. The random moments come from a seeded
generator; the seed is printed, and ``CRASH_SEED`` replays a run. The figures (kills, outages,
sessions, lost, duplicated, resent) are printed.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import (
    each_protocol,
    network,
    offline_ready_site,
    queued,
    registers,
    set_aside,
    wait_until,
)

pytestmark = pytest.mark.system
SECONDS = float(os.environ.get("CRASH_SECONDS", "60"))  # per protocol
KILLS = int(os.environ.get("CRASH_KILLS", "0"))  # run until this many kills, instead of SECONDS
CARD = "04A2B3C4D5E680"
#: How the Central System is unreachable in an outage: None is no outage; "reset" drops each
#: connection (reject_connections); "killed" kills its process at a random instant and starts it
#: again (its journal keeps its record); the others are the reference Central System's ``outage`` modes.
OUTAGES = (None, "reset", "refused", "black_hole", "answer_lost", "killed")
#: The box's messages that go through the outbox: the ones it must resend with the same MessageID.
QUEUED = ("StartTransaction", "StopTransaction", "MeterValues")


@pytest.fixture(params=each_protocol())
def site(request: pytest.FixtureRequest) -> Iterator[SimulatedSite]:
    yield from offline_ready_site(request.param)


def alive(site: SimulatedSite) -> bool:
    return site.processes["chargebox"].poll() is None


def kill_and_restart(site: SimulatedSite) -> None:
    site.processes["chargebox"].send_signal(signal.SIGKILL)
    site.processes["chargebox"].wait(10)
    for _ in range(5):
        daemon = site.start_daemon()
        wait_until(lambda: daemon.poll() is not None or _serving(site), timeout=20)
        if daemon.poll() is None:
            return
        # It could not start: its endpoint's port was taken for the moment (another socket's
        # ephemeral port). systemd starts it again (Restart=on-failure); so does this test.
        time.sleep(1)
    raise AssertionError("the daemon did not start again")


def _serving(site: SimulatedSite) -> bool:
    try:
        queued(site)
    except Exception:  # noqa: BLE001 - not listening yet
        return False
    return True


def maybe_kill(site: SimulatedSite, rng: random.Random, chance: float) -> int:
    """With ``chance``, kill the daemon within the next 0.3 s (a random instant of whatever it is doing)."""
    if rng.random() >= chance:
        return 0
    time.sleep(rng.uniform(0.0, 0.3))
    kill_and_restart(site)
    return 1


def outage(site: SimulatedSite, kind: str | None, rng: random.Random) -> None:
    if kind == "killed":  # mid-traffic; it comes back with no outage
        time.sleep(rng.uniform(0.0, 0.3))
        site.restart_central_system()
        return
    site.cs("POST", "/behaviour", {"reject_connections": kind == "reset",
                                   "outage": kind if kind not in (None, "reset") else None})


@pytest.mark.timeout(0 if KILLS else SECONDS + 300)  # the run's own length, then the check
def test_sigkill_at_random_moments_loses_no_session_and_repeats_none(site: SimulatedSite) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(2**32)))
    print(f"CRASH_SEED={seed}")
    rng = random.Random(seed)
    kills = sessions = 0
    outages: dict[str, int] = {}
    began = time.monotonic()
    while kills < KILLS if KILLS else time.monotonic() - began < SECONDS:
        if rng.random() < 0.3:
            kind = rng.choice(OUTAGES)
            outage(site, kind, rng)
            if kind is not None:
                outages[kind] = outages.get(kind, 0) + 1
        mark = site.hw_seq()
        site.hw("POST", "/plug", {"connector": 1})
        site.hw("POST", "/card", {"uid": CARD})
        try:
            site.wait_hw("relay", timeout=3, closed=True, after=mark)
        except Exception:  # noqa: BLE001 - e.g. the card came while the connector was still finishing
            pass
        kills += maybe_kill(site, rng, 0.35)  # mid-session
        site.hw("POST", "/unplug", {"connector": 1})
        kills += maybe_kill(site, rng, 0.15)  # while it stops the session
        site.wait_hw("card_removed", after=mark)
        time.sleep(0.45)  # the card is away for longer than the reader's hold window
        sessions += 1
        if sessions % 50 == 0:
            print(f"{time.monotonic() - began:.0f} s: {sessions} sessions, {kills} kills, outages {outages}",
                  flush=True)
    outage(site, None, rng)
    network(site, True)  # restored: everything held is delivered
    print(f"{site.protocol}: {sessions} sessions in {time.monotonic() - began:.0f} s, {kills} kills, "
          f"{sum(outages.values())} outages {outages}")
    check(site, journal(site))
    figures = resends(site)
    print("duplicated {duplicated} (processed again under another MessageID), resent {resent} (processed again, "
          "with the first attempt's MessageID)".format(**figures))
    assert figures["duplicated"] == 0


def journal(site: SimulatedSite) -> list[dict[str, Any]]:
    db = sqlite3.connect(site.workdir / "chargebox.db")
    db.row_factory = sqlite3.Row
    rows = [dict(row) for row in db.execute("SELECT * FROM transactions ORDER BY local_id")]
    db.close()
    return rows


def check(site: SimulatedSite, entries: list[dict[str, Any]]) -> None:
    everything = site.cs("GET", "/record")
    invalid = [(r["action"], r["errors"]) for r in everything if not r["valid"]]
    print(f"{len(everything)} requests received, {len(invalid)} invalid against the schemas")
    assert invalid == []
    record = [r for r in everything if r["fault"] is None]
    starts: dict[int, list[dict[str, Any]]] = {}
    stops: dict[int, list[dict[str, Any]]] = {}
    for r in record:
        if r["action"] == "StartTransaction":
            starts.setdefault(r["response"]["transactionId"], []).append(r)
        elif r["action"] == "StopTransaction":
            stops.setdefault(r["payload"]["transactionId"], []).append(r)
    assert entries, "no session started"
    lost = [e["local_id"] for e in entries if e["transaction_id"] not in starts or e["transaction_id"] not in stops]
    print(f"{len(entries)} sessions in the journal, {len(lost)} lost (a StartTransaction or StopTransaction "
          f"that never reached the Central System): {lost}")
    previous_stop = 0
    in_no_time = []
    for entry in entries:
        assert entry["stop_time"] is not None, f"session {entry['local_id']} never stopped"
        tid = entry["transaction_id"]
        assert tid is not None, f"session {entry['local_id']} never reached the Central System"
        # One StartTransaction per session: a retransmission after a kill is the identical message,
        # answered with the same id, so the Central System holds one transaction for it.
        distinct_starts = {repr(r["payload"]) for r in starts[tid]}
        assert len(distinct_starts) == 1, starts[tid]
        (start_payload,) = [r["payload"] for r in starts[tid][:1]]
        assert start_payload["meterStart"] == entry["meter_start"] and start_payload["connectorId"] == 1
        assert len({repr(r["payload"]) for r in stops.get(tid, [])}) == 1, (entry, stops.get(tid))
        stop = stops[tid][0]
        assert stop["payload"]["meterStop"] == entry["meter_stop"] >= entry["meter_start"] >= previous_stop
        assert starts[tid][0]["seq"] < stop["seq"]  # in order
        # Never energy in no time (issue 15, item 4): a stop with energy is later than its start.
        began, ended = (datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00"))
                        for p in (start_payload, stop["payload"]))
        if entry["meter_stop"] > entry["meter_start"] and ended <= began:
            in_no_time.append(stop["payload"])
        samples = [r["payload"] for r in record if r["action"] == "MeterValues"
                   and r["payload"].get("transactionId") == tid]
        values = [value for s in samples for value in registers(s)]
        assert values == sorted(values)
        assert all(entry["meter_start"] <= value <= entry["meter_stop"] for value in values)
        previous_stop = entry["meter_stop"]
    repeated = sum(len(v) - 1 for v in starts.values()) + sum(len(v) - 1 for v in stops.values())
    print(f"{len(entries)} sessions, {repeated} identical retransmissions after a kill, "
          f"{len(in_no_time)} stops with energy in no time")
    assert in_no_time == []
    # Nothing the Central System holds is unknown to the box, and no id went to two sessions.
    assert sorted(starts) == sorted(e["transaction_id"] for e in entries)
    assert not set_aside(site), "no message was found unsendable"


def resends(site: SimulatedSite) -> dict[str, int]:
    """How often the Central System processed one of the box's queued messages again: ``resent``
    with its first attempt's message id (recognisable), ``duplicated`` under another one."""
    record = [r for r in site.cs("GET", "/record") if r["fault"] is None and r["action"] in QUEUED]
    by_id: dict[str, list[dict[str, Any]]] = {}
    ids_of: dict[str, set[str]] = {}
    for r in record:
        assert r["message_id"], r
        by_id.setdefault(r["message_id"], []).append(r)
        ids_of.setdefault(f"{r['action']} {r['payload']!r}", set()).add(r["message_id"])
    for message_id, attempts in by_id.items():
        # One MessageID, one message: every attempt carried the same content.
        assert len({repr((r["action"], r["payload"])) for r in attempts}) == 1, (message_id, attempts)
    return {"resent": sum(len(attempts) - 1 for attempts in by_id.values()),
            "duplicated": sum(len(ids) - 1 for ids in ids_of.values())}
