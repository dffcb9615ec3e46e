"""The local control socket: how ``chargebox status`` and ``chargebox queue`` read the running daemon.

A UNIX stream socket, mode 0660 in the service's runtime directory (``/run/chargebox``, mode 0750,
owned by the service user), so only root and the service user reach it. One request per
connection: a JSON line ``{"command": "status"}``; one JSON reply ``{"ok": true, "result": ...}``
or ``{"ok": false, "error": "..."}``, then the daemon closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from chargebox.errors import ChargeboxError

log = logging.getLogger(__name__)

MODE = 0o660
REQUEST_LIMIT = 4096  # bytes; a request is one short JSON line
REQUEST_TIMEOUT = 5.0  # seconds a client may take to send it


class ControlError(ChargeboxError, ConnectionError):
    """The daemon cannot be reached over its control socket, or refused the request."""


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(document: object) -> bytes:
    return json.dumps(document, default=_json_default).encode() + b"\n"


class ControlServer:
    """Answers commands by name; each command is a function returning a JSON-ready value."""

    def __init__(self, path: Path, commands: Mapping[str, Callable[[], object]]) -> None:
        self.path = path
        self._commands = commands
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> bool:
        """Listen; a socket left by a crashed run is replaced. False (and logged) when the socket
        cannot be made: operator tools are not worth stopping the charging for."""
        try:
            if self.path.is_socket():
                self.path.unlink()
            self._server = await asyncio.start_unix_server(self._serve, self.path, limit=REQUEST_LIMIT)
            # The directory (RuntimeDirectoryMode=0750) already keeps others out; this keeps the
            # group the only other reader where the path is configured elsewhere.
            os.chmod(self.path, MODE)
        except OSError as err:
            log.error("control socket %s not available (chargebox status will not work): %s", self.path, err)
            return False
        return True

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {"ok": False, "error": "expected one JSON line like {\"command\": \"status\"}"}
        command = request.get("command") if isinstance(request, dict) else None
        handler = self._commands.get(command) if isinstance(command, str) else None
        if handler is None:
            return {"ok": False, "error": f"unknown command {command!r}; expected one of: {', '.join(self._commands)}"}
        try:
            return {"ok": True, "result": handler()}
        except Exception as err:  # a failing report must not leave the connection unanswered
            log.exception("control command %s failed", command)
            return {"ok": False, "error": f"{command} failed: {err}"}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                line = await reader.readline()
            reply = self.answer(line)
        except (TimeoutError, ValueError) as err:  # ValueError: a line over REQUEST_LIMIT
            reply = {"ok": False, "error": f"bad request: {err or 'timed out'}"}
        try:
            writer.write(encode(reply))
            await writer.drain()
        except ConnectionError:
            pass  # the client went away; nothing to tell it
        finally:
            writer.close()


def request(path: Path, command: str, timeout: float = 10.0) -> Any:
    """Ask the daemon listening at ``path``; its result, or ControlError saying why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(encode({"command": command}))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except FileNotFoundError as err:
        raise ControlError(f"{path}: no such socket; is the daemon running (systemctl status chargebox), "
                           "and is it the path of service.control_socket?") from err
    except PermissionError as err:
        raise ControlError(f"{path}: permission denied; only root and the service user may ask the daemon") from err
    except ConnectionRefusedError as err:
        raise ControlError(f"{path}: nobody listens; the daemon is not running") from err
    except OSError as err:
        raise ControlError(f"{path}: {err.strerror or err}") from err
    try:
        reply = json.loads(b"".join(chunks))
    except json.JSONDecodeError as err:
        raise ControlError(f"{path}: the daemon's answer is not JSON: {err}") from err
    if not reply.get("ok"):
        raise ControlError(f"{path}: the daemon refused {command!r}: {reply.get('error')}")
    return reply["result"]
