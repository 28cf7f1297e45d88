"""HTTPS for the emulator: a throwaway local CA (trustme) and a server certificate for loopback.

Azure SDK clients insist on https for Azure AD and Resource Manager (MSAL wants an https authority,
azure-core refuses bearer tokens over http);
they trust the CA through the bundle file written here (``connection_verify`` or REQUESTS_CA_BUNDLE).
"""
from __future__ import annotations

import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

HOSTS = ("127.0.0.1", "::1", "localhost")


@dataclass
class LocalTls:
    ca_bundle: Path
    context: ssl.SSLContext
    _owned_dir: Path | None = None

    def cleanup(self) -> None:
        """Remove the bundle when adfemu chose where it lives."""
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)


def local_tls(ca_bundle: str | Path | None = None) -> LocalTls:
    """A new CA and a certificate for 127.0.0.1, ::1 and localhost; the CA is written to ``ca_bundle``
    (default: a new temporary folder, removed by ``cleanup``)."""
    import trustme  # with --https only: its x509 imports would slow every start (they run beside Azurite's)

    ca = trustme.CA(organization_name="adfemu local CA")
    cert = ca.issue_cert(*HOSTS)
    owned = None
    if ca_bundle is None:
        owned = Path(tempfile.mkdtemp(prefix="adfemu-tls-"))
        ca_bundle = owned / "adfemu-ca.pem"
    path = Path(ca_bundle)
    path.parent.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return LocalTls(path.resolve(), context, owned)
