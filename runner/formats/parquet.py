"""Parquet files through pyarrow (Microsoft Learn, "Parquet format"): ``compressionCodec`` ``snappy``
(default), ``gzip``, ``lz4``, ``brotli``, ``zstd`` or ``none``; ``lzo`` is not available in pyarrow. Column
types map to ADF's interim types (int64 -> Int64, double -> Double, timestamp -> DateTime, ...). pyarrow is
imported by the first Parquet file read or written (it costs every run a sixth of a second otherwise)."""
from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..tabular import Table, as_text

if TYPE_CHECKING:
    import pyarrow as pa

CODECS = {"snappy": "snappy", "gzip": "gzip", "lz4": "lz4", "brotli": "brotli", "zstd": "zstd", "none": "none"}


class ParquetError(ValueError):
    pass


def compression(name: Any) -> str:
    key = str(name or "snappy").strip().lower()
    if key not in CODECS:
        raise ParquetError(f"Parquet compressionCodec '{name}' is not supported by adfemu (supported: "
                           f"{', '.join(CODECS)})")
    return CODECS[key]


def read(data: bytes, props: dict, where: str = "the file") -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        raise ParquetError(f"{where} is not a readable Parquet file ({type(exc).__name__})") from None
    columns = table.column_names
    values = [table.column(c).to_pylist() for c in columns]
    rows = [list(r) for r in zip(*values)] if values else []
    return Table(list(columns), rows, [interim_type(f.type) for f in table.schema])


def write(table: Table, props: dict, where: str = "the file") -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    arrays = []
    for index, name in enumerate(table.columns):
        column = [row[index] if index < len(row) else None for row in table.rows]
        kind = _arrow_type(column)
        if kind == pa.string():
            column = [v if v is None or isinstance(v, str) else as_text(v) for v in column]
        try:
            arrays.append(pa.array(column, type=kind))
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise ParquetError(f"{where}: column '{name}' mixes values Parquet cannot store in one column "
                               f"({type(exc).__name__})") from None
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=list(table.columns)), buffer,
                   compression=compression(props.get("compressionCodec")))
    return buffer.getvalue()


def _arrow_type(column: list) -> pa.DataType:
    import pyarrow as pa
    kinds = {type(v) for v in column if v is not None}
    if not kinds:
        return pa.string()
    if kinds == {bool}:
        return pa.bool_()
    if kinds <= {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    if kinds <= {Decimal, int}:
        return pa.decimal128(38, 18)
    if kinds <= {datetime}:
        return pa.timestamp("us", tz="UTC") if any(v.tzinfo for v in column if v is not None) else pa.timestamp("us")
    if kinds <= {bytes, bytearray}:
        return pa.binary()
    return pa.string()


def interim_type(arrow: pa.DataType) -> str:
    import pyarrow as pa
    checks = [(pa.types.is_boolean, "Boolean"), (pa.types.is_int8, "SByte"), (pa.types.is_int16, "Int16"),
              (pa.types.is_int32, "Int32"), (pa.types.is_int64, "Int64"), (pa.types.is_uint8, "Byte"),
              (pa.types.is_uint16, "UInt16"), (pa.types.is_uint32, "UInt32"), (pa.types.is_uint64, "UInt64"),
              (pa.types.is_float32, "Single"), (pa.types.is_floating, "Double"), (pa.types.is_decimal, "Decimal"),
              (pa.types.is_timestamp, "DateTime"), (pa.types.is_date, "DateTime"), (pa.types.is_binary, "Byte[]"),
              (pa.types.is_duration, "TimeSpan")]
    return next((name for check, name in checks if check(arrow)), "String")
