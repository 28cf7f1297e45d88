"""What activities use to reach (emulated) Azure: endpoint mapping, one HTTP session, secrets."""
from __future__ import annotations

from dataclasses import dataclass, field

import requests

from .endpoints import Endpoints


@dataclass
class Services:
    endpoints: Endpoints
    vaults: dict[str, dict[str, str]] = field(default_factory=dict)
    session: requests.Session = field(default_factory=requests.Session)
    request_timeout: float = 60.0
    ca_bundle: str | None = None  # the CA of an emulator served over HTTPS, trusted per request

    @property
    def verify(self) -> str | bool:
        """Per request, because REQUESTS_CA_BUNDLE overrides a verify set on the session (requests)."""
        return self.ca_bundle or True
