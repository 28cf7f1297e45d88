"""The request journal: what clients sent, with secrets masked, for tests to assert on."""
from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Iterable

from .models import iso, utcnow
from .secrets import redact

MAX_ENTRIES = 2000
MAX_BODY = 64 * 1024
KEPT_HEADERS = ("Authorization", "Content-Type", "Content-Length", "User-Agent", "x-ms-client-request-id")


class Journal:
    def __init__(self, known_secrets: Callable[[], Iterable[str]]):
        self._entries: deque[dict] = deque(maxlen=MAX_ENTRIES)
        self._lock = threading.Lock()
        self._known = known_secrets

    def record(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
               status: int, duration_ms: float, api: str | None = None) -> dict:
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
            "bodyTruncated": len(body) > MAX_BODY,
            "status": status,
            "durationMs": round(duration_ms, 3),
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self) -> list[dict]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _authorization(value: str) -> str:
    """Only the scheme of a credential is kept, whatever the scheme ("Bearer ***", "Token ***", "***")."""
    scheme, _, credential = value.strip().partition(" ")
    return f"{scheme} ***" if credential.strip() else "***"
