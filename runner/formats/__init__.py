"""File formats of datasets: reading bytes into a ``Table`` and writing one back, by dataset type, with the
file compression each format names. ``Binary`` has no rows: its files are copied as bytes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..tabular import Table
from . import codecs, delimited, jsonfile, parquet
from .codecs import Codec, CodecError
from .delimited import DelimitedTextError
from .encodings import EncodingError
from .jsonfile import JsonFormatError
from .parquet import ParquetError

FormatError = (CodecError, DelimitedTextError, EncodingError, JsonFormatError, ParquetError)


@dataclass(frozen=True)
class FileFormat:
    read: Callable[[bytes, dict, dict, str], Table]          # (data, dataset props, formatSettings, where)
    write: Callable[[Table, dict, dict, str], bytes]
    extension: str                                          # for generated file names
    read_settings: frozenset = frozenset()                  # formatSettings keys a source may give
    write_settings: frozenset = frozenset()


TABULAR = {
    "DelimitedText": FileFormat(
        lambda data, props, fs, where: delimited.read(data, props, _int(fs.get("skipLineCount"), 0), where),
        lambda table, props, fs, where: delimited.write(table, props, _bool(fs.get("quoteAllText")), where),
        ".txt", frozenset({"type", "skipLineCount", "compressionProperties"}),
        frozenset({"type", "quoteAllText", "fileExtension"})),
    "Json": FileFormat(
        lambda data, props, fs, where: jsonfile.read(data, props, where),
        lambda table, props, fs, where: jsonfile.write(table, props, fs.get("filePattern"), where),
        ".json", frozenset({"type", "compressionProperties"}), frozenset({"type", "filePattern"})),
    "Parquet": FileFormat(
        lambda data, props, fs, where: parquet.read(data, props, where),
        lambda table, props, fs, where: parquet.write(table, props, where),
        ".parquet", frozenset({"type"}), frozenset({"type"})),
}
BINARY_READ_SETTINGS = frozenset({"type", "compressionProperties"})


def file_codec(dataset_type: str, props: dict) -> Codec | None:
    """The file compression a dataset names (Parquet compresses inside the file, not around it)."""
    if dataset_type == "DelimitedText":
        return codecs.codec(props.get("compressionCodec"))
    if dataset_type in ("Json", "Binary"):
        compression = props.get("compression")
        return codecs.codec(compression.get("type")) if isinstance(compression, dict) else None
    return None


def codec_level(dataset_type: str, props: dict) -> int:
    if dataset_type == "DelimitedText":
        return codecs.level(props.get("compressionLevel"))
    compression = props.get("compression")
    return codecs.level(compression.get("level") if isinstance(compression, dict) else None)


def _int(value, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise DelimitedTextError(f"skipLineCount '{value}' is not a whole number") from None


def _bool(value) -> bool:
    return str(value).lower() == "true" if isinstance(value, str) else bool(value)
