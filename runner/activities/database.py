"""The Script and Stored procedure activities on a SQL linked service backed by a SQLite file (``--sql``).

Script (Microsoft Learn, "Transform data by using the Script activity"): ``scripts`` run in order, each a
``Query`` (default; its result sets are output) or a ``NonQuery`` (its affected rows are counted), with
``parameters`` (``name``, ``type``, ``value``, direction ``Input``; Output/InputOutput parameters and
``scriptReference``/``logSettings`` are not emulated). Output: ``resultSetCount``, ``resultSets``
(``rowCount``, ``rows``), ``recordsAffected``.

Stored procedure (``SqlServerStoredProcedure``, "Transform data by using the SQL Server Stored Procedure
activity"): ``storedProcedureName`` with ``storedProcedureParameters`` (``{"name": {"value", "type"}}``), run
under adfemu's procedure convention (``runner.sql``). Output: ``effectiveIntegrationRuntime``,
``executionDuration``, ``durationInQueue``.

SQL failures keep SQL Server's wording where it exists (missing procedure or parameter) and name the statement.
"""
from __future__ import annotations

import time
from typing import Any

from ..datasets import linked_service
from ..engine import ActivityError, Call
from ..sql import SqlError, typed
from ..tabular import json_value
from .copy_sql import stored_procedure_values
from .stores import EFFECTIVE_RUNTIME, NOT_SUPPORTED, check_options, database

SQL_ERROR = "2402"  # "Execution fail against SQL Server": a SQL error (ADF's troubleshooting guide)
SCRIPT_OPTIONS = frozenset({"scripts", "scriptBlockExecutionTimeout"})


def _linked_database(call: Call):
    ref = call.activity.get("linkedServiceName") or {}
    return database(call, linked_service(call, ref.get("referenceName"), call.evaluate(ref.get("parameters") or {})))


def _fail(call: Call, exc: SqlError) -> ActivityError:
    number = f" Sql error number: {exc.number}." if exc.number else ""
    return ActivityError(f"Execution fail against sql server.{number} Error Message: {exc}", SQL_ERROR)


def script(call: Call) -> dict:
    props = check_options(call, "typeProperties", call.props, SCRIPT_OPTIONS)
    blocks = call.evaluate(props.get("scripts") or [])
    if not isinstance(blocks, list):
        raise ActivityError(f"Activity '{call.name}': scripts must be an array of script blocks.")
    result_sets: list[dict] = []
    affected = 0
    with _linked_database(call) as db:
        for index, block in enumerate(blocks):
            block = check_options(call, f"scripts[{index}]", block, {"text", "type", "parameters"})
            kind = str(block.get("type") or "Query")
            if kind not in ("Query", "NonQuery"):
                raise ActivityError(f"Activity '{call.name}': scripts[{index}].type '{kind}' is not Query or NonQuery.")
            variables = _script_parameters(call, index, block.get("parameters") or [])
            try:
                results = db.run(str(block.get("text") or ""), variables)
            except SqlError as exc:
                raise _fail(call, exc) from None
            for result in results:
                if result.is_query and kind == "Query":
                    rows = [{c: json_value(v) for c, v in zip(result.columns, row)} for row in result.rows]
                    result_sets.append({"rowCount": len(rows), "rows": rows})
                elif not result.is_query and result.rowcount > 0:
                    affected += result.rowcount
    output: dict[str, Any] = {"resultSetCount": len(result_sets), "recordsAffected": affected,
                              "resultSets": result_sets, "outputParameters": {}, "outputLogs": ""}
    output["effectiveIntegrationRuntime"] = EFFECTIVE_RUNTIME
    return output


def _script_parameters(call: Call, index: int, parameters: Any) -> dict[str, Any]:
    values = {}
    for position, param in enumerate(parameters if isinstance(parameters, list) else []):
        where = f"scripts[{index}].parameters[{position}]"
        param = check_options(call, where, param, {"name", "type", "value", "direction", "size"})
        direction = str(param.get("direction") or "Input")
        if direction != "Input":
            raise ActivityError(f"Activity '{call.name}': {where}: direction '{direction}' is not emulated by adfemu "
                                "(Input is).", NOT_SUPPORTED)
        name = str(param.get("name") or "").lstrip("@")
        try:
            values[name] = typed(param.get("value"), param.get("type"), name)
        except SqlError as exc:
            raise ActivityError(f"Activity '{call.name}': {where}: {exc}.") from None
    return values


def stored_procedure(call: Call) -> dict:
    props = check_options(call, "typeProperties", call.props, {"storedProcedureName", "storedProcedureParameters"})
    name = call.evaluate(props.get("storedProcedureName"))
    if not name:
        raise ActivityError(f"Activity '{call.name}': storedProcedureName is required.")
    values = stored_procedure_values(call, call.evaluate(props.get("storedProcedureParameters")))
    started = time.monotonic()
    with _linked_database(call) as db:
        try:
            db.call(str(name), values)
        except SqlError as exc:
            raise _fail(call, exc) from None
    return {"effectiveIntegrationRuntime": EFFECTIVE_RUNTIME, "executionDuration": int(time.monotonic() - started),
            "durationInQueue": {"integrationRuntimeQueue": 0}}


HANDLERS = {"Script": script, "SqlServerStoredProcedure": stored_procedure}
