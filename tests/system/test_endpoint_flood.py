"""The daemon under a flood of idle connections (issue 14, item 7): with systemd's default of 1,024
open files, 1,100 idle connections to its endpoint neither stop it nor fill its log; the box holds
at most endpoint.max_connections of them and keeps serving its operator and the Central System
meanwhile: the Central System's connection takes the place of the oldest idle one."""

from __future__ import annotations

import os
import resource
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import operator, running, wait_until

pytestmark = pytest.mark.system
FD_LIMIT = 1024  # systemd's default soft LimitNOFILE
FLOOD = 1100


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def many_files() -> Iterator[None]:
    """This process (the flood's end) may open the flood's sockets, within its hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = FLOOD + 256
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} open files, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("many_files")
def test_a_flood_of_idle_connections_neither_stops_the_daemon_nor_fills_its_log(tmp_path: Path) -> None:
    python = tmp_path / "python-1024"  # the daemon's interpreter, under systemd's default limit
    python.write_text(f'#!/bin/sh\nulimit -n {FD_LIMIT}\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    with running(SimulatedSite(python=str(python))) as site:
        site.wait_cs("BootNotification")
        daemon = site.processes["chargebox"].pid
        idle = descriptors(daemon)
        log_before = len(site.log("chargebox"))
        flood = [socket.create_connection(("127.0.0.1", site.box_port)) for _ in range(FLOOD)]
        try:
            # Over the cap (64) they are closed as accepted: the daemon holds no more than that.
            wait_until(lambda: operator(site, "status") is not None and descriptors(daemon) <= idle + 64 + 8)
            assert site.processes["chargebox"].poll() is None
            # The flood still holds 64 idle connections (endpoint.idle_timeout is 20 s).
            answer = site.call("GetConfiguration", {"key": ["HeartBeatInterval"]})
            assert answer.get("payload"), answer  # else the Central System could not reach the box
            assert [k["key"] for k in answer["payload"]["configurationKey"]] == ["HeartBeatInterval"], answer
        finally:
            for sock in flood:
                sock.close()
        wait_until(lambda: descriptors(daemon) <= idle + 8)
        log = site.log("chargebox")[log_before:]
        assert "Traceback" not in log and len(log) < 5_000, log[-3_000:]
