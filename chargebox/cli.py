"""The ``chargebox`` command.

    chargebox run --config FILE        run the daemon in the foreground (logs to stderr)
    chargebox check-config FILE        report every problem in a site config; exit 1 if any
    chargebox demo                     one charging session on simulated hardware, with a timeline
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from chargebox.config import load
from chargebox.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargebox", description="OCPP 1.5 charge point controller")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daemon in the foreground")
    run.add_argument("--config", "-c", type=Path, required=True, help="the site config (TOML)")
    run.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="overrides [log] level")
    check = sub.add_parser("check-config", help="check a site config and report every problem")
    check.add_argument("file", type=Path)
    demo = sub.add_parser("demo", help="play one charging session on simulated hardware")
    demo.add_argument("--keep", action="store_true", help="keep the demo's work directory")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from chargebox.demo import run_demo

        return run_demo(keep=args.keep)
    try:
        config = load(args.config if args.command == "run" else args.file)
    except ConfigError as err:
        for file, key, text in err.problems:
            print(f"{file}: {key}: {text}", file=sys.stderr)
        print(f"{len(err.problems)} problem(s) found", file=sys.stderr)
        return 1
    if args.command == "check-config":
        print(f"{config.path}: OK ({len(config.connectors)} connector(s), identity {config.identity})")
        return 0
    logging.basicConfig(level=args.log_level or config.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from chargebox.daemon import run as run_daemon

    return run_daemon(config)


if __name__ == "__main__":
    sys.exit(main())
