"""The firmware is the one published: SHA-256 beside it, a signature when a public key is configured."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from chargebox.maintenance.errors import VerificationFailed
from chargebox.maintenance.verify import SignatureInvalid, check_sha256, check_signature, load_public_key

DATA = b"firmware image " * 100_000


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def test_the_published_sha256_is_checked(tmp_path: Path) -> None:
    file = tmp_path / "fw.bin"
    file.write_bytes(DATA)
    check_sha256(file, hashlib.sha256(DATA).hexdigest().upper().encode() + b"  fw.bin\n")
    with pytest.raises(VerificationFailed, match="differs from the published"):
        check_sha256(file, hashlib.sha256(b"other").hexdigest().encode())
    with pytest.raises(VerificationFailed, match="not a SHA-256 digest"):
        check_sha256(file, b"<html>not found</html>")


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_a_signature_made_like_openssl_dgst_sign_is_verified(tmp_path: Path, kind: str) -> None:
    file = tmp_path / "fw.bin"
    file.write_bytes(DATA)
    if kind == "rsa":
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        signature, key_file = rsa_key.sign(DATA, padding.PKCS1v15(), hashes.SHA256()), public_pem(rsa_key, tmp_path / "k")
    else:
        ec_key = ec.generate_private_key(ec.SECP256R1())
        signature, key_file = ec_key.sign(DATA, ec.ECDSA(hashes.SHA256())), public_pem(ec_key, tmp_path / "k")
    check_signature(file, signature, key_file)
    file.write_bytes(DATA + b"tampered")
    with pytest.raises(SignatureInvalid, match="does not match k"):
        check_signature(file, signature, key_file)
    with pytest.raises(SignatureInvalid, match="no signature"):
        check_signature(file, None, key_file)


def test_a_key_that_cannot_sign_in_blocks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not supported"):
        load_public_key(public_pem(ed25519.Ed25519PrivateKey.generate(), tmp_path / "ed.pem"))
