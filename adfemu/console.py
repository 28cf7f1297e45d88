"""Terminal output of `adfemu run`: plain when not a TTY, so CI logs stay readable."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from adfemu.runner.records import PipelineRun
from adfemu.schemas.entities import Finding

_console = Console(highlight=False)


def warnings(findings: list[Finding], shown: int = 5) -> None:
    if not findings:
        return
    _console.print(f"{len(findings)} validation warning(s) (adfemu validate lists them all):")
    for f in findings[:shown]:
        _console.print(f"  {f.source}: {f.pointer}: {f.message}", markup=False)


def summary(record: PipelineRun) -> None:
    table = Table("activity", "type", "status", "ms", "error", title=f"pipeline {record.pipeline_name}")
    for run in sorted(record.activity_runs, key=lambda r: r.start):
        data = run.as_dict()
        error = (run.error or {}).get("message", "")
        table.add_row(run.activity_name, run.activity_type, run.status, str(data["durationInMs"] or 0), error)
    _console.print(table)
    _console.print(f"run {record.run_id}: {record.status}" + (f" - {record.message}" if record.message else ""),
                   markup=False)
