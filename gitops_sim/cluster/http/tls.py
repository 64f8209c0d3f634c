"""A self-signed certificate for serving the API over HTTPS on loopback, made with openssl.

`self_signed(folder)` writes `tls.crt` and `tls.key` for CN gitops-sim with subjectAltNames
127.0.0.1, ::1 and localhost, valid for a week, and returns their paths. The certificate is its
own CA: kubeconfigs carry it as `certificate-authority-data`, so kubectl and the Python client
verify the server as they would a real one.

Callers: `cluster.http.server`. It runs the openssl command with a minimal environment and never
reads or writes outside `folder`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class TLSError(Exception):
    pass


def self_signed(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TLSError("serving over TLS needs the openssl command (Debian: apt-get install openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "tls.crt", folder / "tls.key"
    proc = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "7",
            "-subj",
            "/CN=gitops-sim",
            "-addext",
            "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        env={"HOME": str(folder)},
        check=False,
    )
    if proc.returncode != 0:
        raise TLSError(
            f"openssl could not make a certificate: {proc.stderr.decode(errors='replace').strip()}"
        )
    key.chmod(0o600)
    return cert, key
