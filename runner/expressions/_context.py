"""``Context``: everything an expression can see."""
from __future__ import annotations

import random as _random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

__all__ = ["Context"]


class _Unset:
    __slots__ = ()

    def __repr__(self):
        return "<unset>"

    def __bool__(self):
        return False


UNSET: Any = _Unset()


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, eq=False)
class Context:
    """What an expression can see. Immutable: derive one with ``context.replace(item=...)``.

    * ``parameters``: pipeline parameters (``pipeline().parameters.x``), defaults already applied.
    * ``global_parameters``: factory global parameters (``pipeline().globalParameters.x``).
    * ``variables``: pipeline variables (``variables('x')``); the mapping is read at evaluation time,
      so a live dict shows the current values.
    * ``activities``: activity name -> the object ``activity(name)`` returns, e.g.
      ``{"output": {...}, "status": "Succeeded", "error": None}`` (names matched ignoring case).
    * ``item``: the current ForEach/Filter item; leave unset outside an iteration (``item()`` then fails).
    * ``dataset`` / ``linked_service``: the parameters of the dataset / linked service being evaluated
      (``dataset().x``, ``linkedService().x``); ``None`` outside one.
    * ``trigger``: the trigger object (``trigger().scheduledTime``, ``trigger().outputs.body``;
      ``triggerBody()`` is ``trigger().outputs.body``); ``None`` when there is none.
    * System variables for ``pipeline()``: ``data_factory``, ``pipeline``, ``run_id``, ``trigger_type``
      ("Manual"), ``trigger_id``, ``trigger_name`` ("Manual"), ``trigger_time`` (default: the clock
      when the context was made, in ``o`` format), ``group_id`` (default: ``run_id``),
      ``triggered_by_pipeline_name`` / ``triggered_by_pipeline_run_id`` (set for a child run of
      ExecutePipeline; when ``None`` the property is absent, so ``pipeline()?.TriggeredByPipelineName``
      is null and ``pipeline().TriggeredByPipelineName`` fails, as the documentation's ``?.`` implies).
    * ``clock``: returns the current time (an aware datetime; naive means UTC) for ``utcNow``,
      ``getFutureTime``, ``getPastTime``.
    * ``random``: a ``random.Random`` for ``rand()`` and ``guid()`` (``None``: the system's).
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)
    global_parameters: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    activities: Mapping[str, Any] = field(default_factory=dict)
    item: Any = UNSET
    dataset: Mapping[str, Any] | None = None
    linked_service: Mapping[str, Any] | None = None
    trigger: Mapping[str, Any] | None = None
    data_factory: str = ""
    pipeline: str = ""
    run_id: str = ""
    trigger_type: str = "Manual"
    trigger_id: str = ""
    trigger_name: str = "Manual"
    trigger_time: str | None = None
    group_id: str | None = None
    triggered_by_pipeline_name: str | None = None
    triggered_by_pipeline_run_id: str | None = None
    clock: Callable[[], datetime] = _utc_now
    random: _random.Random | None = None

    def __post_init__(self):
        if self.trigger_time is None:
            from .functions._datetime import Stamp, format_stamp
            now = self.clock()
            if now.tzinfo is None:
                now = now.replace(tzinfo=timezone.utc)
            object.__setattr__(self, "trigger_time", format_stamp(Stamp.from_datetime(now, 0, True), "o"))
        object.__setattr__(self, "_system", None)

    @property
    def _has_item(self) -> bool:
        return self.item is not UNSET

    def replace(self, **changes) -> "Context":
        """A copy with some fields changed (e.g. ``item`` for each ForEach iteration)."""
        from dataclasses import replace
        return replace(self, **changes)

    def _system_object(self) -> dict:
        """The object ``pipeline()`` returns."""
        cached = self.__dict__.get("_system")
        if cached is not None:
            return cached
        obj = {
            "DataFactory": self.data_factory,
            "Pipeline": self.pipeline,
            "RunId": self.run_id,
            "TriggerType": self.trigger_type,
            "TriggerId": self.trigger_id,
            "TriggerName": self.trigger_name,
            "TriggerTime": self.trigger_time,
            "GroupId": self.group_id if self.group_id is not None else self.run_id,
        }
        if self.triggered_by_pipeline_name is not None:
            obj["TriggeredByPipelineName"] = self.triggered_by_pipeline_name
        if self.triggered_by_pipeline_run_id is not None:
            obj["TriggeredByPipelineRunId"] = self.triggered_by_pipeline_run_id
        obj["parameters"] = _plain(self.parameters)
        obj["globalParameters"] = _plain(self.global_parameters)
        object.__setattr__(self, "_system", obj)
        return obj


def _plain(mapping) -> dict:
    return mapping if type(mapping) is dict else dict(mapping or {})
