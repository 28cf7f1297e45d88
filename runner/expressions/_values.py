"""Value model and the type rules shared by all functions.

Values are plain Python: ``None``, ``bool``, ``int`` (64-bit range enforced by the math functions),
``float``, ``str``, ``list``, ``dict``; plus two internal kinds that only functions produce:
``bytes`` for binary content (``binary()``, ``base64ToBinary()``, ...) and ``XmlValue`` for the result of
``xml()``. At the boundary (``Expression.evaluate``) both become JSON: binary as
``{"$content-type": "application/octet-stream", "$content": "<base64>"}``, XML as
``{"$content-type": "application/xml;charset=utf-8", "$content": "<base64 of its text>"}`` (the form ADF gives an
XML value; IllogicApps' XmlConversionTests, recorded against Logic Apps); ``string()`` and ``@{...}`` give XML as its
text.
"""
from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from ._errors import Failure

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1

BINARY_CONTENT_TYPE = "application/octet-stream"
XML_CONTENT_TYPE = "application/xml;charset=utf-8"


class XmlValue:
    """An XML document (the result of ``xml()``): ``text`` is its serialised form."""

    __slots__ = ("text", "_root")

    def __init__(self, text: str, root=None):
        self.text = text
        self._root = root  # the document as functions._xml reads it, on demand

    def __eq__(self, other):
        return isinstance(other, XmlValue) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return f"XmlValue({self.text!r})"


_TYPE_NAMES = {type(None): "Null", bool: "Boolean", int: "Integer", float: "Float", str: "String",
               list: "Array", dict: "Object", bytes: "Binary", XmlValue: "Xml"}


def type_name(value: Any) -> str:
    """The type name as ADF's messages spell it (``Integer``, ``String``, ``Object``, ...)."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def is_int(value: Any) -> bool:
    return type(value) is int


def is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def check_int64(value: int, what: str = "the result") -> int:
    if INT64_MIN <= value <= INT64_MAX:
        return value
    raise Failure(f"{what} {value} is outside the range of a 64-bit integer")


MAX_TEXT = 64 * 1024 * 1024  # characters: a string function result larger than this is an error (adfemu limit)


def check_text_size(fn: str, size: int) -> None:
    if size > MAX_TEXT:
        raise Failure(f"the result of '{fn}' would be {size} characters long, more than adfemu's limit of {MAX_TEXT}")


def format_double(value: float) -> str:
    """A float as .NET's ``Double.ToString()`` writes it: the shortest text that round-trips,
    without a trailing ``.0``, in exponent form (``1E+15``, ``1E-05``) outside 1e-4 <= |x| < 1e15."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:  # repr gives e.g. 1.0 -> (1, 0), exp -1
        digits.pop()
        exponent += 1
    text_digits = "".join(map(str, digits))
    sci = len(digits) + exponent - 1  # exponent of the leading digit
    minus = "-" if sign else ""
    if digits == [0]:
        return minus + "0"
    if sci >= 15 or sci < -4:
        mantissa = text_digits[0] + ("." + text_digits[1:] if len(text_digits) > 1 else "")
        return f"{minus}{mantissa}E{'+' if sci >= 0 else '-'}{abs(sci):02d}"
    if exponent >= 0:
        return minus + text_digits + "0" * exponent
    point = len(text_digits) + exponent
    if point > 0:
        return minus + text_digits[:point] + "." + text_digits[point:]
    return minus + "0." + "0" * (-point) + text_digits


def to_external(value: Any) -> Any:
    """The JSON form of a value (binary and XML converted; containers copied only when needed)."""
    kind = type(value)
    if kind is bytes:
        return {"$content-type": BINARY_CONTENT_TYPE, "$content": base64.b64encode(value).decode("ascii")}
    if kind is XmlValue:
        return {"$content-type": XML_CONTENT_TYPE, "$content": base64.b64encode(value.text.encode("utf-8")).decode("ascii")}
    if kind is list:
        if any(type(v) in (bytes, XmlValue, list, dict) for v in value):
            return [to_external(v) for v in value]
        return value
    if kind is dict:
        if any(type(v) in (bytes, XmlValue, list, dict) for v in value.values()):
            return {k: to_external(v) for k, v in value.items()}
        return value
    return value


def to_json_text(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is (what ``string()`` and ``@{...}`` give for arrays and objects)."""
    try:
        return json.dumps(to_external(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (ValueError, TypeError) as exc:
        raise Failure(f"the value cannot be written as JSON ({exc})") from None
    except RecursionError:
        raise Failure("the value is nested too deeply to be written as JSON") from None


def to_text(value: Any) -> str:
    """A value as text, by the rules of ``string()`` and of ``@{...}`` interpolation: null is empty,
    booleans are ``True``/``False``, floats as .NET writes them, arrays and objects as compact JSON."""
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if kind is bool:
        return "True" if value else "False"
    if kind is int:
        return str(value)
    if kind is float:
        return format_double(value)
    if kind is bytes:
        return value.decode("utf-8", errors="replace")
    if kind is XmlValue:
        return value.text
    return to_json_text(value)


_NUMBERS = (int, float)


def values_equal(a: Any, b: Any) -> bool:
    """``equals()``: same type and same value; integers and floats compare numerically; a boolean equals
    the number 1 (true) or 0 (false); arrays and objects deeply; strings case-sensitively.

    The boolean rule is the documented example ``equals(true, 1)`` -> ``true`` (Microsoft Learn, "Expressions
    and functions in Azure Data Factory", equals; the Logic Apps function reference gives the same). That
    ``2`` does not equal ``true`` is adfemu's reading: a boolean compares as the number .NET converts it to."""
    ta, tb = type(a), type(b)
    if ta is not tb:
        if ta in _NUMBERS and tb in _NUMBERS:
            return a == b
        if ta is bool and tb in _NUMBERS or tb is bool and ta in _NUMBERS:
            return int(a) == b if ta is bool else a == int(b)
        return False
    if ta is list:
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if ta is dict:
        return a.keys() == b.keys() and all(values_equal(v, b[k]) for k, v in a.items())
    return a == b


def lookup_property(obj: dict, name: str):
    """``obj.name``: the exact key, else the first key equal ignoring case. Returns (found, value)."""
    if name in obj:
        return True, obj[name]
    folded = name.casefold()
    for key, value in obj.items():
        if type(key) is str and key.casefold() == folded:
            return True, value
    return False, None
