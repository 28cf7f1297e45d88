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
_JSON_KEYS = ("PrimaryKey", "SecondaryKey", "apiKey", "key", "PrimaryToken", "SecondaryToken", "primary", "secondary",
              "access_token", "client_secret", "servicePrincipalKey", "secret")
# (pattern, the lower-case words one of which any match holds: an ASCII text without them is not searched)
_SHAPES = [(re.compile(p, re.IGNORECASE), words) for p, words in (
    (r"AccountKey\s*=\s*(?P<secret>[^;\"'\s&]+)", ("accountkey",)),
    (r"SharedAccessSignature\s*=\s*(?P<secret>[^;\"'\s]+)", ("sharedaccesssignature",)),
    (r"\bsig=(?P<secret>[^&\"'\s]+)", ("sig=",)),
    (r"\bBearer\s+(?:Bearer\s+)*(?P<secret>[^\s\"',]+)", ("bearer",)),
    (r"\bclient_secret=(?P<secret>[^&\"'\s]+)", ("client_secret=",)),
    (r"\"(?:" + "|".join(_JSON_KEYS) + r")\"\s*:\s*\"(?P<secret>[^\"]*)\"",
     tuple(f'"{k.lower()}"' for k in _JSON_KEYS)),
    (r"(?P<secret>\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+)", ("eyj",)),  # a JWT (an issued token)
)]
# Known values are looked up by their first GRAM characters (every needle is at least that long) in texts up to
# GRAMS_UP_TO characters per needle: there, slicing the text is cheaper than one search per needle.
GRAM = MIN_KNOWN
GRAMS_UP_TO = 8
# Short texts found clean are remembered per redactor (a client polling sends the same path again and again)
CLEAN_TEXT_CHARS, CLEAN_TEXTS = 512, 4096
_SHAPE_WORDS = re.compile("|".join(re.escape(w) for _, words in _SHAPES for w in words))


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Return ``text`` with every secret replaced by ``***``."""
    return redactor(known).redact(text)


def redactor(known: Iterable[str] = ()) -> "Redactor":
    """A redactor for these known values; one per distinct list (building one encodes every value)."""
    return _redactor_of(tuple(known))


@lru_cache(maxsize=16)
def _redactor_of(known: tuple[str, ...]) -> "Redactor":
    return _redactor_for(tuple(sorted({k for k in known if k and len(k) >= MIN_KNOWN})))


@lru_cache(maxsize=16)
def _redactor_for(values: tuple[str, ...]) -> "Redactor":
    return Redactor(values)


class Redactor:
    """Masks the shapes and the given known values (each at least ``MIN_KNOWN`` long). Immutable; thread-safe.

    Most texts hold no secret, so both layers check cheaply first: a shape pattern runs only on a text holding
    its key word (ASCII texts; others are searched by every pattern), and a short text is searched only for the
    known values that start with one of its ``GRAM``-character slices. Short texts found clean are remembered."""

    def __init__(self, values: tuple[str, ...]):
        found: set[tuple[str, bool]] = set()
        for value in values:
            found.update(_value_needles(value))
        self.needles = tuple(sorted(found, key=lambda n: -len(n[0])))
        self._by_prefix: dict[str, list[tuple[str, bool]]] = {}
        for needle in self.needles:
            self._by_prefix.setdefault(needle[0][:GRAM], []).append(needle)
        self._prefixes = frozenset(self._by_prefix)
        self._gram_limit = GRAMS_UP_TO * len(self.needles)
        self._clean: set[str] = set()

    def redact(self, text: str, *, prechecks: bool = True) -> str:
        if not text or (prechecks and text in self._clean):
            return text
        decoded, starts = _decode(text)
        spans = self._spans(decoded, prechecks)
        if starts is not None:  # found in the decoded text, masked where it is written; and as written: a "%" or
            # "\" just before a value that starts with hex digits ("%AAAA...") is not an escape of it
            spans = [(starts[a], starts[b] if b < len(starts) else len(text)) for a, b in spans]
            spans += self._spans(text, prechecks)
        if not spans:
            if len(text) <= CLEAN_TEXT_CHARS:
                if len(self._clean) >= CLEAN_TEXTS:
                    self._clean = set()  # bounded: start again rather than track use
                self._clean.add(text)
            return text
        return _masked(text, spans)

    def _spans(self, text: str, prechecks: bool) -> list[tuple[int, int]]:
        """Where the known values and the secrets of known shapes are in ``text``."""
        spans = _known_spans(text, self._candidates(text) if prechecks else self.needles)
        for pattern in _shapes(text) if prechecks else [p for p, _ in _SHAPES]:
            spans += [m.span("secret") for m in pattern.finditer(text) if m.end("secret") > m.start("secret")]
        return spans

    def _candidates(self, text: str) -> Iterable[tuple[str, bool]]:
        """The needles that may occur in ``text``: all of them for a long text, else those whose first ``GRAM``
        characters are a slice of it."""
        if len(text) < GRAM:
            return ()
        if len(text) > self._gram_limit:
            return self.needles
        grams = {text[i:i + GRAM] for i in range(len(text) - GRAM + 1)}
        return [n for prefix in self._prefixes.intersection(grams) for n in self._by_prefix[prefix]]


def _shapes(text: str) -> list[re.Pattern]:
    """The shape patterns that may match ``text``: for an ASCII text, those whose key word it holds (case
    folding beyond ASCII, e.g. U+017F for 's', makes other texts need every pattern)."""
    if not text.isascii():
        return [pattern for pattern, _ in _SHAPES]
    lowered = text.lower()
    if _SHAPE_WORDS.search(lowered) is None:
        return []
    return [pattern for pattern, words in _SHAPES if any(word in lowered for word in words)]


def _decode(text: str) -> tuple[str, list[int] | None]:
    """The text with its escapes replaced by the characters they stand for, and where each character of that
    starts in ``text`` (so that what is found in the one can be masked in the other); None: unchanged."""
    if "%" not in text and "\\" not in text:
        return text, None
    chars, starts, position = [], [], 0
    for match in _ESCAPE.finditer(text):
        chars.append(text[position:match.start()])
        starts.extend(range(position, match.start()))
        token = match.group()
        chars.append("/" if token == "\\/" else chr(int(token[1:] if token[0] == "%" else token[2:], 16)))
        starts.append(match.start())
        position = match.end()
    if not starts and position == 0:
        return text, None
    chars.append(text[position:])
    starts.extend(range(position, len(text)))
    return "".join(chars), starts


@lru_cache(maxsize=4096)
def _value_needles(value: str) -> frozenset[tuple[str, bool]]:
    """(text to find, whether it is a base64 core) for a known value: the value, and the part of its base64
    (standard and URL-safe) that does not depend on what surrounds it, for each of the three alignments."""
    found = {(value, False)}
    raw = value.encode("utf-8")
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        core = encoded[-(-shift * 8 // 6):(8 * (shift + len(raw))) // 6]
        if len(core) >= MIN_BASE64_CORE:
            found |= {(core, True), (core.replace("+", "-").replace("/", "_"), True)}
    return frozenset(found)


def _known_spans(text: str, needles: Iterable[tuple[str, bool]]) -> list[tuple[int, int]]:
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
_learned_version = 0  # changes whenever ``learned()`` does


def learn(value: str) -> None:
    """Remember a secret the emulator made (a SAS signature it signed) so that it is masked in any encoding."""
    global _learned_version
    if value and len(value) >= MIN_KNOWN:
        with _providers_lock:
            if value not in _learned:  # a new value changes the redactor (rebuilt once per distinct list)
                _learned.append(value)
                _learned_version += 1


def learned() -> list[str]:
    with _providers_lock:
        return list(_learned)


def learned_version() -> int:
    return _learned_version


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
