"""A self-signed TLS certificate for localhost, so that the staff console (`jet console
serve`, `make console`) is served over HTTPS out of the box. A browser warns about it
once; a deployment gives its own certificate with `--cert` and `--key`."""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CERT_FILE, KEY_FILE = "cert.pem", "key.pem"
VALID_FOR = timedelta(days=365)


def console_dir(home: Path) -> Path:
    """Where the demo's certificate lives: $JET_HOME/console."""
    return home / "console"


def write_self_signed(folder: Path, now: datetime | None = None) -> tuple[Path, Path]:
    """Write `cert.pem` and `key.pem` (mode 0600) into `folder`: CN localhost, SAN DNS
    localhost and IP 127.0.0.1, valid one year from `now`. Returns their paths."""
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())  # fast to make, accepted by browsers
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The key is created 0600 rather than chmod-ed after, so it is never readable by others.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_bytes)
    os.chmod(key_path, 0o600)  # an existing file keeps its mode through O_TRUNC
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
