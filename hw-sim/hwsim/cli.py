"""The ``hwsim`` command: run the simulated world, run the reference Central System, or drive a
running world from a shell.

    hwsim run [--connectors N] [--control-port 7700] [--reader-link PATH] [--ready-file PATH]
              [--reader-protocol hexline|rdm6300|pn532] [--meter-model sdm630|sdm120|abb-b23|em340]
              [--meter-rtu-link PATH] [--modem-link PATH] [--modem-profile generic|quectel]
              [--modem-storages SM,SM,SM]
    hwsim central-system [--protocol ocpp1.5-soap|ocpp1.6-soap|ocpp1.6-json] [--cs-wsdl P] [--cp-wsdl P]
                         [--json-schemas DIR] [--port N] [--control-port N]
    hwsim plug|unplug [-c N]      hwsim card UID      hwsim ev --stop|--resume [-c N]
    hwsim fault NAME [-c N] [--clear]                 hwsim faults
    hwsim state                   hwsim events [--since N]
    hwsim sms [TEXT] [--sender N] [--status S]   hwsim signal RSSI [--ber B]   hwsim modem
    hwsim --version

An action (plug, unplug, ev, card, fault, sms, signal) prints one line saying what it did, or with
``--json`` the simulator's answer; a query (state, events, faults, modem) prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import logging
import os
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

from hwsim.centralsystem.__main__ import main as central_system_main
from hwsim.control import control_app
from hwsim.meter_models import MODELS
from hwsim.modem import DEFAULT_STORAGES, PROFILES, STATUSES, STORAGES, UNREAD
from hwsim.reader import PROTOCOLS
from hwsim.world import BOX_FAULTS, FAULTS, World

DEFAULT_CONTROL = "http://127.0.0.1:7700"
#: The commands that change the world; they say what they did in one line (the others are queries).
ACTIONS = ("plug", "unplug", "ev", "card", "fault", "sms", "signal")


async def _run_world(args: argparse.Namespace) -> None:
    world = World(args.connectors, meter_base_port=args.meter_port, gpio_port=args.gpio_port,
                  reader_protocol=args.reader_protocol, reader_link=args.reader_link,
                  meter_model=args.meter_model, meter_rtu_link=args.meter_rtu_link,
                  modem_link=args.modem_link, modem_profile=args.modem_profile,
                  modem_storages=args.modem_storages)
    await world.start()
    runner = web.AppRunner(control_app(world))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.control_port)
    await site.start()
    control_port = runner.addresses[0][1]
    ready = {"event": "listening", "control_port": control_port, **world.snapshot()}
    line = json.dumps(ready)
    print(line, flush=True)
    if args.ready_file:
        Path(args.ready_file).write_text(line + "\n")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await world.stop()


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s hwsim %(levelname)s %(message)s")

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await _run_world(args)

    try:
        asyncio.run(main())
    except OSError as err:
        print(f"hwsim: cannot start: {err}", file=sys.stderr)
        return 2
    return 0


def _request(control: str, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(control.rstrip("/") + path, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _drive(args: argparse.Namespace) -> int:
    calls: dict[str, tuple[str, str, dict[str, Any] | None]] = {
        "plug": ("POST", "/plug", {"connector": args.connector} if "connector" in args else None),
        "unplug": ("POST", "/unplug", {"connector": getattr(args, "connector", 1)}),
        "card": ("POST", "/card", {"uid": getattr(args, "uid", ""), "hold": getattr(args, "hold", 0.5)}),
        "ev": ("POST", "/ev", {"connector": getattr(args, "connector", 1),
                               "wants_energy": not getattr(args, "stop", False)}),
        "fault": ("POST", "/fault", {"fault": getattr(args, "name", ""), "connector": getattr(args, "connector", 1),
                                     "active": not getattr(args, "clear", False)}),
        "faults": ("GET", "/faults", None),
        "state": ("GET", "/state", None),
        "events": ("GET", f"/events?since={getattr(args, 'since', 0)}", None),
        "sms": ("POST", "/sms", {"text": getattr(args, "text", ""), "sender": getattr(args, "sender", ""),
                                 "status": getattr(args, "status", UNREAD)}),
        "signal": ("POST", "/modem", {"rssi": getattr(args, "rssi", 99), "ber": getattr(args, "ber", 0)}),
        "modem": ("GET", "/modem", None),
    }
    method, path, data = calls[args.command]
    try:
        result = _request(args.control, method, path, data)
    except urllib.error.HTTPError as err:
        print(f"hwsim: {err.code}: {err.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as err:
        print(f"hwsim: no simulator at {args.control}: {err}", file=sys.stderr)
        return 1
    if args.command in ACTIONS and not args.json:
        print(_done(args, result))
    else:
        print(json.dumps(result, indent=2))
    return 0


def _done(args: argparse.Namespace, result: dict[str, Any]) -> str:
    """What an action did, in one line for a person at a shell."""
    where = f"connector {getattr(args, 'connector', 1)}: "
    if args.command == "ev":
        return where + f"the EV {'stops' if args.stop else 'resumes'} asking for energy"
    if args.command == "card":
        return f"card {result['uid']} presented for {args.hold} s"
    if args.command == "fault":
        return ("" if args.name in BOX_FAULTS else where) + f"{args.name} {'cleared' if args.clear else 'injected'}"
    if args.command == "sms":
        return f"SMS from {args.sender} received by the modem (stored at index {result['index']})"
    if args.command == "signal":
        return f"modem signal: rssi {args.rssi}, ber {args.ber}"
    return where + ("EV plugged in" if args.command == "plug" else "EV unplugged")


def _storages(text: str) -> tuple[str, str, str]:
    names = tuple(name.strip().upper() for name in text.split(","))
    if len(names) != 3 or not set(names) <= set(STORAGES):
        raise argparse.ArgumentTypeError(f"three of {', '.join(STORAGES)} separated by commas, got {text!r}")
    return names[0], names[1], names[2]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hwsim", description="The simulated world around a chargebox.")
    # The distribution's metadata: hwsim ships in it but never imports the daemon (DESIGN.md).
    parser.add_argument("--version", action="version",
                        version=f"hwsim {importlib.metadata.version('chargebox')}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the simulated hardware")
    run.add_argument("--connectors", type=int, default=1, choices=range(1, 9), metavar="N")
    run.add_argument("--control-port", type=int, default=7700)
    run.add_argument("--gpio-port", type=int, default=0, help="TCP port of the pilot/relay sim wire")
    run.add_argument("--meter-port", type=int, default=0, help="Modbus TCP port of connector 1's meter (+1 per connector)")
    run.add_argument("--reader-link", help="make this path a symlink to the reader's pseudo-terminal "
                     "(a fixed path for the config: pty names change on every start and on replug)")
    run.add_argument("--reader-protocol", default="hexline", choices=PROTOCOLS)
    run.add_argument("--meter-model", default="sdm630", choices=sorted(MODELS))
    run.add_argument("--meter-rtu-link", help="also serve the meters on Modbus RTU on a pseudo-terminal, "
                     "linked here (unit id = connector number)")
    run.add_argument("--modem-link", help="make this path a symlink to the modem's pseudo-terminal")
    run.add_argument("--modem-profile", default="generic", choices=list(PROFILES),
                     help="the modem's maker: quectel reads the ICCID with AT+QCCID only")
    run.add_argument("--modem-storages", type=_storages, default=DEFAULT_STORAGES, metavar="MEM1,MEM2,MEM3",
                     help="the modem's message storages at power-up (27.005 +CPMS: read, write, new "
                          "messages; SM or ME), e.g. SM,SM,ME")
    run.add_argument("--ready-file", help="write the listening line here too")
    run.add_argument("--log-level", default="WARNING", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub.add_parser("central-system", help="run the reference Central System: 1.5 SOAP, 1.6 SOAP or 1.6 JSON "
                   "(see --help)", add_help=False)
    control = os.environ.get("HWSIM_CONTROL", DEFAULT_CONTROL)
    for name, text in (("plug", "plug an EV in"), ("unplug", "unplug the EV"), ("ev", "the EV stops or resumes asking"),
                       ("card", "present a card"), ("fault", "inject or clear a fault"),
                       ("faults", "list the faults that can be injected"), ("state", "show the world"),
                       ("events", "list events"), ("sms", "a short message reaches the modem"),
                       ("signal", "set the modem's signal quality"), ("modem", "show the modem")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--control", default=control, help=f"control URL (default {control}; env HWSIM_CONTROL)")
        if name in ACTIONS:
            command.add_argument("--json", action="store_true", help="print the simulator's answer as JSON")
        if name == "fault":
            command.add_argument("name", choices=list(FAULTS), metavar="NAME", help=", ".join(FAULTS))
            command.add_argument("--clear", action="store_true", help="clear the fault instead")
        if name in ("plug", "unplug", "ev", "fault"):
            command.add_argument("-c", "--connector", type=int, default=1)
        if name == "ev":
            group = command.add_mutually_exclusive_group(required=True)
            group.add_argument("--stop", action="store_true")
            group.add_argument("--resume", action="store_true")
        if name == "card":
            command.add_argument("uid", help="the card's UID in hex, byte 0 first")
            command.add_argument("--hold", type=float, default=0.5)
        if name == "events":
            command.add_argument("--since", type=int, default=0)
        if name == "sms":
            command.add_argument("text", nargs="?", default="", help="the message (none: an empty SMS, which wakes too)")
            command.add_argument("--sender", default="+31600000000")
            command.add_argument("--status", default=UNREAD, choices=STATUSES,
                                 help="STO SENT / STO UNSENT: an outgoing one the modem keeps (to --sender)")
        if name == "signal":
            command.add_argument("rssi", type=int, help="AT+CSQ rssi: 0..31 (-113 + 2*rssi dBm), 99 unknown")
            command.add_argument("--ber", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, where it can be caught, when the output fitted in the buffer
        return status
    except BrokenPipeError:
        # The reader left (`hwsim state | head`): nothing more to say. Python would raise again
        # flushing stdout at exit, so it goes to /dev/null (Python docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["central-system"]:
        return central_system_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return _serve(args)
    return _drive(args)


if __name__ == "__main__":
    sys.exit(main())
