"""DelimitedText, read and written the way Microsoft Learn's "Delimited text format" describes the Copy
activity's rules. Hand-written because Python's ``csv`` module cannot express them: ADF escapes a quote inside
a quoted value with a separate ``escapeChar`` (default ``\\``, not a doubled quote), and with an empty
``quoteChar`` the ``escapeChar`` escapes the delimiter itself.

- ``columnDelimiter``: one character (default ``,``); empty or multi-character is mapping-data-flow only.
- ``rowDelimiter``: read: any of ``\\r\\n``, ``\\r``, ``\\n`` by default; write: ``\\r\\n`` (Copy's default).
- ``quoteChar`` (default ``"``), ``escapeChar`` (default ``\\``); an escape char equal to the quote char means
  doubled quotes; an empty escape char needs an empty quote char.
- ``nullValue`` (default empty): an unquoted (and unescaped) field equal to it reads as null; a null is written
  as it.
- ``firstRowAsHeader``; ``skipLineCount`` (read settings) skips that many non-empty lines before the header.
- Empty lines are skipped when reading.

Inferred where the documentation is silent (round trips hold): a written value is quoted when it contains the
delimiter, the quote or escape char, or a line break, or equals a non-empty ``nullValue`` or is empty while
``nullValue`` is empty (so it does not read back as null); inside quotes the quote char and the escape char are
escaped; a quoted field is never null.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..tabular import Table, as_text, headerless_columns
from .encodings import decode, encode, python_encoding

ROW_DELIMITERS = ("\r\n", "\n", "\r")


class DelimitedTextError(ValueError):
    pass


@dataclass(frozen=True)
class Dialect:
    delimiter: str = ","
    quote: str = '"'
    escape: str = "\\"
    row_delimiter: str | None = None  # None: any of \r\n, \r, \n (read); \r\n (write)
    null_value: str = ""
    header: bool = False
    encoding: str = "utf-8"

    @classmethod
    def of(cls, props: dict) -> "Dialect":
        """From a DelimitedText dataset's typeProperties (evaluated)."""
        delimiter = _char(props, "columnDelimiter", ",")
        if len(delimiter) != 1:
            raise DelimitedTextError(f"columnDelimiter {delimiter!r}: the Copy activity needs exactly one character "
                                     "(empty and multi-character delimiters are mapping data flow only)")
        quote, escape = _char(props, "quoteChar", '"'), _char(props, "escapeChar", "\\")
        if len(quote) > 1 or len(escape) > 1:
            raise DelimitedTextError("quoteChar and escapeChar are single characters")
        if not escape and quote:
            raise DelimitedTextError("an empty escapeChar needs an empty quoteChar too (Delimited text format)")
        row = props.get("rowDelimiter")
        if row in ("", None):
            row = None
        elif row not in ROW_DELIMITERS and len(str(row)) != 1:
            raise DelimitedTextError(f"rowDelimiter {row!r}: one character or \\r\\n")
        header = props.get("firstRowAsHeader")
        header = str(header).lower() == "true" if isinstance(header, str) else bool(header)
        null = props.get("nullValue")
        return cls(delimiter, quote, escape, row, "" if null is None else str(null), header,
                   python_encoding(props.get("encodingName")))


def _char(props: dict, key: str, default: str) -> str:
    value = props.get(key, default)
    return default if value is None else str(value)


# --- reading -------------------------------------------------------------------------------------------------

def parse(text: str, dialect: Dialect) -> list[list[tuple[str, bool]]]:
    """Records of (field text, literal): a literal field was quoted or escaped, so it is never null; empty lines
    are dropped."""
    records: list[list[tuple[str, bool]]] = []
    fields: list[tuple[str, bool]] = []
    buf: list[str] = []
    quoted = in_quotes = after_quote = False
    d, q, e = dialect.delimiter, dialect.quote, dialect.escape
    i, n, start = 0, len(text), 0

    def end_field():
        nonlocal buf, quoted, after_quote
        # null is decided on the field as written: unquoted and exactly the null value (escapes not yet applied)
        literal = quoted or text[start:i] != dialect.null_value
        fields.append(("".join(buf), literal))
        buf, quoted, after_quote = [], False, False

    def end_record():
        nonlocal fields
        empty_line = not fields and not buf and not quoted and start == i
        end_field()
        if not empty_line:
            records.append(fields)
        fields = []

    while i < n:
        char = text[i]
        if in_quotes:
            if e and e != q and char == e and i + 1 < n and text[i + 1] in (q, e):
                buf.append(text[i + 1])
                i += 2
                continue
            if char == q:
                if e == q and i + 1 < n and text[i + 1] == q:
                    buf.append(q)
                    i += 2
                    continue
                in_quotes, after_quote = False, True
                i += 1
                continue
            buf.append(char)
            i += 1
            continue
        row_end = _row_end(text, i, dialect.row_delimiter)
        if row_end:
            end_record()
            i += row_end
            start = i
            continue
        if char == d:
            end_field()
            i += 1
            start = i
            continue
        if q and char == q and not buf and not quoted:
            quoted = in_quotes = True
            i += 1
            continue
        if not q and e and char == e and i + 1 < n:
            buf.append(text[i + 1])
            i += 2
            continue
        buf.append(char)
        i += 1
    if in_quotes:
        raise DelimitedTextError("a quoted value is not closed before the end of the file")
    if buf or fields or quoted:
        end_record()
    return records


def _row_end(text: str, i: int, row_delimiter: str | None) -> int:
    if row_delimiter is None:
        if text.startswith("\r\n", i):
            return 2
        return 1 if text[i] in "\r\n" else 0
    return len(row_delimiter) if text.startswith(row_delimiter, i) else 0


def read(data: bytes, props: dict, skip_lines: int = 0, where: str = "the file") -> Table:
    dialect = Dialect.of(props)
    records = parse(decode(data, dialect.encoding, where), dialect)[skip_lines:]
    header = [text for text, _ in records[0]] if dialect.header and records else None
    values = [[text if literal else None for text, literal in record] for record in records[1 if dialect.header else 0:]]
    if dialect.header:
        return Table(header or [], values)
    width = len(values[0]) if values else 0
    return Table(headerless_columns(width), values)


# --- writing -------------------------------------------------------------------------------------------------

def write(table: Table, props: dict, quote_all: bool = False, where: str = "the file") -> bytes:
    dialect = Dialect.of(props)
    lines = []
    if dialect.header:
        lines.append(_line(table.columns, dialect, quote_all))
    lines += [_line(row, dialect, quote_all) for row in table.rows]
    end = dialect.row_delimiter or "\r\n"
    return encode("".join(line + end for line in lines), dialect.encoding, where)


def _line(values: list[Any], dialect: Dialect, quote_all: bool) -> str:
    return dialect.delimiter.join(_field(v, dialect, quote_all) for v in values)


def _field(value: Any, dialect: Dialect, quote_all: bool) -> str:
    if value is None:
        return dialect.null_value
    text = as_text(value)
    d, q, e = dialect.delimiter, dialect.quote, dialect.escape
    if not q:
        if not e and any(c in text for c in (d, "\r", "\n")):
            raise DelimitedTextError(f"the value {text[:40]!r} contains the delimiter or a line break, and the "
                                     "dataset has neither quoteChar nor escapeChar")
        special = {d, "\r", "\n", e} - {""}
        return "".join(e + c if c in special else c for c in text)
    needs = quote_all or any(c in text for c in (d, q, "\r", "\n")) or (e and e in text) \
        or text == dialect.null_value or (dialect.row_delimiter and dialect.row_delimiter in text)
    if not needs:
        return text
    if e == q:
        body = text.replace(q, q + q)
    else:
        body = "".join(e + c if c in (q, e) else c for c in text)
    return q + body + q
