"""A throw-away PKI for the TLS tests, made with ``cryptography`` at test time: two CAs and the
certificates of both sides (server and client), all for 127.0.0.1."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path
    sha256: bytes  # of the DER certificate


class Authority:
    """A CA writing PEM files into ``folder``; ``issue`` makes a leaf for 127.0.0.1."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.subject = subject
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
                     .sign(self.key, hashes.SHA256()))
        self.cert_file = folder / f"{name}.pem"
        self.cert_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, usage: x509.ObjectIdentifier, *, self_signed: bool = False) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (x509.CertificateBuilder().subject_name(subject)
                   .issuer_name(subject if self_signed else self.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        cert = builder.sign(key if self_signed else self.key, hashes.SHA256())
        cert_file, key_file = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return Issued(cert_file, key_file, hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


@dataclass(frozen=True)
class Pki:
    ca: Authority
    wrong_ca: Authority
    cs_server: Issued        # the Central System's server certificate, from ca
    self_signed: Issued      # a self-signed server certificate, for pinning
    box_server: Issued       # the box endpoint's certificate, from ca
    box_client: Issued       # the box's client certificate, from ca
    cs_client: Issued        # the Central System's client certificate, from ca
    stranger_client: Issued  # a client certificate from wrong_ca


def make_pki(folder: Path) -> Pki:
    ca, wrong = Authority(folder, "ca"), Authority(folder, "wrong-ca")
    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    return Pki(ca, wrong, ca.issue("cs", server), ca.issue("self-signed", server, self_signed=True),
               ca.issue("box", server), ca.issue("box-client", client), ca.issue("cs-client", client),
               wrong.issue("stranger", client))


def caller(pki: Pki, client: Issued | None) -> ssl.SSLContext:
    """A Central System's context calling the box: it trusts the CA and presents ``client``, if any."""
    context = ssl.create_default_context(cafile=str(pki.ca.cert_file))
    if client is not None:
        context.load_cert_chain(str(client.cert), str(client.key))
    return context
