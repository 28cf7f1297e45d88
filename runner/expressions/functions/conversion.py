"""Conversion functions: array, base64, base64ToBinary, base64ToString, binary, bool, coalesce,
createArray, dataUri, dataUriToBinary, dataUriToString, decodeBase64, decodeDataUri,
decodeUriComponent, encodeUriComponent, float, int, json, string, uriComponent, uriComponentToBinary,
uriComponentToString, xml, xpath.

Binary results are ``bytes`` inside an expression and
``{"$content-type": "application/octet-stream", "$content": "<base64>"}`` outside it; functions that
take binary accept either form. ``string()`` follows the interpolation rules (``True``/``False``,
compact JSON for arrays and objects, null as empty).
"""
from __future__ import annotations

import base64 as _b64
import binascii
import json as _json
import re
from urllib.parse import quote, unquote, unquote_to_bytes

from .._errors import Failure
from .._values import BINARY_CONTENT_TYPE, XmlValue, to_text
from . import _xml
from ._registry import fail_type, function, want_str

_INT_RE = re.compile(r"\s*[+-]?[0-9]+\s*\Z")
_FLOAT_RE = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*\Z")


def _binary_arg(fn: str, index: int, value) -> bytes:
    if type(value) is bytes:
        return value
    if type(value) is dict and "$content" in value and type(value["$content"]) is str:
        try:
            return _b64.b64decode(value["$content"], validate=True)
        except (binascii.Error, ValueError):
            raise Failure(f"the function '{fn}' was given binary content that is not valid base64") from None
    if type(value) is str:
        return value.encode("utf-8")
    raise fail_type(fn, index, value, "a string or binary content")


def _decode_utf8(fn: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure(f"the function '{fn}' decoded bytes that are not valid UTF-8 text") from None


def _from_base64(fn: str, value) -> bytes:
    text = want_str(fn, 0, value)
    compact = "".join(text.split())
    try:
        return _b64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise Failure(f"the function '{fn}' was given '{_short(text)}', which is not a valid base64 string") from None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


@function("array", 1)
def array(value):
    return value if type(value) is list else [value]


@function("createArray", 0, None)
def create_array(*values):
    return list(values)


@function("coalesce", 1, None)
def coalesce(*values):
    for v in values:
        if v is not None:
            return v
    return None


@function("base64", 1)
def base64(value):
    return _b64.b64encode(_binary_arg("base64", 0, value)).decode("ascii")


@function("base64ToBinary", 1)
def base64_to_binary(value):
    return _from_base64("base64ToBinary", value)


@function("base64ToString", 1)
def base64_to_string(value):
    return _decode_utf8("base64ToString", _from_base64("base64ToString", value))


@function("decodeBase64", 1)
def decode_base64(value):
    return _decode_utf8("decodeBase64", _from_base64("decodeBase64", value))


@function("binary", 1)
def binary(value):
    return _binary_arg("binary", 0, value)


@function("bool", 1)
def bool_(value):
    kind = type(value)
    if kind is bool:
        return value
    if kind is int or kind is float:
        return value != 0
    if kind is str:
        folded = value.strip().lower()
        if folded == "true":
            return True
        if folded == "false":
            return False
        raise Failure(f"the function 'bool' was given '{_short(value)}', which cannot be converted to a boolean")
    raise fail_type("bool", 0, value, "a boolean, a number or a string")


@function("int", 1)
def int_(value):
    kind = type(value)
    if kind is int:
        return value
    if kind is str and _INT_RE.match(value):
        number = int(value.strip())
        if -(2 ** 63) <= number < 2 ** 63:
            return number
    elif kind is float and value.is_integer() and -(2.0 ** 63) <= value < 2.0 ** 63:
        return int(value)
    elif kind is not str and kind is not float:
        raise fail_type("int", 0, value, "a string or a number")
    shown = value if kind is str else to_text(value)
    raise Failure(f"the function 'int' was given '{_short(shown)}', which cannot be converted to an integer")


@function("float", 1)
def float_(value):
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    if kind is str:
        if _FLOAT_RE.match(value):
            number = float(value.strip())
            if number not in (float("inf"), float("-inf")):
                return number
        raise Failure(f"the function 'float' was given '{_short(value)}', which cannot be converted to a float")
    raise fail_type("float", 0, value, "a string or a number")


@function("string", 1)
def string(value):
    return to_text(value)


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text} is too large")
    return value


@function("json", 1)
def json(value):
    if type(value) is XmlValue:
        return _xml.xml_to_json(value)
    text = want_str("json", 0, value)
    try:
        return _json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise Failure("the function 'json' was given JSON nested too deeply") from None
    except ValueError as exc:
        raise Failure(f"the function 'json' was given '{_short(text)}', which is not valid JSON ({exc})") from None


@function("xml", 1)
def xml(value):
    if type(value) is XmlValue:
        return value
    if type(value) is str:
        return _xml.parse_xml("xml", value)
    if type(value) is dict:
        return _xml.json_to_xml(value)
    raise fail_type("xml", 0, value, "a string or an object")


def _is_xml_content(value: dict) -> bool:
    """An XML value that went through JSON (an item of an xpath() result in a ForEach, an activity output)."""
    kind = value.get("$content-type")
    return type(kind) is str and kind.split(";")[0].strip().lower() in ("application/xml", "text/xml") \
        and type(value.get("$content")) is str


@function("xpath", 2)
def xpath(document, expression):
    if type(document) is dict and _is_xml_content(document):
        document = _xml.from_content("xpath", document)
    if type(document) is not XmlValue:
        raise fail_type("xpath", 0, document, "XML (the result of xml())")
    return _xml.xpath(document, want_str("xpath", 1, expression))


# --- URIs -----------------------------------------------------------------------------------------

def _encode_component(fn: str, value) -> str:
    return quote(want_str(fn, 0, value), safe="-_.~")


@function("uriComponent", 1)
def uri_component(value):
    return _encode_component("uriComponent", value)


@function("encodeUriComponent", 1)
def encode_uri_component(value):
    return _encode_component("encodeUriComponent", value)


def _unquote(fn: str, value) -> str:
    text = want_str(fn, 0, value)
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise Failure(f"the function '{fn}' was given '{_short(text)}', whose escapes are not valid UTF-8") from None


@function("decodeUriComponent", 1)
def decode_uri_component(value):
    return _unquote("decodeUriComponent", value)


@function("uriComponentToString", 1)
def uri_component_to_string(value):
    return _unquote("uriComponentToString", value)


@function("uriComponentToBinary", 1)
def uri_component_to_binary(value):
    return unquote_to_bytes(want_str("uriComponentToBinary", 0, value))


# --- data URIs ------------------------------------------------------------------------------------

_DATA_URI_RE = re.compile(r"data:(?P<meta>[^,]*),(?P<data>.*)\Z", re.DOTALL | re.IGNORECASE)


@function("dataUri", 1)
def data_uri(value):
    if type(value) is str:
        encoded = _b64.b64encode(value.encode("utf-8")).decode("ascii")
        return f"data:text/plain;charset=utf-8;base64,{encoded}"
    data = _binary_arg("dataUri", 0, value)
    return f"data:{BINARY_CONTENT_TYPE};base64,{_b64.b64encode(data).decode('ascii')}"


def _data_uri_bytes(fn: str, value) -> bytes:
    text = want_str(fn, 0, value)
    match = _DATA_URI_RE.match(text.strip())
    if not match:
        raise Failure(f"the function '{fn}' was given '{_short(text)}', which is not a data URI "
                      f"('data:[<media type>][;base64],<data>')")
    meta, data = match.group("meta"), match.group("data")
    if meta.lower().endswith(";base64"):
        try:
            return _b64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise Failure(f"the function '{fn}' was given a data URI whose content is not valid base64") from None
    return unquote_to_bytes(data)


@function("dataUriToBinary", 1)
def data_uri_to_binary(value):
    return _data_uri_bytes("dataUriToBinary", value)


@function("decodeDataUri", 1)
def decode_data_uri(value):
    return _data_uri_bytes("decodeDataUri", value)


@function("dataUriToString", 1)
def data_uri_to_string(value):
    return _decode_utf8("dataUriToString", _data_uri_bytes("dataUriToString", value))
