"""Azure's naming rules for containers and blobs, checked before anything reaches storage.

Microsoft Learn, "Naming and Referencing Containers, Blobs, and Metadata": a container name is 3 to 63
characters of lower-case letters, digits and hyphens, starts and ends with a letter or digit and has no two
hyphens in a row; a blob name is 1 to 1,024 characters, at most 254 path segments, and control characters
(0x00-0x1F, 0x7F-0x9F) and code points that are not valid characters (U+FFFE, U+FFFF, lone surrogates) are
not allowed. Azurite accepts some of these and then fails to list the container (HTTP 500), so adfemu refuses
them first. Segments ``.`` and ``..`` are refused too: HTTP clients and servers resolve them, so the blob
written would not be the one named (an escape from the container).

Each check returns the problem as a short phrase, or None for a valid name.
"""
from __future__ import annotations

import re

CONTAINER = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
SPECIAL_CONTAINERS = ("$root", "$logs", "$web")
MAX_BLOB_CHARS = 1024
MAX_SEGMENTS = 254
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def container_problem(name: str) -> str | None:
    if name in SPECIAL_CONTAINERS or CONTAINER.match(name):
        return None
    if not 3 <= len(name) <= 63:
        return "a container name has 3 to 63 characters"
    return ("a container name has only lower-case letters, digits and single hyphens, and starts and ends "
            "with a letter or digit")


def blob_problem(name: str) -> str | None:
    if not name:
        return "the blob name is empty"
    if len(name) > MAX_BLOB_CHARS:
        return f"a blob name has at most {MAX_BLOB_CHARS} characters (this one has {len(name)})"
    bad = _FORBIDDEN.search(name)
    if bad:
        return f"a blob name cannot contain the character U+{ord(bad.group()):04X}"
    segments = name.split("/")
    if len(segments) > MAX_SEGMENTS:
        return f"a blob name has at most {MAX_SEGMENTS} path segments"
    if any(s in (".", "..") for s in segments):
        return "a blob name cannot have '.' or '..' path segments"
    return None


def printable(text: str) -> str:
    """``text`` with the characters a name may not hold written as ``\\uXXXX`` (for messages and logs)."""
    return _FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
