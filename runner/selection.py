"""Which blobs a file-based source reads, as Microsoft Learn's "Copy and transform data in Azure Blob storage"
describes ``storeSettings`` (its "Folder and file filter examples"):

- ``recursive`` (default true for Copy, false for Delete): files of subfolders too;
- ``wildcardFolderPath`` (under the container) and ``wildcardFileName``: ``*`` matches zero or more characters,
  ``?`` zero or one, ``^`` escapes the next character; a wildcard does not cross a ``/`` (each folder level
  is matched on its own, as folders are);
- ``modifiedDatetimeStart`` / ``modifiedDatetimeEnd``: last modified in [start, end), either may be null.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from .blobs import BlobInfo, BlobStore, BlobStoreError
from .datasets import Location


@dataclass(frozen=True)
class ReadSettings:
    recursive: bool = True
    wildcard_folder: str | None = None
    wildcard_file: str | None = None
    modified_start: datetime | None = None
    modified_end: datetime | None = None

    @property
    def uses_wildcard(self) -> bool:
        return bool(self.wildcard_folder or self.wildcard_file)


@dataclass(frozen=True)
class Selected:
    blob: str       # the blob name in the container
    relative: str   # its path below the source folder (what PreserveHierarchy keeps)
    info: BlobInfo


class MissingSource(BlobStoreError):
    def __init__(self, message: str):
        super().__init__(message, missing=True)


def has_wildcard(text: str) -> bool:
    return bool(re.search(r"(?<!\^)[*?]", text or ""))


@lru_cache(maxsize=256)
def wildcard(pattern: str) -> re.Pattern:
    """One path level's wildcard as a regex (``^`` escapes, ``*``/``?`` stop at ``/``)."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "^" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append("[^/]*" if char == "*" else "[^/]?" if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


def _literal(pattern: str) -> str:
    return re.sub(r"\^(.)", r"\1", pattern)


def select(store: BlobStore, location: Location, settings: ReadSettings) -> list[Selected]:
    """The files to read, in name order. A named file that is missing, or a container that is missing, raises
    ``MissingSource``; a folder or wildcard that matches nothing gives an empty list."""
    if not store.container_exists(location.container):
        raise MissingSource(f"the container '{location.container}' does not exist in storage account "
                            f"'{store.account.name}'")
    file_pattern = settings.wildcard_file or (location.file if has_wildcard(location.file) else None)
    if location.file and not file_pattern and not settings.wildcard_folder:
        info = store.properties(location.container, location.path)
        if info is None:
            raise MissingSource(f"the blob '{location}' does not exist in storage account '{store.account.name}'")
        if not _in_window(info, settings):
            return []
        return [Selected(location.path, location.file, info)]
    folder_levels = [p for p in (settings.wildcard_folder or "").strip("/").split("/") if p]
    base = location.folder if not folder_levels else "/".join(
        _literal(p) for p in _leading_literals(folder_levels))
    literal_levels = len(_leading_literals(folder_levels))
    prefix = f"{base}/" if base else ""
    found, seen_any = [], False
    for info in store.list(location.container, prefix):
        seen_any = True
        if info.name.endswith("/"):  # a folder marker, not a file
            continue
        relative = info.name[len(prefix):]
        *dirs, name = relative.split("/")
        if folder_levels:
            patterns = folder_levels[literal_levels:]
            if len(dirs) < len(patterns) or not all(wildcard(p).match(d) for p, d in zip(patterns, dirs)):
                continue
            deeper = dirs[len(patterns):]
        else:
            deeper = dirs
        if deeper and not settings.recursive:
            continue
        if file_pattern and not wildcard(file_pattern).match(name):
            continue
        if location.file and not file_pattern and name != location.file:
            continue
        if _in_window(info, settings):
            found.append(Selected(info.name, relative, info))
    if not seen_any and not folder_levels and not file_pattern and not location.file and base:
        raise MissingSource(f"the folder '{location}' does not exist in storage account '{store.account.name}'")
    return found


def _leading_literals(levels: list[str]) -> list[str]:
    literal = []
    for level in levels:
        if has_wildcard(level):
            break
        literal.append(level)
    return literal


def _in_window(info: BlobInfo, settings: ReadSettings) -> bool:
    if settings.modified_start and info.last_modified < settings.modified_start:
        return False
    if settings.modified_end and info.last_modified >= settings.modified_end:
        return False
    return True


def parse_instant(value, what: str) -> datetime | None:
    """An ISO 8601 instant (UTC when it has no offset), or None for null/empty."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace("z", "Z")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # ADF writes 7 fractional digits
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} '{value}' is not an ISO 8601 date and time (e.g. 2024-06-01T00:00:00Z)") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
