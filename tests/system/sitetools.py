"""Driving a simulated site from system tests: sessions as a driver would run them, the network,
the operator's view of the box (`chargebox status`, `chargebox queue`) and the Central System's record."""

from __future__ import annotations

import contextlib
import functools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chargebox.config import JSON, PROTOCOLS, load
from chargebox.errors import ConfigError
from chargebox.site import SimulatedSite
from tests.chargebox.binding.soap_helpers import OFFICIAL_FILES
from tests.conftest import OFFICIAL_WSDL



def official_wsdls(protocol: str = PROTOCOLS[0]) -> dict[str, Any]:
    """SimulatedSite options that make the reference Central System validate against the official
    schemas of ``protocol`` where they are present (the WSDLs, or OCPP 1.6's JSON schemas), else
    against the project's own; and the protocol itself."""
    if OFFICIAL_WSDL is None:
        return {"protocol": protocol}
    if protocol == JSON:
        return {"protocol": protocol, "json_schemas": OFFICIAL_WSDL.parent / "json" / "v16"}
    files = OFFICIAL_FILES[protocol]
    return {"protocol": protocol, "cs_wsdl": OFFICIAL_WSDL / files["cs"], "cp_wsdl": OFFICIAL_WSDL / files["cp"]}


@functools.cache
def refused(protocol: str) -> str | None:
    """What ``chargebox check-config`` says against ``central_system.protocol = protocol`` (None: the
    daemon accepts it): a protocol whose binding has not landed is refused there."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "site.toml"
        path.write_text(f'[central_system]\nprotocol = "{protocol}"\n')
        try:
            load(path)
        except ConfigError as err:
            return next((text for _, key, text in err.problems if key == "central_system.protocol"), None)
    return None


def each_protocol() -> list[Any]:
    """``pytest.mark.parametrize`` values: every protocol, skipped where the daemon refuses it."""
    params = []
    for protocol in PROTOCOLS:
        why = refused(protocol)
        skip = pytest.mark.skip(reason=f"the daemon does not speak it yet (check-config: {why})")
        params.append(pytest.param(protocol, id=protocol, marks=[skip] if why else []))
    return params


def registers(meter_values: dict[str, Any]) -> list[int]:
    """The sampled values of a MeterValues payload in the record, in order: 1.5's ``values``/``value``
    (its text as ``#text``) or 1.6's ``meterValue``/``sampledValue``/``value``."""
    samples = meter_values.get("values") or meter_values.get("meterValue") or []
    return [int(float(v["#text"] if "#text" in v else v["value"]))
            for sample in samples for v in sample.get("value") or sample.get("sampledValue") or []
            if v.get("@measurand", v.get("measurand", "Energy.Active.Import.Register"))
            == "Energy.Active.Import.Register"]


@contextlib.contextmanager
def running(site: SimulatedSite) -> Iterator[SimulatedSite]:
    """The site's processes for the block; the daemon's log is printed (pytest shows it for a failing
    test) and the work folder removed afterwards."""
    try:
        with site:
            yield site
    finally:
        print(site.log("chargebox"))
        site.remove()


def offline_ready_site(protocol: str = PROTOCOLS[0]) -> Iterator[SimulatedSite]:
    """A booted site that samples every second, looks for the Central System again every second and
    starts a session offline for any card: the site of the crash and resend tests."""
    with running(SimulatedSite(**official_wsdls(protocol), sample_interval=1, ocpp={
            "OfflineRetryInterval": 1, "AllowOfflineTxForUnknownId": True, "LocalPreAuthorize": True})) as site:
        site.wait_cs("BootNotification")
        yield site


def network(site: SimulatedSite, up: bool) -> None:
    """Cut or restore the network; restored, the box has delivered everything it held. Over OCPP-J
    the box tries its WebSocket again after a backoff that the site bounds to a few seconds
    (SimulatedSite's ``reconnect_max``), as soon as a SOAP box looks again every OfflineRetryInterval."""
    site.cs("POST", "/behaviour", {"reject_connections": not up})
    if up:
        wait_until(lambda: not queued(site), timeout=30)


def configure(site: SimulatedSite, **keys: str) -> None:
    for key, value in keys.items():
        answer = site.call("ChangeConfiguration", {"key": key, "value": value})
        assert answer["payload"] == {"status": "Accepted"}, answer


def session(site: SimulatedSite, card: str, stop_card: str | None = None) -> bool:
    """Plug, present ``card``, and if the relay closes stop with ``stop_card`` and unplug; whether it charged."""
    mark = site.hw_seq()
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": card})
    try:
        site.wait_hw("relay", timeout=4, closed=True, after=mark)
    except Exception:  # noqa: BLE001 - no relay event within the time: it did not charge
        unplug(site)
        return False
    present_again(site, stop_card or card, mark)
    unplug(site)
    return True


def present_again(site: SimulatedSite, card: str, since: int) -> None:
    """The driver takes the card away and presents it again a moment later (the reader counts a card
    seen again within its hold window, 0.4 s here, as still held), and the relay opens."""
    site.wait_hw("card_removed", after=since)
    time.sleep(0.5)  # the moment the card is away
    mark = site.hw_seq()
    site.hw("POST", "/card", {"uid": card})
    site.wait_hw("relay", closed=False, after=mark)
    site.wait_hw("card_removed", after=mark)
    time.sleep(0.5)


def transactions(site: SimulatedSite, since: int) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(StartTransaction, StopTransaction) payloads per transaction, for records after ``since``."""
    record = [r for r in site.cs("GET", "/record") if r["seq"] > since]
    starts = {r["response"]["transactionId"]: r["payload"] for r in record
              if r["action"] == "StartTransaction" and r.get("response")}
    stops = {r["payload"]["transactionId"]: r["payload"] for r in record
             if r["action"] == "StopTransaction" and r["fault"] is None}
    return [(start, stops.get(tid)) for tid, start in sorted(starts.items())]


def count(site: SimulatedSite, action: str) -> int:
    return sum(1 for r in site.cs("GET", "/record") if r["action"] == action)


def operator(site: SimulatedSite, command: str) -> Any:
    """What `chargebox status` or `chargebox queue` shows an operator, as JSON."""
    out = subprocess.run([sys.executable, "-m", "chargebox.cli", command, "--config", str(site.config_path),
                          "--json"], capture_output=True, text=True, check=True, timeout=20).stdout
    return json.loads(out)


def queued(site: SimulatedSite) -> list[dict[str, Any]]:
    """The messages waiting in the outbox (not those set aside as never sendable)."""
    return [m for m in operator(site, "queue") if m["set_aside"] is None]


def set_aside(site: SimulatedSite) -> list[dict[str, Any]]:
    """The messages the box set aside because they can never be sent."""
    return [m for m in operator(site, "queue") if m["set_aside"] is not None]


def unplug(site: SimulatedSite) -> None:
    """The EV leaves, and the box has seen it go (a card is for a new session only then)."""
    site.hw("POST", "/unplug", {"connector": 1})
    wait_until(lambda: operator(site, "status")["connectors"][0]["phase"] == "IDLE")


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def last_seq(site: SimulatedSite) -> int:
    record = site.cs("GET", "/record")
    return int(record[-1]["seq"]) if record else 0
