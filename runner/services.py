"""What activities use to reach (emulated) Azure: endpoint mapping, one HTTP session, secrets, the storage
Azurite serves, and the local SQLite databases that stand in for SQL linked services."""
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
    storage_url: str | None = None  # Azurite's base URL: every *.blob/*.dfs.core.windows.net account lives there
    sql: dict[str, str] = field(default_factory=dict)  # SQL linked service name (any case) -> SQLite file

    @property
    def verify(self) -> str | bool:
        """Per request, because REQUESTS_CA_BUNDLE overrides a verify set on the session (requests)."""
        return self.ca_bundle or True

    def sql_database(self, linked_service: str) -> str | None:
        """The SQLite file mapped to a SQL linked service (names compared ignoring case, as ADF does)."""
        wanted = linked_service.lower()
        return next((path for name, path in self.sql.items() if name.lower() == wanted), None)
