"""Redaction of secrets from anything the emulator shows: journal, state, logs, errors.

Two layers: patterns catch secrets by their shape (account keys in connection strings,
SAS signatures, bearer tokens, key fields in JSON), and the exact values the backend
knows (endpoint keys, workspace tokens) are replaced wherever they appear.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from urllib.parse import quote
from typing import Iterable

MASK = "***"
# Known values shorter than this are not replaced wherever they appear: a toy key such as "key" (the seed
# document's) would mangle every word containing it. The shape patterns below still mask them in place.
MIN_KNOWN = 6


@lru_cache(maxsize=16)
def _known_pattern(values: tuple[str, ...]) -> re.Pattern | None:
    """One regex for the known values, also as they appear URL-encoded (longest first, so none is cut)."""
    variants = set(values) | {quote(v, safe="") for v in values}
    if not variants:
        return None
    return re.compile("|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True)))

_PATTERNS = [
    (re.compile(r"(AccountKey\s*=\s*)[^;\"'\s&]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(SharedAccessSignature\s*=\s*)[^;\"'\s]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\bsig=)[^&\"'\s]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\bBearer\s+(?:Bearer\s+)*)[^\s\"',]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\bclient_secret=)[^&\"'\s]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\"(?:PrimaryKey|SecondaryKey|apiKey|key|PrimaryToken|SecondaryToken|primary|secondary|"
                r"access_token|client_secret|servicePrincipalKey|secret)\"\s*:\s*\")[^\"]*(\")",
                re.IGNORECASE), r"\1" + MASK + r"\2"),
]


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Return ``text`` with every secret replaced by ``***``."""
    pattern = _known_pattern(tuple(sorted({k for k in known if k and len(k) >= MIN_KNOWN})))
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets by their shape in records of libraries the emulator uses (urllib3 logs request
    URLs with their query, SAS signatures included, at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


LIBRARY_LOGGERS = ("urllib3.connectionpool", "azure.core.pipeline.policies.http_logging_policy")


def redact_library_logs() -> None:
    """Idempotent: one RedactingFilter on each library logger that may print request URLs."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
