"""The ``chargebox`` command as a user meets it (a subprocess): a bad value is one line
``file: key: what was expected``, never a traceback; ``run`` exits 78 for what only starting shows,
which the unit does not restart (README, The service; issue 14 items 4 and 10)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import chargebox
from chargebox.service.control import ControlServer, encode
from tests.chargebox.site_samples import site_config

EXIT_BAD_CONFIG = 78


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chargebox.cli", *args], check=False, capture_output=True,
                          text=True, timeout=60)


def site(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "box.toml"
    path.write_text(text, encoding="utf-8")
    return path


GPIOD_RELAY = '[connector.relay]\nbackend = "gpiod"\npin = "gpiochip0:17"\n'
SECOND_CONNECTOR = '''
[[connector]]
id = 2
[connector.meter]
backend = "modbus"
model = "sdm630"
host = "127.0.0.1"
port = 1503
[connector.pilot]
backend = "sim"
address = "127.0.0.1:7701"
''' + GPIOD_RELAY
SIM_RELAY = '[connector.relay]\nbackend = "sim"\naddress = "127.0.0.1:7701"\n'


@pytest.mark.parametrize(("edit", "expected"), [
    (("port = 1502\n", "port = 1502\ndevice_id = 300\n"), "connector[1].meter.device_id: expected 1..255, got 300"),
    (("port = 1502\n", "port = 1502\ntimeout = -3\n"), "connector[1].meter.timeout: must be > 0 seconds, got -3"),
    (("port = 1502\n", "port = 1502\nfault_after = 0\n"), "connector[1].meter.fault_after: must be >= 1 failed reads"),
    (("[storage]", '[reader]\nbackend = "hexline"\nport = "/dev/ttyUSB0"\nhold_window = -1\n\n[storage]'),
     "reader.hold_window: must be >= 0 seconds, got -1"),
    ((SIM_RELAY, GPIOD_RELAY + SECOND_CONNECTOR),
     "connector[2].relay.pin: GPIO line 'gpiochip0:17' is already used by connector[1].relay.pin"),
    (("[storage]", '[log]\nlevel = "loud"\n\n[storage]'), "log.level: expected DEBUG, INFO, WARNING or ERROR"),
])
def test_check_config_names_file_key_and_what_was_expected(tmp_path: Path, edit: tuple[str, str],
                                                           expected: str) -> None:
    path = site(tmp_path, site_config().replace(*edit))
    done = command("check-config", str(path))
    assert (done.returncode, done.stdout) == (1, "")
    problem, *summary = done.stderr.splitlines()
    assert problem.startswith(f"{path}: {expected}") and summary == ["1 problem(s) found"], done.stderr


def test_run_stops_at_a_bad_value_with_one_line(tmp_path: Path) -> None:
    path = site(tmp_path, site_config().replace("port = 1502\n", "port = 1502\ndevice_id = 300\n"))
    done = command("run", "--config", str(path))
    assert done.returncode == EXIT_BAD_CONFIG
    assert done.stderr.splitlines() == [f"{path}: connector[1].meter.device_id: expected 1..255, got 300"]


def test_run_with_a_storage_folder_it_cannot_create(tmp_path: Path) -> None:
    """/proc takes no new folders, not even root's: what only starting shows (check-config passes)."""
    path = site(tmp_path, site_config().replace('path = "box.db"', 'path = "/proc/chargebox-test/box.db"'))
    assert command("check-config", str(path)).returncode == 0
    done = command("run", "--config", str(path), "--log-level", "info")
    assert done.returncode == EXIT_BAD_CONFIG, done.stderr
    assert done.stderr.splitlines() == [f"{path}: storage.path: cannot open the database "
                                        "/proc/chargebox-test/box.db: No such file or directory"]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_run_with_its_endpoint_port_in_use(tmp_path: Path, taken_port: int) -> None:
    path = site(tmp_path, site_config(endpoint=f'host = "127.0.0.1"\nport = {taken_port}\n'
                                               'public_url = "http://127.0.0.1:8180/"\nallow_plain_http = true')
                + '\n[service]\ncontrol_socket = "control.sock"\n')
    done = command("run", "--config", str(path), "--log-level", "INFO")
    assert done.returncode == EXIT_BAD_CONFIG, done.stderr
    assert done.stderr.splitlines() == [f"{path}: endpoint.port: cannot listen on 127.0.0.1:{taken_port}: "
                                        "Address already in use"]
    assert not (tmp_path / "control.sock").exists()


@pytest.mark.parametrize(("host", "why"), [("192.0.2.1", "Cannot assign requested address"),
                                           ("endpoint.invalid", "Name or service not known")])
def test_run_with_an_endpoint_host_it_cannot_listen_on(tmp_path: Path, host: str, why: str) -> None:
    """192.0.2.1 (TEST-NET-1, RFC 5737) is no address of this machine; .invalid never resolves."""
    path = site(tmp_path, site_config(endpoint=f'host = "{host}"\nport = 8180\n'
                                               'public_url = "http://127.0.0.1:8180/"\nallow_plain_http = true'))
    done = command("run", "--config", str(path))
    assert done.returncode == EXIT_BAD_CONFIG, done.stderr
    assert done.stderr.splitlines() == [f"{path}: endpoint.host: cannot listen on {host}:8180: {why}"]


@pytest.mark.parametrize("level", ["info", "Debug", "WARNING"])
def test_the_log_level_option_in_any_case(tmp_path: Path, level: str) -> None:
    """Reaching the storage error means the option was taken (argparse would exit 2)."""
    path = site(tmp_path, site_config().replace('path = "box.db"', 'path = "/proc/chargebox-test/box.db"'))
    assert command("run", "--config", str(path), "--log-level", level).returncode == EXIT_BAD_CONFIG


def test_version() -> None:
    done = command("--version")
    assert (done.returncode, done.stdout) == (0, f"chargebox {chargebox.__version__}\n")


@pytest.fixture
def daemon_socket(tmp_path: Path) -> Iterator[Path]:
    """A control socket answering ``queue`` as the daemon does, with one waiting message."""
    path = tmp_path / "control.sock"
    answers = ControlServer(path, {"queue": lambda: [{"seq": 1, "action": "StopTransaction", "local_tx": 1,
                                                      "transaction_id": 7, "created": "2026-01-01T00:00:00Z",
                                                      "attempts": 0}]})
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()

        def serve() -> None:
            while True:
                try:
                    connection, _ = server.accept()
                except OSError:
                    return
                with connection:
                    connection.sendall(encode(answers.answer(connection.makefile("rb").readline())))

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        yield path
        server.shutdown(socket.SHUT_RDWR)
    thread.join(5)


def test_queue_export_to_a_path_that_cannot_be_written(tmp_path: Path, daemon_socket: Path) -> None:
    target = tmp_path / "no-such-folder" / "queue.json"
    done = command("queue", "--socket", str(daemon_socket), "-o", str(target))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"chargebox queue: cannot write {target}: No such file or directory"]
    done = command("queue", "--socket", str(daemon_socket), "-o", str(tmp_path / "queue.json"))
    assert done.returncode == 0, done.stderr
    assert [m["action"] for m in json.loads((tmp_path / "queue.json").read_text())] == ["StopTransaction"]


@pytest.mark.parametrize("args", [("--json",), ()])
def test_a_reader_that_left_gets_no_traceback(daemon_socket: Path, args: tuple[str, ...]) -> None:
    """``chargebox queue | head -3``: the pipe's reader is gone before everything is written."""
    read, write = os.pipe()
    os.close(read)  # gone before the command writes anything: every write fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "chargebox.cli", "queue", "--socket", str(daemon_socket), *args],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")
