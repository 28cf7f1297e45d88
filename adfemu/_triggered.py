"""One pipeline run started as a trigger would start it (``--trigger-time``, ``--trigger-type``, ``--window``):
the ``pipeline().Trigger*`` values set and, when the factory has a trigger of that type for the pipeline, its
parameter mapping evaluated with ``trigger()``."""
from __future__ import annotations

from typing import Any

from adfemu.runner.engine import Engine

from ._errors import RunInputError
from ._times import utc


def as_triggered(engine: Engine, pipeline: str, parameters: dict, trigger_time: Any, trigger_type: str | None,
                  window: Any) -> Any:
    """One run as a trigger would start it (``--trigger-time``, ``--trigger-type``, ``--window``)."""
    from adfemu.runner.trigger_runs import SCHEDULE, TUMBLING, TriggerInfo
    from adfemu.runner.triggers import Window
    span = Window(utc(window[0], "window start"), utc(window[1], "window end")) if window else None
    kind = trigger_type or (TUMBLING if span else SCHEDULE)
    fired = utc(trigger_time, "trigger time") if trigger_time is not None else (span.end if span else None)
    if fired is None:
        raise RunInputError("a triggered run needs --trigger-time or --window")
    mapping = _trigger_of(engine.definitions, pipeline, kind)
    name = mapping[0] if mapping else "adfemu"
    info = TriggerInfo(kind, name, engine.ids.new("single-trigger-run", name, fired.isoformat()), fired,
                       span.end if span else fired, span)
    if mapping:  # the trigger's parameter mapping, evaluated with trigger(); given values win
        from adfemu.runner.expressions import Context, evaluate_value
        context = Context(global_parameters=engine.definitions.global_parameters, trigger=info.expression_object(),
                          data_factory=engine.definitions.factory_name, clock=lambda: fired)
        parameters = {**evaluate_value(mapping[1], context), **parameters}
    return engine.run(pipeline, parameters, trigger=info)


def _trigger_of(definitions: Any, pipeline: str, kind: str) -> tuple[str, dict] | None:
    """The first trigger of that type that starts ``pipeline``: (its name, its parameter mapping)."""
    for doc in sorted(definitions.triggers.values(), key=lambda d: d["name"].lower()):
        props = doc.get("properties") or {}
        if props.get("type") != kind:
            continue
        references = [props.get("pipeline")] if kind == "TumblingWindowTrigger" else props.get("pipelines") or []
        for reference in references:
            name = ((reference or {}).get("pipelineReference") or {}).get("referenceName")
            if str(name).lower() == pipeline.lower():
                return doc["name"], reference.get("parameters") or {}
    return None
