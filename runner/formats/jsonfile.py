"""Json datasets (Microsoft Learn, "JSON format"): reading accepts a single object, an array of objects, or a
set of objects (one per line, or concatenated); writing uses ``filePattern`` ``setOfObjects`` (default: one
object per line) or ``arrayOfObjects``. Each object is a row; its top-level keys are the columns (in order of
first appearance) and nested objects and arrays stay values."""
from __future__ import annotations

import json
from typing import Any

from ..tabular import Table
from .encodings import decode, encode, python_encoding

PATTERNS = ("setOfObjects", "arrayOfObjects")


class JsonFormatError(ValueError):
    pass


def objects(text: str, where: str) -> list[Any]:
    decoder, found, i = json.JSONDecoder(), [], 0
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            document = json.loads(stripped)
        except ValueError as exc:
            raise JsonFormatError(f"{where} is not valid JSON: {exc}") from None
        return document if isinstance(document, list) else [document]
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            return found
        try:
            value, i = decoder.raw_decode(text, i)
        except ValueError as exc:
            raise JsonFormatError(f"{where} is not valid JSON: {exc}") from None
        found.append(value)


def read(data: bytes, props: dict, where: str = "the file") -> Table:
    items = objects(decode(data, python_encoding(props.get("encodingName")), where), where)
    columns: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            raise JsonFormatError(f"{where}: every JSON value must be an object (a row), not {type(item).__name__}")
        columns += [k for k in item if k not in columns]
    return Table(columns, [[item.get(c) for c in columns] for item in items])


def write(table: Table, props: dict, pattern: str | None = None, where: str = "the file") -> bytes:
    pattern = pattern or "setOfObjects"
    if pattern not in PATTERNS:
        raise JsonFormatError(f"filePattern '{pattern}' is not one of {', '.join(PATTERNS)}")
    rows = [{c: _json_value(v) for c, v in zip(table.columns, row)} for row in table.rows]
    if pattern == "arrayOfObjects":
        text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    else:
        text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\r\n" for r in rows)
    return encode(text, python_encoding(props.get("encodingName")), where)


def _json_value(value: Any) -> Any:
    from ..tabular import as_text
    if value is None or isinstance(value, (str, bool, int, float, dict, list)):
        return value
    return as_text(value)
