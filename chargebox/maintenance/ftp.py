"""FTP and FTPS transfers that survive a slow, flaky link (spec chapter 8: FTP "has the ability to
resume downloads ... and uploads").

- Streamed in blocks of :data:`BLOCK` bytes: memory stays flat whatever the file's size.
- An interrupted download resumes where the local file ends (``REST`` then ``RETR``); an interrupted
  upload resumes where the remote file ends (``SIZE`` then ``APPE``).
- ftps:// is explicit TLS (RFC 4217): ``AUTH TLS`` before the login, ``PROT P`` for the data channel,
  whose TLS session resumes the control connection's (:class:`_FtpTls`).
- ftplib blocks, so each attempt runs in a worker thread (:func:`run`); cancelling the awaiting task
  shuts the sockets down, which ends the thread at once, and waits for it.
- :func:`attempts` retries as the request's ``retries`` and ``retryInterval`` say (6.21, 6.47).
- Progress goes to the log at every tenth of the file, with the rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ftplib
import logging
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

from chargebox.maintenance.errors import (
    ConnectionLost,
    DiskFull,
    LoginFailed,
    RemoteRefused,
    TlsFailed,
    TransferError,
    UnknownHost,
)
from chargebox.maintenance.location import Location
from chargebox.maintenance.settings import TransferSettings

log = logging.getLogger(__name__)

BLOCK = 64 * 1024
ABORT_REPEAT = 0.05  # seconds between aborts of a cancelled transfer, until its thread has ended
T = TypeVar("T")


def human(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError(unit)


class Progress:
    """A transfer's position; logs the percent and rate at every :attr:`STEP` percent."""

    STEP = 10

    def __init__(self, what: str, total: int, start: int) -> None:
        self.what, self.total, self.position, self.moved = what, total, start, 0
        # Rate only: a log figure, not protocol time, measured in the worker thread.
        self._began = time.monotonic()
        self._next = (start * 100 // total // self.STEP + 1) * self.STEP if total else 100
        if start:
            log.info("%s: resuming at byte %d of %d", what, start, total)
        else:
            log.info("%s: %s", what, human(total))

    @property
    def rate(self) -> float:
        return self.moved / max(time.monotonic() - self._began, 1e-6)

    def add(self, count: int) -> None:
        self.position += count
        self.moved += count
        percent = self.position * 100 // self.total if self.total else 100
        if percent >= self._next:
            self._next = (percent // self.STEP + 1) * self.STEP
            log.info("%s: %d%% (%s of %s) at %s/s", self.what, percent, human(self.position), human(self.total),
                     human(self.rate))


def _local_error(err: OSError, path: Path) -> TransferError:
    if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return DiskFull(f"{path}: no space left ({err.strerror})")
    return DiskFull(f"{path}: cannot write ({err.strerror or err})")


@contextlib.contextmanager
def _translated(where: str) -> Iterator[None]:
    """Library errors as :class:`TransferError` leaves (DESIGN.md, style 5)."""
    try:
        yield
    except TransferError:
        raise
    except ftplib.error_perm as err:
        raise RemoteRefused(f"{where}: refused by the server: {err}") from err
    except ssl.SSLCertVerificationError as err:
        raise TlsFailed(f"{where}: the server's certificate is not trusted: {err.verify_message}") from err
    except (EOFError, OSError, ftplib.Error) as err:
        raise ConnectionLost(f"{where}: {str(err) or type(err).__name__}") from err


class _FtpTls(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session.

    Servers take a resumed session as the proof that a data connection comes from the logged-in client,
    not from someone who raced it to the passive port: vsftpd (``require_ssl_reuse``, on by default),
    ProFTPD (unless ``NoSessionReuseRequired``) and FileZilla Server refuse any other data connection
    (vsftpd: ``522 SSL connection failed: session reuse required``). ftplib gives each one a new
    session (CPython gh-63699, was bpo-19500), hence this override. With TLS 1.3 the session ticket
    comes after the control connection's handshake and is taken in by its first read; so the session
    is taken here, at each transfer, long after the login has read its replies.
    """

    def ntransfercmd(self, cmd: str, rest: int | str | None = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # the plain socket: it is wrapped here
        if self._prot_p:  # type: ignore[attr-defined]  # what FTP_TLS.ntransfercmd tests (PROT P)
            session = self.sock.session if isinstance(self.sock, ssl.SSLSocket) else None
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


class Session:
    """One logged-in FTP(S) connection, used from one worker thread; :meth:`abort` may be called from
    any thread and makes a blocking call in the worker return at once."""

    def __init__(self, location: Location, settings: TransferSettings) -> None:
        self.location = location
        self._settings = settings
        self._ftp: ftplib.FTP | None = None
        self._data: socket.socket | None = None
        self._aborted = threading.Event()

    def __enter__(self) -> Session:
        loc = self.location
        ftp: ftplib.FTP = (_FtpTls(context=self._settings.ssl_context(), timeout=self._settings.timeout)
                           if loc.tls else ftplib.FTP(timeout=self._settings.timeout))
        self._ftp = ftp
        try:
            with _translated(str(loc)):
                try:
                    ftp.connect(loc.host, loc.port)
                except socket.gaierror as err:
                    raise UnknownHost(f"{loc}: unknown host {loc.host!r} ({err.strerror})") from err
                if isinstance(ftp, ftplib.FTP_TLS):
                    try:
                        ftp.auth()
                    except ftplib.error_perm as err:
                        raise TlsFailed(f"{loc}: the server does not take AUTH TLS: {err}") from err
                try:
                    ftp.login(loc.user, loc.password)
                except ftplib.error_perm as err:
                    raise LoginFailed(f"{loc}: login as {loc.user!r} refused: {err}") from err
                if isinstance(ftp, ftplib.FTP_TLS):
                    ftp.prot_p()
                ftp.voidcmd("TYPE I")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ftp is not None:
            if self._ftp.sock is not None and not self._aborted.is_set():
                with contextlib.suppress(OSError, EOFError, ftplib.Error):
                    self._ftp.quit()
            self._ftp.close()

    @property
    def ftp(self) -> ftplib.FTP:
        assert self._ftp is not None, "used outside its with block"
        return self._ftp

    def abort(self) -> None:
        self._aborted.set()
        sockets = (self._data, self._ftp.sock if self._ftp is not None else None)
        for sock in sockets:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _check(self) -> None:
        if self._aborted.is_set():
            raise ConnectionLost(f"{self.location}: cancelled")

    def size(self, remote: str, *, missing_ok: bool = False) -> int | None:
        """SIZE of a remote file (RFC 3659); None when it is missing and ``missing_ok``."""
        try:
            with _translated(f"{self.location}: SIZE {remote}"):
                return self.ftp.size(remote)
        except RemoteRefused:
            if missing_ok:
                return None
            raise

    def read_small(self, remote: str, limit: int = 16384) -> bytes | None:
        """A small remote file (a checksum, a signature) into memory; None when it is missing."""
        size = self.size(remote, missing_ok=True)
        if size is None:
            return None
        if size > limit:
            raise RemoteRefused(f"{self.location}: {remote} is {size} bytes, more than the {limit} expected")
        chunks: list[bytes] = []
        with _translated(f"{self.location}: RETR {remote}"):
            self.ftp.retrbinary(f"RETR {remote}", chunks.append)
        return b"".join(chunks)

    @contextlib.contextmanager
    def _transfer(self, command: str, rest: int) -> Iterator[socket.socket]:
        with _translated(f"{self.location}: {command.split()[0]}"):
            conn = self.ftp.transfercmd(command, rest or None)
            self._data = conn
            try:
                yield conn
                if isinstance(conn, ssl.SSLSocket):
                    conn.unwrap()  # the TLS close_notify tells the server the file is complete
            finally:
                self._data = None
                conn.close()
            self.ftp.voidresp()

    def download(self, remote: str, target: Path, max_size: int) -> int:
        """``remote`` into ``target``, resuming after what ``target`` holds; the bytes moved."""
        total = self.size(remote)
        if total is None:
            raise RemoteRefused(f"{self.location}: the server does not tell the file's size (SIZE)")
        if total > max_size:
            raise DiskFull(f"{self.location}: {total} bytes, more than the {max_size} allowed (max_size)")
        have = target.stat().st_size if target.exists() else 0
        if have > total:  # not a part of this file: start again
            target.unlink()
            have = 0
        if have == total:
            return 0
        free = shutil.disk_usage(target.parent).free
        if total - have > free:
            raise DiskFull(f"{target.parent}: {total - have} bytes needed, {free} free")
        progress = Progress(f"download of {self.location}", total, have)
        with open(target, "ab") as out, self._transfer(f"RETR {remote}", have) as conn:
            while chunk := conn.recv(BLOCK):
                self._check()
                try:
                    out.write(chunk)
                except OSError as err:
                    raise _local_error(err, target) from err
                progress.add(len(chunk))
        got = target.stat().st_size
        if got != total:
            raise ConnectionLost(f"{self.location}: the transfer ended at byte {got} of {total}")
        log.info("downloaded %s: %s in, at %s/s", self.location, human(progress.moved), human(progress.rate))
        return progress.moved

    def upload(self, source: Path, remote: str) -> int:
        """``source`` to ``remote``, appending to what an interrupted upload left there; the bytes moved."""
        total = source.stat().st_size
        have = self.size(remote, missing_ok=True) or 0
        if have > total:
            have = 0  # not a part of this file: STOR replaces it
        if have == total and total:
            return 0
        progress = Progress(f"upload to {self.location}", total, have)
        with open(source, "rb") as src:
            src.seek(have)
            with self._transfer(f"APPE {remote}" if have else f"STOR {remote}", 0) as conn:
                while block := src.read(BLOCK):
                    self._check()
                    conn.sendall(block)
                    progress.add(len(block))
        stored = self.size(remote)
        if stored != total:
            raise ConnectionLost(f"{self.location}: the server holds {stored} of {total} bytes")
        log.info("uploaded %s: %s out, at %s/s", self.location, human(progress.moved), human(progress.rate))
        return progress.moved


async def run(location: Location, settings: TransferSettings, job: Callable[[Session], T]) -> T:
    """``job`` on a logged-in session, in a worker thread. Cancelled, it aborts the transfer and
    returns only when the thread has ended, so no transfer outlives its task."""
    session = Session(location, settings)

    def work() -> T:
        with session:
            return job(session)

    task = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # Again until the thread ends: a socket being opened right now is not visible to abort() yet.
        while not task.done():
            session.abort()
            await asyncio.wait({task}, timeout=ABORT_REPEAT)
        await asyncio.gather(task, return_exceptions=True)
        raise


async def attempts(what: str, attempt: Callable[[], Awaitable[T]], retries: int, interval: float) -> T:
    """``attempt`` until it succeeds: 1 + ``retries`` tries, ``interval`` seconds apart (6.21, 6.47); a
    permanent error (a bad URL, a refused login, a full disk) ends it at once."""
    tries = retries + 1
    number = 1
    while True:
        try:
            return await attempt()
        except TransferError as err:
            if err.permanent or number >= tries:
                raise
            log.warning("%s: attempt %d of %d failed: %s; trying again in %s s", what, number, tries, err, interval)
        number += 1
        await asyncio.sleep(interval)
