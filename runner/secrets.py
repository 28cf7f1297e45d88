"""Secrets as ADF resolves them: plain strings, SecureString, and Azure Key Vault references
answered from a local secrets file (``{"<vault name or baseUrl>": {"<secretName>": "<value>"}}``)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


class SecretError(ValueError):
    """A secret cannot be resolved (message never contains a secret value)."""


def resolve(value: Any, definitions, vaults: dict[str, dict[str, str]]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("type") == "SecureString":
        return value.get("value")
    if isinstance(value, dict) and value.get("type") == "AzureKeyVaultSecret":
        store = (value.get("store") or {}).get("referenceName")
        base_url = ((definitions.linked_service(store).get("properties") or {}).get("typeProperties") or {}).get("baseUrl")
        name = value.get("secretName")
        for key in (store, base_url, _vault_name(base_url)):
            if key and key in vaults and name in vaults[key]:
                return vaults[key][name]
        raise SecretError(f"secret '{name}' of Key Vault '{store}' is not in the secrets file")
    raise SecretError("a secret must be a string, a SecureString or an AzureKeyVaultSecret")


def _vault_name(base_url: Any) -> str | None:
    return urlsplit(base_url).hostname.split(".")[0] if isinstance(base_url, str) and "//" in base_url else None
