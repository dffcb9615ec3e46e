"""Transfers against a real FTP server (pyftpdlib), plain and explicit TLS: streamed, resumed after the
link drops mid-way, retried, and every bad input told by its own error."""

from __future__ import annotations

import asyncio
import ftplib
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chargebox.maintenance import ftp
from chargebox.maintenance.errors import (
    ConnectionLost,
    DiskFull,
    LoginFailed,
    RemoteRefused,
    TlsFailed,
    TransferError,
    UnknownHost,
)
from chargebox.maintenance.location import parse_location
from chargebox.maintenance.settings import TransferSettings
from tests.chargebox.maintenance.ftpserver import PASSWORD, USER, FtpServer, TlsVersion, make_certificate

SIZE = 1_500_000


@dataclass
class Site:
    server: FtpServer
    settings: TransferSettings
    scheme: str
    local: Path


@pytest.fixture(params=["ftp", "ftps"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    remote, local = tmp_path / "remote", tmp_path / "local"
    remote.mkdir()
    local.mkdir()
    tls = make_certificate(tmp_path) if request.param == "ftps" else None
    settings = TransferSettings(retries=2, retry_interval=0, timeout=5, ca_file=tls[0] if tls else None)
    with FtpServer(remote, tls=tls) as server:
        yield Site(server, settings, request.param, local)


async def download(site: Site, path: str, target: Path, *, retries: int = 2, max_size: int = 1 << 30,
                   **url: str) -> None:
    location = parse_location(site.server.url(path, scheme=site.scheme, **url))
    await ftp.attempts("test download", lambda: ftp.run(
        location, site.settings, lambda s: s.download(location.path, target, max_size)), retries, 0)


async def upload(site: Site, source: Path, path: str, *, retries: int = 2) -> None:
    location = parse_location(site.server.url(path, scheme=site.scheme))
    await ftp.attempts("test upload", lambda: ftp.run(
        location, site.settings, lambda s: s.upload(source, location.path)), retries, 0)


def content(size: int = SIZE) -> bytes:
    return os.urandom(size)


async def test_a_download_streams_the_file_and_logs_its_progress(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    data = content()
    (site.server.root / "fw.bin").write_bytes(data)
    with caplog.at_level(logging.INFO, "chargebox.maintenance.ftp"):
        await download(site, "fw.bin", site.local / "fw.bin")
    assert (site.local / "fw.bin").read_bytes() == data
    progress = [r.getMessage() for r in caplog.records if "%" in r.getMessage()]
    assert len(progress) == 10 and progress[-1].endswith("/s") and "100% (1.5 MB of 1.5 MB)" in progress[-1]
    assert site.server.cut.transfers == [("sent", SIZE)]


async def test_a_download_cut_mid_way_resumes_where_it_stopped(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    data = content()
    (site.server.root / "fw.bin").write_bytes(data)
    site.server.cut.after = 600_000
    with caplog.at_level(logging.INFO, "chargebox.maintenance.ftp"):
        await download(site, "fw.bin", site.local / "fw.bin")
    assert (site.local / "fw.bin").read_bytes() == data
    (_, first), (_, resumed) = site.server.cut.transfers
    assert first >= 600_000 and resumed == SIZE - first < SIZE
    assert f"resuming at byte {first} of {SIZE}" in caplog.text
    assert "attempt 1 of 3 failed" in caplog.text


async def test_an_upload_cut_mid_way_resumes_where_the_server_file_ends(site: Site) -> None:
    data = content()
    source = site.local / "diag.tar.gz"
    source.write_bytes(data)
    site.server.cut.after = 500_000
    await upload(site, source, "diag.tar.gz")
    assert (site.server.root / "diag.tar.gz").read_bytes() == data
    (_, first), (_, resumed) = site.server.cut.transfers
    assert first >= 500_000 and resumed == SIZE - first < SIZE


async def test_retries_exhausted_end_with_the_last_error(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    (site.server.root / "fw.bin").write_bytes(content(200_000))
    site.server.cut.after = 1000
    with pytest.raises(ConnectionLost):
        await download(site, "fw.bin", site.local / "fw.bin", retries=0)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    location = parse_location(f"{site.scheme}://127.0.0.1:{port}/fw.bin")
    with pytest.raises(ConnectionLost, match="Connection refused"):
        await ftp.attempts("refused", lambda: ftp.run(location, site.settings, lambda s: s.size("fw.bin")), 2, 0)
    assert "refused: attempt 2 of 3 failed" in caplog.text and "attempt 3 of 3" not in caplog.text


async def test_wrong_credentials_are_refused_at_once_and_never_logged(site: Site, caplog: pytest.LogCaptureFixture,
                                                                      ) -> None:
    with pytest.raises(LoginFailed, match="login as 'box' refused: 530") as caught:
        await download(site, "fw.bin", site.local / "fw.bin", password="wrong-pw")
    assert "wrong-pw" not in str(caught.value) and "wrong-pw" not in caplog.text
    assert "attempt" not in caplog.text  # a permanent error is not retried


async def test_an_unknown_host_is_named(site: Site) -> None:
    location = parse_location(f"{site.scheme}://nowhere.invalid/fw.bin")
    with pytest.raises(UnknownHost, match="unknown host 'nowhere.invalid'"):
        await ftp.run(location, site.settings, lambda s: s.size("fw.bin"))


async def test_a_missing_remote_file_is_refused(site: Site) -> None:
    with pytest.raises(RemoteRefused, match="550"):
        await download(site, "missing.bin", site.local / "missing.bin")


async def test_a_full_disk_or_a_file_over_the_limit_is_told(site: Site) -> None:
    (site.server.root / "fw.bin").write_bytes(content(300_000))
    full = site.local / "full.bin"
    full.symlink_to("/dev/full")  # every write there fails with ENOSPC
    with pytest.raises(DiskFull, match="no space left"):
        await download(site, "fw.bin", full)
    with pytest.raises(DiskFull, match="300000 bytes, more than the 1000 allowed"):
        await download(site, "fw.bin", site.local / "fw.bin", max_size=1000)
    assert not (site.local / "fw.bin").exists()


TLS_VERSIONS = pytest.mark.parametrize("tls_max", ["TLSv1.2", "TLSv1.3"])  # both are in the field


@TLS_VERSIONS
async def test_ftps_data_connections_resume_the_tls_session_of_the_control_connection(
        tmp_path: Path, tls_max: TlsVersion) -> None:
    """What vsftpd, ProFTPD and FileZilla Server require, and the test server too; ftplib alone never does
    (CPython gh-63699). With TLS 1.3 it takes the session ticket that follows the control handshake."""
    remote, local = tmp_path / "remote", tmp_path / "local"
    remote.mkdir()
    local.mkdir()
    tls = make_certificate(tmp_path)
    data = content(300_000)
    (remote / "fw.bin").write_bytes(data)
    (remote / "fw.bin.sha256").write_bytes(b"digest")
    (local / "diag.tar.gz").write_bytes(data)

    def checksum_and_file(session: ftp.Session) -> bytes | None:  # two data connections, one session
        digest = session.read_small("fw.bin.sha256")
        session.download("fw.bin", local / "fw.bin", len(data))
        return digest

    with FtpServer(remote, tls=tls, tls_max=tls_max) as server:
        site = Site(server, TransferSettings(timeout=5, ca_file=tls[0]), "ftps", local)
        location = parse_location(server.url("fw.bin", scheme="ftps"))
        assert await ftp.run(location, site.settings, checksum_and_file) == b"digest"
        await upload(site, local / "diag.tar.gz", "diag.tar.gz")
    assert (local / "fw.bin").read_bytes() == data and (remote / "diag.tar.gz").read_bytes() == data
    assert server.data_tls == [(tls_max, True)] * 3


@TLS_VERSIONS
def test_the_ftps_test_server_refuses_a_data_connection_that_does_not_resume(
        tmp_path: Path, tls_max: TlsVersion) -> None:
    """Plain ftplib, answered as vsftpd answers it: so the test above fails without the box's fix."""
    tls = make_certificate(tmp_path)
    (tmp_path / "fw.bin").write_bytes(b"firmware")
    with FtpServer(tmp_path, tls=tls, tls_max=tls_max) as server:
        client = ftplib.FTP_TLS(context=TransferSettings(ca_file=tls[0]).ssl_context(), timeout=5)
        with client:
            client.connect("127.0.0.1", server.port)
            client.auth()
            client.login(USER, PASSWORD)
            client.prot_p()
            refusal = "^522 SSL connection failed: session reuse required$"
            # The data connection's TLS handshake is made, with a new session, before the reply comes.
            with client.transfercmd("RETR fw.bin"), pytest.raises(ftplib.error_perm, match=refusal):
                client.voidresp()
    assert server.data_tls == [(tls_max, False)]


async def test_ftps_refuses_a_server_it_does_not_trust(tmp_path: Path) -> None:
    with FtpServer(tmp_path, tls=make_certificate(tmp_path)) as server:
        location = parse_location(server.url("x", scheme="ftps"))
        with pytest.raises(TlsFailed, match="not trusted"):
            await ftp.run(location, TransferSettings(timeout=5), lambda s: s.size("x"))


async def test_ftps_against_a_plain_server_is_refused(tmp_path: Path) -> None:
    with FtpServer(tmp_path) as server:
        location = parse_location(server.url("x", scheme="ftps"))
        with pytest.raises(TlsFailed, match="AUTH TLS"):
            await ftp.run(location, TransferSettings(timeout=5), lambda s: s.size("x"))


async def test_cancelling_a_transfer_ends_its_thread_at_once() -> None:
    """A server that accepts and never answers: the worker blocks in a read until cancelled."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.setblocking(False)
        location = parse_location(f"ftp://127.0.0.1:{silent.getsockname()[1]}/x")
        task = asyncio.ensure_future(ftp.run(location, TransferSettings(timeout=60), lambda s: s.size("x")))
        connection, _ = await asyncio.get_running_loop().sock_accept(silent)
        with connection:
            task.cancel()
            async with asyncio.timeout(5):  # well before the 60 s socket timeout
                with pytest.raises(asyncio.CancelledError):
                    await task
            connection.setblocking(True)
            assert connection.recv(1) == b""  # the worker's socket is closed: its thread has ended


def test_every_transfer_error_says_whether_a_retry_can_help() -> None:
    permanent = {cls.__name__ for cls in (LoginFailed, RemoteRefused, TlsFailed, DiskFull) if cls.permanent}
    assert permanent == {"LoginFailed", "RemoteRefused", "TlsFailed", "DiskFull"}
    assert not ConnectionLost.permanent and not UnknownHost.permanent and not TransferError.permanent
