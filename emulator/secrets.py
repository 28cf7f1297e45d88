"""Redaction of secrets from anything the emulator shows: journal, state, logs, errors.

Two layers: patterns catch secrets by their shape (account keys in connection strings,
SAS signatures, bearer tokens, key fields in JSON), and the exact values the backend
knows (endpoint keys, workspace tokens) are replaced wherever they appear.
"""
from __future__ import annotations

import re
from urllib.parse import quote
from typing import Iterable

MASK = "***"
# Known values shorter than this are not replaced wherever they appear: a toy key such as "key" (the seed
# document's) would mangle every word containing it. The shape patterns below still mask them in place.
MIN_KNOWN = 6

_PATTERNS = [
    (re.compile(r"(AccountKey\s*=\s*)[^;\"'\s&]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(SharedAccessSignature\s*=\s*)[^;\"'\s]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\bsig=)[^&\"'\s]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\bBearer\s+(?:Bearer\s+)*)[^\s\"',]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\"(?:PrimaryKey|SecondaryKey|apiKey|key|PrimaryToken|SecondaryToken)\"\s*:\s*\")[^\"]*(\")",
                re.IGNORECASE), r"\1" + MASK + r"\2"),
]


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Return ``text`` with every secret replaced by ``***``."""
    values = {k for k in known if k and len(k) >= MIN_KNOWN}
    values |= {quote(k, safe="") for k in values}  # as they appear URL-encoded in a query string or path
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
