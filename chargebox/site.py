"""A simulated site: the simulator, the reference Central System and the daemon as three OS
processes on loopback, wired by a generated config. ``chargebox demo`` and the system tests use it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from chargebox.binding.soap.configured import PROTOCOLS as SOAP_PROTOCOLS
from chargebox.config import JSON, PROTOCOLS
from chargebox.ocpp import schemas


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_json_schemas(folder: Path) -> Path:
    """The project's own OCPP 1.6 JSON schemas (chargebox.ocpp.schemas) written out as ``<Action>.json`` and
    ``<Action>Response.json``, the folder ``hwsim central-system --json-schemas`` reads: the simulated world
    never imports chargebox (DESIGN.md), so it is handed them as files."""
    folder.mkdir(parents=True, exist_ok=True)
    for action in schemas.OPERATIONS:
        for request, name in ((True, action), (False, f"{action}Response")):
            schema = schemas.schema(action, request=request)
            (folder / f"{name}.json").write_text(json.dumps(schema, indent=1))
    return folder


def _read_ready(process: subprocess.Popen[str], name: str, timeout: float = 20.0) -> dict[str, Any]:
    """The first JSON line a child prints when it listens."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} exited with {process.wait()} before it was ready")
        if line.startswith("{"):
            ready: dict[str, Any] = json.loads(line)
            return ready
    raise TimeoutError(f"{name} was not ready within {timeout} s")


CONFIG = """\
[chargebox]
identity = "{identity}"
vendor = "chargebox"
model = "desktop-sim"
serial_number = "SIM-0001"

[central_system]
protocol = "{protocol}"
url = "{cs_url}"
{central_system_tls}
{endpoint}
[storage]
path = "chargebox.db"
{storage_extra}

[service]
control_socket = "control.sock"  # beside the config: tests never share /run/chargebox
{service_extra}

[ocpp]
HeartBeatInterval = {heartbeat_interval}
MeterValueSampleInterval = {sample_interval}
ConnectionTimeOut = 60
{ocpp_extra}

[reader]
backend = "hexline"
port = "{reader}"
hold_window = 0.4  # the simulated reader repeats a held card every 0.2 s

[[connector]]
id = 1
max_current = {max_current}

[connector.meter]
backend = "modbus"
model = "{meter_model}"
host = "127.0.0.1"
port = {meter_port}

[connector.pilot]
backend = "sim"
address = "127.0.0.1:{gpio_port}"

[connector.relay]
backend = "sim"
address = "127.0.0.1:{gpio_port}"

[connector.lock]
backend = "sim"
address = "127.0.0.1:{gpio_port}"

[connector.protection]
backend = "sim"
address = "127.0.0.1:{gpio_port}"
{mobile}"""

#: The box's own SOAP endpoint, where the Central System calls it (the SOAP protocols only: over OCPP-J
#: the Central System's calls come over the WebSocket the box opens).
ENDPOINT = """
[endpoint]
host = "{listen_host}"
port = {box_port}
public_url = "{scheme}://{public_host}:{box_port}/"
{endpoint_tls}
{endpoint_extra}
"""

#: The simulator's modem, and the wake-up rules of 8.3 (README, "Life on a mobile network").
MOBILE = """
[modem]
backend = "at"
port = "{modem}"
timeout = 1.0
poll_interval = 2.0
reopen_interval = 0.5

[wakeup]
min_interval = 5
only_for_this_box = true
"""


#: CONFIG's placeholders for options, as they are without them.
CONFIG_DEFAULTS = {"ocpp_extra": "", "service_extra": "", "listen_host": "127.0.0.1", "public_host": "127.0.0.1",
                   "endpoint_extra": "", "mobile": "", "scheme": "http", "meter_model": "sdm630",
                   "storage_extra": "",
                   "central_system_tls": "allow_plain_http = true  # loopback only",
                   "endpoint_tls": "allow_plain_http = true"}


@dataclass(frozen=True)
class SiteTls:
    """HTTPS both ways with client certificates on both sides: the CA everyone trusts, then each
    certificate and its key (PEM files)."""

    ca: Path
    central_system: tuple[Path, Path]
    central_system_client: tuple[Path, Path]
    box: tuple[Path, Path]
    box_client: tuple[Path, Path]

    def config(self) -> dict[str, str]:
        """CONFIG's placeholders for the box's side."""
        return {"scheme": "https",
                "central_system_tls": f'ca_file = "{self.ca}"\ncert_file = "{self.box_client[0]}"\n'
                                      f'key_file = "{self.box_client[1]}"',
                "endpoint_tls": f'cert_file = "{self.box[0]}"\nkey_file = "{self.box[1]}"\n'
                                f'client_ca_file = "{self.ca}"'}

    def central_system_args(self) -> list[str]:
        """The reference Central System's options for its side (``python -m hwsim.centralsystem``)."""
        return ["--cert", str(self.central_system[0]), "--key", str(self.central_system[1]),
                "--client-ca", str(self.ca), "--box-ca", str(self.ca),
                "--client-cert", str(self.central_system_client[0]),
                "--client-key", str(self.central_system_client[1])]


class SimulatedSite:
    """Start with ``with SimulatedSite() as site:``; drive with :meth:`hw` and :meth:`cs`."""

    def __init__(self, workdir: Path | None = None, *, identity: str = "CB-SIM-1",
                 protocol: str = PROTOCOLS[0],
                 cs_wsdl: Path | None = None, cp_wsdl: Path | None = None, json_schemas: Path | None = None,
                 sample_interval: int = 2, heartbeat_interval: int = 300, max_current: float = 16.0,
                 central_system_port: int | None = None, ocpp: dict[str, str | int | bool] | None = None,
                 mobile: bool = False, public_interface: str | None = None,
                 reboot_command: list[str] | None = None, extra_config: str = "",
                 python: str | None = None, tls: SiteTls | None = None, meter_model: str = "sdm630",
                 hwsim_options: list[str] | None = None, outbox_limit: int | None = None,
                 reconnect_max: int = 2, authorization_key: str | None = None) -> None:
        """``mobile``: the box has the simulator's modem (SMS wake-up); ``public_interface``: it
        listens on every address and advertises the current one of that interface (8.3);
        ``reboot_command``: what a Hard reset runs (``service.reboot_command``); ``extra_config``: more
        TOML tables for the site config (``[firmware]``...); ``python``: the interpreter that runs the
        daemon (a test's own virtual environment); ``tls``: HTTPS both ways, else plain HTTP;
        ``meter_model``: the simulated meter and the map the box reads it with; ``hwsim_options``:
        more options of ``hwsim run`` (``--modem-profile quectel``...); ``outbox_limit``: the
        outbox's bound (``storage.outbox_limit``), else the daemon's default; ``reconnect_max``: over
        OCPP-J, the longest delay between attempts to connect (``central_system.reconnect_max``), a few
        seconds so a test's outage ends as fast as a SOAP box's (which tries every OfflineRetryInterval);
        ``authorization_key``: over OCPP-J, the HTTP Basic password both sides start with (security
        profile 1: ``central_system.authorization_key``, the Central System's ``--basic-auth``).

        ``protocol``: what the box and the reference Central System speak (``central_system.protocol``);
        the Central System validates against ``cs_wsdl``/``cp_wsdl`` (the SOAP protocols) or the folder
        ``json_schemas`` (1.6 JSON), by default the project's own. ``mobile``, ``public_interface`` and
        ``tls`` are about the box's SOAP endpoint: SOAP protocols only."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
        if protocol == JSON and (mobile or public_interface or tls):
            raise ValueError(f"mobile, public_interface and tls are for the SOAP protocols, not {protocol}")
        if protocol != JSON and authorization_key:
            raise ValueError(f"authorization_key is for OCPP-J, not {protocol}")
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="chargebox-site-"))
        self.identity = identity
        self.protocol = protocol
        soap = SOAP_PROTOCOLS.get(protocol)  # the project's own WSDLs of a SOAP protocol by default
        self._cs_wsdl = cs_wsdl or (soap.central_system_wsdl if soap else None)
        self._cp_wsdl = cp_wsdl or (soap.charge_point_wsdl if soap else None)
        self._json_schemas = json_schemas
        extra = "\n".join(f"{key} = {json.dumps(value)}" for key, value in (ocpp or {}).items())
        self._tls = tls
        central_system = CONFIG_DEFAULTS["central_system_tls"]
        if protocol == JSON:
            central_system += f"\nreconnect_max = {reconnect_max}"
        if authorization_key:
            central_system += f'\nauthorization_key = "{authorization_key}"'
        self._authorization_key = authorization_key
        self._settings = {**CONFIG_DEFAULTS, "central_system_tls": central_system,
                          **(tls.config() if tls else {}),
                          "ocpp_extra": extra, "sample_interval": sample_interval,
                          "heartbeat_interval": heartbeat_interval, "max_current": max_current,
                          "listen_host": "0.0.0.0" if public_interface else "127.0.0.1",
                          "public_host": "{address}" if public_interface else "127.0.0.1",
                          "endpoint_extra": f'public_interface = "{public_interface}"' if public_interface else "",
                          "mobile": MOBILE.format(modem=self.workdir / "modem") if mobile else "",
                          "service_extra": f"reboot_command = {json.dumps(reboot_command)}" if reboot_command else "",
                          "meter_model": meter_model,
                          "storage_extra": "" if outbox_limit is None else f"outbox_limit = {outbox_limit}"}
        self._hwsim_options = ["--meter-model", meter_model, *(hwsim_options or [])]
        self._external_cs = central_system_port  # another Central System (e.g. ts-ocpp) already listens
        self._extra_config = extra_config
        self.python = python or sys.executable
        self.processes: dict[str, subprocess.Popen[str]] = {}
        self._logs: list[IO[str]] = []
        self.hw_url = self.cs_url = ""
        self.box_port = self.central_system_port = 0
        self.config_path = self.workdir / "site.toml"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[str]:
        log = open(self.workdir / f"{name}.log", "a")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True, cwd=self.workdir,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.processes[name] = process
        return process

    def start(self) -> SimulatedSite:
        hw = self._spawn("hwsim", [sys.executable, "-m", "hwsim.cli", "run", "--control-port", "0",
                                   "--reader-link", str(self.workdir / "reader"), "--modem-link",
                                   str(self.workdir / "modem"), "--log-level", "INFO", *self._hwsim_options])
        world = _read_ready(hw, "hwsim")
        self.hw_url = f"http://127.0.0.1:{world['control_port']}"
        cs_port = self._external_cs
        if cs_port is None:
            (self.workdir / "central-system.jsonl").unlink(missing_ok=True)  # a new site, a new Central System
            central = self._start_central_system(0, 0)
            self.cs_url = f"http://127.0.0.1:{central['control_port']}"
            cs_port = central["soap_port"]
        self.central_system_port = int(cs_port)
        if self.protocol == JSON:  # OCPP-J 3.1.1: the box appends /<identity>
            cs_url, endpoint = f"ws://127.0.0.1:{cs_port}/ocpp", ""
        else:
            self.box_port = free_port()
            cs_url = f"{self._settings['scheme']}://127.0.0.1:{cs_port}/"
            endpoint = ENDPOINT.format(box_port=self.box_port, **self._settings)
        self.config_path.write_text(CONFIG.format(
            identity=self.identity, protocol=self.protocol, cs_url=cs_url, endpoint=endpoint,
            reader=self.workdir / "reader", meter_port=world["connectors"]["1"]["meter_port"],
            gpio_port=world["gpio_port"], **self._settings) + self._extra_config)
        self.start_daemon()
        return self

    def _start_central_system(self, port: int, control_port: int) -> dict[str, Any]:
        if self.protocol == JSON:
            folder = self._json_schemas or write_json_schemas(self.workdir / "json-schemas")
            schema_args = ["--json-schemas", str(folder)]
        else:
            schema_args = ["--cs-wsdl", str(self._cs_wsdl), "--cp-wsdl", str(self._cp_wsdl)]
        cs = self._spawn("central-system", [
            sys.executable, "-m", "hwsim.centralsystem", "--protocol", self.protocol, *schema_args,
            "--heartbeat-interval", str(self._settings["heartbeat_interval"]),
            "--sms-gateway", f"{self.hw_url}/sms", "--log-level", "INFO", "--port", str(port),
            "--control-port", str(control_port), "--journal", str(self.workdir / "central-system.jsonl"),
            *(self._tls.central_system_args() if self._tls else []),
            *(["--basic-auth", f"{self.identity}:{self._authorization_key}"] if self._authorization_key else [])])
        return _read_ready(cs, "central system")

    def restart_central_system(self, sig: int = signal.SIGKILL) -> None:
        """Stop the reference Central System with ``sig`` (killed, by default) and start it again on
        the same ports; its journal gives it back its record and transactions."""
        process = self.processes["central-system"]
        process.send_signal(sig)
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
        self._start_central_system(self.central_system_port, int(self.cs_url.rsplit(":", 1)[1]))

    def start_daemon(self) -> subprocess.Popen[str]:
        return self._spawn("chargebox", [self.python, "-m", "chargebox.cli", "run", "--config",
                                         str(self.config_path)])

    def stop_daemon(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        process = self.processes["chargebox"]
        process.send_signal(sig)
        return process.wait(timeout)

    def stop(self) -> None:
        # The daemon first: it opens its relays while its devices are still there.
        if "chargebox" in self.processes and self.processes["chargebox"].poll() is None:
            self.stop_daemon()
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        for log in self._logs:
            log.close()

    def remove(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SimulatedSite:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _http(base: str, method: str, path: str, data: Any = None, timeout: float = 60.0) -> Any:
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(base + path, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def hw(self, method: str, path: str, data: Any = None) -> Any:
        """The simulator's control interface (see hwsim.control)."""
        return self._http(self.hw_url, method, path, data)

    def cs(self, method: str, path: str, data: Any = None) -> Any:
        """The reference Central System's control interface (see hwsim.centralsystem.control)."""
        return self._http(self.cs_url, method, path, data)

    def hw_seq(self) -> int:
        """The number of the simulator's latest event, for ``wait_hw(..., after=...)``."""
        events: list[dict[str, Any]] = self.hw("GET", "/events")
        return int(events[-1]["seq"]) if events else 0

    def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Have the reference Central System send ``action`` to the box; its answer record."""
        answer: dict[str, Any] = self.cs("POST", "/call", {"chargeBoxIdentity": self.identity, "action": action,
                                                          "payload": payload})
        return answer

    def wait_cs(self, action: str, count: int = 1, timeout: float = 15.0,
                since: int = 0) -> list[dict[str, Any]]:
        """``count`` valid ``action`` requests the Central System received (after record number ``since``)."""
        records: list[dict[str, Any]] = self.cs(
            "GET", f"/wait?action={action}&count={count}&timeout={timeout}&since={since}")
        return records

    def cs_seq(self) -> int:
        """The number of the Central System's latest record, for ``wait_cs(..., since=...)``."""
        record: list[dict[str, Any]] = self.cs("GET", "/record")
        return int(record[-1]["seq"]) if record else 0

    def wait_hw(self, kind: str, timeout: float = 15.0, **match: Any) -> dict[str, Any]:
        """The first simulator event of ``kind`` matching (``after=N``: after event number N)."""
        query = "".join(f"&{key}={json.dumps(value) if key != 'after' else value}" for key, value in match.items())
        event: dict[str, Any] = self.hw("GET", f"/wait?kind={kind}&timeout={timeout}{query}")
        return event

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")
