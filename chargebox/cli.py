"""The ``chargebox`` command.

    chargebox run --config FILE        run the daemon in the foreground (logs to stderr)
    chargebox check-config FILE        report every problem in a site config; exit 1 if any
    chargebox demo                     one charging session on simulated hardware, with a timeline
    chargebox status                   what the running daemon is doing (over its control socket)
    chargebox queue [--json|-o FILE]   the messages waiting in its outbox, to read or export
    chargebox --version                the version (what BootNotification sends as firmwareVersion)
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import sys
from pathlib import Path

import chargebox
from chargebox.config import DEFAULT_CONTROL_SOCKET, LOG_LEVELS, PROTOCOLS, Config, load
from chargebox.errors import ConfigError

#: How the daemon's interpreter runs (issue 19); `chargebox run` starts itself again with whichever of
#: these its environment lacks, so that the unit, an image's own init and a shell run the same daemon.
#: - PYTHONMALLOC=malloc: Python's small-object allocator gives a 1 MiB arena back only once all of it
#:   is free, and the few lasting objects made while a SendLocalList of 50,000 filled 32 of them kept
#:   4 or 5 resident (+10 % of the idle daemon, more with every list); on the C library's allocator,
#:   which malloc_trim() gives back page by page, the daemon is within 2 % of idle after three lists,
#:   for 0.9 MB more at idle and about 8 % more CPU per message.
#: - PYTHONOPTIMIZE=2: no docstrings (nor asserts) in memory, 1 to 1.5 MB of the idle daemon; the
#:   installer compiles this level's bytecode too.
#: - FROZENLIST_NO_EXTENSIONS=1: frozenlist's C extension (aiohttp's signals, a few lists built at
#:   start) is C++ and alone loads libstdc++, 1.1 MB of the idle daemon; its documented switch
#:   selects the pure-Python FrozenList.
DAEMON_RUNTIME = {"PYTHONMALLOC": "malloc", "PYTHONOPTIMIZE": "2", "FROZENLIST_NO_EXTENSIONS": "1"}

#: EX_CONFIG (sysexits.h): ``run`` with a bad config; the unit does not restart on it
#: (RestartPreventExitStatus=), since only an edited file helps.
EXIT_BAD_CONFIG = 78


def _print_problems(err: ConfigError) -> None:
    for file, key, text in err.problems:
        print(f"{file}: {key}: {text}", file=sys.stderr)


def _load(path: Path, count: bool = False) -> Config | None:
    """The config, or None once every problem is printed (and, with ``count``, how many)."""
    try:
        return load(path)
    except ConfigError as err:
        _print_problems(err)
        if count:
            print(f"{len(err.problems)} problem(s) found", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, where it can be caught, when the output fitted in the buffer
        return status
    except BrokenPipeError:
        # The reader left (`chargebox status | head -3`): nothing more to say. Python would raise
        # again flushing stdout at exit, so it goes to /dev/null (Python docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _start_tuned() -> None:
    """Start this command again, same process and arguments, with whatever of :data:`DAEMON_RUNTIME`
    its environment lacks (one already set, by an operator comparing, is kept)."""
    missing = {name: value for name, value in DAEMON_RUNTIME.items() if name not in os.environ}
    if missing:
        try:
            os.execve(sys.executable, sys.orig_argv, {**os.environ, **missing})
        except OSError as err:  # runs on, as it is: slower to give memory back, not wrong
            print(f"chargebox: running without {' '.join(missing)}: cannot start {sys.executable}: {err}",
                  file=sys.stderr)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="chargebox", description="OCPP 1.5 charge point controller")
    parser.add_argument("--version", action="version", version=f"chargebox {chargebox.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daemon in the foreground")
    run.add_argument("--config", "-c", type=Path, required=True, help="the site config (TOML)")
    run.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, help="overrides [log] level (any case)")
    check = sub.add_parser("check-config", help="check a site config and report every problem")
    check.add_argument("file", type=Path)
    demo = sub.add_parser("demo", help="play one charging session on simulated hardware")
    demo.add_argument("--keep", action="store_true", help="keep the demo's work directory")
    demo.add_argument("--protocol", choices=PROTOCOLS, default=PROTOCOLS[0],
                      help=f"what the box and the Central System speak (default {PROTOCOLS[0]})")
    for name, text in (("status", "show what the running daemon is doing"),
                       ("queue", "list the messages waiting in the daemon's outbox")):
        tool = sub.add_parser(name, help=text)
        where = tool.add_mutually_exclusive_group()
        where.add_argument("--socket", type=Path,
                           help=f"the daemon's control socket (default {DEFAULT_CONTROL_SOCKET})")
        where.add_argument("--config", "-c", type=Path,
                           help="take the socket from this site config (service.control_socket)")
        tool.add_argument("--json", action="store_true", help="print JSON")
        if name == "queue":
            tool.add_argument("--output", "-o", type=Path, help="export the messages as JSON to this file")
    args = parser.parse_args(argv)
    if args.command == "run" and argv is None:  # the command itself, not a test calling main()
        _start_tuned()

    if args.command == "demo":
        from chargebox.demo import run_demo

        return run_demo(keep=args.keep, protocol=args.protocol)
    if args.command in ("status", "queue"):
        from chargebox.service.report import report

        socket = args.socket or Path(DEFAULT_CONTROL_SOCKET)
        if args.config is not None:
            tool_config = _load(args.config)
            if tool_config is None:
                return 1
            socket = tool_config.control_socket
        return report(args.command, socket, as_json=args.json, output=getattr(args, "output", None))
    config = _load(args.config) if args.command == "run" else _load(args.file, count=True)
    if config is None:
        return EXIT_BAD_CONFIG if args.command == "run" else 1
    if args.command == "check-config":
        print(f"{config.path}: OK ({len(config.connectors)} connector(s), identity {config.identity})")
        return 0
    from chargebox.service.journal import setup_logging

    setup_logging(args.log_level or config.log_level, mask_id_tags=config.mask_id_tags)
    # aiohttp's static file responses read the system's MIME types at import (/etc/mime.types, 0.36 MB
    # of two tables): the daemon serves and posts no files, and Python's built-in table stays.
    mimetypes.knownfiles = []
    from chargebox.daemon import run as run_daemon

    try:
        return run_daemon(config)
    except ConfigError as err:  # what only starting shows: a folder it may not create, a port in use
        _print_problems(err)
        return EXIT_BAD_CONFIG


if __name__ == "__main__":
    sys.exit(main())
