"""Request-response scoring: request tables in, the experiment, response tables out.

Two wire shapes: the default table form ``{"ColumnNames", "Values"}`` wrapped as
``{"type": "table", "value": ...}`` in responses, and ``format=swagger`` with arrays of row
objects. Response values are always strings, whatever the column type.
"""
from __future__ import annotations

from itertools import chain
from typing import Any

from . import body_shapes, errors
from .bes_requests import parse_global_parameters
from .experiments import ExperimentError, ExperimentRun, InputMismatch
from .experiments.tables import Table, cell
from .models import Endpoint, WebService


def execute(svc: WebService, ep: Endpoint, body: Any, *, swagger: bool) -> dict[str, Table]:
    if svc.kind != "predictive":
        raise errors.NotSupportedByService(
            "Request-response execution is available on predictive web services; call the Batch Execution "
            "jobs API of a training web service.")
    if not isinstance(body, dict) or not isinstance(body.get("Inputs"), dict):
        raise errors.RequestBodyInvalid()
    inputs = _inputs(body["Inputs"], svc, swagger)
    params = parse_global_parameters(body.get("GlobalParameters"), svc)
    body_shapes.check(body, "aml-rrs-request")
    models = {n: r.model for n, r in ep.resources.items()}
    kinds = {name: kind for name, kind in svc.output_kinds().items() if kind == "dataset"}
    try:
        outputs = svc.experiment(ExperimentRun(inputs, params, models, svc.settings, kinds))
    except InputMismatch as exc:
        raise errors.InputMismatchError(detail=f"Input data does not match input port schema. {exc}") from None
    except ExperimentError as exc:
        raise errors.ModuleExecutionError(str(exc)) from None
    return {name: outputs[name] for name in kinds if isinstance(outputs.get(name), Table)}


def render(outputs: dict[str, Table], *, swagger: bool, details: bool) -> dict:
    if swagger:
        return {"Results": {name: [dict(zip(t.columns, row)) for row in t.rows] for name, t in outputs.items()}}
    results = {}
    for name, table in outputs.items():
        value: dict[str, Any] = {"ColumnNames": table.columns}
        if details:
            value["ColumnTypes"] = table.column_types()
        value["Values"] = table.rows
        results[name] = {"type": "table", "value": value}
    return {"Results": results}


def _inputs(raw: dict, svc: WebService, swagger: bool) -> dict[str, Table]:
    names = svc.input_names()
    unknown = [n for n in raw if n not in names]
    if unknown:
        raise errors.InvalidInputNames(", ".join(unknown))
    missing = [n for n in names if n not in raw]
    if missing:
        raise errors.BatchJobInputsNotSpecified(", ".join(missing))
    return {name: (_rows_table if swagger else _column_table)(value, name) for name, value in raw.items()}


def _column_table(value: Any, name: str) -> Table:
    if not isinstance(value, dict) or not isinstance(value.get("Values"), list):
        raise errors.InputParseError(f"input '{name}' needs ColumnNames and Values", target=name)
    columns = value.get("ColumnNames")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise errors.InputParseError(f"input '{name}' needs ColumnNames as a list of strings", target=name)
    values = value["Values"]
    if _all_strings(values, len(columns)):  # what clients send: strings are kept as they are (``cell``)
        return Table(list(columns), list(map(list, values)))
    rows = []
    for i, row in enumerate(values):
        if not isinstance(row, list) or len(row) != len(columns) or any(isinstance(v, (dict, list)) for v in row):
            raise errors.InputParseError(f"row {i} of input '{name}' must list {len(columns)} scalar values",
                                         target=name)
        rows.append([cell(v) for v in row])
    return Table(list(columns), rows)


def _all_strings(rows: list, width: int) -> bool:
    """Every row a list of ``width`` strings, decided in C loops (10,000 rows in a few ms)."""
    return (set(map(type, rows)) <= {list} and set(map(len, rows)) <= {width}
            and set(map(type, chain.from_iterable(rows))) <= {str})


def _rows_table(value: Any, name: str) -> Table:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise errors.InputParseError(f"input '{name}' must be an array of row objects", target=name)
    columns: list[str] = []
    for row in value:
        columns += [k for k in row if k not in columns]
    rows = []
    for i, row in enumerate(value):
        if any(isinstance(v, (dict, list)) for v in row.values()):
            raise errors.InputParseError(f"row {i} of input '{name}' holds a non-scalar value", target=name)
        rows.append([cell(row.get(c)) for c in columns])
    return Table(columns, rows)
