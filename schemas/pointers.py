"""RFC 6901 JSON pointers: the one place that escapes and unescapes reference tokens.

Validation findings, the loader's positions and the runner all point into documents with these; they live in
``schemas`` (the leaf every other part may import) so that there is exactly one implementation.
"""
from __future__ import annotations

from typing import Iterable

__all__ = ["escape", "unescape", "join", "split"]


def escape(token: object) -> str:
    """One reference token: ``~`` -> ``~0``, ``/`` -> ``~1`` (array indexes are written as numbers)."""
    text = str(token)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(path: Iterable[object]) -> str:
    """The pointer of a path of keys and indexes (``["a/b", 0]`` -> ``/a~1b/0``); ``[]`` -> ``""``."""
    return "".join("/" + escape(p) for p in path)


def split(pointer: str) -> list[str]:
    """The unescaped tokens of a pointer (``""`` -> ``[]``)."""
    return [unescape(t) for t in pointer.split("/")[1:]] if pointer else []
