"""``chargebox demo``: one charging session on simulated hardware, printed as a timeline.

Three processes (simulator, reference Central System, daemon) talk over real sockets and a
pseudo-terminal; the timeline merges the simulator's hardware events with the OCPP messages the
Central System received.
"""

from __future__ import annotations

import sys
import time
import urllib.error
from datetime import datetime
from typing import Any

from chargebox.config import PROTOCOLS
from chargebox.site import SimulatedSite

CARD = "04A2B3C4D5E680"


def _describe_hw(event: dict[str, Any]) -> str:
    kind = event["kind"]
    if kind == "pilot":
        return f"pilot state {event['state']} on connector {event['connector']}"
    if kind == "pwm":
        duty = event["duty"]
        return "pilot PWM off (no current offered)" if duty in (None, 100.0) else f"pilot PWM {duty} % (offering current)"
    if kind == "relay":
        return "relay closed" if event["closed"] else "relay open"
    if kind == "card":
        return f"card {event['uid']} presented"
    return f"{kind} {', '.join(f'{k}={v}' for k, v in event.items() if k not in ('seq', 'time', 'kind'))}"


def _describe_ocpp(record: dict[str, Any]) -> str:
    payload = record.get("payload") or {}
    keys = ("status", "idTag", "connectorId", "transactionId", "meterStart", "meterStop", "errorCode")
    detail = ", ".join(f"{k}={payload[k]}" for k in keys if k in payload)
    if record["action"] == "MeterValues":
        samples = payload.get("values") or payload.get("meterValue") or []  # 1.5's form, or 1.6's
        values = [v["#text"] if "#text" in v else v.get("value")
                  for mv in samples for v in mv.get("value") or mv.get("sampledValue") or []]
        detail += f", values={values}"
    return f"{record['action']}.req{' (' + detail + ')' if detail else ''}{'' if record['valid'] else ' INVALID'}"


def _timeline(site: SimulatedSite, start: float) -> list[tuple[float, str, str]]:
    lines = [(e["time"] - start, "hw  ", _describe_hw(e)) for e in site.hw("GET", "/events")]
    for record in site.cs("GET", "/record"):
        wall = datetime.fromisoformat(record["wall_time"].replace("Z", "+00:00")).timestamp()
        lines.append((wall - start, "ocpp", _describe_ocpp(record)))
    return sorted(lines)


def play(site: SimulatedSite) -> None:
    """The scenario; each step waits for its evidence, so a failure names the step. A plug and an
    unplug are each told in a StatusNotification, in every protocol (ChargePointStatus: 1.5's Occupied,
    1.6's Preparing; then Available)."""
    def status_after(action: Any, statuses: tuple[str, ...]) -> None:
        since = site.cs_seq()
        action()
        while True:  # each wait_cs times out on its own if nothing more comes
            records = site.wait_cs("StatusNotification", since=since)
            if any(r["payload"]["status"] in statuses for r in records):
                return
            since = records[-1]["seq"]

    steps: list[tuple[str, Any]] = [
        ("boot accepted", lambda: (site.wait_cs("BootNotification"), site.wait_cs("StatusNotification"))),
        ("EV plugged in", lambda: status_after(lambda: site.hw("POST", "/plug", {"connector": 1}),
                                               ("Occupied", "Preparing"))),
        ("card presented", lambda: site.hw("POST", "/card", {"uid": CARD})),
        ("authorized", lambda: site.wait_cs("Authorize")),
        ("StartTransaction", lambda: site.wait_cs("StartTransaction")),
        ("relay closed", lambda: site.wait_hw("relay", closed=True)),
        ("meter values flowing", lambda: site.wait_cs("MeterValues", 2)),
        ("card presented again", lambda: site.hw("POST", "/card", {"uid": CARD})),
        ("StopTransaction", lambda: site.wait_cs("StopTransaction")),
        ("relay open", lambda: site.wait_hw("relay", closed=False)),
        ("EV unplugged", lambda: status_after(lambda: site.hw("POST", "/unplug", {"connector": 1}),
                                              ("Available",))),
    ]
    for name, step in steps:
        try:
            step()
        except (urllib.error.URLError, OSError) as err:
            daemon = site.processes["chargebox"].poll()
            if daemon is not None:  # it refused to run (its config error is its log's last line)
                lines = site.log("chargebox").strip().splitlines() or [""]
                raise RuntimeError(f"demo step '{name}' failed: the daemon exited with status {daemon}: "
                                   f"{lines[-1]}") from err
            raise RuntimeError(f"demo step '{name}' failed: {err}") from err


def run_demo(keep: bool = False, protocol: str = PROTOCOLS[0]) -> int:
    start = time.time()
    site = SimulatedSite(protocol=protocol)
    print(f"chargebox demo ({protocol}): simulator, Central System and daemon in {site.workdir}", flush=True)
    ok = True
    try:
        with site:
            try:
                play(site)
            except RuntimeError as err:
                ok = False
                print(f"FAILED: {err}", file=sys.stderr)
            for offset, source, text in _timeline(site, start):
                print(f"{offset:7.3f} s  {source}  {text}")
    finally:
        if not ok:
            print(f"logs: {site.workdir}", file=sys.stderr)
        elif not keep:
            site.remove()
    print(f"{'session complete' if ok else 'session FAILED'} in {time.time() - start:.1f} s")
    return 0 if ok else 1
