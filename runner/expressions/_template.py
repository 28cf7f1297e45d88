"""How ADF reads a JSON value: ``evaluate_value``.

* a string starting with ``@`` (not ``@@``, not ``@{``) is one expression; its result keeps its type;
* a string starting with ``@@`` is literal text with that first ``@`` removed (``"@@x"`` -> ``"@x"``);
* elsewhere, ``@{...}`` segments are interpolated: each result is written as text (``string()`` rules)
  and the value is a string; ``@@{`` writes a literal ``@{``; any other ``@`` is literal;
* ``{"type": "Expression", "value": "..."}`` is evaluated as its ``value`` string;
* other objects and arrays are evaluated member by member; other values are returned unchanged.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ._errors import ExpressionError
from ._syntax import parse
from ._values import to_text

__all__ = ["evaluate_value"]


def evaluate_value(value: Any, context) -> Any:
    """Evaluate a JSON value (from a pipeline, dataset, ...) the way ADF does; see the module docstring."""
    kind = type(value)
    if kind is str:
        return _evaluate_string(value, context)
    if kind is dict:
        if len(value) == 2 and type(value.get("value")) is str and type(value.get("type")) is str \
                and value["type"].lower() == "expression":
            return _evaluate_string(value["value"], context)
        return {k: evaluate_value(v, context) for k, v in value.items()}
    if kind is list:
        return [evaluate_value(v, context) for v in value]
    return value


def _evaluate_string(text: str, context) -> Any:
    if "@" not in text:
        return text
    if text[0] == "@":
        if text.startswith("@@"):
            return "@" + _interpolate(text[2:], context)
        if not text.startswith("@{"):
            return parse(text[1:]).evaluate(context)
    return _interpolate(text, context)


def _interpolate(text: str, context) -> str:
    if "@" not in text:
        return text
    parts = _segments(text)
    if len(parts) == 1 and type(parts[0]) is str:
        return parts[0]
    return "".join(p if type(p) is str else to_text(p._evaluate_raw(context)) for p in parts)


@lru_cache(maxsize=4096)
def _segments(text: str) -> tuple:
    """Literal text and parsed ``@{...}`` expressions, in order."""
    parts: list = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("@", i)
        if j < 0:
            buf.append(text[i:])
            break
        buf.append(text[i:j])
        if text.startswith("@@{", j):
            buf.append("@{")
            i = j + 3
        elif text.startswith("@{", j):
            end = _closing_brace(text, j + 2)
            if end < 0:
                raise ExpressionError(f"The expression '{text}' is not valid: the interpolation '@{{' at position "
                                      f"'{j}' is not closed with '}}'.", text, j)
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(parse(text[j + 2:end]))
            i = end + 1
        else:
            buf.append("@")
            i = j + 1
    if buf:
        parts.append("".join(buf))
    return tuple(p for p in parts if not (type(p) is str and p == "")) or ("",)


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` that ends an interpolation starting at ``start`` (quotes skipped), or -1."""
    i, n = start, len(text)
    while i < n:
        ch = text[i]
        if ch == "}":
            return i
        if ch == "'":
            i += 1
            while i < n:
                if text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
            else:
                return -1
        i += 1
    return -1

