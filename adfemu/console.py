"""Terminal output of `adfemu run`: plain when not a TTY, so CI logs stay readable."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from adfemu.schemas.entities import Finding

_console = Console(highlight=False)


def warnings(findings: list[Finding], shown: int = 5) -> None:
    if not findings:
        return
    _console.print(f"{len(findings)} validation warning(s) (adfemu validate lists them all):")
    for f in findings[:shown]:
        _console.print(f"  {f.source}: {f.pointer}: {f.message}", markup=False)


def summary(record: dict) -> None:
    """The activity table of a run record (the run.json document)."""
    run = record["pipelineRun"]
    table = Table("activity", "type", "status", "ms", "error", title=f"pipeline {run['pipelineName']}")
    for activity in record["activityRuns"]:
        error = (activity.get("error") or {}).get("message", "")
        table.add_row(activity["activityName"], activity["activityType"], activity["status"],
                      str(activity["durationInMs"] or 0), error)
    _console.print(table)
    _console.print(f"run {run['runId']}: {run['status']}" + (f" - {run['message']}" if run["message"] else ""),
                   markup=False)
