"""A real FTP server for tests (pyftpdlib), plain or explicit TLS, that can drop the link mid-transfer.

``server.cut.after = N`` makes the next data transfer drop the whole connection (control and data,
as a mobile link does) after N bytes, once. ``server.cut.transfers`` records what every transfer
moved, as the server counted it: ("sent" | "received", bytes).

With TLS it refuses a data connection whose TLS session is not a resumption, as vsftpd does by default
(``require_ssl_reuse``); ``server.data_tls`` records what each one negotiated: (version, resumed).
"""

from __future__ import annotations

import datetime
import ipaddress
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.servers import FTPServer

USER, PASSWORD = "box", "s3cret!"
TlsVersion = Literal["TLSv1.2", "TLSv1.3"]


@dataclass
class Cut:
    after: int | None = None
    transfers: list[tuple[str, int]] = field(default_factory=list)


class _Cutting:
    """Mixed into a DTPHandler: the planned drop, and the record of each transfer."""

    cut: Cut

    def _drop_if_due(self, done: int) -> bool:
        if self.cut.after is not None and done >= self.cut.after:
            self.cut.after = None
            handler: Any = self
            handler.cmd_channel.close()  # the control connection goes too
            handler.close()
            return True
        return False

    def send(self, data: bytes) -> int:
        handler: Any = self
        if self.cut.after is not None:
            data = data[:max(self.cut.after - handler.tot_bytes_sent, 0)] or data[:0]
        sent: int = super().send(data) if data else 0  # type: ignore[misc]
        self._drop_if_due(handler.tot_bytes_sent)
        return sent

    def handle_read_event(self) -> None:  # what the I/O loop calls (handle_read is bound statically)
        handler: Any = self
        super().handle_read_event()  # type: ignore[misc]
        if not handler._closed:
            self._drop_if_due(handler.tot_bytes_received)

    def close(self) -> None:
        handler: Any = self
        if not handler._closed:
            direction = "received" if handler.receive else "sent"
            self.cut.transfers.append((direction, handler.tot_bytes_received or handler.tot_bytes_sent))
        super().close()  # type: ignore[misc]


class _ReuseRequired:
    """Mixed into a TLS_DTPHandler: vsftpd's ``require_ssl_reuse``, checked the same way and, as vsftpd
    does, before any byte of the file goes out."""

    data_tls: list[tuple[str, bool]]

    def send(self, data: bytes) -> int:
        # pyftpdlib writes the file as soon as the command comes, the handshake maybe still on: in TLS 1.3
        # SSL_write() sends it before the client's Finished, so before handle_ssl_established() could
        # refuse. Finish the handshake first, the checked way.
        handler: Any = self
        if handler._ssl_accepting:
            handler._do_ssl_handshake()
            if handler._ssl_accepting or handler._closed:
                return 0
        sent: int = super().send(data)  # type: ignore[misc]
        return sent

    def handle_ssl_established(self) -> None:
        # pyOpenSSL has no public SSL_session_reused(): its binding of OpenSSL's is the one way to ask.
        from OpenSSL._util import lib

        handler: Any = self
        reused = bool(lib.SSL_session_reused(handler.socket._ssl))
        self.data_tls.append((handler.socket.get_protocol_version_name(), reused))
        if not reused:
            handler.cmd_channel.respond("522 SSL connection failed: session reuse required")
            handler.close()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key (PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "ftp-cert.pem", folder / "ftp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class FtpServer:
    """``with FtpServer(root) as server:``; ``tls=(cert, key)`` for explicit TLS (AUTH TLS required), in
    at most the ``tls_max`` version."""

    def __init__(self, root: Path, *, tls: tuple[Path, Path] | None = None,
                 tls_max: TlsVersion = "TLSv1.3") -> None:
        self.root = root
        self.cut = Cut()
        self.data_tls: list[tuple[str, bool]] = []
        authorizer = DummyAuthorizer()
        authorizer.add_user(USER, PASSWORD, str(root), perm="elradfmwMT")
        # sendfile() would bypass the planned cut in send().
        attributes: dict[str, Any] = {"authorizer": authorizer, "banner": "test server", "use_sendfile": False,
                                      "auth_failed_timeout": 0.1}
        data_mixins: tuple[type, ...] = (_Cutting,)
        if tls is None:
            control: type = FTPHandler
            data: type = DTPHandler
        else:
            from OpenSSL import SSL
            from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler

            control, data = TLS_FTPHandler, TLS_DTPHandler
            data_mixins += (_ReuseRequired,)
            no_newer = {"TLSv1.3": 0, "TLSv1.2": SSL.OP_NO_TLSv1_3}[tls_max]
            attributes.update(certfile=str(tls[0]), keyfile=str(tls[1]), tls_control_required=True,
                              tls_data_required=True, ssl_options=TLS_FTPHandler.ssl_options | no_newer)
        attributes["dtp_handler"] = type("TestDTP", (*data_mixins, data), {"cut": self.cut,
                                                                          "data_tls": self.data_tls})
        handler = type("TestFTPHandler", (control,), attributes)
        self.server = FTPServer(("127.0.0.1", 0), handler)
        self.port: int = self.server.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ftp-server", daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            self.server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        self.server.close_all()

    def url(self, path: str, *, scheme: str = "ftp", user: str = USER, password: str = PASSWORD) -> str:
        return f"{scheme}://{user}:{password}@127.0.0.1:{self.port}/{path}"

    def __enter__(self) -> FtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
