"""``hwsim central-system [--protocol P] [--cs-wsdl P] [--cp-wsdl P] [--json-schemas DIR] --port N
--control-port N`` (also ``python -m hwsim.centralsystem``).

``--protocol`` ``ocpp1.5-soap`` (the default), ``ocpp1.6-soap`` (give the 1.6 WSDLs) or ``ocpp1.6-json``
(OCPP-J over WebSocket at ``ws://host:port/ocpp/<identity>``, validated against ``--json-schemas``;
``--basic-auth ID:KEY`` for security profiles 1 and 2, ``--tls-cert``/``--tls-client-ca`` for 2 and 3).

Runs the reference Central System and its control interface until SIGTERM or SIGINT, printing one
JSON line ``{"event":"listening",...}`` once both listen. Exit status 0 on a clean stop, 2 for bad
arguments, an unreadable WSDL or a certificate that cannot be loaded.

With ``--cert``/``--key`` it serves HTTPS (``--client-ca``: and requires a box's client certificate
from that CA); ``--box-ca`` and ``--client-cert``/``--client-key`` are what its calls to a box's
https:// endpoint trust and present (OCPP 1.5 chapter 8 leaves TLS to the deployment).

Without ``--cs-wsdl``/``--cp-wsdl`` it validates against the project's own WSDLs, found as data files
of the installed ``chargebox`` package: located, never imported, since the simulated world runs none
of the daemon's code (DESIGN.md). Pass the official OCPP 1.5 WSDLs to test against those.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import signal
import ssl
import sys
from pathlib import Path

from .control import run_central_system
from .core import CentralSystemCore
from .jsonserver import JsonCentralSystem
from .schema import SchemaError
from .server import CentralSystem

PROTOCOLS = ("ocpp1.5-soap", "ocpp1.6-soap", "ocpp1.6-json")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not in 0..65535 (0 = any free port)")
    return value


def _interval(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not 0 <= value <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range")
    return value


def _basic_auth(text: str) -> tuple[str, str]:
    identity, sep, key = text.partition(":")
    if not sep or not identity or not key:
        raise argparse.ArgumentTypeError("expected ID:KEY (the box's identity and its AuthorizationKey)")
    return identity, key


def project_wsdls() -> tuple[Path, Path] | None:
    """The Central System and Charge Point WSDLs that ship with the chargebox package, if it is
    installed. ``find_spec`` of a top-level package only locates it: nothing of it runs."""
    spec = importlib.util.find_spec("chargebox")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "binding" / "soap15" / "wsdl"
    found = folder / "ocpp15_centralsystem.wsdl", folder / "ocpp15_chargepoint.wsdl"
    return found if all(path.is_file() for path in found) else None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hwsim central-system",
        description="Reference OCPP Central System (1.5 SOAP, 1.6 SOAP or 1.6 JSON; strict about the schema) "
                    "with a JSON control port.",
    )
    p.add_argument("--protocol", choices=PROTOCOLS, default="ocpp1.5-soap",
                   help="what it speaks (default ocpp1.5-soap); ocpp1.6-soap needs the 1.6 WSDLs in --cs-wsdl/--cp-wsdl")
    p.add_argument("--cs-wsdl", type=Path, help="Central System service WSDL (validates requests; default: "
                   "the one shipped with chargebox)")
    p.add_argument("--cp-wsdl", type=Path, help="Charge Point service WSDL (validates box responses; default: "
                   "the one shipped with chargebox)")
    p.add_argument("--json-schemas", type=Path, metavar="DIR",
                   help="ocpp1.6-json: folder of the OCPP 1.6 JSON schemas (<Action>.json, <Action>Response.json) "
                        "every message is validated against; without it only the OCPP-J frames are checked")
    p.add_argument("--basic-auth", metavar="ID:KEY", type=_basic_auth,
                   help="ocpp1.6-json: require HTTP Basic with this identity and AuthorizationKey "
                        "(security profiles 1 and 2)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=0, help="SOAP or WebSocket port (default 0: any free port)")
    p.add_argument("--control-host", default=None, help="control interface address (default: --host)")
    p.add_argument("--control-port", type=_port, default=0, help="control port (default 0: any free port)")
    p.add_argument("--heartbeat-interval", type=_interval, default=300, help="heartbeatInterval to hand out (s)")
    p.add_argument("--sms-gateway", default=None, metavar="URL",
                   help="where wake-up SMS are posted for POST /hold (e.g. hwsim's http://127.0.0.1:7700/sms)")
    p.add_argument("--ready-file", type=Path, default=None, help="also write the listening line to this file")
    p.add_argument("--journal", type=Path, default=None,
                   help="keep every request in this file and read it back at start (a restart keeps the record)")
    p.add_argument("--log-level", default="WARNING", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    tls = p.add_argument_group("TLS")
    tls.add_argument("--cert", "--tls-cert", type=Path, help="serve HTTPS (wss:// for 1.6 JSON) with this "
                     "certificate (PEM)")
    tls.add_argument("--key", "--tls-key", type=Path, help="the private key of --cert, unless the PEM holds it")
    tls.add_argument("--client-ca", "--tls-client-ca", type=Path,
                     help="require a box's client certificate issued by this CA")
    tls.add_argument("--box-ca", type=Path, help="trust box endpoints whose certificate this CA issued")
    tls.add_argument("--client-cert", type=Path, help="present this client certificate to box endpoints")
    tls.add_argument("--client-key", type=Path, help="the private key of --client-cert, unless the PEM holds it")
    return p


def _tls(args: argparse.Namespace) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None]:
    """The server context (None: plain HTTP) and the context of calls to boxes (None: the system's)."""
    server = None
    if args.cert is not None:
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(str(args.cert), str(args.key) if args.key else None)
        if args.client_ca is not None:
            server.load_verify_locations(cafile=str(args.client_ca))
            server.verify_mode = ssl.CERT_REQUIRED
    client = None
    if args.box_ca is not None or args.client_cert is not None:
        client = ssl.create_default_context(cafile=str(args.box_ca) if args.box_ca else None)
        if args.client_cert is not None:
            client.load_cert_chain(str(args.client_cert), str(args.client_key) if args.client_key else None)
    return server, client


def _central_system(args: argparse.Namespace) -> CentralSystemCore:
    if args.protocol == "ocpp1.6-json":
        return JsonCentralSystem(args.json_schemas, heartbeat_interval=args.heartbeat_interval,
                                 server_tls=args.server_tls, basic_auth=args.basic_auth, journal=args.journal)
    cs = CentralSystem(args.cs_wsdl, args.cp_wsdl, heartbeat_interval=args.heartbeat_interval,
                       server_tls=args.server_tls, client_tls=args.client_tls, journal=args.journal)
    if cs.protocol != args.protocol:
        raise SchemaError(f"--cs-wsdl {args.cs_wsdl} is an {cs.protocol} WSDL, not {args.protocol}")
    return cs


async def _main(args: argparse.Namespace) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    cs = _central_system(args)
    with contextlib.suppress(asyncio.CancelledError):
        await run_central_system(
            cs,
            args.host,
            args.port,
            args.control_port,
            args.ready_file,
            control_host=args.control_host,
            sms_gateway=args.sms_gateway,
        )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    json_only = ("json_schemas", "basic_auth")
    wrong = [f"--{o.replace('_', '-')}" for o in json_only if getattr(args, o) is not None]
    if args.protocol != "ocpp1.6-json" and wrong:
        parser.error(f"{', '.join(wrong)}: only with --protocol ocpp1.6-json")
    if args.protocol == "ocpp1.6-soap" and (args.cs_wsdl is None or args.cp_wsdl is None):
        parser.error("--protocol ocpp1.6-soap needs --cs-wsdl and --cp-wsdl (the OCPP 1.6 WSDLs)")
    if args.protocol == "ocpp1.6-json":
        if args.json_schemas is not None and not args.json_schemas.is_dir():
            parser.error(f"--json-schemas {args.json_schemas}: no such folder")
    elif args.cs_wsdl is None or args.cp_wsdl is None:
        found = project_wsdls()
        if found is None:
            parser.error("--cs-wsdl and --cp-wsdl are needed: the chargebox package and its WSDLs are not installed")
        args.cs_wsdl, args.cp_wsdl = args.cs_wsdl or found[0], args.cp_wsdl or found[1]
    for opt in ("cs_wsdl", "cp_wsdl", "cert", "key", "client_ca", "box_ca", "client_cert", "client_key"):
        path = getattr(args, opt)
        if path is not None and not path.is_file():
            parser.error(f"--{opt.replace('_', '-')} {path}: no such file")
    for needs, given in (("cert", "key"), ("cert", "client_ca"), ("client_cert", "client_key")):
        if getattr(args, given) is not None and getattr(args, needs) is None:
            parser.error(f"--{given.replace('_', '-')} needs --{needs.replace('_', '-')}")
    try:
        args.server_tls, args.client_tls = _tls(args)
    except (ssl.SSLError, ValueError) as err:
        parser.error(f"cannot load the certificates: {err}")
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(_main(args))
    except SchemaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: cannot listen: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
