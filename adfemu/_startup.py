"""Start-up in parallel: Azurite is spawned first, from the storage accounts a quick look at the factory files
and the config finds, and Python's imports and the factory's validation run while it starts (Azurite takes most
of a second; waiting for it before importing would add the two). The quick look reads connection strings as text;
what it misses is added later by provisioning (an Azurite restart), what it finds in excess costs nothing."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

ACCOUNT = re.compile(r"AccountName=([a-z0-9]{3,24});\s*AccountKey=([A-Za-z0-9+/=]{4,})", re.I)
DEV_ACCOUNT = "devstoreaccount1"
MAX_FILES, MAX_BYTES = 2000, 4 * 1024 * 1024


def accounts_hint(factories: Iterable[Any] = (), config: Any = None) -> dict[str, str]:
    """Storage accounts (name -> key) that the factories (paths or loaded ``Factory`` objects) and the config
    file name; the dev account is Azurite's own."""
    found: dict[str, str] = {}
    for factory in factories:
        if hasattr(factory, "storage_accounts"):
            found.update(factory.storage_accounts())
            continue
        for path in _json_files(Path(os.fspath(factory))):
            try:
                text = path.read_text(encoding="utf-8", errors="replace") if path.stat().st_size <= MAX_BYTES else ""
            except OSError:
                continue
            found.update((name, key) for name, key in ACCOUNT.findall(text) if name.lower() != DEV_ACCOUNT)
    if config is not None:
        try:
            document = json.loads(Path(os.fspath(config)).read_text(encoding="utf-8"))
            found.update({a["name"]: a["key"] for a in document.get("storage", {}).get("accounts", [])})
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass  # the real load reports what is wrong with it
    return found


def _json_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = []
    for root, folders, names in os.walk(path):
        folders[:] = [f for f in folders if not f.startswith(".") and f != "node_modules"]
        files += [Path(root, n) for n in names if n.lower().endswith(".json")]
        if len(files) > MAX_FILES:
            break
    return files[:MAX_FILES]


def begin_azurite(factories: Iterable[Any] = (), config: Any = None):
    """An Azurite being started for what the factories and the config name (``emulator.azurite.Starting``); it
    needs only the standard library to get going."""
    from adfemu.emulator.azurite import begin
    return begin(accounts_hint(factories, config))
