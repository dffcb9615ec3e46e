"""The site config: one TOML file describing the box, its Central System and its wiring.

Every problem is reported with the file, the key and what was expected; :func:`load` collects them
all before raising :class:`~chargebox.errors.ConfigError`, so an installer fixes a file in one go.
The keys are documented in README.md ("Configuration").
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from hal.backends import check_options, load_backend
from hal.errors import HalError
from hal.gpio.pins import parse_pin

from chargebox import tls
from chargebox.engine.configuration import KEYS, Kind, normalise
from chargebox.errors import ConfigError
from chargebox.mobile.policy import WakeUpPolicy
from chargebox.maintenance.settings import DiagnosticsSettings, FirmwareSettings, TransferSettings
from chargebox.store.outbox import DEFAULT_LIMIT as DEFAULT_OUTBOX_LIMIT

_KINDS = {Kind.INT: "an integer", Kind.BOOL: "true or false", Kind.MEASURANDS: "a comma-separated list of "
          "measurands (7.20), like \"Energy.Active.Import.Register,Power.Active.Import\"", Kind.TEXT: "a string"}

#: In the unit's RuntimeDirectory=, so only root and the service user reach it (README, the service).
DEFAULT_CONTROL_SOCKET = "/run/chargebox/control.sock"
DEFAULT_REBOOT_COMMAND = ("systemctl", "reboot")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: ``central_system.protocol``: the binding the box speaks (README, Configuration).
PROTOCOLS = ("ocpp1.5-soap", "ocpp1.6-soap", "ocpp1.6-json")
JSON = "ocpp1.6-json"
#: The keys of ``[central_system]`` that apply to one kind of binding only.
SOAP_ONLY_KEYS = ("compression", "compress_threshold")
JSON_ONLY_KEYS = ("authorization_key", "ping_interval", "reconnect_max")


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
    lock: Device | None = None  # [connector.lock], optional: a socket outlet's cable lock
    protection: Device | None = None  # [connector.protection], optional: RCD / over-temperature inputs
    #: The supply lines it is wired to (1..3), in the order of its own phases: its number of phases, and
    #: where its current counts for load balancing (issue 18).
    lines: tuple[int, ...] = (1, 2, 3)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """``[site]``: the supply the box shares among its connectors (issue 18, load balancing)."""

    #: A per phase the box may draw in all (the supply fuse); None: no site limit.
    max_current: float | None = None
    phases: int = 3
    #: The phase-to-neutral voltage W limits are converted with (1.6 7.12: the set voltage for the area).
    nominal_voltage: float = 230.0
    #: [site.grid_meter]: a meter measuring the whole building, so that its other load is left room.
    grid_meter: Device | None = None
    #: A per phase the box may draw in all while the grid meter is quiet.
    failsafe_current: float | None = None
    #: Seconds without a good reading after which the grid meter counts as quiet.
    grid_meter_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class ClientTransport:
    """``[central_system]``: how the box reaches its Central System (HTTP, TLS, compression, timeouts)."""

    allow_plain_http: bool = False
    ca_file: Path | None = None
    pin_sha256: bytes | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    timeout: float = 30.0
    connect_timeout: float = 10.0
    compression: Literal["gzip", "deflate"] | None = "gzip"
    compress_threshold: int = 1024
    #: OCPP-J: the password of HTTP Basic (security profiles 1 and 2, AuthorizationKey); never in a repr.
    authorization_key: str | None = field(default=None, repr=False)
    #: OCPP-J: seconds between WebSocket pings (WebSocketPingInterval, OCPP-J 1.6 5.3); 0 sends none.
    ping_interval: int = 60
    #: OCPP-J: the longest delay in seconds between two attempts to connect (the backoff's ceiling).
    reconnect_max: int = 60

    def ssl_context(self) -> ssl.SSLContext | None:
        """None when no TLS key is set: aiohttp's own verifying context then serves (the system's
        CAs, host names checked, TLS 1.2 at least), loaded once at import, where a context of ours
        would hold a second copy of every CA certificate (about 1 MB of the daemon's memory)."""
        if self.ca_file is None and self.pin_sha256 is None and self.cert_file is None:
            return None
        return tls.client_context(ca_file=self.ca_file, pin_sha256=self.pin_sha256, cert_file=self.cert_file,
                                  key_file=self.key_file)


@dataclass(frozen=True, slots=True)
class EndpointTransport:
    """``[endpoint]``: how the box serves the Central System (HTTPS, client certificates, limits)."""

    allow_plain_http: bool = False
    cert_file: Path | None = None
    key_file: Path | None = None
    client_ca_file: Path | None = None
    max_body: int = 1 << 20
    read_timeout: float = 30.0
    max_connections: int = 64
    idle_timeout: float = 20.0

    def ssl_context(self) -> ssl.SSLContext | None:
        """None where the endpoint serves plain HTTP (allowed only by ``allow_plain_http``)."""
        if self.cert_file is None:
            return None
        return tls.server_context(self.cert_file, self.key_file, self.client_ca_file)


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
    central_system_transport: ClientTransport = ClientTransport()
    protocol: str = PROTOCOLS[0]
    endpoint_transport: EndpointTransport = EndpointTransport()
    #: OCPP configuration keys (6.9.1) by name, as wire text: the box's defaults until the Central
    #: System changes them.
    ocpp: dict[str, str] = field(default_factory=dict)
    log_level: str = "INFO"
    mask_id_tags: bool = True
    control_socket: Path = Path(DEFAULT_CONTROL_SOCKET)
    reboot_command: tuple[str, ...] = DEFAULT_REBOOT_COMMAND
    #: The network interface whose current address goes into ``public_url``'s ``{address}`` (8.3).
    public_interface: str | None = None
    modem: Device | None = None  # [modem]
    wakeup: WakeUpPolicy = WakeUpPolicy()  # [wakeup]
    firmware: FirmwareSettings = FirmwareSettings()
    diagnostics: DiagnosticsSettings = DiagnosticsSettings()
    #: The messages the outbox holds at most (``[storage] outbox_limit``; chargebox.store.outbox).
    outbox_limit: int = DEFAULT_OUTBOX_LIMIT
    site: SiteConfig = SiteConfig()


_TYPES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "a table",
          list: "an array"}


class _Checker:
    """Walks the parsed TOML, collecting every problem instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[tuple[str, str, str]] = []
        #: What devices have taken so far (a GPIO line, a meter's address, a serial port) -> the key
        #: that took it: two devices on one line would drive each other's contactor or read each
        #: other's contact; two connectors on one meter would bill each other's energy.
        self.claims: dict[tuple[Any, ...], str] = {}

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

    def device(self, parent: dict[str, Any], prefix: str, kind: str, required: bool = True,
               name: str | None = None) -> Device | None:
        """The device table ``name`` (default: the kind's own name) of ``parent``, a ``kind`` backend."""
        table = self.table(parent, prefix, name or kind, required)
        if table is None:
            return None
        where = f"{prefix}.{name or kind}" if prefix else name or kind
        backend = self.get(table, where, "backend", str)
        if backend is None:
            return None
        options = {k: v for k, v in table.items() if k != "backend"}
        problems = check_options(kind, backend, options)
        for key, problem in problems:
            self.fail(f"{where}.{key}", problem)
        if not problems:
            self._build(kind, backend, options, where)
        return Device(backend, options)

    def _build(self, kind: str, backend: str, options: dict[str, Any], where: str) -> None:
        """Construct the backend once, as the daemon will, without opening it: its constructor checks
        the values' ranges (a device_id of 300, a negative timeout), so what would stop ``run`` is
        reported here. Then claim what it uses."""
        cls = load_backend(kind, backend)
        try:
            device = cls(**options)
        except (HalError, ValueError, OSError) as err:
            key, text = _option_problem(str(err), options)
            self.fail(f"{where}.{key}" if key else where, text)
            return
        for key in getattr(cls, "PIN_OPTIONS", ()):
            if isinstance(options.get(key), str):
                spec = parse_pin(options[key], key)
                self._claim(("gpio", cls.LIBRARY, spec.chip, spec.line), f"{where}.{key}",
                            f"GPIO line {options[key]!r}")
        if kind == "meter":  # meters share an RTU line, but each has its own unit id on it
            self._claim(("meter", device.where), where, f"the meter at {device.where}")
        elif kind in ("reader", "modem"):
            self._claim(("serial", device.port), f"{where}.port", f"serial port {device.port!r}")

    def _claim(self, resource: tuple[Any, ...], key: str, what: str) -> None:
        if resource in self.claims:
            self.fail(key, f"{what} is already used by {self.claims[resource]}; expected one of its own")
        else:
            self.claims[resource] = key


def _option_problem(message: str, options: dict[str, Any]) -> tuple[str | None, str]:
    """The option a backend's ConfigurationError names ("device_id: expected 1..255", "timeout must
    be > 0"), and the rest of the message; no option where it names none."""
    head, sep, rest = message.partition(": ")
    if sep and head in options:
        return head, rest
    first, _, rest = message.partition(" ")
    if first in options:
        return first, rest
    return None, message


def _url(value: str, schemes: tuple[str, str] = ("http", "https")) -> bool:
    parts = urlsplit(value)
    return parts.scheme in schemes and bool(parts.hostname)


def _port(value: int) -> bool:
    return 0 < value < 65536


def _file(c: _Checker, table: dict[str, Any], prefix: str, key: str) -> Path | None:
    """An optional file key, relative to the config file's folder; it must exist."""
    value = c.get(table, prefix, key, str, None, expected="a file path")
    if value is None:
        return None
    path = (c.path.parent / value).resolve()
    if not path.is_file():
        c.fail(f"{prefix}.{key}", f"no such file: {path}")
        return None
    return path


def _tls_context(c: _Checker, key: str, build: Any) -> None:
    """Load the certificates now, so a bad PEM is a config error and not a failure at run time."""
    try:
        build()
    except (OSError, ssl.SSLError, ValueError) as err:
        c.fail(key, f"cannot load the certificate or key: {err}")


def _client_transport(c: _Checker, cs: dict[str, Any], url: str | None, protocol: str) -> ClientTransport:
    """The TLS, compression, authentication and timeout keys of ``[central_system]`` (README, Configuration)."""
    p = "central_system"
    json = protocol == JSON
    plain_scheme, secure_scheme = ("ws", "wss") if json else ("http", "https")
    for key in JSON_ONLY_KEYS if not json else SOAP_ONLY_KEYS:
        if key in cs:
            c.fail(f"{p}.{key}", f"does not apply to central_system.protocol {protocol!r}; it applies only to "
                   + (f'"{JSON}"' if not json else "the SOAP protocols"))
    plain = c.get(cs, p, "allow_plain_http", bool, False)
    if url is not None and urlsplit(url).scheme == plain_scheme and not plain:
        c.fail(f"{p}.url", f"a plain {plain_scheme}:// URL needs central_system.allow_plain_http = true; "
               f"use {secure_scheme}://")
    pin_text = c.get(cs, p, "pin_sha256", str, None, expected="the SHA-256 of the certificate, 64 hex digits")
    pin = None
    if pin_text is not None:
        try:
            pin = tls.parse_fingerprint(pin_text)
        except ValueError as err:
            c.fail(f"{p}.pin_sha256", str(err))
    files = {key: _file(c, cs, p, key) for key in ("ca_file", "cert_file", "key_file")}
    https = url is not None and urlsplit(url).scheme == secure_scheme
    for key in ("ca_file", "pin_sha256", "cert_file", "key_file"):
        if key in cs and url is not None and not https:
            c.fail(f"{p}.{key}", f"only applies to {'a' if json else 'an'} {secure_scheme}:// central_system.url")
    if "key_file" in cs and "cert_file" not in cs:
        c.fail(f"{p}.key_file", "needs central_system.cert_file (the client certificate)")
    compression = c.get(cs, p, "compression", str, "gzip", check=lambda v: v in ("gzip", "deflate", "none"),
                        expected='"gzip", "deflate" or "none"')
    transport = ClientTransport(
        allow_plain_http=bool(plain), ca_file=files["ca_file"], pin_sha256=pin, cert_file=files["cert_file"],
        key_file=files["key_file"],
        timeout=c.get(cs, p, "timeout", float, 30.0, check=lambda v: v > 0, expected="seconds > 0") or 30.0,
        connect_timeout=c.get(cs, p, "connect_timeout", float, 10.0, check=lambda v: v > 0,
                              expected="seconds > 0") or 10.0,
        compression=None if compression in (None, "none") else cast(Literal["gzip", "deflate"], compression),
        compress_threshold=c.get(cs, p, "compress_threshold", int, 1024, check=lambda v: v >= 0,
                                 expected="bytes >= 0") or 0,
        # Security whitepaper A00.FR.205: at least 16 bytes; errata 3.10: at most 40 characters.
        authorization_key=c.get(cs, p, "authorization_key", str, None, check=lambda v: 16 <= len(v) <= 40
                                and v.isascii() and v.isprintable(),
                                expected="16..40 printable ASCII characters (AuthorizationKey)"),
        ping_interval=c.get(cs, p, "ping_interval", int, 60, check=lambda v: v >= 0,
                            expected="seconds >= 0 (WebSocketPingInterval; 0 sends no pings)"),
        # Errata 3.3 asks for "an appropriate back-off": at least 1 s (no hammering), at most an hour
        # (a box still comes back the same hour).
        reconnect_max=c.get(cs, p, "reconnect_max", int, 60, check=lambda v: 1 <= v <= 3600,
                            expected="seconds from 1 to 3600") or 60,
    )
    if https:
        loaded = [key for key in ("cert_file", "ca_file") if key in cs]
        _tls_context(c, f"{p}.{loaded[0]}" if loaded else p, transport.ssl_context)
    return transport


def _endpoint_transport(c: _Checker, endpoint: dict[str, Any], public_url: str | None) -> EndpointTransport:
    """The HTTPS and limit keys of ``[endpoint]`` (README, Configuration)."""
    p = "endpoint"
    plain = c.get(endpoint, p, "allow_plain_http", bool, False)
    files = {key: _file(c, endpoint, p, key) for key in ("cert_file", "key_file", "client_ca_file")}
    if "cert_file" not in endpoint:
        if not plain:
            c.fail(f"{p}.cert_file", "missing; the endpoint serves HTTPS unless endpoint.allow_plain_http = true")
        for key in ("key_file", "client_ca_file"):
            if key in endpoint:
                c.fail(f"{p}.{key}", "needs endpoint.cert_file (the endpoint's certificate)")
    if public_url is not None and urlsplit(public_url).scheme == "http" and not plain:
        c.fail(f"{p}.public_url", "a plain http:// URL needs endpoint.allow_plain_http = true; use https://")
    transport = EndpointTransport(
        allow_plain_http=bool(plain), cert_file=files["cert_file"], key_file=files["key_file"],
        client_ca_file=files["client_ca_file"],
        max_body=c.get(endpoint, p, "max_body", int, 1 << 20, check=lambda v: v >= 1024,
                       expected="bytes >= 1024") or 1 << 20,
        read_timeout=c.get(endpoint, p, "read_timeout", float, 30.0, check=lambda v: v > 0,
                           expected="seconds > 0") or 30.0,
        max_connections=c.get(endpoint, p, "max_connections", int, 64, check=lambda v: 1 <= v <= 1000,
                              expected="connections 1..1000 (each holds a file descriptor)") or 64,
        idle_timeout=c.get(endpoint, p, "idle_timeout", float, 20.0, check=lambda v: v > 0,
                           expected="seconds > 0") or 20.0,
    )
    if transport.cert_file is not None:
        _tls_context(c, f"{p}.cert_file", transport.ssl_context)
    return transport


def _storage(c: _Checker, database: Path) -> None:
    """What stops the database being created, as far as it shows offline. Permissions are left to
    ``run`` (exit 78 there): check-config may run as another user than the service."""
    try:
        folder = next(folder for folder in (database, *database.parents) if folder.exists())
    except OSError:  # a folder on the way this user may not search: the service user may
        return
    if folder == database:
        if database.is_dir():
            c.fail("storage.path", f"{database} is a folder; expected the database file in it, like "
                   f"{database}/chargebox.db")
    elif not folder.is_dir():
        c.fail("storage.path", f"cannot create the folder {database.parent}: {folder} is a file")


def _ocpp_keys(c: _Checker, table: dict[str, Any]) -> dict[str, str]:
    """The [ocpp] table: configuration keys by their OCPP name (6.9.1), checked as ChangeConfiguration
    would check them."""
    found: dict[str, str] = {}
    for name, value in table.items():
        key = KEYS.get(name.casefold())
        # A secret (write-only) has its place in central_system.authorization_key; a readonly key may
        # only be given by the site where it says so (Key.site).
        if key is None or (key.readonly and not key.site) or key.write_only:
            c.fail(f"ocpp.{name}", "unknown or readonly key; expected one of: "
                   + ", ".join(k.name for k in KEYS.values() if (not k.readonly or k.site) and not k.write_only))
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        canonical = normalise(key, text) if isinstance(value, (bool, int, str)) else None
        if canonical is None:
            c.fail(f"ocpp.{name}", f"expected {_KINDS[key.kind]}"
                   + (f" >= {key.minimum}" if key.kind is Kind.INT else "")
                   + (f" ({key.unit})" if key.unit else "") + f", got {value!r}")
            continue
        found[key.name] = canonical
    return found


def _transfer(c: _Checker, table: dict[str, Any], p: str) -> TransferSettings:
    """The keys ``[firmware]`` and ``[diagnostics]`` share: how a file moves over FTP(S)."""
    default = TransferSettings()
    settings = TransferSettings(
        retries=c.get(table, p, "retries", int, default.retries, check=lambda v: 0 <= v <= 1000,
                      expected="0..1000 (retries when the request gives none)"),
        retry_interval=c.get(table, p, "retry_interval", float, default.retry_interval, check=lambda v: v >= 0,
                             expected="seconds >= 0"),
        timeout=c.get(table, p, "timeout", float, default.timeout, check=lambda v: v > 0, expected="seconds > 0"),
        ca_file=_file(c, table, p, "ca_file"),
    )
    if settings.ca_file is not None:
        _tls_context(c, f"{p}.ca_file", settings.ssl_context)
    return settings


def _folder(c: _Checker, table: dict[str, Any], p: str) -> Path | None:
    value = c.get(table, p, "directory", str, None, check=bool, expected="a folder path")
    return (c.path.parent / value).resolve() if value else None


def _firmware(c: _Checker, data: dict[str, Any]) -> FirmwareSettings:
    """``[firmware]`` (README, Configuration): without an installer, UpdateFirmware is not supported."""
    p = "firmware"
    table = c.table(data, "", p, required=False) or {}
    c.unknown(table, p, {"installer", "after_install", "install_timeout", "directory", "public_key", "max_size",
                         "retries", "retry_interval", "timeout", "ca_file"})
    installer = c.get(table, p, "installer", list, None,
                      check=lambda v: bool(v) and all(isinstance(word, str) and word for word in v),
                      expected='the command and its arguments, like ["/usr/libexec/chargebox/rauc-install"]')
    if installer and shutil.which(installer[0]) is None:
        c.fail(f"{p}.installer", f"no such command: {installer[0]} (expected an executable file)")
    key = _file(c, table, p, "public_key")
    if key is not None:
        from chargebox.maintenance.verify import load_public_key

        try:
            load_public_key(key)
        except ImportError:
            c.fail(f"{p}.public_key", "checking signatures needs the cryptography package (pip install cryptography)")
        except ValueError as err:
            c.fail(f"{p}.public_key", f"cannot use the key: {err}")
    return FirmwareSettings(
        installer=tuple(installer) if installer else None,
        after_install=c.get(table, p, "after_install", str, "restart", check=lambda v: v in ("restart", "reboot"),
                            expected='"restart" (the daemon) or "reboot" (the board)'),
        install_timeout=c.get(table, p, "install_timeout", float, 900.0, check=lambda v: v > 0,
                              expected="seconds > 0"),
        directory=_folder(c, table, p), public_key=key,
        max_size=c.get(table, p, "max_size", int, 512 << 20, check=lambda v: v > 0, expected="bytes > 0"),
        transfer=_transfer(c, table, p),
    )


def _diagnostics(c: _Checker, data: dict[str, Any]) -> DiagnosticsSettings:
    """``[diagnostics]`` (README, Configuration)."""
    p = "diagnostics"
    table = c.table(data, "", p, required=False) or {}
    c.unknown(table, p, {"log_files", "directory", "transactions", "retries", "retry_interval", "timeout", "ca_file"})
    files = c.get(table, p, "log_files", list, [], check=lambda v: all(isinstance(word, str) and word for word in v),
                  expected="an array of log file paths or glob patterns") or []
    return DiagnosticsSettings(
        log_files=tuple(str(c.path.parent / name) for name in files), directory=_folder(c, table, p),
        transactions=c.get(table, p, "transactions", int, 100, check=lambda v: v >= 0, expected="a count >= 0"),
        transfer=_transfer(c, table, p),
    )


def _mobile(c: _Checker, data: dict[str, Any], endpoint: dict[str, Any], public_url: str | None,
            ) -> tuple[str | None, Device | None, WakeUpPolicy]:
    """``endpoint.public_interface``, ``[modem]`` and ``[wakeup]`` (README, "Life on a mobile network")."""
    interface = c.get(endpoint, "endpoint", "public_interface", str, None,
                      check=lambda v: 0 < len(v) < 16 and "/" not in v, expected="a network interface name like wwan0")
    if public_url is not None and ("{address}" in public_url) != ("public_interface" in endpoint):
        c.fail("endpoint.public_url", "a URL with {address} needs endpoint.public_interface, and "
               "endpoint.public_interface a URL with {address}, like \"https://{address}:8180/\"")
    modem = c.device(data, "", "modem", required=False)
    table = c.table(data, "", "wakeup", required=False) or {}
    c.unknown(table, "wakeup", {"min_interval", "only_for_this_box", "allowed_senders"})
    if table and "modem" not in data:
        c.fail("wakeup", "needs a [modem] to receive the SMS")
    default = WakeUpPolicy()
    senders = c.get(table, "wakeup", "allowed_senders", list, [],
                    check=lambda v: all(isinstance(n, str) and n.startswith("+") and n[1:].isdigit() for n in v),
                    expected='phone numbers in international format, like ["+31612345678"]')
    policy = WakeUpPolicy(
        min_interval=c.get(table, "wakeup", "min_interval", float, default.min_interval, check=lambda v: v >= 0,
                           expected="seconds >= 0 between two wake-up heartbeats"),
        only_for_this_box=c.get(table, "wakeup", "only_for_this_box", bool, False),
        allowed_senders=tuple(senders or ()),
    )
    return interface, modem, policy


def _site(c: _Checker, data: dict[str, Any]) -> SiteConfig:
    """``[site]`` and ``[site.grid_meter]`` (README, Configuration; issue 18)."""
    p = "site"
    table = c.table(data, "", p, required=False) or {}
    c.unknown(table, p, {"max_current", "phases", "nominal_voltage", "grid_meter", "failsafe_current",
                         "grid_meter_timeout"})
    max_current = c.get(table, p, "max_current", float, None, check=lambda v: v > 0,
                        expected="amps per phase > 0 (the supply fuse)")
    grid_meter = c.device(table, p, "meter", required=False, name="grid_meter")
    if "grid_meter" in table and "max_current" not in table:
        c.fail(f"{p}.grid_meter", "needs site.max_current (the supply the building's load is measured against)")
    if ("grid_meter" in table) != ("failsafe_current" in table):
        c.fail(f"{p}.failsafe_current" if "grid_meter" in table else f"{p}.grid_meter",
               "site.grid_meter and site.failsafe_current go together; expected both or neither")
    most = max_current if max_current is not None else float("inf")
    failsafe = c.get(table, p, "failsafe_current", float, None, check=lambda v: 0 <= v <= most,
                     expected="amps per phase from 0 to site.max_current, used while the grid meter is quiet")
    default = SiteConfig()
    return SiteConfig(
        max_current=max_current,
        phases=c.get(table, p, "phases", int, default.phases, check=lambda v: v in (1, 3),
                     expected="1 or 3 (the supply's phases)") or default.phases,
        nominal_voltage=c.get(table, p, "nominal_voltage", float, default.nominal_voltage,
                              check=lambda v: 100 <= v <= 300,
                              expected="volts 100..300, phase to neutral (like 230)") or default.nominal_voltage,
        grid_meter=grid_meter, failsafe_current=failsafe,
        grid_meter_timeout=c.get(table, p, "grid_meter_timeout", float, default.grid_meter_timeout,
                                 check=lambda v: v > 0, expected="seconds > 0") or default.grid_meter_timeout,
    )


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
    c.unknown(data, "", {"chargebox", "central_system", "endpoint", "storage", "reader", "connector", "ocpp", "log",
                        "service", "firmware", "diagnostics", "modem", "wakeup", "site"})
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
    c.unknown(cs, "central_system", {"url", "protocol", "allow_plain_http", "ca_file", "pin_sha256", "cert_file",
                                     "key_file", "timeout", "connect_timeout", *SOAP_ONLY_KEYS, *JSON_ONLY_KEYS})
    protocol = c.get(cs, "central_system", "protocol", str, PROTOCOLS[0], check=lambda v: v in PROTOCOLS,
                     expected=", ".join(f'"{name}"' for name in PROTOCOLS)) or PROTOCOLS[0]
    if protocol == JSON:
        cs_url = c.get(cs, "central_system", "url", str, check=lambda v: _url(v, ("ws", "wss")),
                       expected="a ws:// or wss:// URL, to which the box appends /<identity> (OCPP-J 3.1.1)")
    else:
        cs_url = c.get(cs, "central_system", "url", str, check=_url, expected="an http:// or https:// URL")
    cs_transport = _client_transport(c, cs, cs_url, protocol)

    if protocol == JSON and "endpoint" in data:
        # OCPP-J: the Central System's requests come over the box's own WebSocket; nothing listens.
        c.fail("endpoint", f'applies only to the SOAP protocols; with central_system.protocol "{JSON}" the '
               "Central System's requests come over the WebSocket the box opens")
    endpoint = c.table(data, "", "endpoint", required=protocol != JSON) or {}
    c.unknown(endpoint, "endpoint", {"host", "port", "path", "public_url", "allow", "allow_plain_http", "cert_file",
                                     "key_file", "client_ca_file", "max_body", "read_timeout", "public_interface",
                                     "max_connections", "idle_timeout"})
    host = c.get(endpoint, "endpoint", "host", str, "0.0.0.0")
    port = c.get(endpoint, "endpoint", "port", int, 8180, check=_port, expected="a port 1..65535")
    ep_path = c.get(endpoint, "endpoint", "path", str, "/", check=lambda v: v.startswith("/"), expected="a path starting with /")
    public_url = c.get(endpoint, "endpoint", "public_url", str, "" if protocol == JSON else ..., check=_url,
                       expected="the http(s) URL the Central System reaches the box at (wsa:From, 8.3)")
    endpoint_transport = _endpoint_transport(c, endpoint, public_url) if protocol != JSON else EndpointTransport()
    public_interface, modem, wakeup = _mobile(c, data, endpoint, public_url)
    allow: list[Any] = []
    for index, network in enumerate(c.get(endpoint, "endpoint", "allow", list, []) or []):
        try:
            allow.append(ipaddress.ip_network(str(network), strict=False))
        except ValueError:
            c.fail(f"endpoint.allow[{index + 1}]", f"expected an address or network like 10.0.0.0/8, got {network!r}")

    storage = c.table(data, "", "storage") or {}
    c.unknown(storage, "storage", {"path", "outbox_limit"})
    storage_path = c.get(storage, "storage", "path", str, check=bool, expected="the SQLite database file")
    outbox_limit = c.get(storage, "storage", "outbox_limit", int, DEFAULT_OUTBOX_LIMIT, check=lambda v: v > 0,
                         expected="a number of messages > 0")
    if storage_path:
        _storage(c, (path.parent / storage_path).resolve())

    ocpp = c.table(data, "", "ocpp", required=False) or {}
    ocpp_defaults = _ocpp_keys(c, ocpp)
    log = c.table(data, "", "log", required=False) or {}
    c.unknown(log, "log", {"level", "mask_id_tags"})
    level = c.get(log, "log", "level", str, "INFO", check=lambda v: v.upper() in LOG_LEVELS,
                  expected="DEBUG, INFO, WARNING or ERROR (any case)")
    mask_id_tags = c.get(log, "log", "mask_id_tags", bool, True)
    service = c.table(data, "", "service", required=False) or {}
    c.unknown(service, "service", {"control_socket", "reboot_command"})
    socket_name = c.get(service, "service", "control_socket", str, DEFAULT_CONTROL_SOCKET,
                        check=lambda v: 0 < len(str(path.parent / v).encode()) < 108,
                        expected="a socket path of at most 107 bytes (AF_UNIX)")
    reboot = c.get(service, "service", "reboot_command", list, list(DEFAULT_REBOOT_COMMAND),
                   check=lambda v: bool(v) and all(isinstance(word, str) and word for word in v),
                   expected="the command and its arguments, like [\"systemctl\", \"reboot\"]")
    firmware, diagnostics = _firmware(c, data), _diagnostics(c, data)

    reader = c.device(data, "", "reader", required=False)
    site = _site(c, data)
    connectors: list[ConnectorConfig] = []
    raw_connectors = c.get(data, "", "connector", list, expected="([[connector]] tables)")
    if raw_connectors == []:
        c.fail("connector", "at least one [[connector]] is needed")
    seen: set[int] = set()
    # The first [[connector]] table is connector[1], as people count (README, check-config).
    for index, table in enumerate(raw_connectors or []):
        prefix = f"connector[{index + 1}]"
        if not isinstance(table, dict):
            c.fail(prefix, "expected a [[connector]] table")
            continue
        c.unknown(table, prefix, {"id", "max_current", "lines", "meter", "pilot", "relay", "lock", "protection"})
        number = c.get(table, prefix, "id", int, index + 1, check=lambda v: 0 < v < 100, expected="1..99")
        if number in seen:
            c.fail(f"{prefix}.id", f"connector {number} is defined twice")
        seen.add(number)
        max_current = c.get(table, prefix, "max_current", float, 16.0, check=lambda v: 6.0 <= v <= 80.0,
                            expected="amps between 6 and 80 (IEC 61851-1)")
        supply = tuple(range(1, site.phases + 1))
        lines = c.get(table, prefix, "lines", list, list(supply),
                      check=lambda v: bool(v) and len(set(v)) == len(v)
                      and all(type(line) is int and line in supply for line in v),
                      expected=f"the supply lines it is wired to, distinct, of {list(supply)}, like [1, 2, 3] or [2]")
        meter, pilot, relay = (c.device(table, prefix, kind) for kind in ("meter", "pilot", "relay"))
        lock, protection = (c.device(table, prefix, kind, required=False) for kind in ("lock", "protection"))
        if meter and pilot and relay and number is not None and max_current is not None:
            connectors.append(ConnectorConfig(number, max_current, meter, pilot, relay, lock, protection,
                                              tuple(lines or supply)))
    if sorted(seen) != list(range(1, len(seen) + 1)) and seen:
        c.fail("connector", f"connector ids must be 1..N without gaps (1.6 section 3.8), got {sorted(seen)}")
    if c.problems:
        raise ConfigError(c.problems)
    base = path.parent
    return Config(
        path=path, identity=identity, vendor=vendor, model=model, serial_number=serial,
        central_system_url=cs_url, listen_host=host, listen_port=port, endpoint_path=ep_path,
        public_url=public_url, allow=tuple(allow), storage=(base / storage_path).resolve(),
        outbox_limit=outbox_limit or DEFAULT_OUTBOX_LIMIT, reader=reader,
        connectors=tuple(connectors), central_system_transport=cs_transport, protocol=protocol,
        endpoint_transport=endpoint_transport, ocpp=ocpp_defaults, log_level=level.upper(),
        mask_id_tags=mask_id_tags, control_socket=(base / socket_name).resolve(), reboot_command=tuple(reboot),
        firmware=firmware, diagnostics=diagnostics, public_interface=public_interface, modem=modem, wakeup=wakeup,
        site=site,
    )
