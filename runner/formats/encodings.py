"""ADF's ``encodingName`` values (Microsoft Learn, "Delimited text format") as Python codecs. UTF-8 is written
without a byte-order mark and read with or without one; UTF-16/UTF-32 (little-endian) are written with one,
as .NET's Unicode encodings do."""
from __future__ import annotations

import codecs
import re

SPECIAL = {"UTF-8": "utf-8", "UTF-16": "utf-16", "UTF-16BE": "utf-16-be", "UTF-32": "utf-32",
           "UTF-32BE": "utf-32-be", "US-ASCII": "ascii", "UTF-7": "utf-7", "SHIFT-JIS": "shift_jis",
           "IBM00858": "cp858", "JOHAB": "johab"}


class EncodingError(ValueError):
    pass


def python_encoding(name: str | None) -> str:
    """The Python codec for an ADF encoding name (default UTF-8); unknown ones raise ``EncodingError``."""
    text = str(name or "UTF-8").strip().upper()
    candidate = SPECIAL.get(text) or re.sub(r"^IBM0*(\d+)$", r"cp\1", re.sub(r"^WINDOWS-(\d+)$", r"cp\1", text))
    try:
        return codecs.lookup(candidate).name
    except LookupError:
        raise EncodingError(f"encodingName '{name}' is not supported by adfemu") from None


def decode(data: bytes, encoding: str, where: str) -> str:
    try:
        return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        raise EncodingError(f"{where} is not valid {encoding} text (byte {exc.start})") from None


def encode(text: str, encoding: str, where: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise EncodingError(f"{where}: the character {text[exc.start]!r} cannot be written in {encoding}") from None
