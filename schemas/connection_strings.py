"""Azure Storage connection strings (``Key=Value;...``): the one parser the emulator and the runner share.

Keys are matched case-insensitively and returned in their documented spelling (Microsoft Learn, "Configure
Azure Storage connection strings"); ``UseDevelopmentStorage=true`` stands for the emulator's well-known account
``devstoreaccount1`` and its published key (same page, "Connect to the emulator account using the shortcut").
"""
from __future__ import annotations

__all__ = ["parse", "DEV_ACCOUNT", "DEV_KEY"]

DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_KNOWN = {k.lower(): k for k in ("DefaultEndpointsProtocol", "AccountName", "AccountKey", "BlobEndpoint",
                                 "EndpointSuffix", "SharedAccessSignature", "UseDevelopmentStorage",
                                 "DevelopmentStorageProxyUri", "QueueEndpoint", "TableEndpoint", "FileEndpoint")}


def parse(text: str) -> dict[str, str]:
    """``Key=Value;...`` into a dict with canonical key spelling; raises ``ValueError`` (naming the piece, never
    a value, which may be a key) when the text is not ``Key=Value`` pairs."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty connection string")
    parts: dict[str, str] = {}
    for index, piece in enumerate(text.strip().strip(";").split(";"), start=1):
        name, sep, value = piece.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"part {index} of the connection string is not Key=Value")
        parts[_KNOWN.get(name.strip().lower(), name.strip())] = value.strip()
    if parts.get("UseDevelopmentStorage", "").lower() == "true":
        parts.setdefault("AccountName", DEV_ACCOUNT)
        parts.setdefault("AccountKey", DEV_KEY)
    return parts
