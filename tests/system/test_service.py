"""The daemon as a systemd service, against the simulated site: readiness and watchdog keep-alives
on a notify socket standing in for systemd's, a stalled event loop that stops them, and the
operator tools (``chargebox status``, ``chargebox queue``) reading a running daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chargebox.config import load
from chargebox.daemon import serve
from chargebox.service.notify import Notifier
from chargebox.site import SimulatedSite
from tests.system.sitetools import running

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"
WATCHDOG_USEC = 200_000  # keep-alives every 0.1 s


@pytest.fixture
def notify_socket() -> Iterator[tuple[str, socket.socket]]:
    """Systemd's end: an abstract-namespace datagram socket, as systemd itself uses."""
    name = f"chargebox-test-notify-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(20)
        yield "@" + name, sock


@contextlib.contextmanager
def site_for(**kwargs: Any) -> Iterator[SimulatedSite]:
    with running(SimulatedSite(**kwargs)) as site:
        yield site


def drain(sock: socket.socket) -> list[bytes]:
    sock.setblocking(False)
    found = []
    with contextlib.suppress(BlockingIOError):
        while True:
            found.append(sock.recv(4096))
    sock.setblocking(True)
    return found


def test_ready_once_serving_then_keep_alives_then_stopping_on_sigterm(
        notify_socket: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch) -> None:
    address, sock = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    with site_for() as site:
        ready = sock.recv(4096)
        assert ready == f"READY=1\nSTATUS=serving as CB-SIM-1 at http://127.0.0.1:{site.box_port}/".encode()
        # READY=1 means serving: the endpoint accepts connections and the charge point has begun.
        socket.create_connection(("127.0.0.1", site.box_port), timeout=5).close()
        site.wait_cs("BootNotification")
        started = time.monotonic()
        keep_alives = [sock.recv(4096) for _ in range(5)]
        assert keep_alives == [b"WATCHDOG=1"] * 5
        assert time.monotonic() - started < 5 * WATCHDOG_USEC / 1e6  # at half the watchdog period
        assert site.stop_daemon(signal.SIGTERM) == 0
        *before, last = drain(sock)
        assert set(before) <= {b"WATCHDOG=1"}
        assert last == b"STOPPING=1\nSTATUS=stopping"  # and nothing after it: keep-alives end with the loop


def test_a_stalled_event_loop_stops_the_keep_alives(notify_socket: tuple[str, socket.socket]) -> None:
    """The daemon runs in this process, on a thread's loop, so the test can block that loop the way a
    hung driver call would (a blocking call on the loop thread) with no test hook in the daemon; the
    other threads (aiohttp's resolver, this one) go on, and systemd must still hear nothing."""
    address, sock = notify_socket
    with site_for() as site:
        site.stop_daemon()  # the site's own daemon; this process runs one on the same config
        config = load(site.config_path)
        loop = asyncio.new_event_loop()
        daemon: dict[str, asyncio.Task[None]] = {}

        async def main() -> None:
            task = asyncio.current_task()
            assert task is not None
            daemon["task"] = task
            with contextlib.suppress(asyncio.CancelledError):
                await serve(config, Notifier(address, WATCHDOG_USEC))

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="daemon")
        thread.start()
        try:
            assert sock.recv(4096).startswith(b"READY=1")
            assert sock.recv(4096) == b"WATCHDOG=1"
            stalled = threading.Event()

            def stall() -> None:
                stalled.set()
                time.sleep(2.0)  # the hang under test, on the loop's own thread

            loop.call_soon_threadsafe(stall)
            assert stalled.wait(10)
            drain(sock)  # keep-alives sent before the stall began
            sock.settimeout(1.5)  # fifteen keep-alive periods, all inside the stall
            with pytest.raises(TimeoutError):
                sock.recv(4096)
            sock.settimeout(10)
            assert sock.recv(4096) == b"WATCHDOG=1"  # the loop turns again, so do the keep-alives
        finally:
            loop.call_soon_threadsafe(daemon["task"].cancel)
            thread.join(20)
            loop.close()
        assert not thread.is_alive()
        assert b"STOPPING=1\nSTATUS=stopping" in drain(sock)


def chargebox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chargebox.cli", *args], check=False, capture_output=True, text=True, timeout=30)


def status(site: SimulatedSite) -> dict[str, Any]:
    done = chargebox("status", "--config", str(site.config_path), "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def wait_status(site: SimulatedSite, condition: Callable[[dict[str, Any]], bool], timeout: float = 15) -> dict[str, Any]:
    """Ask the daemon until its state meets ``condition`` (the state changes on its own loop)."""
    deadline = time.monotonic() + timeout
    while True:
        current = status(site)
        if condition(current):
            return current
        assert time.monotonic() < deadline, f"the daemon never reached the state; last: {current}"
        time.sleep(0.1)


def test_status_and_queue_show_a_session_and_the_messages_an_outage_holds_back(tmp_path: Path) -> None:
    with site_for(heartbeat_interval=2, sample_interval=0) as site:
        site.wait_cs("Heartbeat", 2)
        site.hw("POST", "/plug", {"connector": 1})
        site.hw("POST", "/card", {"uid": CARD})
        site.wait_hw("relay", closed=True)
        site.wait_cs("StartTransaction")
        charging = wait_status(site, lambda s: s["outbox"]["depth"] == 0 and s["transactions"] != []
                               and s["transactions"][0]["transaction_id"] is not None)
        assert charging["identity"] == "CB-SIM-1" and charging["clock_synchronised"]
        cs = charging["central_system"]
        assert cs["registration"] == "Accepted" and cs["booted"] and cs["last_success"] is not None
        assert charging["last_heartbeat"] is not None
        assert charging["connectors"] == [{"id": 1, "status": "Charging", "phase": "CHARGING", "fault": None,
                                           "local_tx": 1, "limit": {"amps": 16.0, "source": "max_current",
                                                                    "offered": 16.0}}]
        (tx,) = charging["transactions"]
        assert (tx["local_tx"], tx["connector"], tx["transaction_id"], tx["id_tag"]) == (1, 1, 1, "…E680")

        text = chargebox("status", "--socket", str(site.workdir / "control.sock"))
        assert text.returncode == 0, text.stderr
        assert "registration  Accepted" in text.stdout
        assert "connector 1     Charging charging transaction (local) 1" in text.stdout
        assert "transaction     local 1 on connector 1, transactionId 1, idTag …E680" in text.stdout
        assert CARD not in text.stdout  # masked, as in the logs
        assert "outbox          0 message(s) waiting" in text.stdout

        site.cs("POST", "/behaviour", {"reject_connections": True})
        site.hw("POST", "/unplug", {"connector": 1})  # the session ends while the Central System is away
        site.wait_hw("relay", closed=False)
        # The StopTransaction, then connector 1's new status (the status lane waits in the outbox too).
        held = wait_status(site, lambda s: s["outbox"]["depth"] == 2 and s["central_system"]["last_error"])
        assert held["transactions"] == [] and held["connectors"][0]["local_tx"] is None
        assert held["central_system"]["last_failure"] is not None

        listed = chargebox("queue", "--config", str(site.config_path), "--json")
        assert listed.returncode == 0, listed.stderr
        message, status = json.loads(listed.stdout)
        assert (message["action"], message["local_tx"], message["transaction_id"]) == ("StopTransaction", 1, 1)
        assert (status["action"], status["payload"]["status"]) == ("StatusNotification", "Available")
        # As it will be sent, with the meter reading the Central System must bill.
        assert message["payload"]["meterStop"] >= charging["transactions"][0]["meter_start"]
        export = tmp_path / "outbox.json"
        written = chargebox("queue", "--config", str(site.config_path), "--output", str(export))
        assert written.returncode == 0 and "2 message(s) written" in written.stdout
        assert json.loads(export.read_text())[0]["payload"] == message["payload"]
        table = chargebox("queue", "--socket", str(site.workdir / "control.sock"))
        assert "StopTransaction" in table.stdout and "2 message(s) waiting" in table.stdout


def test_the_tools_say_why_when_no_daemon_answers(tmp_path: Path) -> None:
    done = chargebox("status", "--socket", str(tmp_path / "control.sock"))
    assert done.returncode == 1
    assert "no such socket; is the daemon running" in done.stderr
