"""Why a transfer or an update did not complete (DESIGN.md, style 5: one root, leaves inherit the
matching builtin). ``permanent`` errors are not retried: another attempt would fail the same way."""

from __future__ import annotations

from chargebox.errors import ChargeboxError


class TransferError(ChargeboxError):
    """A download or upload that did not complete."""

    permanent = False


class BadLocation(TransferError, ValueError):
    """The URL is malformed, has an unsupported scheme, or its path leaves its directory."""

    permanent = True


class UnknownHost(TransferError, ConnectionError):
    """The host name does not resolve. Retried: a mobile link's DNS comes and goes."""


class ConnectionLost(TransferError, ConnectionError):
    """The server could not be reached, or the connection broke or timed out mid-way."""


class LoginFailed(TransferError, PermissionError):
    """The server refused the user name or password."""

    permanent = True


class TlsFailed(TransferError, ConnectionError):
    """The TLS handshake failed (an untrusted certificate, a server without AUTH TLS)."""

    permanent = True


class RemoteRefused(TransferError, PermissionError):
    """The server refused the file: no such file, no permission (a 5xx reply)."""

    permanent = True


class DiskFull(TransferError, OSError):
    """No room for the file here (the disk is full, or the file exceeds the configured limit)."""

    permanent = True


class VerificationFailed(TransferError, ValueError):
    """The downloaded file is not the one published: its size or SHA-256 differs. Retried from scratch."""
