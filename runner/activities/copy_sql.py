"""The SQL side of Copy (Microsoft Learn, "Copy and transform data in Azure SQL Database"), on the SQLite file
mapped to the linked service:

- source: ``sqlReaderQuery`` (T-SQL), ``sqlReaderStoredProcedureName`` with ``storedProcedureParameters``, or
  the dataset's table; ``partitionOption`` ``None`` only;
- sink: ``preCopyScript`` (run once before writing), ``tableOption`` ``autoCreate`` (the table is created from the
  source columns when missing), ``writeBehavior`` ``insert``; rows are converted to the table's column types
  (ADF converts to the sink's native types) and a row the database refuses (a primary key violation) is an
  incompatible row.

``dataRead``/``dataWritten`` of a SQL side count the UTF-8 bytes of the values' text (the service's own measure
is not documented).
"""
from __future__ import annotations

from typing import Any, Iterator

from ..datasets import Dataset
from ..engine import ActivityError, Call
from ..sql import Database, Result, SqlError, bare_name, interim_of, typed
from ..tabular import Conversion, Incompatible, Table, as_text, convert
from .copy_faults import COPY_ERROR, Faults
from .stores import database

SOURCE_OPTIONS = frozenset({"type", "sqlReaderQuery", "sqlReaderStoredProcedureName", "storedProcedureParameters",
                            "partitionOption"})
SINK_OPTIONS = frozenset({"type", "preCopyScript", "tableOption", "writeBehavior"})


def value_bytes(rows: list[list[Any]]) -> int:
    return sum(len(as_text(v).encode("utf-8")) for row in rows for v in row if v is not None)


def sql_error(side: str, exc: SqlError) -> ActivityError:
    return ActivityError(f"Failure happened on '{side}' side. ErrorCode=SqlOperationFailed, Message={exc}",
                         COPY_ERROR)


def stored_procedure_values(call: Call, parameters: Any) -> dict[str, Any]:
    """``{"name": {"value": ..., "type": ...}}`` as SQLite values of their ADF types."""
    values = {}
    for name, spec in (parameters or {}).items():
        spec = spec if isinstance(spec, dict) else {"value": spec}
        try:
            values[name] = typed(spec.get("value"), spec.get("type"), name)
        except SqlError as exc:
            raise ActivityError(f"Activity '{call.name}': {exc}.") from None
    return values


def read_source(call: Call, dataset: Dataset, source: dict, db: Database) -> tuple[Result, str | None]:
    """(the result set, the table name when read by table) of a SQL source."""
    option = str(source.get("partitionOption") or "None")
    if option.lower() != "none":
        raise ActivityError(f"Activity '{call.name}': source.partitionOption '{option}' is not emulated by adfemu "
                            "(None is).", "NotSupported")
    try:
        if source.get("sqlReaderQuery"):
            return db.query(str(source["sqlReaderQuery"])), None
        if source.get("sqlReaderStoredProcedureName"):
            results = [r for r in db.call(str(source["sqlReaderStoredProcedureName"]),
                                          stored_procedure_values(call, source.get("storedProcedureParameters")))
                       if r.is_query]
            if len(results) != 1:
                raise SqlError(f"the stored procedure returned {len(results)} result sets; exactly one is needed")
            return results[0], None
        schema, table = dataset.table()
        return db.read_table(table), bare_name(table)
    except SqlError as exc:
        raise sql_error("Source", exc) from None


def source_table(call: Call, dataset: Dataset, source: dict) -> tuple[Table, str | None, int]:
    """(rows, table name or None, data read) of a SQL source."""
    with database(call, dataset.linked_service) as db:
        result, table_name = read_source(call, dataset, source, db)
        types = _column_types(db, table_name, result.columns) if table_name else []
    return Table(result.columns, result.rows, types), table_name, value_bytes(result.rows)


def _column_types(db: Database, table: str, columns: list[str]) -> list[str | None]:
    declared = dict(db.columns(table))
    return [interim_of(declared.get(c)) for c in columns]


def check_sink(call: Call, sink: dict) -> None:
    """The sink's write options, checked before anything is read."""
    behavior = str(sink.get("writeBehavior") or "insert")
    if behavior.lower() != "insert":
        raise ActivityError(f"Activity '{call.name}': sink.writeBehavior '{behavior}' is not emulated by adfemu "
                            "(insert is).", "NotSupported")
    option = str(sink.get("tableOption") or "none")
    if option.lower() not in ("none", "autocreate"):
        raise ActivityError(f"Activity '{call.name}': sink.tableOption '{option}' is not one of none, autoCreate.")


def write_sink(call: Call, dataset: Dataset, sink: dict, table: Table, conversion: Conversion | None,
               faults: Faults) -> tuple[int, int]:
    """Insert the rows; returns (rows copied, data written)."""
    check_sink(call, sink)
    option = str(sink.get("tableOption") or "none")
    _, name = dataset.table()
    with database(call, dataset.linked_service) as db:
        try:
            if sink.get("preCopyScript"):
                db.run(str(sink["preCopyScript"]))
            declared = db.columns(name)
            if not declared and option.lower() == "autocreate":
                db.create_table(name, table.columns, table.types or [None] * len(table.columns))
                declared = db.columns(name)
            if not declared:
                raise SqlError(f"Invalid object name '{name}'.", 208)
        except SqlError as exc:
            raise sql_error("Sink", exc) from None
        types = {c.lower(): (c, interim_of(t)) for c, t in declared}
        missing = [c for c in table.columns if c.lower() not in types]
        if missing:
            raise ActivityError(f"Failure happened on 'Sink' side. ErrorCode=SqlColumnNameMismatchByCaseSensitive, "
                                f"Message=Column(s) {', '.join(missing)} of the source are not in the sink table "
                                f"'{name}' (columns: {', '.join(c for c, _ in declared)}); map them with "
                                "translator.mappings.", COPY_ERROR)
        targets = [types[c.lower()] for c in table.columns]
        rows = list(_converted(table, targets, conversion or Conversion(), faults))
        copied, written = 0, 0
        for row, refused in zip(rows, db.insert(name, [c for c, _ in targets], iter(rows))):
            if refused is None:
                copied += 1
                written += value_bytes([row])
            else:
                faults.incompatible(row, refused, "SqlOperationFailed")
    return copied, written


def _converted(table: Table, targets: list[tuple[str, str]], conversion: Conversion,
               faults: Faults) -> Iterator[list[Any]]:
    for row in table.rows:
        if len(row) > len(table.columns):
            faults.incompatible(row, f"The row has {len(row)} columns; the source defines {len(table.columns)}.",
                                "DelimitedTextMoreColumnsThanDefined", "Source")
            continue
        row = list(row) + [None] * (len(table.columns) - len(row))
        try:
            yield [convert(v, kind, conversion, column) for v, (column, kind) in zip(row, targets)]
        except Incompatible as exc:
            faults.incompatible(row, str(exc))
