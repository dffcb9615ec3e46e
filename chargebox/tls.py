"""TLS contexts for both directions of a binding, built from the site config's files.

Outside the bindings, so the config can load the certificates while it checks them (a bad PEM is a
config error) without depending on a binding. OCPP 1.5 chapter 8: "the transport of SOAP messages
SHOULD be secured with SSL/TLS (e.g. HTTPS)" and "the sending party SHOULD use a client certificate".
The box trusts its Central System by a CA file (chain and host name checked) and/or by a pinned
certificate (the SHA-256 of its DER form), and may present a client certificate; its own endpoint
serves its certificate and may require one from the caller.
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path
from typing import ClassVar


def parse_fingerprint(text: str) -> bytes:
    """A SHA-256 fingerprint written as 64 hex digits, with or without colons (``AB:CD:...``)."""
    digits = text.strip().replace(":", "").lower()
    try:
        digest = bytes.fromhex(digits)
    except ValueError:
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError(f"expected a SHA-256 fingerprint (64 hex digits, colons allowed), got {text!r}")
    return digest


class _PinnedSSLObject(ssl.SSLObject):
    """Fails the handshake unless the peer's certificate is the pinned one, so nothing is sent to an
    impostor (a check after connecting would already have sent the request)."""

    pinned: ClassVar[bytes] = b""

    def do_handshake(self) -> None:
        super().do_handshake()
        der = self.getpeercert(binary_form=True)
        if der is None or hashlib.sha256(der).digest() != self.pinned:
            got = hashlib.sha256(der).hexdigest() if der else "no certificate"
            raise ssl.SSLCertVerificationError(f"peer certificate is not the pinned one (sha256 {got})")


def client_context(
    *, ca_file: Path | None = None, pin_sha256: bytes | None = None, cert_file: Path | None = None,
    key_file: Path | None = None,
) -> ssl.SSLContext:
    """The context for HTTPS to the Central System.

    With ``ca_file`` the chain and host name are checked against it; with ``pin_sha256`` alone only the
    pin is (a self-signed Central System); with both, both are; with neither, the system's CAs.
    ``cert_file`` (and ``key_file`` unless the key is in the same PEM) is the box's client certificate.
    Raises OSError or ssl.SSLError for a file that cannot be loaded.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    elif pin_sha256 is None:
        context.load_default_certs()  # not for a pin alone: the system's CAs would go unused
    if pin_sha256 is not None:
        if ca_file is None:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        context.sslobject_class = type("PinnedSSLObject", (_PinnedSSLObject,), {"pinned": pin_sha256})
    if cert_file is not None:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return context


def server_context(cert_file: Path, key_file: Path | None = None, client_ca_file: Path | None = None) -> ssl.SSLContext:
    """The context the box's endpoint serves HTTPS with; with ``client_ca_file`` a caller must present a
    certificate issued by that CA, or the handshake fails."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    if client_ca_file is not None:
        context.load_verify_locations(cafile=str(client_ca_file))
        context.verify_mode = ssl.CERT_REQUIRED
    return context
