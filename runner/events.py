"""What a run tells an observer while it happens (live progress, reports): one ``Event`` per step.

Kinds: ``run-started`` / ``run-ended`` (a pipeline run, child runs of ExecutePipeline included),
``activity-started`` / ``activity-ended`` (one attempt of one activity; Skipped and inactive activities only
end), and ``activity-progress`` (what a long activity is doing, e.g. ``{"jobId": ..., "state": "Running"}`` for a
Batch Execution job being polled). Listeners run on the engine's threads and must be quick; one that raises is
logged and the run goes on.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)

RUN_STARTED, RUN_ENDED = "run-started", "run-ended"
ACTIVITY_STARTED, ACTIVITY_PROGRESS, ACTIVITY_ENDED = "activity-started", "activity-progress", "activity-ended"


@dataclass(frozen=True)
class Event:
    kind: str
    run: Any                      # the PipelineRun
    activity: Any = None          # the ActivityRun (activity events)
    detail: dict = field(default_factory=dict)


Listener = Callable[[Event], None]


def emit(listener: Listener | None, event: Event) -> None:
    if listener is None:
        return
    try:
        listener(event)
    except Exception:  # an observer's bug never fails a run
        log.exception("a run listener failed on %s", event.kind)
