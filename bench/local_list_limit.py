"""Issue 19, row 4: a local list of 100,000 entries, possible or refused (and how).

    python bench/local_list_limit.py [--protocol ocpp1.5-soap] [--entries N | --full]

With ``--full`` (or ``--entries N``) the reference Central System sends a SendLocalList Full of N
entries through the box's endpoint and the row reports the box's answer; the quick run only reads
the box's LocalAuthListMaxLength (GetConfiguration), which decides the answer (9.13, 6.40).
"""

from __future__ import annotations

import argparse
from typing import Any

from realpath import BenchSite, Row, arguments, parse, run_alone, send_local_list
from send_local_list import id_tags

SIZES = {"entries": (0, 100000)}
MEASURE, GOAL = "local list of 100,000 entries", "possible"


def max_length(site: BenchSite) -> str:
    answer: dict[str, Any] = site.call("GetConfiguration", {"key": ["LocalAuthListMaxLength"]})
    keys = (answer["payload"] or {}).get("configurationKey", [])
    return ", ".join(f"{k.get('key')} = {k.get('value')}{' (readonly)' if k.get('readonly') else ''}"
                     for k in keys) or f"LocalAuthListMaxLength unknown ({answer})"


def measure(site: BenchSite, options: argparse.Namespace) -> list[Row]:
    limit = max_length(site)
    if not options.entries:
        return [Row(MEASURE, GOAL, f"not sent in the quick run (--full sends it); the box has {limit}")]
    answer, seconds = send_local_list(site, id_tags(options.entries))
    outcome = answer["payload"]["status"] if answer["payload"] else f"fault {answer['fault']}"
    verdict = "possible" if outcome == "Accepted" else "refused"
    via = "" if answer["route"] == "/call" else f" ({answer['route']}: a SOAP list over 1 MiB)"
    return [Row(f"local list of {options.entries:,} entries", GOAL,
                f"{verdict}: {outcome} after {seconds:.1f} s{via}; the box has {limit}")]


if __name__ == "__main__":
    run_alone(MEASURE, measure, parse(arguments(__doc__.splitlines()[0], SIZES), SIZES))
