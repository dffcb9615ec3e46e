"""The ts-ocpp interop harness from Python: ``tsocpp/central_system.js`` as a child process, and the
daemon on the simulator pointed at it. Shared by the interop tests and their fixtures (conftest.py).

The Central System is ``tests/interop/tsocpp/central_system.js`` (see its README): a Node process
that answers the box's OCPP 1.5 SOAP requests with canned answers, reports every request on stdout
as a JSON line and sends requests to the box when told so on stdin.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from chargebox.site import SimulatedSite

HARNESS_DIR = Path(__file__).resolve().parent / "tsocpp"
WAIT = 15.0  # seconds for any one step; each step waits for its evidence, none sleeps blindly


def missing() -> str | None:
    """Why the interop tests cannot run here, or None."""
    if shutil.which("node") is None:
        return "interop with ts-ocpp needs Node.js: `node` is not on PATH"
    if not (HARNESS_DIR / "node_modules" / "@voltbras" / "ts-ocpp").is_dir():
        return (f"ts-ocpp harness not installed: {HARNESS_DIR / 'node_modules'} is missing; "
                f"run `cd {HARNESS_DIR} && npm ci`")
    return None


class TsOcpp:
    """``central_system.js`` as a child process: stdout lines are read on a thread into :attr:`events`.
    Another harness of the same JSON-lines shape (tests/interop/ocpprpc) names its own ``directory``
    and passes its ``args``."""

    directory = HARNESS_DIR

    def __init__(self, log_dir: Path, startup_timeout: float = 20.0, args: tuple[str, ...] = ()) -> None:
        self.stderr_path = log_dir / f"{self.directory.name}.stderr.log"
        self._stderr: IO[str] = open(self.stderr_path, "w")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            ["node", "central_system.js", "--port", "0", *args], cwd=self.directory, text=True, bufsize=1,
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
        self.url = f"http://127.0.0.1:{self.port}{first.get('path', '/')}"

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

    def wait_request(self, action: str, count: int = 1, timeout: float = WAIT, charge_box_id: str | None = None,
                     **match: Any) -> dict[str, Any]:
        """The ``count``-th ``action`` request from a charge point (``charge_box_id``, if given) whose
        payload has ``match``."""
        def wanted(event: dict[str, Any]) -> bool:
            payload = event.get("payload") or {}
            return (event.get("event") == "request" and event.get("action") == action
                    and charge_box_id in (None, event.get("chargeBoxId"))
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


def running_tsocpp(request: pytest.FixtureRequest, log_dir: Path) -> Iterator[TsOcpp]:
    """ts-ocpp for a fixture of any scope; its events and stderr are printed if a test failed."""
    failed_before = request.session.testsfailed
    harness = TsOcpp(log_dir)
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


def running_site(request: pytest.FixtureRequest, tsocpp: TsOcpp) -> Iterator[SimulatedSite]:
    """The daemon on the simulator, pointed at ``tsocpp``; its logs are printed if a test failed."""
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


def box_url(site: SimulatedSite) -> str:
    return f"http://127.0.0.1:{site.box_port}/"


def booted(site: SimulatedSite, tsocpp: TsOcpp) -> dict[str, Any]:
    boot = tsocpp.wait_request("BootNotification", timeout=20, charge_box_id=site.identity)
    assert boot["ocppVersion"] == "v1.5-soap"
    assert boot["from"] == box_url(site), "the box advertises its endpoint in wsa:From"
    assert tsocpp.response_to(boot)["payload"]["status"] == "Accepted"
    # The box acts on hardware and Central System requests only once it has read that answer; its
    # first StatusNotification is sent right after it did, so it is the evidence to wait for.
    tsocpp.wait_request("StatusNotification", charge_box_id=site.identity, connectorId=1)
    return boot
