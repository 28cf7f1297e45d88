"""A small JSON reader that remembers where every value starts.

``parse(text, source)`` reads strict JSON (RFC 8259) with one leniency: raw control characters
(U+0000–U+001F, e.g. a TAB) inside strings are accepted, as ADF's own parser (Newtonsoft.Json)
accepts them; each one is reported as an ``ADF-W-JSON-CONTROL-CHAR`` warning. Duplicate object keys
are accepted too (the last one wins, like ``json.loads`` and Newtonsoft) and reported as
``ADF-W-JSON-DUPLICATE-KEY``. Everything else that is not JSON (comments, trailing commas, single
quotes, NaN, ...) raises ``JsonTextError`` with the line and column.

``Parsed.position(pointer)`` maps an RFC 6901 pointer to the 1-based (line, column) where that value
starts. Lines end at LF, CRLF or a lone CR; columns count Unicode code points (a TAB is one column).

``decode(data, source)`` turns file bytes into text: UTF-8 with or without BOM, UTF-16 LE/BE and
UTF-32 LE/BE with BOM.

No dependency beyond the standard library (and ``schemas.entities`` for the warning type). Strings are
decoded by ``json.decoder.scanstring`` (the C scanner ``json`` itself uses); the structure is read by
a recursive-descent scanner driven by compiled regular expressions.

Speed: most files are plain JSON without duplicate keys or raw control characters. ``parse`` first reads them
with the C ``json`` decoder (a key counter on each object catches duplicates; raw control characters, NaN and
every syntax error make it give up) and records where values start only when a position is asked for (a
finding's line and column), by running the position scanner then. Anything the fast reader declines is read by
the position scanner at once, so warnings and error messages are the scanner's, as before.
"""
from __future__ import annotations

import json
import json.scanner
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from json.decoder import JSONDecodeError, scanstring
from typing import Any, Iterator

from adfemu.schemas import pointers
from adfemu.schemas.entities import Finding

__all__ = ["JsonTextError", "Parsed", "parse", "decode", "MAX_DEPTH",
           "CONTROL_CHAR_CODE", "DUPLICATE_KEY_CODE", "escape_token", "unescape_token"]

CONTROL_CHAR_CODE = "ADF-W-JSON-CONTROL-CHAR"
DUPLICATE_KEY_CODE = "ADF-W-JSON-DUPLICATE-KEY"
MAX_DEPTH = 400  # nesting levels; real ADF files stay below 40

_WS = re.compile(r"[ \t\n\r]*").match
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*").match
_AFTER_MEMBER = re.compile(r"[ \t\n\r]*(?:(,)[ \t\n\r]*|(\}))").match
_AFTER_ITEM = re.compile(r"[ \t\n\r]*(?:(,)[ \t\n\r]*|(\]))").match
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?").match
_CONTROL = re.compile(r"[\x00-\x1f]")
_LINE_BREAK = re.compile(r"\r\n?|\n")

_CONTROL_NAMES = {0x00: "NUL", 0x08: "BACKSPACE", 0x09: "TAB", 0x0A: "LINE FEED", 0x0C: "FORM FEED",
                  0x0D: "CARRIAGE RETURN"}
_CONTROL_ESCAPES = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}


class JsonTextError(ValueError):
    """The text is not JSON (or its bytes are not text). ``str()`` is one line: ``source:line:column: message``."""

    def __init__(self, source: str, line: int, column: int, message: str):
        self.source = source
        self.line = line
        self.column = column
        self.message = " ".join(str(message).split())  # always one line
        super().__init__(f"{source}:{line}:{column}: {self.message}")


escape_token = pointers.escape      # one RFC 6901 reference token (``~`` -> ``~0``, ``/`` -> ``~1``)
unescape_token = pointers.unescape


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _LINE_BREAK.finditer(text)]


@dataclass
class Parsed:
    """A parsed document: ``value`` plus where each of its values starts in ``text``."""
    value: Any
    source: str
    text: str
    warnings: list[Finding] = field(default_factory=list)
    _offsets: dict[str, int] | None = field(default=None, repr=False)      # pointer -> offset of the value
    _key_offsets: dict[str, int] | None = field(default=None, repr=False)  # member pointer -> offset of its key
    _starts: list[int] | None = field(default=None, repr=False)

    @property
    def offsets(self) -> dict[str, int]:
        if self._offsets is None:
            self._locate()
        return self._offsets

    @property
    def key_offsets(self) -> dict[str, int]:
        if self._key_offsets is None:
            self._locate()
        return self._key_offsets

    def _locate(self) -> None:
        """Positions of a document the fast reader read: the position scanner, run when first asked."""
        scanned = _scan(self.text, self.source)
        self._offsets, self._key_offsets = scanned._offsets, scanned._key_offsets

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset into ``text``."""
        if self._starts is None:
            self._starts = _line_starts(self.text)
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def resolve(self, pointer: str) -> str:
        """The pointer itself when it exists in the document, else its deepest existing ancestor."""
        return self._find(pointer)[0]

    def _find(self, pointer: str) -> tuple[str, int, int | None]:
        """(resolved pointer, offset of its value, offset of its key or None)."""
        if pointer and not pointer.startswith("/"):
            raise ValueError(f"not a JSON pointer: {pointer!r} (it must be empty or start with '/')")
        if self._offsets is None:
            return _follow(self.text, pointer)  # read by the fast reader: walk to that one value
        offsets = self._offsets
        while pointer not in offsets:
            if not pointer:
                return "", 0, None
            pointer = pointer[:pointer.rfind("/")]
        return pointer, offsets[pointer], self._key_offsets.get(pointer)

    def offset(self, pointer: str) -> int:
        return self._find(pointer)[1]

    def position(self, pointer: str) -> tuple[int, int]:
        """(line, column) where the value at ``pointer`` starts; for a pointer that does not exist, where
        its deepest existing ancestor starts; ``""`` is the document's value (or the start of the text)."""
        return self.line_col(self.offset(pointer))

    def key_position(self, pointer: str) -> tuple[int, int]:
        """Like ``position``, but for an object member the position of its key (where an editor would put
        "unknown property" marks); for array items and the root, the value's position."""
        _, offset, key_offset = self._find(pointer)
        return self.line_col(key_offset if key_offset is not None else offset)

    def pointers(self) -> Iterator[str]:
        """Every pointer in the document, in text order."""
        return iter(self.offsets)


def _describe(text: str, i: int) -> str:
    if i >= len(text):
        return "end of file"
    c = text[i]
    if c.isprintable() and not c.isspace():
        return repr(c)
    return f"U+{ord(c):04X}"


_SKIP = json.scanner.make_scanner(json.JSONDecoder())  # the C scanner: (value, end) of the value at an offset


def _follow(text: str, pointer: str) -> tuple[str, int, int | None]:
    """Walk ``text`` (JSON the C decoder accepted: no duplicate keys) down ``pointer``, skipping the values beside
    it with the C scanner: (deepest existing pointer, its value's offset, its key's offset or None)."""
    i = _WS(text, 0).end()
    resolved, key_offset = "", None
    for token in (unescape_token(t) for t in pointer.split("/")[1:]) if pointer else ():
        c = text[i:i + 1]
        found = None
        if c == "{":
            j = _WS(text, i + 1).end()
            while text.startswith('"', j):
                key_start = j
                key, j = scanstring(text, j + 1, True)
                j = _COLON(text, j).end()
                if key == token:
                    found = (j, key_start)
                    break
                j = _AFTER_MEMBER(text, _SKIP(text, j)[1])
                if j.lastindex == 2:
                    break
                j = j.end()
        elif c == "[" and token.isdigit() and token == str(int(token)):
            j, index = _WS(text, i + 1).end(), int(token)
            if not text.startswith("]", j):
                for n in range(index + 1):
                    if n == index:
                        found = (j, None)
                        break
                    m = _AFTER_ITEM(text, _SKIP(text, j)[1])
                    if m.lastindex == 2:
                        break
                    j = m.end()
        if found is None:
            break
        i, key_offset = found
        resolved += "/" + escape_token(token)
    return resolved, i, key_offset


class _Declined(Exception):
    """The fast reader leaves this text to the position scanner."""


def _count_keys(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Declined  # a duplicate key: the scanner reports it
    return obj


def _decline(_constant: str):
    raise _Declined  # NaN, Infinity: not JSON; the scanner says so


_FAST = json.JSONDecoder(object_pairs_hook=_count_keys, parse_constant=_decline, strict=True)


def _fast(text: str) -> Any:
    """The C decoder's reading, or ``_Declined``; a value only for text the scanner reads identically."""
    try:
        return _FAST.decode(text)
    except (ValueError, RecursionError):
        raise _Declined from None


def parse(text: str, source: str = "<string>") -> Parsed:
    """Parse ``text`` (see the module docstring); raise ``JsonTextError`` on a syntax error."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if text:
        try:
            value = _fast(text)
            if text.count("{") + text.count("[") <= MAX_DEPTH or not _too_deep(value):
                return Parsed(value=value, source=source, text=text)
        except _Declined:
            pass
    return _scan(text, source)


def _too_deep(value: Any) -> bool:
    """More than MAX_DEPTH nested arrays and objects (the scanner's error, with its position)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = current.values() if type(current) is dict else current if type(current) is list else ()
        stack.extend((c, depth + 1) for c in children if type(c) in (dict, list))
    return False


def _scan(text: str, source: str) -> Parsed:
    """The position scanner: the value, the offset of every value and key, the warnings, or JsonTextError."""
    result = Parsed(value=None, source=source, text=text, _offsets={}, _key_offsets={})
    offsets = result._offsets
    key_offsets = result._key_offsets
    warnings = result.warnings
    n = len(text)
    ws = _WS
    colon = _COLON
    after_member = _AFTER_MEMBER
    after_item = _AFTER_ITEM
    number = _NUMBER
    control = _CONTROL.search
    escape = escape_token

    def fail(i: int, message: str):
        line, col = result.line_col(min(i, n))
        raise JsonTextError(source, line, col, message)

    def report_controls(start: int, end: int, pointer: str):
        for m in _CONTROL.finditer(text, start, end):
            code = ord(m.group())
            line, col = result.line_col(m.start())
            name = _CONTROL_NAMES.get(code, "control character")
            esc = _CONTROL_ESCAPES.get(code, f"\\u{code:04x}")
            warnings.append(Finding(
                source, pointer, "warning", CONTROL_CHAR_CODE,
                f"raw control character U+{code:04X} ({name}) inside a string at line {line}, column {col}; "
                f"strict JSON parsers reject it",
                hint=f"escape it as {esc}", line=line, column=col))

    def duplicate(member: str, key: str, key_start: int):
        line, col = result.line_col(key_start)
        old_line, old_col = result.line_col(key_offsets[member])
        warnings.append(Finding(
            source, member, "warning", DUPLICATE_KEY_CODE,
            f"duplicate key {key!r} at line {line}, column {col}: the last one wins, the earlier one "
            f"at line {old_line}, column {old_col} is ignored",
            hint="remove one of them", line=line, column=col))
        prefix = member + "/"
        for stale in [member] + [p for p in offsets if p.startswith(prefix)]:
            del offsets[stale]
            key_offsets.pop(stale, None)

    # ``scanstring`` (strict=False: raw control characters allowed) raises JSONDecodeError; ``parse``
    # turns that into JsonTextError below.
    def value_at(i: int, pointer: str, depth: int) -> tuple[Any, int]:
        """i at the first character of a value (whitespace already skipped)."""
        offsets[pointer] = i
        c = text[i:i + 1]
        if c == '"':
            s, end = scanstring(text, i + 1, False)
            if control(s):
                report_controls(i, end, pointer)
            return s, end
        if c == "{":
            if depth >= MAX_DEPTH:
                fail(i, f"nesting deeper than {MAX_DEPTH} levels")
            obj: dict[str, Any] = {}
            i = ws(text, i + 1).end()
            if text.startswith("}", i):
                return obj, i + 1
            depth += 1
            while True:
                if not text.startswith('"', i):
                    fail(i, f"expected a property name in double quotes, found {_describe(text, i)}")
                key_start = i
                key, i = scanstring(text, i + 1, False)
                member = pointer + "/" + escape(key)
                if control(key):
                    report_controls(key_start, i, member)
                m = colon(text, i)
                if m is None:
                    i = ws(text, i).end()
                    fail(i, f"expected ':' after the property name, found {_describe(text, i)}")
                if key in obj:
                    duplicate(member, key, key_start)
                key_offsets[member] = key_start
                obj[key], i = value_at(m.end(), member, depth)
                m = after_member(text, i)
                if m is None:
                    i = ws(text, i).end()
                    fail(i, f"expected ',' or '}}' after an object member, found {_describe(text, i)}")
                if m.lastindex == 2:
                    return obj, m.end()
                i = m.end()
        if c == "[":
            if depth >= MAX_DEPTH:
                fail(i, f"nesting deeper than {MAX_DEPTH} levels")
            arr: list[Any] = []
            i = ws(text, i + 1).end()
            if text.startswith("]", i):
                return arr, i + 1
            depth += 1
            prefix = pointer + "/"
            index = 0
            while True:
                item, i = value_at(i, prefix + str(index), depth)
                arr.append(item)
                index += 1
                m = after_item(text, i)
                if m is None:
                    i = ws(text, i).end()
                    fail(i, f"expected ',' or ']' after an array item, found {_describe(text, i)}")
                if m.lastindex == 2:
                    return arr, m.end()
                i = m.end()
        if c == "-" or "0" <= c <= "9":
            m = number(text, i)
            if m is None:
                fail(i, "invalid number")
            s = m.group()
            try:
                return (float(s) if m.lastindex else int(s)), m.end()
            except ValueError as e:  # e.g. more digits than int() accepts
                fail(i, f"invalid number: {e}")
        if c == "t" and text.startswith("true", i):
            return True, i + 4
        if c == "f" and text.startswith("false", i):
            return False, i + 5
        if c == "n" and text.startswith("null", i):
            return None, i + 4
        if i >= n:
            fail(i, "unexpected end of file, expected a JSON value")
        fail(i, f"expected a JSON value, found {_describe(text, i)}")

    start = ws(text, 0).end()
    if start >= n:
        if n == 0:
            fail(0, "empty document, expected a JSON value")
        fail(start, "document has only whitespace, expected a JSON value")
    try:
        result.value, end = value_at(start, "", 0)
    except RecursionError:
        fail(start, "nesting too deep")
    except JSONDecodeError as e:
        msg = e.msg
        if msg.startswith("Unterminated string"):
            msg = "unterminated string (no closing '\"' before the end of the file)"
        elif msg.startswith("Invalid \\escape"):
            msg = "invalid escape sequence in a string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
        elif msg.startswith("Invalid \\uXXXX"):
            msg = "invalid \\uXXXX escape in a string (four hexadecimal digits expected)"
        fail(e.pos, msg)
    end = ws(text, end).end()
    if end < n:
        fail(end, f"unexpected {_describe(text, end)} after the JSON value (only one value is allowed per file)")
    return result


_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32 BE"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16 LE"),
    (b"\xfe\xff", "utf-16-be", "UTF-16 BE"),
)


def _byte_position(data: bytes, pos: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, pos) + 1
    return line, pos - (data.rfind(b"\n", 0, pos) + 1) + 1


def decode(data: bytes, source: str = "<bytes>") -> str:
    """File bytes → text. UTF-8 (BOM optional), UTF-16/UTF-32 (BOM required); else ``JsonTextError``.

    The BOM is dropped. Positions reported for undecodable bytes are (line, byte column)."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            try:
                return body.decode(codec)
            except UnicodeDecodeError as e:
                line, col = _byte_position(data, e.start + len(bom)) if codec == "utf-8" else (1, 1)
                where = f"at byte {e.start + len(bom)}"
                raise JsonTextError(source, line, col,
                                    f"not valid {label} although it starts with a {label} byte-order mark "
                                    f"({e.reason} {where})") from None
    if len(data) >= 2 and (data[0] == 0 or data[1] == 0):
        raise JsonTextError(source, 1, 1,
                            "starts with NUL bytes: looks like UTF-16 or UTF-32 without a byte-order mark; "
                            "save it as UTF-8 (or UTF-16 with a BOM)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _byte_position(data, e.start)
        raise JsonTextError(source, line, col,
                            f"not valid UTF-8 (byte 0x{data[e.start]:02X} at offset {e.start}) and no "
                            f"UTF-16/UTF-32 byte-order mark; save it as UTF-8") from None
