"""The request journal: what clients sent, with secrets masked, for tests to assert on. It keeps the newest
``MAX_ENTRIES`` requests (the oldest is dropped first), each body cut to ``MAX_BODY`` bytes; each entry is handed
to ``persistence`` as recorded."""
from __future__ import annotations

import threading
from collections import deque
from typing import Callable

from .limits import MAX_JOURNAL_BODY as MAX_BODY, MAX_JOURNAL_ENTRIES as MAX_ENTRIES
from .models import iso, utcnow
from .persistence import NOWHERE, Persistence
from .secrets import Redactor

KEPT_HEADERS = ("Authorization", "Content-Type", "Content-Length", "User-Agent", "x-ms-client-request-id")
# WSGI environ key -> the header name werkzeug gives it (``Request.headers``), for the kept headers it can name
_ENVIRON_HEADERS = {"HTTP_AUTHORIZATION": "Authorization", "CONTENT_TYPE": "Content-Type",
                    "CONTENT_LENGTH": "Content-Length", "HTTP_USER_AGENT": "User-Agent"}


class Journal:
    def __init__(self, redactor: Callable[[], Redactor]):
        self._entries: deque[dict] = deque(maxlen=MAX_ENTRIES)
        self._lock = threading.Lock()
        self._redactor = redactor  # of the secrets known now
        self.persistence: Persistence = NOWHERE

    def record(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
               status: int, duration_ms: float, api: str | None = None, unread: bool = False) -> dict:
        """``unread``: the body was refused unread (too large); it is recorded as empty and truncated."""
        redact = self._redactor().redact
        text = body[:MAX_BODY].decode("utf-8", errors="replace")
        entry = {
            "time": iso(utcnow()),
            "api": api,
            "method": method,
            "path": redact(path),
            "query": redact(query),
            "headers": {k: _authorization(v) if k == "Authorization" else redact(v)
                        for k, v in headers.items() if k in KEPT_HEADERS},
            "body": redact(text),
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


def kept_headers(environ: dict) -> dict[str, str]:
    """The kept headers of a WSGI request, as ``dict(request.headers)`` filtered to ``KEPT_HEADERS`` would give them
    (same names and order; an empty Content-Type or Content-Length counts as absent), without parsing the others."""
    return {_ENVIRON_HEADERS[key]: value for key, value in environ.items()
            if key in _ENVIRON_HEADERS and (value or key.startswith("HTTP_"))}


def _authorization(value: str) -> str:
    """Only the scheme of a credential is kept, whatever the scheme ("Bearer ***", "Token ***", "***")."""
    scheme, _, credential = value.strip().partition(" ")
    return f"{scheme} ***" if credential.strip() else "***"
