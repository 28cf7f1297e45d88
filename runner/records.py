"""Run records shaped like ADF's ``PipelineRun`` and ``ActivityRun`` (the spec's field names)."""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

SECURE = "(secure)"  # what the monitoring view shows instead of a secured input or output


def now() -> datetime:
    return datetime.now(timezone.utc)


def stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z" if moment else None


def new_id() -> str:
    return str(uuid.uuid4())


def duration_ms(start: datetime | None, end: datetime | None) -> int | None:
    return int((end - start).total_seconds() * 1000) if start and end else None


@dataclass(slots=True)  # one per activity run: a ForEach over 10,000 items keeps 10,000
class ActivityRun:
    pipeline_name: str
    pipeline_run_id: str
    activity_name: str
    activity_type: str
    status: str = "InProgress"
    activity_run_id: str = field(default_factory=new_id)
    linked_service_name: str | None = None
    start: datetime | None = None  # None: the clock's now
    end: datetime | None = None
    input: Any = None
    output: Any = None
    error: dict | None = None
    retry_attempt: int | None = None
    user_properties: dict = field(default_factory=dict)
    secure_input: bool = False
    secure_output: bool = False
    scope: str = ""  # the containers around it: "ForEach1[2]/If1(true)/" (empty at the pipeline's top level)
    parent_run_id: str | None = None  # the activity run of the innermost container
    max_attempts: int = 1  # 1 + policy.retry
    clock: Callable[[], datetime] = field(default=now, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.start is None:
            self.start = self.clock()

    @property
    def attempt(self) -> int:
        return (self.retry_attempt or 0) + 1

    def finish(self, status: str, output: Any = None, error: dict | None = None) -> None:
        self.status, self.output, self.error, self.end = status, output, error, self.clock()

    def as_dict(self) -> dict:
        return {
            "pipelineName": self.pipeline_name, "pipelineRunId": self.pipeline_run_id,
            "activityName": self.activity_name, "activityType": self.activity_type,
            "activityRunId": self.activity_run_id, "linkedServiceName": self.linked_service_name,
            "status": self.status, "activityRunStart": stamp(self.start), "activityRunEnd": stamp(self.end),
            "durationInMs": duration_ms(self.start, self.end),
            "input": SECURE if self.secure_input and self.input is not None else self.input,
            "output": SECURE if self.secure_output and self.output is not None else self.output,
            "error": self.error or {"errorCode": "", "message": "", "failureType": "", "target": self.activity_name,
                                    "details": ""},
            "retryAttempt": self.retry_attempt, "userProperties": self.user_properties,
            # adfemu's own: where the run sits (ADF's monitoring nests it under its container)
            "adfemu": {"scope": self.scope, "parentActivityRunId": self.parent_run_id,
                       "maxAttempts": self.max_attempts},
        }


@dataclass
class PipelineRun:
    pipeline_name: str
    parameters: dict[str, Any]
    run_id: str = field(default_factory=new_id)
    status: str = "InProgress"
    message: str = ""
    start: datetime | None = None  # None: the clock's now
    end: datetime | None = None
    invoked_by: dict = field(default_factory=lambda: {"name": "Manual", "id": new_id(), "invokedByType": "Manual"})
    annotations: list = field(default_factory=list)
    run_dimensions: dict = field(default_factory=dict)
    activity_runs: list[ActivityRun] = field(default_factory=list)
    children: list["PipelineRun"] = field(default_factory=list)
    secure_parameters: set[str] = field(default_factory=set)
    definition: dict | None = field(default=None, repr=False)  # the pipeline as run (secrets masked), for reports
    clock: Callable[[], datetime] = field(default=now, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.start is None:
            self.start = self.clock()

    def finish(self, status: str, message: str = "") -> None:
        self.status, self.message, self.end = status, message, self.clock()

    def add(self, record: ActivityRun) -> ActivityRun:
        with self._lock:
            self.activity_runs.append(record)
        return record

    def add_child(self, child: "PipelineRun") -> None:
        with self._lock:
            self.children.append(child)

    def as_dict(self) -> dict:
        return {
            "runId": self.run_id, "runGroupId": self.run_id, "isLatest": True, "pipelineName": self.pipeline_name,
            "parameters": {k: SECURE if k in self.secure_parameters else _as_string(v) for k, v in self.parameters.items()},
            "runDimensions": self.run_dimensions, "invokedBy": self.invoked_by, "lastUpdated": stamp(self.end or self.clock()),
            "runStart": stamp(self.start), "runEnd": stamp(self.end), "durationInMs": duration_ms(self.start, self.end),
            "status": self.status, "message": self.message, "annotations": self.annotations,
        }

    def document(self) -> dict:
        """``{"pipelineRun", "activityRuns", "childRuns", "pipeline"}``: what ``adfemu run --output`` writes
        (``pipeline`` is the definition that ran, secrets masked, for ``adfemu report``)."""
        runs = sorted(self.activity_runs, key=lambda r: r.start)
        document = {"pipelineRun": self.as_dict(), "activityRuns": [r.as_dict() for r in runs],
                    "childRuns": [c.document() for c in self.children]}
        if self.definition is not None:
            document["pipeline"] = self.definition
        return document


def _as_string(value: Any) -> str:
    """Run records show parameter values as strings, as ADF's monitoring does."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    return json.dumps(value, separators=(",", ":")) if isinstance(value, (dict, list)) else str(value)
