"""Redaction of secrets from anything the emulator shows: journal, state, logs, errors.

Two layers, both applied to the text as written and to what its escapes stand for: patterns catch secrets by
their shape (account keys in connection strings, SAS signatures, bearer tokens, JWTs, key fields in JSON), and
the exact values the emulator knows (endpoint keys, workspace tokens, client secrets, issued tokens, account
keys) are masked wherever they appear, in any field. Escapes are percent-escapes of either case (``%2B``,
``%2b``) and JSON's (``\\/``, ``\\u002b``); a known value is also found inside base64 (the whole base64 run is
masked), whatever its alignment.
"""
from __future__ import annotations

import base64
import logging
import re
import threading
import weakref
from collections import deque
from functools import lru_cache
from typing import Callable, Iterable

MASK = "***"
# Known values shorter than this are not replaced wherever they appear: a toy key such as "key" (the seed
# document's) would mangle every word containing it. The shape patterns below still mask them in place.
MIN_KNOWN = 6
MIN_BASE64_CORE = 8

_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\/")
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_")
_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    r"AccountKey\s*=\s*(?P<secret>[^;\"'\s&]+)",
    r"SharedAccessSignature\s*=\s*(?P<secret>[^;\"'\s]+)",
    r"\bsig=(?P<secret>[^&\"'\s]+)",
    r"\bBearer\s+(?:Bearer\s+)*(?P<secret>[^\s\"',]+)",
    r"\bclient_secret=(?P<secret>[^&\"'\s]+)",
    r"\"(?:PrimaryKey|SecondaryKey|apiKey|key|PrimaryToken|SecondaryToken|primary|secondary|access_token|"
    r"client_secret|servicePrincipalKey|secret)\"\s*:\s*\"(?P<secret>[^\"]*)\"",
    r"(?P<secret>\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+)",  # a JWT (an issued token)
)]


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Return ``text`` with every secret replaced by ``***``."""
    decoded, starts = _decode(text)
    spans = _known_spans(decoded, _needles(tuple(sorted({k for k in known if k and len(k) >= MIN_KNOWN}))))
    for pattern in _PATTERNS:
        spans += [m.span("secret") for m in pattern.finditer(decoded) if m.end("secret") > m.start("secret")]
    if not spans:
        return text
    return _masked(text, [(starts[a], starts[b] if b < len(starts) else len(text)) for a, b in spans])


def _decode(text: str) -> tuple[str, list[int]]:
    """The text with its escapes replaced by the characters they stand for, and where each character of that
    starts in ``text`` (so that what is found in the one can be masked in the other)."""
    if "%" not in text and "\\" not in text:
        return text, list(range(len(text)))
    chars, starts, position = [], [], 0
    for match in _ESCAPE.finditer(text):
        chars.append(text[position:match.start()])
        starts.extend(range(position, match.start()))
        token = match.group()
        chars.append("/" if token == "\\/" else chr(int(token[1:] if token[0] == "%" else token[2:], 16)))
        starts.append(match.start())
        position = match.end()
    chars.append(text[position:])
    starts.extend(range(position, len(text)))
    return "".join(chars), starts


@lru_cache(maxsize=32)
def _needles(values: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """(text to find, whether it is a base64 core) for every known value: the value, and the part of its base64
    (standard and URL-safe) that does not depend on what surrounds it, for each of the three alignments."""
    found = {(v, False) for v in values}
    for value in values:
        raw = value.encode("utf-8")
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + raw).decode()
            core = encoded[-(-shift * 8 // 6):(8 * (shift + len(raw))) // 6]
            if len(core) >= MIN_BASE64_CORE:
                found |= {(core, True), (core.replace("+", "-").replace("/", "_"), True)}
    return tuple(sorted(found, key=lambda n: -len(n[0])))


def _known_spans(text: str, needles: tuple[tuple[str, bool], ...]) -> list[tuple[int, int]]:
    spans = []
    for needle, is_core in needles:
        start = text.find(needle)
        while start != -1:
            end = start + len(needle)
            if is_core:  # the whole base64 run it is part of
                while start > 0 and text[start - 1] in _BASE64_CHARS:
                    start -= 1
                while end < len(text) and text[end] in _BASE64_CHARS:
                    end += 1
            spans.append((start, end))
            start = text.find(needle, end)
    return spans


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    parts, position = [], 0
    for start, end in sorted(spans):
        if end <= position:
            continue
        start = max(start, position)
        parts.append(text[position:start])
        parts.append(MASK)
        position = end
    parts.append(text[position:])
    return "".join(parts)


# --- what the running emulators know, for log records --------------------------------------------------

_providers: list[weakref.WeakMethod] = []
_providers_lock = threading.Lock()
_learned: deque[str] = deque(maxlen=256)  # SAS signatures the emulator minted (the newest kept)


def learn(value: str) -> None:
    """Remember a secret the emulator made (a SAS signature it signed) so that it is masked in any encoding."""
    if value and len(value) >= MIN_KNOWN:
        with _providers_lock:
            _learned.append(value)


def learned() -> list[str]:
    with _providers_lock:
        return list(_learned)


def register_known(provider: Callable[[], Iterable[str]]) -> None:
    """Make an emulator's secrets (a bound method) known to the log filter, for as long as the emulator lives."""
    with _providers_lock:
        _providers[:] = [p for p in _providers if p() is not None]
        _providers.append(weakref.WeakMethod(provider))


def known_secrets() -> list[str]:
    with _providers_lock:
        methods = [p() for p in _providers]
    return [s for method in methods if method is not None for s in method()] + learned()


class RedactingFilter(logging.Filter):
    """Masks secrets in records of the emulator and of libraries it uses (urllib3 logs request URLs with their
    query, SAS signatures included, at DEBUG): in the message and in the traceback of ``exc_info``."""

    def filter(self, record: logging.LogRecord) -> bool:
        known = known_secrets()
        message = record.getMessage()
        clean = redact(message, known)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), known)
            record.exc_info = None
        return True


LIBRARY_LOGGERS = ("urllib3.connectionpool", "azure.core.pipeline.policies.http_logging_policy",
                   "adfemu.emulator", "adfemu.emulator.jobs", "waitress", "werkzeug")


def redact_library_logs() -> None:
    """Idempotent: one RedactingFilter on each logger that may print a secret."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
