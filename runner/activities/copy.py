"""The Copy activity (Microsoft Learn, "Copy activity in Azure Data Factory"), between blob datasets
(DelimitedText, Json, Parquet, Binary on AzureStorage/AzureBlobStorage/AzureBlobFS, served by Azurite) and SQL
table datasets (on the SQLite file mapped to the linked service).

A copy is a binary copy (Binary to Binary: files as bytes) or a tabular one (rows: read, mapped with the
``translator``, converted, written). Its output has the fields "Copy activity monitoring" documents that apply:
``dataRead``, ``dataWritten``, ``filesRead``/``filesWritten`` (file sides), ``rowsRead``/``rowsCopied`` (tabular
copies), ``rowsSkipped`` (with ``enableSkipIncompatibleRow``), ``copyDuration`` (seconds), ``throughput`` (KB/s),
``sourcePeakConnections``, ``sinkPeakConnections``, ``errors``, ``effectiveIntegrationRuntime``,
``usedDataIntegrationUnits``, ``usedParallelCopies``, ``executionDetails`` and ``durationInQueue``. A source,
sink or option adfemu does not emulate fails naming it (``NotSupported``); data failures use code 2200.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..datasets import FILE_TYPES, SQL_TYPES, Dataset, resolve_dataset
from ..engine import ActivityError, Call
from ..records import stamp
from ..tabular import Incompatible, Table, apply_mappings, convert, parse_translator
from .copy_faults import COPY_ERROR, Faults
from .copy_files import FileSink, FileSource
from .copy_sql import SINK_OPTIONS as SQL_SINK_OPTIONS, SOURCE_OPTIONS as SQL_SOURCE_OPTIONS, check_sink, \
    source_table, write_sink
from .stores import EFFECTIVE_RUNTIME, NOT_SUPPORTED, check_options, flag

SQL_SOURCES = ("AzureSqlSource", "SqlSource", "SqlServerSource", "SqlDWSource", "SqlMISource")
SQL_SINKS = ("AzureSqlSink", "SqlSink", "SqlServerSink", "SqlDWSink", "SqlMISink")
FILE_SOURCES = {f"{t}Source": t for t in FILE_TYPES}
FILE_SINKS = {f"{t}Sink": t for t in FILE_TYPES}
COPY_OPTIONS = frozenset({"source", "sink", "translator", "enableStaging", "parallelCopies", "dataIntegrationUnits",
                          "enableSkipIncompatibleRow", "redirectIncompatibleRowSettings", "logSettings"})
FILE_SOURCE_OPTIONS = frozenset({"type", "storeSettings", "formatSettings", "recursive"})
FILE_SINK_OPTIONS = frozenset({"type", "storeSettings", "formatSettings", "copyBehavior"})


@dataclass
class Stats:
    data_read: int = 0
    data_written: int = 0
    files_read: int = 0
    files_written: int = 0
    rows_read: int = 0
    rows_copied: int = 0
    tabular: bool = True
    started: float = field(default_factory=time.monotonic)
    start_stamp: str = field(default_factory=lambda: stamp(datetime.now(timezone.utc)))


def copy(call: Call) -> dict:
    props = check_options(call, "typeProperties", call.props, COPY_OPTIONS)
    if flag(call.evaluate(props.get("enableStaging")), False):
        raise ActivityError(f"Activity '{call.name}': enableStaging (staged copy) is not emulated by adfemu.",
                            NOT_SUPPORTED)
    source_ds = resolve_dataset(call, _single(call, "inputs"), "input dataset")
    sink_ds = resolve_dataset(call, _single(call, "outputs"), "output dataset")
    source, sink = _typed(call, "source", props), _typed(call, "sink", props)
    _check_pair(call, source, source_ds, FILE_SOURCES, SQL_SOURCES, "source")
    _check_pair(call, sink, sink_ds, FILE_SINKS, SQL_SINKS, "sink")
    if sink_ds.is_sql:
        check_sink(call, sink)
    faults = Faults(call, flag(call.evaluate(props.get("enableSkipIncompatibleRow")), False))
    stats = Stats()
    if source_ds.type == "Binary" or sink_ds.type == "Binary":
        if source_ds.type != sink_ds.type:
            raise ActivityError(f"Activity '{call.name}': a Binary dataset can only be copied to or from a Binary "
                                f"dataset ('{source_ds.name}' is {source_ds.type}, '{sink_ds.name}' is "
                                f"{sink_ds.type}).", COPY_ERROR)
        _binary_copy(call, source_ds, source, sink_ds, sink, stats)
    else:
        _tabular_copy(call, props, source_ds, source, sink_ds, sink, faults, stats)
    extra = faults.write_logs(call.evaluate({k: props[k] for k in ("logSettings", "redirectIncompatibleRowSettings")
                                             if k in props}))
    return _output(source_ds, sink_ds, stats, faults, extra)


def _single(call: Call, key: str) -> dict:
    refs = call.activity.get(key)
    if not isinstance(refs, list) or len(refs) != 1:
        raise ActivityError(f"Activity '{call.name}': Copy needs exactly one dataset in '{key}'.")
    return refs[0]


def _typed(call: Call, side: str, props: dict) -> dict:
    value = call.evaluate(props.get(side))
    if not isinstance(value, dict) or not value.get("type"):
        raise ActivityError(f"Activity '{call.name}': typeProperties.{side} needs a type.")
    return value


def _check_pair(call: Call, config: dict, dataset: Dataset, files: dict, sqls: tuple, side: str) -> None:
    kind = config["type"]
    if kind in files:
        expected_ok = dataset.type == files[kind]
        check_options(call, side, config, FILE_SOURCE_OPTIONS if side == "source" else FILE_SINK_OPTIONS)
    elif kind in sqls:
        expected_ok = dataset.type in SQL_TYPES
        check_options(call, side, config, SQL_SOURCE_OPTIONS if side == "source" else SQL_SINK_OPTIONS)
    else:
        raise ActivityError(f"Activity '{call.name}': {side} type '{kind}' is not a {side} adfemu can serve "
                            f"(supported: {', '.join([*files, *sqls])}); give the activity a stub (--stubs) to run "
                            "the pipeline.", NOT_SUPPORTED)
    if not expected_ok:
        raise ActivityError(f"Activity '{call.name}': {side} type '{kind}' does not read dataset "
                            f"'{dataset.name}' of type {dataset.type}.", COPY_ERROR)


# --- binary copies ---------------------------------------------------------------------------------------------

def _binary_copy(call: Call, source_ds: Dataset, source: dict, sink_ds: Dataset, sink: dict, stats: Stats) -> None:
    stats.tabular = False
    reader, writer = FileSource(call, source_ds, source), FileSink(call, sink_ds, sink)
    files = list(reader.read())
    stats.files_read = len({f.blob for f in files})
    stats.data_read = sum(f.stored for f in files)
    if writer.behavior == "MergeFiles":
        if files:
            writer.write_bytes(writer.target("", len(files)), b"".join(f.data for f in files))
    else:
        for file in files:
            writer.write_bytes(writer.target(file.relative, len(files)), file.data)
    stats.files_written, stats.data_written = writer.written, writer.bytes
    if reader.delete_after:
        reader.delete([f.blob for f in files])


# --- tabular copies --------------------------------------------------------------------------------------------

def _tabular_copy(call: Call, props: dict, source_ds: Dataset, source: dict, sink_ds: Dataset, sink: dict,
                  faults: Faults, stats: Stats) -> None:
    try:
        mappings, conversion = parse_translator(call.evaluate(props.get("translator")))
    except ValueError as exc:
        raise ActivityError(f"Activity '{call.name}': {exc}.", NOT_SUPPORTED) from None
    batches, reader, table_name = _read(call, source_ds, source, stats)
    prepared = []
    for relative, table in batches:
        stats.rows_read += len(table.rows)
        table = _well_formed(table, faults)
        try:
            mapped = apply_mappings(table, mappings)
        except ValueError as exc:
            raise ActivityError(f"Failure happened on 'Source' side. ErrorCode=UserErrorInvalidColumnMapping, "
                                f"Message={exc}.", COPY_ERROR) from None
        prepared.append((relative, mapped))
    if sink_ds.is_sql:
        copied, written = write_sink(call, sink_ds, sink, _merge([t for _, t in prepared]), conversion, faults)
        stats.rows_copied, stats.data_written = copied, written
    else:
        _write_files(call, sink_ds, sink, prepared, conversion, faults, stats, reader, table_name)
    if reader is not None and reader.delete_after:
        reader.delete([f.blob for f in reader.files_read])


def _read(call: Call, dataset: Dataset, source: dict, stats: Stats):
    """([(relative path or None, table)], the file reader or None, the table name of a SQL table source)."""
    if dataset.is_sql:
        table, table_name, size = source_table(call, dataset, source)
        stats.data_read = size
        return [(None, table)], None, table_name
    reader = FileSource(call, dataset, source)
    files = reader.files_read = list(reader.read())
    stats.files_read = len({f.blob for f in files})
    stats.data_read = sum(f.stored for f in files)
    return [(f.relative, reader.table(f)) for f in files], reader, None


def _merge(tables: list[Table]) -> Table:
    """One table from several (files of one copy): the first one's columns; others must match them."""
    if not tables:
        return Table([], [])
    first = tables[0]
    rows = list(first.rows)
    for table in tables[1:]:
        if table.columns != first.columns:
            raise ActivityError(f"Failure happened on 'Source' side. ErrorCode=UserErrorSchemaMismatch, Message=The "
                                f"source files have different columns ({', '.join(first.columns)} and "
                                f"{', '.join(table.columns)}).", COPY_ERROR)
        rows += table.rows
    return Table(first.columns, rows, first.types)


def _write_files(call: Call, sink_ds: Dataset, sink: dict, prepared: list, conversion, faults: Faults, stats: Stats,
                 reader: FileSource | None, table_name: str | None) -> None:
    writer = FileSink(call, sink_ds, sink)
    if reader is None:  # a SQL source: one result set, one file
        table = _converted(prepared[0][1], conversion, faults)
        writer.write_table(writer.target(None, 1, table_name), table)
        stats.rows_copied = len(table.rows)
    elif writer.behavior == "MergeFiles":
        if prepared:
            table = _converted(_merge([t for _, t in prepared]), conversion, faults)
            writer.write_table(writer.target("", len(prepared)), table)
            stats.rows_copied = len(table.rows)
    else:
        for relative, table in prepared:
            table = _converted(table, conversion, faults)
            writer.write_table(writer.target(relative, len(prepared)), table)
            stats.rows_copied += len(table.rows)
    stats.files_written, stats.data_written = writer.written, writer.bytes


def _well_formed(table: Table, faults: Faults) -> Table:
    """Rows with more fields than the source has columns are incompatible; shorter ones end with nulls."""
    rows = []
    for row in table.rows:
        if len(row) > len(table.columns):
            faults.incompatible(row, f"The row has {len(row)} columns; the source defines {len(table.columns)}.",
                                "DelimitedTextMoreColumnsThanDefined", "Source")
            continue
        rows.append(list(row) + [None] * (len(table.columns) - len(row)))
    return Table(table.columns, rows, table.types)


def _converted(table: Table, conversion, faults: Faults) -> Table:
    """Rows of a file sink: typed as the mapping asks (with typeConversion), incompatible ones skipped or failed."""
    rows = []
    for row in table.rows:
        if conversion is not None:
            try:
                row = [convert(v, table.type_of(i), conversion, table.columns[i]) for i, v in enumerate(row)]
            except Incompatible as exc:
                faults.incompatible(row, str(exc))
                continue
        rows.append(row)
    return Table(table.columns, rows, table.types)


# --- output ----------------------------------------------------------------------------------------------------

def _output(source_ds: Dataset, sink_ds: Dataset, stats: Stats, faults: Faults, extra: dict) -> dict:
    elapsed = max(time.monotonic() - stats.started, 0.001)
    duration = int(round(elapsed))
    output: dict[str, Any] = {"dataRead": stats.data_read, "dataWritten": stats.data_written}
    if source_ds.is_file:
        output["filesRead"] = stats.files_read
    if sink_ds.is_file:
        output["filesWritten"] = stats.files_written
    output["sourcePeakConnections"] = 1
    output["sinkPeakConnections"] = 1
    if stats.tabular:
        output["rowsRead"] = stats.rows_read
        output["rowsCopied"] = stats.rows_copied
        if faults.skip:
            output["rowsSkipped"] = len(faults.skipped)
    output.update({"copyDuration": duration, "throughput": round(stats.data_read / 1024 / elapsed, 3), **extra,
                   "errors": [], "effectiveIntegrationRuntime": EFFECTIVE_RUNTIME, "usedDataIntegrationUnits": 4,
                   "usedParallelCopies": 1, "executionDetails": [_details(source_ds, sink_ds, stats, duration)],
                   "durationInQueue": {"integrationRuntimeQueue": 0}})
    return output


def _details(source_ds: Dataset, sink_ds: Dataset, stats: Stats, duration: int) -> dict:
    source_type = source_ds.linked_service.type
    sink_type = sink_ds.linked_service.type
    return {"source": {"type": source_type}, "sink": {"type": sink_type}, "status": "Succeeded",
            "start": stats.start_stamp, "duration": duration, "usedDataIntegrationUnits": 4, "usedParallelCopies": 1,
            "profile": {"queue": {"status": "Completed", "duration": 0},
                        "transfer": {"status": "Completed", "duration": duration,
                                     "details": {"readingFromSource": {"type": source_type, "workingDuration": duration},
                                                 "writingToSink": {"type": sink_type, "workingDuration": duration}}}},
            "detailedDurations": {"queuingDuration": 0, "transferDuration": duration}}


HANDLERS = {"Copy": copy}
