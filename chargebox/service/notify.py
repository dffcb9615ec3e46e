"""sd_notify(3): tell systemd the daemon is ready, alive and stopping.

Through python-systemd when it is installed (the ``systemd`` extra), otherwise by writing the
datagram to ``$NOTIFY_SOCKET`` directly: the protocol is one AF_UNIX datagram of ``KEY=value``
lines, to a path or, with a leading ``@``, to an abstract-namespace address. Outside systemd (no
``$NOTIFY_SOCKET``) every call does nothing.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

Sender = Callable[[str], None]


#: What systemd passes the service's main process only (sd_notify(3), sd_watchdog_enabled(3)).
SERVICE_ONLY = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


def child_environment(**extra: str) -> dict[str, str]:
    """The environment for a command the daemon runs (an installer, the reboot command): its own,
    without what systemd meant for the main process alone, so a child cannot speak for the service
    (sd_notify(3) unsets them for the same reason), plus ``extra``."""
    return {**{key: value for key, value in os.environ.items() if key not in SERVICE_ONLY}, **extra}


def send_datagram(address: str, message: str) -> None:
    """One notification to ``address`` (a path, or ``@name`` in the abstract namespace)."""
    target = "\0" + address[1:] if address.startswith("@") else address
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(target)
        sock.sendall(message.encode())


def _systemd_sender() -> Sender | None:
    """python-systemd's sd_notify, which reads ``$NOTIFY_SOCKET`` itself; None when not installed."""
    try:
        # By name: the source tree's systemd/ folder (unit files) would otherwise pass for a
        # namespace package of that name, to mypy at least.
        daemon = importlib.import_module("systemd.daemon")
    except ImportError:
        return None

    def send(message: str) -> None:
        if not daemon.notify(message):
            raise OSError(f"sd_notify({message!r}) failed")

    return send


class Notifier:
    """Notifications to systemd's ``address``; ``watchdog_usec`` is ``WatchdogSec=`` as systemd passes it."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None, sender: Sender | None = None) -> None:
        if address is not None and not address.startswith(("/", "@")):
            log.warning("NOTIFY_SOCKET %r is neither a path nor @abstract; not notifying systemd", address)
            address = None
        self.address = address
        self.watchdog_usec = watchdog_usec if address is not None else None
        self._send: Sender | None = None
        if address is not None:
            self._send = sender or (lambda message: send_datagram(address, message))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Notifier:
        """What systemd passes a ``Type=notify`` service (systemd.exec(5), "Environment variables")."""
        address = environ.get("NOTIFY_SOCKET") or None
        usec: int | None = None
        # WATCHDOG_PID names the process the watchdog is meant for; a child that inherited it is not it.
        if environ.get("WATCHDOG_PID", str(os.getpid())) == str(os.getpid()):
            try:
                usec = int(environ.get("WATCHDOG_USEC", "")) or None
            except ValueError:
                usec = None
        sender = _systemd_sender() if address is not None and address == os.environ.get("NOTIFY_SOCKET") else None
        return cls(address, usec, sender)

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between keep-alives: half of WatchdogSec, as sd_watchdog_enabled(3) advises."""
        return self.watchdog_usec / 2e6 if self.watchdog_usec else None

    def notify(self, *lines: str) -> None:
        """Send ``KEY=value`` lines; a failure is logged, never raised (systemd's watchdog acts on it)."""
        if self._send is None:
            return
        try:
            self._send("\n".join(lines))
        except OSError as err:
            log.warning("cannot notify systemd at %s: %s", self.address, err)

    def ready(self, status: str) -> None:
        self.notify("READY=1", f"STATUS={status}")

    def stopping(self) -> None:
        self.notify("STOPPING=1", "STATUS=stopping")

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")


async def keep_alive(notifier: Notifier) -> None:
    """``WATCHDOG=1`` from the event loop, so a loop that hangs stops them and systemd restarts the
    service (``WatchdogSec=``, systemd.service(5)). Returns at once when no watchdog is set."""
    interval = notifier.watchdog_interval
    if interval is None:
        return
    while True:
        notifier.watchdog()
        await asyncio.sleep(interval)
