"""Cloud hosts -> local URLs: definitions never need editing to run offline.

``*.services.azureml.net`` (runtime), ``*management.azureml.net`` (classic management),
``management.azure.com`` (ARM) and ``login.microsoftonline.com`` (Azure AD) map to the emulator;
storage goes to Azurite through the accounts named in connection strings (the emulator maps
those itself). A host that maps nowhere is refused: adfemu never calls the real Azure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

DEFAULT_EMULATED = (r"(?:[a-z0-9-]+\.)?services\.azureml\.(?:net|de)", r"(?:[a-z0-9-]+\.)?management\.azureml\.(?:net|de)",
                    r"management\.azure\.com", r"login\.microsoftonline\.com")


class UnmappedHost(ValueError):
    """A URL names a host that adfemu does not emulate."""


@dataclass
class Endpoints:
    emulator_url: str
    overrides: dict[str, str] = field(default_factory=dict)  # host (regex, full match) -> base URL

    def map(self, url: str) -> str:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        for pattern, base in self.overrides.items():
            if re.fullmatch(pattern, host):
                return _rebase(parts, base)
        if any(re.fullmatch(p, host) for p in DEFAULT_EMULATED) or _is_local(host):
            return _rebase(parts, self.emulator_url)
        raise UnmappedHost(f"'{host}' is not an emulated host; add it to the endpoint overrides of the config")


def _rebase(parts, base: str) -> str:
    target = urlsplit(base)
    return urlunsplit((target.scheme, target.netloc, target.path.rstrip("/") + parts.path, parts.query, ""))


def _is_local(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
