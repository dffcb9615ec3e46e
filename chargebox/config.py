"""The site config: one TOML file describing the box, its Central System and its wiring.

Every problem is reported with the file, the key and what was expected; :func:`load` collects them
all before raising :class:`~chargebox.errors.ConfigError`, so an installer fixes a file in one go.
The keys are documented in README.md ("Configuration").
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hal.backends import check_options

from chargebox.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Device:
    """A device table: which backend, and its options (checked against the backend's signature)."""

    backend: str
    options: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    id: int
    max_current: float
    meter: Device
    pilot: Device
    relay: Device


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    identity: str
    vendor: str
    model: str
    serial_number: str | None
    central_system_url: str
    listen_host: str
    listen_port: int
    endpoint_path: str
    public_url: str
    allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    storage: Path
    reader: Device | None
    connectors: tuple[ConnectorConfig, ...]
    heartbeat_interval: int = 900
    meter_value_sample_interval: int = 60
    connection_timeout: int = 60
    log_level: str = "INFO"


_TYPES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "a table",
          list: "an array"}


class _Checker:
    """Walks the parsed TOML, collecting every problem instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[tuple[str, str, str]] = []

    def fail(self, key: str, text: str) -> None:
        self.problems.append((str(self.path), key, text))

    def get(self, table: dict[str, Any], prefix: str, key: str, kind: type, default: Any = ...,
            check: Any = None, expected: str = "") -> Any:
        name = f"{prefix}.{key}" if prefix else key
        if key not in table:
            if default is ...:
                self.fail(name, f"missing; expected {_TYPES[kind]}{f' ({expected})' if expected else ''}")
            return None if default is ... else default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(name, f"expected {_TYPES[kind]}{f' ({expected})' if expected else ''}, got {value!r}")
            return None
        if check is not None and not check(value):
            self.fail(name, f"expected {expected}, got {value!r}")
            return None
        return value

    def table(self, parent: dict[str, Any], prefix: str, key: str, required: bool = True) -> dict[str, Any] | None:
        value = self.get(parent, prefix, key, dict, ... if required else None)
        return value if isinstance(value, dict) else None

    def unknown(self, table: dict[str, Any], prefix: str, known: set[str]) -> None:
        for key in sorted(set(table) - known):
            self.fail(f"{prefix}.{key}" if prefix else key, f"unknown key; expected one of: {', '.join(sorted(known))}")

    def device(self, parent: dict[str, Any], prefix: str, kind: str, required: bool = True) -> Device | None:
        table = self.table(parent, prefix, kind, required)
        if table is None:
            return None
        where = f"{prefix}.{kind}" if prefix else kind
        backend = self.get(table, where, "backend", str)
        if backend is None:
            return None
        options = {k: v for k, v in table.items() if k != "backend"}
        for key, problem in check_options(kind, backend, options):
            self.fail(f"{where}.{key}", problem)
        return Device(backend, options)


def _url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _port(value: int) -> bool:
    return 0 < value < 65536


def load(path: Path | str) -> Config:
    """Read and check a site config; ConfigError lists every problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError([(str(path), "-", f"cannot read the file: {err.strerror or err}")]) from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError([(str(path), "-", f"not valid TOML: {err}")]) from err
    c = _Checker(path)
    c.unknown(data, "", {"chargebox", "central_system", "endpoint", "storage", "reader", "connector", "ocpp", "log"})
    box = c.table(data, "", "chargebox") or {}
    c.unknown(box, "chargebox", {"identity", "vendor", "model", "serial_number"})
    identity = c.get(box, "chargebox", "identity", str, check=lambda v: 0 < len(v) <= 64 and v.strip() == v,
                     expected="1..64 characters without surrounding spaces")
    vendor = c.get(box, "chargebox", "vendor", str, "chargebox", check=lambda v: 0 < len(v) <= 20,
                   expected="1..20 characters (ChargePointVendor, 6.3)")
    model = c.get(box, "chargebox", "model", str, "chargebox", check=lambda v: 0 < len(v) <= 20,
                  expected="1..20 characters (ChargePointModel, 6.3)")
    serial = c.get(box, "chargebox", "serial_number", str, None, check=lambda v: len(v) <= 25,
                   expected="at most 25 characters (6.3)")

    cs = c.table(data, "", "central_system") or {}
    c.unknown(cs, "central_system", {"url"})
    cs_url = c.get(cs, "central_system", "url", str, check=_url, expected="an http:// or https:// URL")

    endpoint = c.table(data, "", "endpoint") or {}
    c.unknown(endpoint, "endpoint", {"host", "port", "path", "public_url", "allow"})
    host = c.get(endpoint, "endpoint", "host", str, "0.0.0.0")
    port = c.get(endpoint, "endpoint", "port", int, 8180, check=_port, expected="a port 1..65535")
    ep_path = c.get(endpoint, "endpoint", "path", str, "/", check=lambda v: v.startswith("/"), expected="a path starting with /")
    public_url = c.get(endpoint, "endpoint", "public_url", str, check=_url,
                       expected="the http(s) URL the Central System reaches the box at (wsa:From, 8.3)")
    allow: list[Any] = []
    for index, network in enumerate(c.get(endpoint, "endpoint", "allow", list, []) or []):
        try:
            allow.append(ipaddress.ip_network(str(network), strict=False))
        except ValueError:
            c.fail(f"endpoint.allow[{index}]", f"expected an address or network like 10.0.0.0/8, got {network!r}")

    storage = c.table(data, "", "storage") or {}
    c.unknown(storage, "storage", {"path"})
    storage_path = c.get(storage, "storage", "path", str, expected="the SQLite database file")

    ocpp = c.table(data, "", "ocpp", required=False) or {}
    c.unknown(ocpp, "ocpp", {"heartbeat_interval", "meter_value_sample_interval", "connection_timeout"})
    heartbeat = c.get(ocpp, "ocpp", "heartbeat_interval", int, 900, check=lambda v: v > 0, expected="seconds > 0")
    sample = c.get(ocpp, "ocpp", "meter_value_sample_interval", int, 60, check=lambda v: v >= 0,
                   expected="seconds >= 0 (0 disables)")
    conn_timeout = c.get(ocpp, "ocpp", "connection_timeout", int, 60, check=lambda v: v > 0, expected="seconds > 0")
    log = c.table(data, "", "log", required=False) or {}
    c.unknown(log, "log", {"level"})
    level = c.get(log, "log", "level", str, "INFO", check=lambda v: v in {"DEBUG", "INFO", "WARNING", "ERROR"},
                  expected="DEBUG, INFO, WARNING or ERROR")

    reader = c.device(data, "", "reader", required=False)
    connectors: list[ConnectorConfig] = []
    raw_connectors = c.get(data, "", "connector", list, expected="([[connector]] tables)")
    if raw_connectors == []:
        c.fail("connector", "at least one [[connector]] is needed")
    seen: set[int] = set()
    for index, table in enumerate(raw_connectors or []):
        prefix = f"connector[{index}]"
        if not isinstance(table, dict):
            c.fail(prefix, "expected a [[connector]] table")
            continue
        c.unknown(table, prefix, {"id", "max_current", "meter", "pilot", "relay"})
        number = c.get(table, prefix, "id", int, index + 1, check=lambda v: 0 < v < 100, expected="1..99")
        if number in seen:
            c.fail(f"{prefix}.id", f"connector {number} is defined twice")
        seen.add(number)
        max_current = c.get(table, prefix, "max_current", float, 16.0, check=lambda v: 6.0 <= v <= 80.0,
                            expected="amps between 6 and 80 (IEC 61851-1)")
        meter, pilot, relay = (c.device(table, prefix, kind) for kind in ("meter", "pilot", "relay"))
        if meter and pilot and relay and number is not None and max_current is not None:
            connectors.append(ConnectorConfig(number, max_current, meter, pilot, relay))
    if sorted(seen) != list(range(1, len(seen) + 1)) and seen:
        c.fail("connector", f"connector ids must be 1..N without gaps (1.6 section 3.8), got {sorted(seen)}")
    if c.problems:
        raise ConfigError(c.problems)
    base = path.parent
    return Config(
        path=path, identity=identity, vendor=vendor, model=model, serial_number=serial,
        central_system_url=cs_url, listen_host=host, listen_port=port, endpoint_path=ep_path,
        public_url=public_url, allow=tuple(allow), storage=(base / storage_path).resolve(), reader=reader,
        connectors=tuple(connectors), heartbeat_interval=heartbeat, meter_value_sample_interval=sample,
        connection_timeout=conn_timeout, log_level=level,
    )
