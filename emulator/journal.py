"""The request journal: what clients sent, with secrets masked, for tests to assert on. It keeps the newest
``MAX_ENTRIES`` requests (the oldest is dropped first), each body cut to ``MAX_BODY`` bytes; each entry is handed
to ``persistence`` as recorded."""
from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Iterable

from .limits import MAX_JOURNAL_BODY as MAX_BODY, MAX_JOURNAL_ENTRIES as MAX_ENTRIES
from .models import iso, utcnow
from .persistence import NOWHERE, Persistence
from .secrets import redact

KEPT_HEADERS = ("Authorization", "Content-Type", "Content-Length", "User-Agent", "x-ms-client-request-id")


class Journal:
    def __init__(self, known_secrets: Callable[[], Iterable[str]]):
        self._entries: deque[dict] = deque(maxlen=MAX_ENTRIES)
        self._lock = threading.Lock()
        self._known = known_secrets
        self.persistence: Persistence = NOWHERE

    def record(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
               status: int, duration_ms: float, api: str | None = None, unread: bool = False) -> dict:
        """``unread``: the body was refused unread (too large); it is recorded as empty and truncated."""
        known = list(self._known())
        text = body[:MAX_BODY].decode("utf-8", errors="replace")
        entry = {
            "time": iso(utcnow()),
            "api": api,
            "method": method,
            "path": redact(path, known),
            "query": redact(query, known),
            "headers": {k: _authorization(v) if k == "Authorization" else redact(v, known)
                        for k, v in headers.items() if k in KEPT_HEADERS},
            "body": redact(text, known),
            "bodyTruncated": unread or len(body) > MAX_BODY,
            "status": status,
            "durationMs": round(duration_ms, 3),
        }
        with self._lock:
            self._entries.append(entry)
            self.persistence.journal_entry(entry, MAX_ENTRIES)
        return entry

    def entries(self) -> list[dict]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.persistence.journal_cleared()

    def restore(self, entries: list[dict]) -> None:
        """Entries as saved (``restore.py``, before serving)."""
        with self._lock:
            self._entries.clear()
            self._entries.extend(entries)


def _authorization(value: str) -> str:
    """Only the scheme of a credential is kept, whatever the scheme ("Bearer ***", "Token ***", "***")."""
    scheme, _, credential = value.strip().partition(" ")
    return f"{scheme} ***" if credential.strip() else "***"
