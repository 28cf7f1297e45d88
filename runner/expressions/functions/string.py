"""String functions: concat, endsWith, guid, indexOf, lastIndexOf, replace, split, startsWith,
substring, toLower, toUpper, trim.

startsWith, endsWith, indexOf and lastIndexOf ignore case (ordinal, per character); replace and
contains do not. Lengths and indexes count Unicode code points (.NET counts UTF-16 units, so they
differ only for characters outside the Basic Multilingual Plane).
"""
from __future__ import annotations

import uuid

from .._errors import Failure
from .._values import check_text_size, to_text
from ._registry import function, want_int, want_str


def fold(text: str) -> str:
    """Upper-case each character on its own, keeping the length (ordinal ignore-case comparison)."""
    if text.isascii():
        return text.upper()
    out = []
    for ch in text:
        up = ch.upper()
        out.append(up if len(up) == 1 else ch)
    return "".join(out)


@function("concat", 1, None)
def concat(*values):
    texts = [v if type(v) is str else to_text(v) for v in values]
    check_text_size("concat", sum(map(len, texts)))
    return "".join(texts)


@function("endsWith", 2)
def ends_with(text, suffix):
    return fold(want_str("endsWith", 0, text)).endswith(fold(want_str("endsWith", 1, suffix)))


@function("startsWith", 2)
def starts_with(text, prefix):
    return fold(want_str("startsWith", 0, text)).startswith(fold(want_str("startsWith", 1, prefix)))


@function("guid", 0, 1, needs_context=True)
def guid(ctx, fmt="D"):
    fmt = want_str("guid", 0, fmt) if fmt is not None else "D"
    rng = getattr(ctx, "random", None)
    value = uuid.UUID(int=rng.getrandbits(128), version=4) if rng is not None else uuid.uuid4()
    h = value.hex
    letter = fmt.upper() if fmt else "D"
    if letter == "N":
        return h
    if letter == "D":
        return str(value)
    if letter == "B":
        return "{" + str(value) + "}"
    if letter == "P":
        return "(" + str(value) + ")"
    if letter == "X":
        rest = ",".join("0x" + h[i:i + 2] for i in range(16, 32, 2))
        return "{0x" + h[0:8] + ",0x" + h[8:12] + ",0x" + h[12:16] + ",{" + rest + "}}"
    raise Failure(f"the function 'guid' was given the format '{fmt}': the format must be one of "
                  f"'N', 'D', 'B', 'P' or 'X'")


@function("indexOf", 2)
def index_of(text, sub):
    return fold(want_str("indexOf", 0, text)).find(fold(want_str("indexOf", 1, sub)))


@function("lastIndexOf", 2)
def last_index_of(text, sub):
    text = want_str("lastIndexOf", 0, text)
    sub = want_str("lastIndexOf", 1, sub)
    return fold(text).rfind(fold(sub))


@function("replace", 3)
def replace(text, old, new):
    text = want_str("replace", 0, text)
    old = want_str("replace", 1, old)
    new = want_str("replace", 2, new)
    if old == "":
        raise Failure("the function 'replace' was given an empty string to replace")
    if len(new) > len(old):
        check_text_size("replace", len(text) + text.count(old) * (len(new) - len(old)))
    return text.replace(old, new)


@function("split", 2)
def split(text, delimiter):
    text = want_str("split", 0, text)
    delimiter = want_str("split", 1, delimiter)
    if delimiter == "":
        return [text]
    return text.split(delimiter)


@function("substring", 2, 3)
def substring(text, start, length=None):
    text = want_str("substring", 0, text)
    start = want_int("substring", 1, start)
    if length is None:
        length = len(text) - start
    else:
        length = want_int("substring", 2, length)
    if start < 0 or length < 0 or start + length > len(text):
        raise Failure(f"the function 'substring' was given start index {start} and length {length} for a "
                      f"string of length {len(text)}: they must be non-negative and their sum no larger "
                      f"than the length of the string")
    return text[start:start + length]


@function("toLower", 1)
def to_lower(text):
    return want_str("toLower", 0, text).lower()


@function("toUpper", 1)
def to_upper(text):
    return want_str("toUpper", 0, text).upper()


@function("trim", 1)
def trim(text):
    return want_str("trim", 0, text).strip()
