"""Tabular data between a source and a sink: ``Table``, ADF's interim data types, type conversion and the
``TabularTranslator`` column mappings, as Microsoft Learn's "Schema and data type mapping in copy activity"
describes them:

- default mapping: by column name, case-sensitive; a headerless text source has columns ``Prop_0``,
  ``Prop_1``, ... (the names ADF's fault-tolerance log uses) and needs explicit ``ordinal`` mappings;
- ``mappings`` (``source``: ``name`` | ``ordinal`` | ``path``; ``sink``: ``name``, optional ``type``) and the
  legacy ``columnMappings`` (object or ``"a: b, c: d"`` text);
- conversion to interim types (Boolean, Byte[], Decimal, DateTime, DateTimeOffset, Double/Single, Guid,
  Int16/32/64 and the unsigned ones, String, TimeSpan) with ``typeConversionSettings``
  (``allowDataTruncation`` default true, ``treatBooleanAsNumber`` default false, ``dateTimeFormat``,
  ``dateTimeOffsetFormat``, ``timeSpanFormat``, ``culture`` en-us/invariant only).

A value that cannot be converted makes its row incompatible (``Incompatible``): Copy skips it with
``enableSkipIncompatibleRow``, otherwise fails.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

INTEGER_RANGES = {"Byte": (0, 255), "SByte": (-128, 127), "Int16": (-2 ** 15, 2 ** 15 - 1),
                  "UInt16": (0, 2 ** 16 - 1), "Int32": (-2 ** 31, 2 ** 31 - 1), "UInt32": (0, 2 ** 32 - 1),
                  "Int64": (-2 ** 63, 2 ** 63 - 1), "UInt64": (0, 2 ** 64 - 1)}
INTERIM_TYPES = ("Boolean", "Byte[]", "DateTime", "DateTimeOffset", "Decimal", "Double", "Single", "Guid", "String",
                 "TimeSpan", *INTEGER_RANGES)
CULTURES = ("", "en-us", "invariant")


class Incompatible(ValueError):
    """A row cannot be copied: the message says which column and value, as ADF's log does."""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    types: list[str | None] = field(default_factory=list)  # interim type per column, when the source knows it

    def type_of(self, index: int) -> str | None:
        return self.types[index] if index < len(self.types) else None


def headerless_columns(count: int) -> list[str]:
    return [f"Prop_{i}" for i in range(count)]


# --- text of a value (what a text sink writes) -------------------------------------------------------------

def as_text(value: Any) -> str:
    """A value as ADF's text formats write it (.NET formatting: True/False, 7 fractional second digits)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value).replace("e", "E").replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.%f") + "0"
        if value.tzinfo is not None:
            offset = value.utcoffset() or timedelta(0)
            sign, minutes = ("-" if offset < timedelta(0) else "+"), abs(int(offset.total_seconds())) // 60
            text += f" {sign}{minutes // 60:02d}:{minutes % 60:02d}"
        return text
    if isinstance(value, timedelta):
        return _timespan_text(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def json_value(value: Any) -> Any:
    """A value as activity outputs show it: JSON types as they are, others as text (date-times in ISO 8601)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return float(value)
    return as_text(value)


def _timespan_text(value: timedelta) -> str:
    total = value.total_seconds()
    sign, total = ("-" if total < 0 else ""), abs(total)
    days, rest = divmod(int(total), 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    micro = round((total - int(total)) * 1_000_000)
    return sign + (f"{days}." if days else "") + text + (f".{micro:06d}0" if micro else "")


# --- conversion to interim types --------------------------------------------------------------------------

@dataclass(frozen=True)
class Conversion:
    allow_truncation: bool = True
    boolean_as_number: bool = False
    datetime_format: str | None = None
    datetime_offset_format: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> "Conversion":
        settings = settings if isinstance(settings, dict) else {}
        culture = str(settings.get("culture") or "").lower()
        if culture not in CULTURES:
            raise ValueError(f"typeConversionSettings.culture '{settings.get('culture')}' is not supported by adfemu "
                             "(en-us and the invariant culture are)")
        if settings.get("timeSpanFormat"):
            raise ValueError("typeConversionSettings.timeSpanFormat is not supported by adfemu")
        return cls(_flag(settings.get("allowDataTruncation"), True), _flag(settings.get("treatBooleanAsNumber"), False),
                   settings.get("dateTimeFormat") or None, settings.get("dateTimeOffsetFormat") or None)


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def canonical_type(name: Any) -> str | None:
    """An interim type name as written in mappings (case-insensitive; aliases Int, Long, Bool, DateTime2 ...)."""
    if not name:
        return None
    text = str(name).strip()
    aliases = {"int": "Int32", "integer": "Int32", "long": "Int64", "bool": "Boolean", "float": "Double",
               "bytearray": "Byte[]", "byte array": "Byte[]", "binary": "Byte[]", "datetime2": "DateTime",
               "date": "DateTime", "uniqueidentifier": "Guid", "string": "String", "number": "Decimal"}
    lower = text.lower()
    return aliases.get(lower) or next((t for t in INTERIM_TYPES if t.lower() == lower), None)


def convert(value: Any, target: str | None, how: Conversion, column: str) -> Any:
    """``value`` as the interim type ``target`` (None: unchanged); ``Incompatible`` when it cannot be."""
    if value is None or target is None:
        return value
    try:
        return CONVERTERS[target](value, how) if target in CONVERTERS else _integer(value, how, target)
    except Incompatible:
        raise
    except (ValueError, TypeError, ArithmeticError, InvalidOperation):
        raise Incompatible(f"Column '{column}' contains an invalid value '{as_text(value)}'. Cannot convert "
                           f"'{as_text(value)}' to type '{target}'.") from None


def _integer(value: Any, how: Conversion, target: str) -> int:
    low, high = INTEGER_RANGES[target]
    if isinstance(value, bool):
        if not how.boolean_as_number:
            raise ValueError(value)
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        exact = Decimal(str(value).strip()) if not isinstance(value, float) else Decimal(repr(value))
        if exact != exact.to_integral_value() and not how.allow_truncation:
            raise ValueError(value)
        number = int(exact)
    if not low <= number <= high:
        raise ValueError(value)
    return number


def _boolean(value: Any, how: Conversion) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return value != 0
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    if how.boolean_as_number and text in ("1", "0"):
        return text == "1"
    raise ValueError(value)


def _decimal(value: Any, how: Conversion) -> Decimal:
    if isinstance(value, bool):
        if not how.boolean_as_number:
            raise ValueError(value)
        return Decimal(int(value))
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())


def _double(value: Any, how: Conversion) -> float:
    if isinstance(value, bool):
        if not how.boolean_as_number:
            raise ValueError(value)
        return float(value)
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return float(str(value).strip())


def _datetime(value: Any, how: Conversion) -> datetime:
    moment = _instant(value, how.datetime_format)
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _datetime_offset(value: Any, how: Conversion) -> datetime:
    moment = _instant(value, how.datetime_offset_format)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _instant(value: Any, dotnet_format: str | None) -> datetime:
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    if dotnet_format:
        return datetime.strptime(text, strftime_format(dotnet_format))
    normal = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        return datetime.fromisoformat(normal)
    except ValueError:
        pass
    for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y"):  # en-us
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(value)


DOTNET_TOKENS = [("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
                 ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("fffffff", "%f0"), ("ffffff", "%f"),
                 ("fff", "%f"), ("tt", "%p"), ("zzz", "%z")]


def strftime_format(dotnet: str) -> str:
    """A .NET custom date and time format (the common tokens) as a strftime/strptime format."""
    out, i = [], 0
    while i < len(dotnet):
        for token, directive in DOTNET_TOKENS:
            if dotnet.startswith(token, i):
                out.append(directive)
                i += len(token)
                break
        else:
            char = dotnet[i]
            if char == "\\" and i + 1 < len(dotnet):
                char, i = dotnet[i + 1], i + 1
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out)


def _guid(value: Any, how: Conversion) -> str:
    return str(uuid.UUID(str(value).strip()))


def _timespan(value: Any, how: Conversion) -> timedelta:
    if isinstance(value, timedelta):
        return value
    match = re.fullmatch(r"(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?", str(value).strip())
    if not match:
        raise ValueError(value)
    sign, days, hours, minutes, seconds, fraction = match.groups()
    span = timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0),
                     microseconds=int((fraction or "0").ljust(7, "0")[:6]))
    return -span if sign else span


def _bytes(value: Any, how: Conversion) -> bytes:
    return bytes(value) if isinstance(value, (bytes, bytearray)) else str(value).encode("utf-8")


CONVERTERS: dict[str, Callable[[Any, Conversion], Any]] = {
    "String": lambda value, how: as_text(value), "Boolean": _boolean, "Decimal": _decimal, "Double": _double,
    "Single": _double, "DateTime": _datetime, "DateTimeOffset": _datetime_offset, "Guid": _guid,
    "TimeSpan": _timespan, "Byte[]": _bytes,
}


# --- mappings ----------------------------------------------------------------------------------------------

@dataclass
class Mapping:
    """One source column (by name, 1-based ordinal or JSON path) to one sink column (name, optional type)."""
    sink: str
    source_name: str | None = None
    ordinal: int | None = None
    path: list[str] | None = None
    sink_type: str | None = None


TRANSLATOR_KEYS = {"type", "mappings", "columnMappings", "typeConversion", "typeConversionSettings",
                   "mapComplexValuesToString"}


def parse_translator(translator: Any) -> tuple[list[Mapping] | None, Conversion | None]:
    """(explicit mappings or None, the conversion settings when ``typeConversion`` is on)."""
    if translator in (None, {}):
        return None, None
    if not isinstance(translator, dict) or translator.get("type") not in (None, "TabularTranslator"):
        kind = translator.get("type") if isinstance(translator, dict) else type(translator).__name__
        raise ValueError(f"translator type '{kind}' is not supported by adfemu (TabularTranslator is)")
    unknown = sorted(set(translator) - TRANSLATOR_KEYS)
    if unknown:
        raise ValueError(f"translator option(s) {', '.join(unknown)} are not supported by adfemu (hierarchical "
                         "reshaping such as collectionReference/schemaMapping is not emulated)")
    mappings = None
    if translator.get("mappings") is not None:
        mappings = [_mapping(m, i) for i, m in enumerate(translator["mappings"] or [])]
    elif translator.get("columnMappings") is not None:
        mappings = _column_mappings(translator["columnMappings"])
    conversion = Conversion.from_settings(translator.get("typeConversionSettings")) \
        if _flag(translator.get("typeConversion"), False) else None
    return mappings, conversion


def _mapping(entry: Any, index: int) -> Mapping:
    if not isinstance(entry, dict) or not isinstance(entry.get("sink"), dict) or not isinstance(entry.get("source"),
                                                                                              dict):
        raise ValueError(f"translator.mappings[{index}] needs a source and a sink object")
    source, sink = entry["source"], entry["sink"]
    sink_name = sink.get("name") or sink.get("path")
    if not sink_name:
        raise ValueError(f"translator.mappings[{index}].sink has no name")
    ordinal = int(source["ordinal"]) if source.get("ordinal") not in (None, "") else None
    path = _json_path(str(source["path"])) if source.get("path") else None
    if source.get("name") is None and ordinal is None and path is None:
        raise ValueError(f"translator.mappings[{index}].source needs a name, an ordinal or a path")
    sink_type = canonical_type(sink.get("type"))
    if sink.get("type") and sink_type is None:
        raise ValueError(f"translator.mappings[{index}].sink.type '{sink.get('type')}' is not an interim data type")
    return Mapping(str(sink_name).lstrip("$.['").rstrip("']"), source.get("name"), ordinal, path, sink_type)


def _column_mappings(value: Any) -> list[Mapping]:
    if isinstance(value, str):
        pairs = [p.split(":", 1) for p in value.split(",") if p.strip()]
        value = {a.strip(): b.strip() for a, b in pairs}
    if not isinstance(value, dict):
        raise ValueError("translator.columnMappings must be an object or 'a: b, c: d' text")
    return [Mapping(str(sink), str(source)) for source, sink in value.items()]


def _json_path(path: str) -> list[str]:
    """``$['a']['b']``, ``$.a.b`` or ``['a']`` as keys; array indexes are not supported."""
    keys = re.findall(r"\['([^']*)'\]|\.?([A-Za-z_][\w ]*)", path.lstrip("$"))
    found = [a or b for a, b in keys]
    if not found or re.search(r"\[\d+\]", path):
        raise ValueError(f"mapping path '{path}' is not supported by adfemu (top-level and nested object keys are)")
    return found


def apply_mappings(table: Table, mappings: list[Mapping] | None) -> Table:
    """The table with explicit mappings applied (sink names, sink order); default mapping keeps it as is."""
    if mappings is None:
        return table
    getters, types = [], []
    for m in mappings:
        if m.path is not None:
            getters.append(_path_getter(table, m.path))
            types.append(m.sink_type)
            continue
        if m.ordinal is not None:
            index = m.ordinal - 1
            if not 0 <= index < max(len(table.columns), 1):
                raise ValueError(f"mapping ordinal {m.ordinal} is beyond the source's {len(table.columns)} columns")
        elif m.source_name in table.columns:
            index = table.columns.index(m.source_name)
        else:
            raise ValueError(f"the column '{m.source_name}' in the mapping is not in the source (columns: "
                             f"{', '.join(table.columns) or 'none'})")
        getters.append(lambda row, i=index: row[i] if i < len(row) else None)
        types.append(m.sink_type or table.type_of(index))
    rows = [[get(row) for get in getters] for row in table.rows]
    return Table([m.sink for m in mappings], rows, types)


def _path_getter(table: Table, keys: list[str]) -> Callable[[list], Any]:
    if keys[0] not in table.columns:
        raise ValueError(f"the mapping path's first key '{keys[0]}' is not in the source")
    index = table.columns.index(keys[0])

    def get(row: list) -> Any:
        value = row[index] if index < len(row) else None
        for key in keys[1:]:
            value = value.get(key) if isinstance(value, dict) else None
        return value
    return get
