"""``chargebox status`` and ``chargebox queue``: ask the running daemon, print for a person or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chargebox.service.control import ControlError, request


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def status_text(status: dict[str, Any]) -> str:
    cs = status["central_system"]
    lines = [
        (f"chargebox {status['version']} (pid {status['pid']}) as {status['identity']}, "
         f"time {status['time']}{'' if status['clock_synchronised'] else ' (not synchronised yet)'}"),
        f"central system  {cs['url']} ({cs['protocol']})",
        f"  registration  {_or_dash(cs['registration'])}{'' if cs['booted'] else ' (boot not accepted yet)'}",
        f"  last success  {_or_dash(cs['last_success'])}",
        f"  last failure  {_or_dash(cs['last_failure'])}" + (f"  {cs['last_error']}" if cs["last_error"] else ""),
        f"last heartbeat  {status['last_heartbeat'] or 'none yet'}",
    ]
    for connector in status["connectors"]:
        fault = f" fault {connector['fault']}" if connector["fault"] else ""
        tx = f" transaction (local) {connector['local_tx']}" if connector["local_tx"] is not None else ""
        lines.append(f"connector {connector['id']}     {connector['status']} {connector['phase'].lower()}{fault}{tx}")
        if connector.get("limit"):
            limit = connector["limit"]
            offered = "nothing" if limit["offered"] is None else f"{limit['offered']:g} A"
            lines.append(f"  limit         {limit['amps']:g} A per phase ({limit['source']}),"
                         f" offered {offered}")
    for tx in status["transactions"]:
        lines.append(
            f"transaction     local {tx['local_tx']} on connector {tx['connector']}, transactionId "
            f"{_or_dash(tx['transaction_id'])}, idTag {tx['id_tag']}, since {tx['start_time']}, "
            f"meter {tx['meter_start']} -> {_or_dash(tx['meter_last'])} Wh")
    outbox = status["outbox"]
    oldest = f", oldest from {outbox['oldest']}" if outbox["oldest"] else ""
    aside = f", {outbox['set_aside']} set aside (see chargebox queue)" if outbox.get("set_aside") else ""
    limit = f" (limit {outbox['limit']})"
    lines.append(f"outbox          {outbox['depth']} message(s) waiting{limit}{oldest}{aside}")
    if outbox.get("sessions_refused"):
        lines.append(f"new sessions    refused: {outbox['sessions_refused']}")
    return "\n".join(lines)


def queue_text(messages: list[dict[str, Any]]) -> str:
    lines = [f"{'seq':>6}  {'action':<18} {'local tx':>8} {'tx id':>8}  {'created':<32} attempts"]
    waiting = [m for m in messages if m.get("set_aside") is None]
    aside = [m for m in messages if m.get("set_aside") is not None]
    for m in waiting + aside:
        lines.append(f"{m['seq']:>6}  {m['action']:<18} {_or_dash(m['local_tx']):>8} "
                     f"{_or_dash(m['transaction_id']):>8}  {m['created']:<32} {m['attempts']}")
        if m.get("set_aside") is not None:
            lines.append(f"        set aside {m['set_aside']['moved']}, never sent: {m['set_aside']['reason']}")
    lines.append(f"{len(waiting)} message(s) waiting")
    if aside:
        lines.append(f"{len(aside)} message(s) set aside: they can never be sent (see the log)")
    return "\n".join(lines)


def report(command: str, socket: Path, *, as_json: bool, output: Path | None = None) -> int:
    """Print what the daemon at ``socket`` answers to ``command``; 1 with the reason when it cannot."""
    try:
        result = request(socket, command)
    except ControlError as err:
        print(f"chargebox {command}: {err}", file=sys.stderr)
        return 1
    if output is not None:
        try:
            output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        except OSError as err:  # the outbox is untouched: only the export failed
            print(f"chargebox {command}: cannot write {output}: {err.strerror or err}", file=sys.stderr)
            return 1
        print(f"{len(result)} message(s) written to {output}")
    elif as_json:
        print(json.dumps(result, indent=2))
    else:
        print(status_text(result) if command == "status" else queue_text(result))
    return 0
