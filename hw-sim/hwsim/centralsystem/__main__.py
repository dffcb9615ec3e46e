"""``python -m hwsim.centralsystem --cs-wsdl P --cp-wsdl P --port N --control-port N``.

Runs the reference Central System and its control interface until SIGTERM or SIGINT, printing one
JSON line ``{"event":"listening",...}`` once both listen. Exit status 0 on a clean stop, 2 for bad
arguments or an unreadable WSDL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from .control import run_central_system
from .schema import SchemaError


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hwsim.centralsystem",
        description="Reference OCPP 1.5 SOAP Central System (strict about the schema) with a JSON control port.",
    )
    p.add_argument("--cs-wsdl", type=Path, required=True, help="Central System service WSDL (validates requests)")
    p.add_argument("--cp-wsdl", type=Path, required=True, help="Charge Point service WSDL (validates box responses)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=0, help="SOAP port (default 0: any free port)")
    p.add_argument("--control-host", default=None, help="control interface address (default: --host)")
    p.add_argument("--control-port", type=_port, default=0, help="control port (default 0: any free port)")
    p.add_argument("--heartbeat-interval", type=_interval, default=300, help="heartbeatInterval to hand out (s)")
    p.add_argument("--sms-gateway", default=None, metavar="URL",
                   help="where wake-up SMS are posted for POST /hold (e.g. hwsim's http://127.0.0.1:7700/sms)")
    p.add_argument("--ready-file", type=Path, default=None, help="also write the listening line to this file")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


async def _main(args: argparse.Namespace) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await run_central_system(
            args.cs_wsdl,
            args.cp_wsdl,
            args.host,
            args.port,
            args.control_port,
            args.ready_file,
            heartbeat_interval=args.heartbeat_interval,
            control_host=args.control_host,
            sms_gateway=args.sms_gateway,
        )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for opt, path in (("--cs-wsdl", args.cs_wsdl), ("--cp-wsdl", args.cp_wsdl)):
        if not path.is_file():
            parser.error(f"{opt} {path}: no such file")
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
