"""Interop: the chargebox daemon against an independent Central System, @voltbras/ts-ocpp 2.7.3.

The Central System is ``tests/interop/tsocpp/central_system.js`` (see its README): a Node process
that answers the box's OCPP 1.5 SOAP requests with canned answers, reports every request on stdout
as a JSON line and sends requests to the box when told so on stdin. The box runs as an OS process
on the hardware simulator (:class:`chargebox.site.SimulatedSite`), pointed at ts-ocpp.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import threading
import time
import urllib.error
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from chargebox.site import SimulatedSite

pytestmark = pytest.mark.interop

HARNESS_DIR = Path(__file__).resolve().parent / "tsocpp"

if shutil.which("node") is None:
    pytest.skip("interop with ts-ocpp needs Node.js: `node` is not on PATH", allow_module_level=True)
if not (HARNESS_DIR / "node_modules" / "@voltbras" / "ts-ocpp").is_dir():
    pytest.skip(f"ts-ocpp harness not installed: {HARNESS_DIR / 'node_modules'} is missing; "
                f"run `cd {HARNESS_DIR} && npm ci`", allow_module_level=True)

CARD = "04A2B3C4D5E680"  # the simulator's reader reports the UID in upper-case hex; it is the idTag
WAIT = 15.0  # seconds for any one step; each step waits for its evidence, none sleeps blindly


class TsOcpp:
    """``central_system.js`` as a child process: stdout lines are read on a thread into :attr:`events`."""

    def __init__(self, log_dir: Path, startup_timeout: float = 20.0) -> None:
        self.stderr_path = log_dir / "tsocpp.stderr.log"
        self._stderr: IO[str] = open(self.stderr_path, "w")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            ["node", "central_system.js", "--port", "0"], cwd=HARNESS_DIR, text=True, bufsize=1,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._eof = False
        self._ids = itertools.count(1)
        self._stdin_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="tsocpp-stdout", daemon=True)
        self._reader.start()
        try:
            first = self.wait_event(lambda e: True, startup_timeout, "its first stdout line")
            if first.get("event") != "listening":
                raise RuntimeError(f"ts-ocpp harness did not start: {first}\n{self.stderr()}")
        except BaseException:
            self.close()
            raise
        self.port: int = first["port"]
        self.url = f"http://127.0.0.1:{self.port}{first['path']}"

    # -- stdout ------------------------------------------------------------------------------------

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:  # the README says this never happens; keep it visible if it does
                event = {"event": "non-json", "line": line}
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def wait_event(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str,
                   count: int = 1) -> dict[str, Any]:
        """The ``count``-th event (past or future) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matches = [event for event in self.events if predicate(event)]
                if len(matches) >= count:
                    return matches[count - 1]
                if self._eof:
                    raise RuntimeError(f"ts-ocpp harness exited (rc={self.process.poll()}) while waiting "
                                       f"for {what}\n{self.stderr()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"ts-ocpp: no {what} within {timeout} s; it saw "
                                         f"{[e.get('action', e.get('event')) for e in self.events]}")
                self._cond.wait(remaining)

    def wait_request(self, action: str, count: int = 1, timeout: float = WAIT,
                     **match: Any) -> dict[str, Any]:
        """The ``count``-th ``action`` request from a charge point whose payload has ``match``."""
        def wanted(event: dict[str, Any]) -> bool:
            payload = event.get("payload") or {}
            return (event.get("event") == "request" and event.get("action") == action
                    and all(payload.get(key) == value for key, value in match.items()))
        detail = f" with {match}" if match else ""
        return self.wait_event(wanted, timeout, f"{action} request #{count}{detail}", count)

    def requests(self, action: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events
                    if e.get("event") == "request" and (action is None or e.get("action") == action)]

    def response_to(self, request: dict[str, Any], timeout: float = WAIT) -> dict[str, Any]:
        """ts-ocpp's answer to ``request``: the first ``response`` event of its action after it."""
        with self._cond:
            start = next(i for i, e in enumerate(self.events) if e is request)
        def wanted(event: dict[str, Any]) -> bool:
            return (event.get("event") == "response" and event.get("action") == request["action"]
                    and any(e is event for e in self.events[start:]))
        return self.wait_event(wanted, timeout, f"response to {request['action']}")

    def position(self, event: dict[str, Any]) -> int:
        with self._cond:
            return next(i for i, e in enumerate(self.events) if e is event)

    # -- stdin -------------------------------------------------------------------------------------

    def command(self, cmd: str, **fields: Any) -> int:
        command_id = next(self._ids)
        line = json.dumps({"id": command_id, "cmd": cmd, **fields}) + "\n"
        assert self.process.stdin is not None
        with self._stdin_lock:
            self.process.stdin.write(line)
            self.process.stdin.flush()
        return command_id

    def result(self, command_id: int, timeout: float = WAIT) -> dict[str, Any]:
        return self.wait_event(lambda e: e.get("event") == "result" and e.get("id") == command_id,
                               timeout, f"result of command {command_id}")

    def send(self, charge_box_id: str, action: str, payload: dict[str, Any], *, url: str | None = None,
             timeout: float = 10.0) -> dict[str, Any]:
        """ts-ocpp sends ``action`` to the charge point; the harness's ``result`` line."""
        fields: dict[str, Any] = {"chargeBoxId": charge_box_id, "action": action, "payload": payload,
                                  "timeoutMs": int(timeout * 1000)}
        if url is not None:
            fields["url"] = url
        return self.result(self.command("send", **fields), timeout + 5)

    # -- teardown ----------------------------------------------------------------------------------

    def stderr(self) -> str:
        self._stderr.flush()
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()  # EOF: the harness exits 0
            except (OSError, ValueError):
                pass
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


@pytest.fixture
def tsocpp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TsOcpp]:
    failed_before = request.session.testsfailed
    harness = TsOcpp(tmp_path)
    try:
        yield harness
    finally:
        harness.close()
        if request.session.testsfailed > failed_before:  # shown under "Captured stdout teardown"
            print("==== ts-ocpp events ====")
            for event in harness.events:
                print(json.dumps(event)[:2000])
            print("==== ts-ocpp stderr ====")
            print(harness.stderr_path.read_text(errors="replace"))


@pytest.fixture
def site(request: pytest.FixtureRequest, tsocpp: TsOcpp) -> Iterator[SimulatedSite]:
    failed_before = request.session.testsfailed
    box = SimulatedSite(central_system_port=tsocpp.port)
    daemon_rc: int | str = "not started"
    try:
        box.start()
        yield box
    finally:
        # The daemon first, while its hardware is still there (SimulatedSite.stop() ends the
        # simulator first, and the daemon then dies of the lost pilot link instead of SIGTERM).
        daemon = box.processes.get("chargebox")
        if daemon is not None:
            try:
                daemon_rc = box.stop_daemon(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon_rc = f"killed after SIGTERM timed out ({daemon.wait()})"
            if daemon.stdout is not None:
                daemon.stdout.close()
        box.stop()
        if request.session.testsfailed > failed_before:
            print(f"==== chargebox exit code after SIGTERM: {daemon_rc} ====")
            for name in ("chargebox", "hwsim"):
                print(f"==== {name} log ({box.workdir / (name + '.log')}) ====")
                try:
                    print(box.log(name))
                except OSError as err:
                    print(f"(no log: {err})")
        box.remove()


def wait_relay(site: SimulatedSite, closed: bool, timeout: float = WAIT) -> dict[str, Any]:
    try:
        return site.wait_hw("relay", timeout=timeout, closed=closed)
    except urllib.error.HTTPError as err:
        if err.code == 504:
            raise AssertionError(f"the relay did not {'close' if closed else 'open'} within {timeout} s; "
                                 f"hardware events: {site.hw('GET', '/events')}") from None
        raise


def box_url(site: SimulatedSite) -> str:
    return f"http://127.0.0.1:{site.box_port}/"


def booted(site: SimulatedSite, tsocpp: TsOcpp) -> dict[str, Any]:
    boot = tsocpp.wait_request("BootNotification", timeout=20)
    assert boot["chargeBoxId"] == site.identity
    assert boot["ocppVersion"] == "v1.5-soap"
    assert boot["from"] == box_url(site), "the box advertises its endpoint in wsa:From"
    assert tsocpp.response_to(boot)["payload"]["status"] == "Accepted"
    # The box acts on hardware and Central System requests only once it has read that answer; its
    # first StatusNotification is sent right after it did, so it is the evidence to wait for.
    tsocpp.wait_request("StatusNotification", connectorId=1)
    return boot


def test_card_session(site: SimulatedSite, tsocpp: TsOcpp) -> None:
    """Plug, card, charge, card again, unplug: what ts-ocpp receives is one complete transaction."""
    boot = booted(site, tsocpp)

    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    authorize = tsocpp.wait_request("Authorize")
    start = tsocpp.wait_request("StartTransaction")
    transaction_id = tsocpp.response_to(start)["payload"]["transactionId"]
    wait_relay(site, closed=True)
    meter_values = tsocpp.wait_request("MeterValues")  # sampled every 2 s

    site.hw("POST", "/card", {"uid": CARD})
    stop = tsocpp.wait_request("StopTransaction")
    wait_relay(site, closed=False)
    available = [r for r in tsocpp.requests("StatusNotification")
                 if r["payload"].get("connectorId") == 1 and r["payload"].get("status") == "Available"]
    site.hw("POST", "/unplug", {"connector": 1})
    tsocpp.wait_request("StatusNotification", count=len(available) + 1, connectorId=1, status="Available")

    assert tsocpp.position(boot) < tsocpp.position(authorize) < tsocpp.position(start) < tsocpp.position(stop)
    assert authorize["payload"]["idTag"] == CARD
    assert start["chargeBoxId"] == stop["chargeBoxId"] == site.identity
    assert start["payload"]["idTag"] == CARD
    assert start["payload"]["connectorId"] == 1
    assert stop["payload"]["transactionId"] == transaction_id
    assert stop["payload"]["meterStop"] > start["payload"]["meterStart"]
    assert meter_values["payload"]["connectorId"] == 1
    assert meter_values["payload"]["transactionId"] == transaction_id
    assert tsocpp.response_to(stop)["payload"]["idTagInfo"]["status"] == "Accepted"
    assert not [e for e in tsocpp.events if e.get("event") in ("error", "non-json") or "error" in e]


def test_remote_start_and_stop(site: SimulatedSite, tsocpp: TsOcpp) -> None:
    """ts-ocpp starts and stops a transaction remotely, calling the box back at its wsa:From."""
    booted(site, tsocpp)
    known = tsocpp.result(tsocpp.command("chargePoints"))
    assert known["payload"] == {site.identity: box_url(site)}

    id_tag = "REMOTE-0001"
    started = tsocpp.send(site.identity, "RemoteStartTransaction", {"idTag": id_tag, "connectorId": 1})
    assert started["url"] == box_url(site)
    assert f"<idTag>{id_tag}</idTag><connectorId>1</connectorId>" in started.get("rawRequest", ""), started
    assert started["ok"], started
    assert started["payload"]["status"] == "Accepted", started

    site.hw("POST", "/plug", {"connector": 1})
    start = tsocpp.wait_request("StartTransaction", idTag=id_tag)
    assert start["payload"]["connectorId"] == 1
    transaction_id = tsocpp.response_to(start)["payload"]["transactionId"]
    wait_relay(site, closed=True)

    stopped = tsocpp.send(site.identity, "RemoteStopTransaction", {"transactionId": transaction_id})
    assert stopped["ok"], stopped
    assert stopped["payload"]["status"] == "Accepted", stopped
    stop = tsocpp.wait_request("StopTransaction", transactionId=transaction_id)
    wait_relay(site, closed=False)
    assert stop["payload"]["meterStop"] >= start["payload"]["meterStart"]
    assert tsocpp.position(start) < tsocpp.position(stop)
    site.hw("POST", "/unplug", {"connector": 1})


def test_unsupported_operation_is_a_soap_fault(site: SimulatedSite, tsocpp: TsOcpp) -> None:
    """Reset is not implemented yet: the box answers with a SOAP 1.2 fault, subcode NotSupported."""
    booted(site, tsocpp)
    reset = tsocpp.send(site.identity, "Reset", {"type": "Soft"})
    assert reset["ok"] is False, reset
    assert "fault" in reset, reset
    assert reset["fault"]["subcode"].rpartition(":")[2] == "NotSupported", reset
    assert reset["fault"]["code"].rpartition(":")[2] == "Receiver", reset
    assert reset["httpStatus"] == 500, reset
