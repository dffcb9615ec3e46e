"""The site config's ``[firmware]`` and ``[diagnostics]`` tables, as :mod:`chargebox.config` checks them
(README, Configuration)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True, slots=True)
class TransferSettings:
    """How a file moves: the defaults for a request without ``retries`` / ``retryInterval`` (6.21,
    6.47), the socket timeout, and the CAs an ftps:// server's certificate is checked against."""

    retries: int = 3
    retry_interval: float = 60.0
    timeout: float = 60.0
    ca_file: Path | None = None

    def ssl_context(self) -> ssl.SSLContext:
        """The system's CAs, or only ``ca_file``'s when given; the host name is always checked."""
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


@dataclass(frozen=True, slots=True)
class FirmwareSettings:
    """``[firmware]``: UpdateFirmware is supported only with an ``installer``."""

    #: The command that installs a downloaded file, given as its last argument; exit 0 = installed.
    installer: tuple[str, ...] | None = None
    #: What activates the new firmware: a restart of the daemon, or a reboot of the board.
    after_install: Literal["restart", "reboot"] = "restart"
    install_timeout: float = 900.0
    #: Where downloads go; None: ``firmware/`` beside the database.
    directory: Path | None = None
    #: PEM public key: when given, ``<file>.sig`` must be a valid signature of the file.
    public_key: Path | None = None
    max_size: int = 512 << 20
    transfer: TransferSettings = field(default_factory=TransferSettings)


@dataclass(frozen=True, slots=True)
class DiagnosticsSettings:
    """``[diagnostics]``: what GetDiagnostics collects besides the box's state."""

    #: Log files (absolute glob patterns) read when the journal is not available.
    log_files: tuple[str, ...] = ()
    #: Where the archive is built; None: ``diagnostics/`` beside the database.
    directory: Path | None = None
    #: How many of the most recent transactions go in.
    transactions: int = 100
    transfer: TransferSettings = field(default_factory=TransferSettings)
