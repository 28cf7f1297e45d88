"""Run what a schedule or tumbling-window trigger would start over an interval, with time compressed.

- Schedule trigger: each firing in ``[start, end)`` starts every pipeline the trigger names, one firing after the
  other (a trigger run is Succeeded once its pipelines started, as ADF records it).
- Tumbling-window trigger: each window that ends in ``(start, end]`` is processed oldest first, at most
  ``maxConcurrency`` at once, once the windows it depends on (other triggers, or itself) succeeded; the pipeline
  starts ``delay`` after the window's end and is rerun by ``retryPolicy``; the trigger run ends with the pipeline's
  final status. Triggers it depends on run over the same interval. A dependency window that ended before
  ``start`` counts as succeeded (it is history); one that ends after ``end`` never comes, and the window that
  waits for it fails (ADF would wait seven days, then fail it).

Each pipeline run sees the trigger: ``pipeline().TriggerType/TriggerName/TriggerId/TriggerTime``, its clock
starting when the trigger fired, the parameters the trigger maps (``trigger().scheduledTime``, ``startTime``,
``outputs.windowStartTime``/``windowEndTime``), and ``invokedBy`` naming the trigger run.
"""
from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .expressions import Context, ExpressionError, evaluate_value
from .records import PipelineRun
from .triggers import TriggerError, Window, covering, dependency_span, schedule_times, windows

SUCCEEDED, FAILED = "Succeeded", "Failed"
SCHEDULE, TUMBLING = "ScheduleTrigger", "TumblingWindowTrigger"
MAX_CONCURRENCY = 50


@dataclass(frozen=True)
class TriggerInfo:
    """What a pipeline run started by a trigger sees of it."""
    type: str
    name: str
    run_id: str
    fired: datetime                 # when the trigger fired: TriggerTime, trigger().startTime, the run's clock
    scheduled: datetime             # trigger().scheduledTime
    window: Window | None = None    # trigger().outputs.windowStartTime / windowEndTime

    def expression_object(self) -> dict:
        """``trigger()``."""
        obj: dict[str, Any] = {"name": self.name, "scheduledTime": whole_seconds(self.scheduled),
                               "startTime": fractional(self.fired)}
        if self.window is not None:
            obj["outputs"] = {"windowStartTime": whole_seconds(self.window.start),
                              "windowEndTime": whole_seconds(self.window.end)}
        return obj


@dataclass
class TriggerRun:
    run_id: str
    trigger_name: str
    trigger_type: str
    fired: datetime
    scheduled: datetime
    window: Window | None = None
    status: str = "Inprogress"
    message: str = ""
    triggered: dict[str, str] = field(default_factory=dict)  # pipeline name -> run id (the last attempt)
    runs: list[PipelineRun] = field(default_factory=list)
    dependencies: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The shape of ADF's trigger-run query (``TriggerRun``: properties are strings, dates as .NET shows)."""
        properties = {"TriggerTime": dotnet(self.fired), "ScheduleTime": dotnet(self.scheduled)}
        if self.window is not None:
            properties.update(WindowStartTime=dotnet(self.window.start), WindowEndTime=dotnet(self.window.end))
        document = {"triggerName": self.trigger_name, "triggerRunId": self.run_id, "triggerType": self.trigger_type,
                    "triggerRunTimestamp": fractional(self.fired), "status": self.status, "message": self.message,
                    "properties": properties, "triggeredPipelines": dict(self.triggered),
                    "runDimension": {}}
        if self.dependencies:
            document["dependencyStatus"] = self.dependencies
        return document


def whole_seconds(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fractional(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def dotnet(moment: datetime) -> str:
    """"6/16/2018 12:43:15 AM", as the trigger-run properties show dates."""
    utc = moment.astimezone(timezone.utc)
    hour = utc.hour % 12 or 12
    return f"{utc.month}/{utc.day}/{utc.year} {hour}:{utc.minute:02d}:{utc.second:02d} {'AM' if utc.hour < 12 else 'PM'}"


class TriggerRunner:
    """Runs triggers of a factory with an engine (``runner.engine.Engine``)."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.definitions = engine.definitions

    def run(self, name: str, start: datetime, end: datetime) -> list[TriggerRun]:
        if end <= start:
            raise TriggerError(f"the interval is empty: --end {end.isoformat()} is not after --start {start.isoformat()}")
        trigger = self._trigger(name)
        kind = trigger["properties"].get("type")
        if kind == SCHEDULE:
            return self._schedule(trigger, start, end)
        if kind == TUMBLING:
            return _Tumbling(self, trigger, start, end).run()
        raise TriggerError(f"trigger '{name}' is a {kind}: adfemu runs ScheduleTrigger and TumblingWindowTrigger")

    def _trigger(self, name: str) -> dict:
        doc = self.definitions.triggers.get(str(name).lower())
        if doc is None:
            known = ", ".join(sorted(d["name"] for d in self.definitions.triggers.values())) or "none"
            raise TriggerError(f"trigger '{name}' is not in the factory (triggers: {known})")
        return doc

    # --- schedule ---------------------------------------------------------------------------------------

    def _schedule(self, trigger: dict, start: datetime, end: datetime) -> list[TriggerRun]:
        props = trigger["properties"]
        recurrence = (props.get("typeProperties") or {}).get("recurrence") or {}
        found = []
        for moment in schedule_times(recurrence, start, end):
            record = TriggerRun(self._run_id(trigger["name"], moment), trigger["name"], SCHEDULE, moment, moment)
            info = TriggerInfo(SCHEDULE, trigger["name"], record.run_id, moment, moment)
            for reference in props.get("pipelines") or []:
                run = self.start_pipeline(reference, info)
                record.runs.append(run)
                record.triggered[run.pipeline_name] = run.run_id
            record.status = SUCCEEDED  # a schedule trigger run succeeds once its pipelines are started
            found.append(record)
        return found

    # --- shared ------------------------------------------------------------------------------------------

    def start_pipeline(self, reference: dict, info: TriggerInfo) -> PipelineRun:
        """One pipeline run for a trigger, its parameters mapped from ``trigger()``."""
        pipeline = ((reference or {}).get("pipelineReference") or {}).get("referenceName")
        context = Context(global_parameters=self.definitions.global_parameters, trigger=info.expression_object(),
                          data_factory=self.definitions.factory_name, clock=lambda: info.fired)
        try:
            parameters = evaluate_value(reference.get("parameters") or {}, context)
        except ExpressionError as exc:
            raise TriggerError(f"trigger '{info.name}': a parameter of pipeline '{pipeline}' cannot be evaluated: "
                               f"{exc}") from None
        return self.engine.run(pipeline, parameters, trigger=info)

    def _run_id(self, name: str, moment: datetime, attempt: int = 0) -> str:
        """An id shaped like ADF's ("08586724970898148904457116912CU27"): ticks and a counter."""
        digest = self.engine.ids.new("trigger-run", name, moment.isoformat(), attempt).replace("-", "")
        ticks = 8584000000000000000 + int(moment.timestamp() * 1000) % 10**15
        return f"0{ticks}{int(digest[:8], 16) % 100000:05d}CU{int(digest[8:10], 16) % 100:02d}"


class _Tumbling:
    """One tumbling-window trigger and the triggers it depends on, over one interval."""

    def __init__(self, runner: TriggerRunner, trigger: dict, start: datetime, end: datetime):
        self.runner, self.start, self.end = runner, start, end
        self.target = trigger["name"]
        self.triggers = self._closure(trigger)
        self.items: dict[tuple[str, Window], TriggerRun] = {}
        for name, doc in self.triggers.items():
            for window in windows(_props(doc), start, end):
                fired = window.end + _delay(doc)
                self.items[(name, window)] = TriggerRun(runner._run_id(name, window.end), doc["name"], TUMBLING, fired,
                                                        window.end, window)
        self.waits = {key: self._dependencies(key) for key in self.items}

    def _closure(self, trigger: dict) -> dict[str, dict]:
        found, todo = {}, [trigger]
        while todo:
            doc = todo.pop()
            if doc["name"] in found:
                continue
            found[doc["name"]] = doc
            for dep in _props(doc).get("dependsOn") or []:
                if dep.get("type") == "TumblingWindowTriggerDependencyReference":
                    todo.append(self.runner._trigger((dep.get("referenceTrigger") or {}).get("referenceName")))
        return found

    def _dependencies(self, key: tuple[str, Window]) -> list[tuple[str, Window]]:
        name, window = key
        props = _props(self.triggers[name])
        needed = []
        for dep in props.get("dependsOn") or []:
            other = name if dep.get("type") == "SelfDependencyTumblingWindowTriggerReference" else \
                (dep.get("referenceTrigger") or {}).get("referenceName")
            other = self.triggers[next(n for n in self.triggers if n.lower() == str(other).lower())]["name"]
            span = dependency_span(window, dep, window.end - window.start)
            needed += [(other, w) for w in covering(_props(self.triggers[other]), span) if w.end > self.start]
        return needed

    def run(self) -> list[TriggerRun]:
        order = sorted(self.items, key=lambda key: (key[1].start, key[0] != self.target, key[0]))
        running: dict[Future, tuple[str, Window]] = {}
        counts = {name: 0 for name in self.triggers}
        pending = list(order)
        with ThreadPoolExecutor(max_workers=MAX_CONCURRENCY, thread_name_prefix="window") as pool:
            while pending or running:
                for key in list(pending):
                    verdict = self._ready(key)
                    if verdict is None:
                        continue
                    limit = min(MAX_CONCURRENCY, max(1, int(_props(self.triggers[key[0]]).get("maxConcurrency") or 1)))
                    if verdict and counts[key[0]] >= limit:
                        continue
                    pending.remove(key)
                    if verdict:
                        counts[key[0]] += 1
                        running[pool.submit(self._window, key)] = key
                    else:
                        self._blocked(key)
                if running:
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in done:
                        counts[running.pop(future)[0]] -= 1
                        future.result()
                elif pending:  # nothing runs and nothing can start: every pending window waits on one that never comes
                    for key in pending:
                        self._blocked(key)
                    pending = []
        return [self.items[key] for key in order if key[0] == self.target] + \
            [self.items[key] for key in order if key[0] != self.target]

    def _ready(self, key) -> bool | None:
        """True: can run; False: a dependency failed or never comes; None: waiting."""
        for dep in self.waits[key]:
            record = self.items.get(dep)
            if record is None:
                if dep[1].end > self.end:
                    return False
                continue  # before the interval: history, taken as succeeded
            if record.status == FAILED:
                return False
            if record.status != SUCCEEDED:
                return None
        return True

    def _blocked(self, key) -> None:
        record = self.items[key]
        reasons = []
        for name, window in self.waits[key]:
            other = self.items.get((name, window))
            state = other.status if other else ("not in the emulated interval" if window.end > self.end else SUCCEEDED)
            record.dependencies[f"{name} {whole_seconds(window.start)}"] = {"status": state}
            if state != SUCCEEDED:
                reasons.append(f"{name} window {whole_seconds(window.start)} - {whole_seconds(window.end)} ({state})")
        record.status = FAILED
        record.message = "Dependency not met: " + "; ".join(reasons)

    def _window(self, key) -> None:
        name, window = key
        doc, record = self.triggers[name], self.items[key]
        props = _props(doc)
        engine = self.runner.engine
        policy = props.get("retryPolicy") or {}
        retries, interval = int(policy.get("count") or 0), int(policy.get("intervalInSeconds") or 30)
        for dep in self.waits[key]:
            other = self.items.get(dep)
            record.dependencies[f"{dep[0]} {whole_seconds(dep[1].start)}"] = {
                "status": other.status if other else SUCCEEDED}
        _sleep(engine, _delay(doc).total_seconds())
        fired = record.fired
        for attempt in range(retries + 1):
            info = TriggerInfo(TUMBLING, doc["name"], record.run_id, fired, record.scheduled, window)
            run = self.runner.start_pipeline(doc["properties"].get("pipeline") or {}, info)
            record.runs.append(run)
            record.triggered[run.pipeline_name] = run.run_id
            if run.status == SUCCEEDED or attempt == retries:
                break
            _sleep(engine, interval)
            fired = fired + (run.end - run.start) + timedelta(seconds=interval)
        record.status = SUCCEEDED if run.status == SUCCEEDED else FAILED
        record.message = "" if run.status == SUCCEEDED else run.message


def _props(doc: dict) -> dict:
    return (doc.get("properties") or {}).get("typeProperties") or {}


def _delay(doc: dict) -> timedelta:
    from .triggers import timespan
    delay = _props(doc).get("delay")
    return timespan(delay, f"trigger '{doc['name']}' delay") if delay else timedelta(0)


def _sleep(engine: Any, emulated_seconds: float) -> None:
    real = max(0.0, emulated_seconds) * engine.settings.time_scale
    if real > 0:
        threading.Event().wait(real)  # compressed time: the emulated delay or retry interval
