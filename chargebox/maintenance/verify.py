"""Is the downloaded firmware the one published? Its size is checked by the download itself; its
SHA-256 against a ``<file>.sha256`` beside it on the server (``sha256sum`` output), when there is
one; its signature against ``<file>.sig`` when the site config gives a public key (chapter 8: "it is
RECOMMENDED that the firmware is also digitally signed").

A signature is what ``openssl dgst -sha256 -sign key.pem -out file.sig file`` makes: RSA
(PKCS#1 v1.5) or ECDSA over SHA-256. The file is hashed in blocks, never read whole (Ed25519 would
need the whole file in memory, so it is not taken).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from chargebox.maintenance.errors import VerificationFailed

BLOCK = 1 << 20
_HEX = re.compile(r"[0-9a-fA-F]{64}")


class SignatureInvalid(ValueError):
    """The firmware's signature is missing, malformed or does not match the configured key."""


def sha256_of(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(BLOCK):
            digest.update(block)
    return digest.digest()


def check_sha256(path: Path, published: bytes) -> None:
    """``published`` is a ``.sha256`` file: the hex digest first, a file name may follow."""
    words = published.decode("ascii", errors="replace").split()
    if not words or not _HEX.fullmatch(words[0]):
        raise VerificationFailed(f"{path.name}: the published .sha256 is not a SHA-256 digest")
    actual = sha256_of(path).hex()
    if actual != words[0].lower():
        raise VerificationFailed(f"{path.name}: SHA-256 {actual} differs from the published {words[0].lower()}")


def load_public_key(path: Path) -> Any:
    """The PEM public key (RSA or EC); ValueError or ImportError say why it cannot be used."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(path.read_bytes())
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise ValueError(f"{type(key).__name__} keys are not supported; expected an RSA or EC public key")
    return key


def check_signature(path: Path, signature: bytes | None, key_file: Path) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    if signature is None:
        raise SignatureInvalid(f"{path.name}: no signature ({path.name}.sig) beside it on the server, "
                               "and firmware.public_key asks for one")
    key = load_public_key(key_file)
    digest, algorithm = sha256_of(path), Prehashed(hashes.SHA256())
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), algorithm)
        else:
            key.verify(signature, digest, ec.ECDSA(algorithm))
    except (InvalidSignature, ValueError) as err:
        raise SignatureInvalid(f"{path.name}: the signature does not match {key_file.name}") from err
