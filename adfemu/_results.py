"""What a run gives back: ``RunResult`` (the pipeline run) and ``ActivityResult`` (one activity run), read from
the same records as ``run.json``, so inputs and outputs are masked exactly as there."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adfemu.runner.records import ActivityRun, PipelineRun


@dataclass(frozen=True)
class ActivityResult:
    """One activity run (one attempt; a retried activity has one per attempt)."""

    name: str
    type: str
    status: str
    input: Any
    output: Any
    error: dict | None  # None unless it failed: {"errorCode", "message", "failureType", "target", "details"}
    retry_attempt: int | None
    duration_ms: int | None
    activity_run_id: str
    pipeline_name: str
    record: dict = field(repr=False)  # the activity run as run.json has it

    @classmethod
    def of(cls, run: ActivityRun) -> "ActivityResult":
        record = run.as_dict()
        return cls(run.activity_name, run.activity_type, run.status, record["input"], record["output"],
                   record["error"] if run.error else None, run.retry_attempt, record["durationInMs"],
                   run.activity_run_id, run.pipeline_name, record)


class RunResult:
    """A pipeline run: ``status``, ``run_id``, ``message``, ``record`` (the ``run.json`` document),
    ``activities`` (this pipeline's activity runs, in start order), ``activity(name)`` and ``children`` (runs
    started by ExecutePipeline)."""

    def __init__(self, run: PipelineRun):
        self._run = run
        self.status: str = run.status
        self.run_id: str = run.run_id
        self.pipeline: str = run.pipeline_name
        self.message: str = run.message
        self.record: dict = run.document()
        self.activities: list[ActivityResult] = [ActivityResult.of(r)
                                                 for r in sorted(run.activity_runs, key=lambda r: r.start)]
        self.children: list[RunResult] = [RunResult(child) for child in run.children]

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"

    def activity(self, name: str) -> ActivityResult:
        """The latest run of the activity called ``name`` (case-insensitive, as ADF matches names): its last
        attempt, or its last iteration inside a ForEach or Until."""
        runs = self.activity_runs(name)
        if not runs:
            known = ", ".join(dict.fromkeys(a.name for a in self.activities)) or "none"
            raise KeyError(f"no activity '{name}' ran in pipeline {self.pipeline} (activity runs: {known})")
        return runs[-1]

    def activity_runs(self, name: str) -> list[ActivityResult]:
        """Every run of the activity called ``name``, in start order (attempts, iterations)."""
        return [a for a in self.activities if a.name.lower() == name.lower()]

    def __repr__(self) -> str:
        return f"<RunResult {self.pipeline} {self.status} run_id={self.run_id}>"


class TriggerResult:
    """What a trigger started over an interval: ``trigger_runs`` (dicts shaped like ADF's trigger-run query),
    ``runs`` (``RunResult`` of every pipeline run, retries included, in start order), ``record`` (the
    ``runs.json`` document: ``{"triggerRuns", "runs"}``) and ``status`` (Succeeded when every trigger run and the
    last pipeline run of each succeeded)."""

    def __init__(self, trigger_runs: list):
        self.trigger_runs: list[dict] = [t.as_dict() for t in trigger_runs]
        runs = sorted((run for t in trigger_runs for run in t.runs), key=lambda r: r.start)
        self.runs: list[RunResult] = [RunResult(run) for run in runs]
        self.record: dict = {"triggerRuns": self.trigger_runs, "runs": [r.record for r in self.runs]}
        finals = [t.runs[-1].status for t in trigger_runs if t.runs]
        self.status = "Succeeded" if all(t.status == "Succeeded" for t in trigger_runs) and \
            all(s == "Succeeded" for s in finals) else "Failed"

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"

    def __repr__(self) -> str:
        return f"<TriggerResult {len(self.trigger_runs)} trigger run(s) {self.status}>"
