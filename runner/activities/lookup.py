"""The Lookup activity (Microsoft Learn, "Lookup activity"): the rows of a file dataset (DelimitedText, Json,
Parquet) or of a SQL dataset (``sqlReaderQuery``, ``sqlReaderStoredProcedureName``, or the table).

- ``firstRowOnly`` (default true): ``{"firstRow": {...}}`` (no ``firstRow`` when there are no rows), otherwise
  ``{"count": n, "value": [...]}``;
- at most 5,000 rows are returned: "if the result set contains more records, the first 5000 rows will be
  returned" (the documentation; the activity does not fail);
- an output over 4 MB fails the activity, with the code and message ADF documents for the 4 MB output limit
  (2001, "The length of execution output is over limit (around 4MB currently).").
"""
from __future__ import annotations

import json
from typing import Any

from ..datasets import resolve_dataset
from ..engine import ActivityError, Call
from ..formats import TABULAR
from ..tabular import Table, json_value
from .copy_files import FileSource
from .copy_sql import SOURCE_OPTIONS as SQL_OPTIONS, read_source
from .stores import EFFECTIVE_RUNTIME, NOT_SUPPORTED, check_options, database, flag

MAX_ROWS = 5000
MAX_OUTPUT = 4 * 1024 * 1024
OUTPUT_LIMIT = ("2001", "The length of execution output is over limit (around 4MB currently).")
LOOKUP_OPTIONS = frozenset({"source", "dataset", "firstRowOnly"})
FILE_OPTIONS = frozenset({"type", "storeSettings", "formatSettings"})


def lookup(call: Call) -> dict:
    props = check_options(call, "typeProperties", call.props, LOOKUP_OPTIONS)
    dataset = resolve_dataset(call, props.get("dataset"))
    source = call.evaluate(props.get("source") or {})
    if not isinstance(source, dict):
        raise ActivityError(f"Activity '{call.name}': typeProperties.source must be an object.")
    table = _rows(call, dataset, source)
    rows = [{c: json_value(v) for c, v in zip(table.columns, row)} for row in table.rows[:MAX_ROWS]]
    first_only = flag(call.evaluate(props.get("firstRowOnly")), True)
    output: dict[str, Any] = ({"firstRow": rows[0]} if rows else {}) if first_only else {"count": len(rows),
                                                                                          "value": rows}
    output["effectiveIntegrationRuntime"] = EFFECTIVE_RUNTIME
    if len(json.dumps(output, default=str)) > MAX_OUTPUT:
        raise ActivityError(OUTPUT_LIMIT[1], OUTPUT_LIMIT[0])
    return output


def _rows(call: Call, dataset, source: dict) -> Table:
    if dataset.is_sql:
        check_options(call, "source", source, SQL_OPTIONS)
        with database(call, dataset.linked_service) as db:
            result, _ = read_source(call, dataset, source, db)
        return Table(result.columns, result.rows)
    if dataset.type not in TABULAR:
        raise ActivityError(f"Activity '{call.name}': Lookup reads rows; dataset '{dataset.name}' is "
                            f"{dataset.type} (supported: {', '.join(TABULAR)} and SQL tables).", NOT_SUPPORTED)
    check_options(call, "source", source, FILE_OPTIONS)
    reader = FileSource(call, dataset, source)
    tables = [reader.table(f) for f in reader.read()]
    columns = tables[0].columns if tables else []
    return Table(columns, [row for t in tables for row in t.rows])


HANDLERS = {"Lookup": lookup}
