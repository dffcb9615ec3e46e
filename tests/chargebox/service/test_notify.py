"""sd_notify without python-systemd: the datagrams systemd would receive, to a path or an abstract
address, and the keep-alive rhythm on a virtual clock."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargebox.service.notify import Notifier, keep_alive


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(5)
    yield path, sock
    sock.close()


def test_notifications_reach_a_path_socket(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    notifier = Notifier(path)
    notifier.ready("serving")
    notifier.watchdog()
    notifier.stopping()
    assert [sock.recv(1024) for _ in range(3)] == [b"READY=1\nSTATUS=serving", b"WATCHDOG=1",
                                                   b"STOPPING=1\nSTATUS=stopping"]


def test_an_at_sign_means_the_abstract_namespace() -> None:
    name = f"chargebox-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        Notifier.from_environment({"NOTIFY_SOCKET": "@" + name}).watchdog()
        assert sock.recv(1024) == b"WATCHDOG=1"


def test_the_environment_gives_the_watchdog_interval_for_this_process_only() -> None:
    here = str(os.getpid())
    ours = Notifier.from_environment({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": here})
    assert ours.watchdog_interval == 15.0  # half of WatchdogSec=30
    assert Notifier.from_environment({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "30000000"}).watchdog_interval == 15.0
    parents = Notifier.from_environment({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"})
    assert parents.watchdog_interval is None
    garbled = Notifier.from_environment({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "soon"})
    assert garbled.watchdog_interval is None
    outside = Notifier.from_environment({"WATCHDOG_USEC": "30000000"})
    assert outside.address is None and outside.watchdog_interval is None


def test_outside_systemd_nothing_is_sent_and_nothing_fails() -> None:
    notifier = Notifier.from_environment({})
    notifier.ready("serving")
    notifier.watchdog()


def test_an_address_of_another_kind_is_refused_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier("vsock:2:1234", 1_000_000)
    assert notifier.address is None and notifier.watchdog_interval is None
    assert "neither a path nor @abstract" in caplog.text


def test_a_failing_send_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        Notifier(str(tmp_path / "nobody-listens")).ready("serving")
    assert "cannot notify systemd" in caplog.text


@pytest.mark.looptime
async def test_keep_alives_come_every_half_watchdog_period() -> None:
    sent: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()
    notifier = Notifier("/run/n", 10_000_000, sender=lambda message: sent.append((loop.time(), message)))
    task = asyncio.create_task(keep_alive(notifier))
    await asyncio.sleep(26)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    start = sent[0][0]
    assert [(round(t - start, 3), m) for t, m in sent] == [(0, "WATCHDOG=1"), (5, "WATCHDOG=1"), (10, "WATCHDOG=1"),
                                                           (15, "WATCHDOG=1"), (20, "WATCHDOG=1"), (25, "WATCHDOG=1")]


async def test_without_a_watchdog_keep_alive_returns_at_once() -> None:
    await asyncio.wait_for(keep_alive(Notifier("/run/n")), 1)
