"""The control socket, both ends: commands answered as JSON, bad requests answered with why, and
a client that says why it cannot reach the daemon."""

from __future__ import annotations

import asyncio
import socket
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargebox.service.control import REQUEST_LIMIT, ControlError, ControlServer, request


def failing() -> object:
    raise RuntimeError("database is locked")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ControlServer]:
    control = ControlServer(tmp_path / "control.sock", {
        "status": lambda: {"depth": 3, "time": datetime(2024, 5, 1, 12, tzinfo=UTC)},
        "broken": failing,
    })
    assert await control.start()
    yield control
    await control.close()


async def ask(path: Path, command: str) -> object:
    return await asyncio.to_thread(request, path, command)


async def raw(path: Path, data: bytes) -> bytes:
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(data)
    await writer.drain()
    reply = await reader.read()
    writer.close()
    await writer.wait_closed()
    return reply


async def test_a_command_gets_its_result_as_json(server: ControlServer) -> None:
    assert await ask(server.path, "status") == {"depth": 3, "time": "2024-05-01T12:00:00+00:00"}


async def test_the_socket_is_for_owner_and_group_only(server: ControlServer) -> None:
    mode = server.path.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o660


async def test_an_unknown_command_is_refused_naming_the_known_ones(server: ControlServer) -> None:
    with pytest.raises(ControlError, match=r"refused 'reboot': unknown command 'reboot'; expected one of: status, broken"):
        await ask(server.path, "reboot")


async def test_a_failing_command_is_answered_with_its_error(server: ControlServer) -> None:
    with pytest.raises(ControlError, match="broken failed: database is locked"):
        await ask(server.path, "broken")
    assert await ask(server.path, "status")  # and the server still serves


async def test_bad_requests_are_answered_not_dropped(server: ControlServer) -> None:
    assert b"expected one JSON line" in await raw(server.path, b"status\n")
    assert b"unknown command None" in await raw(server.path, b"[1, 2]\n")
    assert b"bad request" in await raw(server.path, b"{" + b" " * REQUEST_LIMIT * 2 + b"\n")


async def test_a_socket_left_by_a_crashed_run_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "control.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        stale.bind(str(path))
    control = ControlServer(path, {"status": lambda: "fresh"})
    assert await control.start()
    try:
        assert await ask(path, "status") == "fresh"
    finally:
        await control.close()
    assert not path.exists()  # removed on the way out


async def test_a_socket_that_cannot_be_made_is_logged_and_the_daemon_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    control = ControlServer(tmp_path / "missing-dir" / "control.sock", {})
    assert not await control.start()
    assert "chargebox status will not work" in caplog.text
    await control.close()


def test_the_client_says_why_it_cannot_reach_the_daemon(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="no such socket; is the daemon running"):
        request(tmp_path / "control.sock", "status")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(tmp_path / "dead.sock"))  # bound, never listening: what a killed daemon leaves
        with pytest.raises(ControlError, match="nobody listens"):
            request(tmp_path / "dead.sock", "status")
