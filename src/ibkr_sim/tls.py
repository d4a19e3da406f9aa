"""The simulator's self-signed certificate: generated once per state dir, then reused.

The real gateway ships a self-signed certificate too, and clients are tempted to switch
verification off.  Ours is reused across runs so a client can pin it once (by file or by the
SHA-256 fingerprint printed at start) and keep verifying.  The certificate is its own CA
(basicConstraints CA:TRUE, keyCertSign) so it can be handed to ``ssl`` as ``cafile``
directly, and names ``localhost``, ``127.0.0.1`` and ``::1``.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from filelock import FileLock

__all__ = ["CertificateFiles", "ensure_certificate", "fingerprint_sha256", "server_context"]

CERT_NAME = "sim-cert.pem"
KEY_NAME = "sim-key.pem"


@dataclass(frozen=True)
class CertificateFiles:
    cert_path: Path
    key_path: Path
    fingerprint: str
    """SHA-256 of the DER certificate, colon-separated upper-case hex (as browsers show it)."""


def fingerprint_sha256(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    digest = cert.fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)


def _generate(cert_path: Path, key_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ibkr_sim"),
        x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
    ])
    now = datetime.now(UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp_key = key_path.with_suffix(".tmp")
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_bytes)
    tmp_cert = cert_path.with_suffix(".tmp")
    tmp_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp_key, key_path)
    os.replace(tmp_cert, cert_path)


def ensure_certificate(state_dir: Path) -> CertificateFiles:
    """Return the certificate in ``state_dir``, creating it on first use (safe across processes)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    cert_path = state_dir / CERT_NAME
    key_path = state_dir / KEY_NAME
    with FileLock(str(state_dir / "cert.lock")):
        if not (cert_path.is_file() and key_path.is_file()):
            _generate(cert_path, key_path)
    return CertificateFiles(cert_path, key_path, fingerprint_sha256(cert_path.read_bytes()))


def server_context(files: CertificateFiles) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(files.cert_path), str(files.key_path))
    return ctx
