"""The pipeline engine: scopes, dependency conditions, Skipped cascades, the leaf rule, policies.

ADF semantics, as Microsoft Learn documents them ("Pipelines and activities in Azure Data Factory and Azure
Synapse Analytics" for dependencies, policies and activity state; "Errors and Conditional execution" for
Skipped and the leaf rule):
- an activity is evaluated once every activity it depends on is final; the ``dependsOn`` entries are
  AND-ed, the conditions inside one entry OR-ed (``Completed`` = Succeeded or Failed); an unmet
  activity is ``Skipped``, and Skipped propagates like any other status;
- independent activities run in parallel (threads);
- a scope (the pipeline, a branch, an iteration) succeeds iff every leaf succeeded, where a skipped
  leaf is replaced by its parents (the leaf rule);
- ``state: Inactive`` activities are not executed and end with ``onInactiveMarkAs`` (default Succeeded);
- ``policy``: per-attempt ``timeout``, ``retry`` attempts spaced by ``retryIntervalInSeconds``,
  ``secureInput``/``secureOutput`` hide the record's input/output (expressions still see them).

Emulated durations (Wait, retry intervals, timeouts, polling) are multiplied by ``Settings.time_scale``.
"""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from .definitions import CONTAINER_KEYS, Definitions, scopes
from .events import ACTIVITY_ENDED, ACTIVITY_PROGRESS, ACTIVITY_STARTED, RUN_ENDED, RUN_STARTED, Event, Listener, emit
from .expressions import Context, ExpressionError, evaluate_value
from .masking import masked_definition
from .records import ActivityRun, PipelineRun
from .reproducible import Clock, Ids, clone

SUCCEEDED, FAILED, SKIPPED, CANCELLED = "Succeeded", "Failed", "Skipped", "Cancelled"
TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?$")
DEFAULT_TIMEOUT = 12 * 3600  # seconds; the current docs' default (the spec says 7 days)


class ActivityError(Exception):
    """An activity failed: rendered as the activity run's ``error``."""

    def __init__(self, message: str, error_code: str = "2011", failure_type: str = "UserError", details: Any = ""):
        super().__init__(message)
        self.message, self.error_code, self.failure_type, self.details = message, error_code, failure_type, details

    def as_error(self, target: str) -> dict:
        return {"errorCode": self.error_code, "message": self.message, "failureType": self.failure_type,
                "target": target, "details": self.details}


class ActivityTimeout(ActivityError):
    def __init__(self, activity: str, limit: str):
        super().__init__(f"Activity '{activity}' timed out: {limit} elapsed.", "2012", "UserError")


class RunError(ValueError):
    """The run cannot start: unknown pipeline, a missing required parameter, a bad value."""


@dataclass
class Settings:
    time_scale: float = 0.01        # real seconds per emulated second (1.0 = real time)
    poll_seconds: float = 20.0      # emulated seconds between BES status polls
    max_parallel: int = 8           # activities of one scope running at once
    services: Any = None            # what activities use to reach Azure (runner.services.Services)
    stubs: dict[str, Callable] = field(default_factory=dict)  # activity name or type -> handler (runner.stubs)
    now: datetime | None = None     # a fixed clock for utcNow() and the records' start (runner.reproducible)
    seed: int | None = None         # reproducible ids, guid() and rand()
    listener: Listener | None = None  # told of every step as it happens (runner.events)


@dataclass
class Call:
    """What a handler gets: the activity (canonical JSON), evaluation, sleeping with the deadline."""
    engine: "Engine"
    execution: "Execution"
    activity: dict
    context: Context
    deadline: float | None
    record: ActivityRun
    timeout_label: str = "its timeout"  # what the deadline is, for the timeout message
    scope: str = ""  # where the activity is in the run ("ForEach1[2]/If1/"): keys ids and nested scopes

    @property
    def name(self) -> str:
        return self.activity["name"]

    @property
    def props(self) -> dict:
        props = self.activity.get("typeProperties")
        return props if isinstance(props, dict) else {}

    def evaluate(self, value: Any) -> Any:
        try:
            return evaluate_value(value, self.context)
        except ExpressionError as exc:
            raise ActivityError(f"The expression '{exc.expression}' cannot be evaluated: {exc}",
                                "InvalidTemplate") from None

    def sleep(self, emulated_seconds: float, timeout_label: str = "") -> None:
        """Wait (compressed by the time scale); past the deadline the attempt times out."""
        real = max(0.0, emulated_seconds) * self.engine.settings.time_scale
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if real >= remaining:
                self.execution.cancel.wait(max(0.0, remaining))
                raise ActivityTimeout(self.name, timeout_label or self.timeout_label)
        if self.execution.cancel.wait(real):
            raise ActivityError("The pipeline run was cancelled.", "Cancelled")

    def check_deadline(self, label: str = "") -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ActivityTimeout(self.name, label or self.timeout_label)

    def run_inner(self, activities: list, label: str, context: Context | None = None,
                  deadline: float | None = None) -> tuple[str, dict | None]:
        """Run a container's inner activities (a branch, an iteration) as a scope nested in this activity;
        ``label`` names it: "(true)", "[2]", "#0"."""
        return self.engine.run_scope(self.execution, activities, context or self.context,
                                     self.deadline if deadline is None else deadline,
                                     f"{self.scope}{self.name}{label}/", self.record.activity_run_id)

    def progress(self, **detail: Any) -> None:
        """Tell the run's listener what this activity is doing (e.g. a BES job id and its state)."""
        emit(self.engine.settings.listener, Event(ACTIVITY_PROGRESS, self.execution.record, self.record, detail))


@dataclass
class Execution:
    """One pipeline run in progress: its record, variables and activity results."""
    pipeline: dict
    record: PipelineRun
    variables: dict[str, Any]
    results: dict[str, dict]  # activity name -> {"output", "status", "error"} for activity('x')
    context: Context
    clock: Clock = field(default_factory=Clock)
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    background: list[threading.Thread] = field(default_factory=list)  # child runs not waited on


class Engine:
    def __init__(self, definitions: Definitions, settings: Settings | None = None):
        self.definitions = definitions
        self.settings = settings or Settings()
        self.clock = Clock(self.settings.now)
        self.ids = Ids(self.settings.seed)
        self._lock = threading.Lock()
        self._by_trigger: dict[str, list] = {}
        from .activities import HANDLERS
        self.handlers = {**HANDLERS, **self.settings.stubs}
        if getattr(self.settings.services, "sql", None):  # runs with SQL translate it on worker threads
            from . import sql
            sql.load_translator()

    # --- runs ---------------------------------------------------------------------------------------

    def run(self, pipeline_name: str, parameters: dict[str, Any] | None = None, *,
            invoked_by: dict | None = None, parent: Execution | None = None, run_id: str | None = None,
            trigger: Any = None) -> PipelineRun:
        """One pipeline run. ``trigger`` (``runner.trigger_runs.TriggerInfo``) is the trigger that started it: its
        clock starts when the trigger fired and ``pipeline().Trigger*`` describe the trigger."""
        pipeline = self.definitions.pipeline(pipeline_name)
        props = pipeline.get("properties", {})
        values, secure = self.definitions.bind_parameters(pipeline, parameters or {})
        clock = parent.clock if parent is not None else Clock(trigger.fired) if trigger else self.clock.begin()
        run_id = run_id or (self.ids.new("child", invoked_by.get("id")) if parent is not None and invoked_by
                            else self.ids.new("triggered", trigger.run_id, len(self._triggered(trigger)))
                            if trigger else self.ids.next_run(pipeline["name"]))
        if trigger is not None:
            invoked_by = {"name": trigger.name, "id": trigger.run_id, "invokedByType": trigger.type}
        record = PipelineRun(pipeline["name"], values, run_id=run_id, secure_parameters=secure,
                             annotations=list(props.get("annotations") or []), clock=clock.now,
                             invoked_by=invoked_by or {"name": "Manual", "id": self.ids.new("manual", run_id),
                                                       "invokedByType": "Manual"},
                             definition=masked_definition(pipeline))
        variables = {name: initial_value(spec) for name, spec in (props.get("variables") or {}).items()}
        results: dict[str, dict] = {}
        context = Context(parameters=values, global_parameters=self.definitions.global_parameters,
                          variables=variables, activities=results, data_factory=self.definitions.factory_name,
                          pipeline=pipeline["name"], run_id=record.run_id, clock=clock.expression_now,
                          triggered_by_pipeline_name=parent.record.pipeline_name if parent else None,
                          triggered_by_pipeline_run_id=parent.record.run_id if parent else None,
                          **_trigger_variables(trigger))
        execution = Execution(pipeline, record, variables, results, context, clock)
        if parent is not None:
            parent.record.add_child(record)
        self._emit(RUN_STARTED, record)
        broken = _missing_dependency(props.get("activities"))
        if broken:  # ADF checks the whole template before starting anything
            record.finish(FAILED, f"ErrorCode=InvalidTemplate, ErrorMessage=The template validation failed: {broken}")
            self._emit(RUN_ENDED, record)
            return record
        status, failure = self.run_scope(execution, props.get("activities") or [], context)
        record.finish(status, f"Operation on target {failure['target']} failed: {failure['message']}"
                      if failure else "")
        self._emit(RUN_ENDED, record)
        for thread in execution.background:  # children started without waiting: let their records complete
            thread.join()
        return record

    # --- scopes -------------------------------------------------------------------------------------

    def run_scope(self, execution: Execution, activities: list[dict], context: Context,
                  deadline: float | None = None, scope: str = "", parent: str | None = None) -> tuple[str, dict | None]:
        """Run one scope's activities; returns (scope status by the leaf rule, the first error met).
        ``deadline`` (monotonic) bounds every activity inside, e.g. the timeout of an enclosing Until;
        ``scope`` names the scope's place in the run (see ``Call.scope``), ``parent`` the container's run id."""
        acts = [a for a in activities if isinstance(a, dict) and isinstance(a.get("name"), str)]
        names = {a["name"].lower(): a["name"] for a in acts}
        upstream = {a["name"]: [(names.get(str(d.get("activity", "")).lower()), d.get("dependencyConditions") or [])
                                for d in (a.get("dependsOn") or []) if isinstance(d, dict)] for a in acts}
        status: dict[str, str] = {}
        errors: dict[str, dict] = {}
        pending = [a["name"] for a in acts]
        by_name = {a["name"]: a for a in acts}
        running: dict[Future, str] = {}
        with ThreadPoolExecutor(max_workers=self.settings.max_parallel, thread_name_prefix="activity") as pool:
            while pending or running:
                for name in list(pending):
                    deps = upstream[name]
                    if any(dep is not None and dep not in status for dep, _ in deps):
                        continue
                    pending.remove(name)
                    act = by_name[name]
                    if act.get("state") == "Inactive":
                        status[name] = act.get("onInactiveMarkAs") or SUCCEEDED
                        error = self._inactive_record(execution, act, status[name], scope, parent)
                        if error:
                            errors[name] = error
                    elif all(_satisfied(status.get(dep), conditions) for dep, conditions in deps if dep is not None):
                        running[pool.submit(self.execute, execution, act, context, deadline, scope, parent)] = name
                    else:
                        status[name] = SKIPPED
                        self._skipped_record(execution, act, scope, parent)
                if running:
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in done:
                        name = running.pop(future)
                        status[name], error = future.result()
                        if error:
                            errors[name] = error
        scope_status, culprit = _leaf_rule(acts, upstream, status)
        if scope_status != FAILED:
            return scope_status, None
        failed = [a["name"] for a in acts if status.get(a["name"]) == FAILED and a["name"] in errors]
        return scope_status, errors.get(culprit) or (errors[failed[0]] if failed else None)

    # --- one activity -------------------------------------------------------------------------------

    def execute(self, execution: Execution, act: dict, context: Context, scope_deadline: float | None = None,
                scope: str = "", parent: str | None = None) -> tuple[str, dict | None]:
        """All attempts of one activity; the last one decides. Returns (status, error)."""
        policy = act.get("policy") if isinstance(act.get("policy"), dict) else {}
        retries = _int(policy.get("retry"), 0)
        interval = _int(policy.get("retryIntervalInSeconds"), 30)
        timeout_text = policy.get("timeout") if isinstance(policy.get("timeout"), str) else None
        timeout = _seconds(timeout_text) if timeout_text else (DEFAULT_TIMEOUT if _is_execution(act) else None)
        status, error, output = FAILED, None, None
        for attempt in range(retries + 1):
            record = execution.record.add(ActivityRun(
                execution.record.pipeline_name, execution.record.run_id, act["name"], act.get("type", ""),
                activity_run_id=self._activity_run_id(execution, scope, act, attempt),
                linked_service_name=(act.get("linkedServiceName") or {}).get("referenceName"),
                retry_attempt=attempt or None, secure_input=bool(policy.get("secureInput")),
                secure_output=bool(policy.get("secureOutput")), clock=execution.clock.now,
                scope=scope, parent_run_id=parent, max_attempts=retries + 1,
                user_properties={p.get("name"): p.get("value") for p in act.get("userProperties") or []
                                 if isinstance(p, dict)}))
            random = self.ids.random("expressions", record.activity_run_id)
            # with time_scale 0 every wait is instant and no timeout can elapse
            deadline = time.monotonic() + timeout * self.settings.time_scale \
                if timeout and self.settings.time_scale > 0 else None
            label = f"policy.timeout {timeout_text or _timespan(timeout)}" if timeout else "its timeout"
            if scope_deadline is not None and (deadline is None or scope_deadline < deadline):
                deadline, label = scope_deadline, "the timeout of the enclosing Until"
            call = Call(self, execution, act, context.replace(random=random), deadline, record, label, scope)
            record.input = _input(call, clone(random))
            self._emit(ACTIVITY_STARTED, execution.record, record)
            try:
                output = self._handler(act)(call)
                status, error = SUCCEEDED, None
                record.finish(SUCCEEDED, output)
            except ActivityError as exc:
                status, error, output = FAILED, exc.as_error(act["name"]), None
                record.finish(FAILED, {}, error)
            except Exception as exc:  # a handler's (or stub's) own bug fails the activity, not the runner
                failure = ActivityError(f"Internal error in the '{act.get('type')}' activity: "
                                        f"{type(exc).__name__}: {exc}", "InternalError", "SystemError")
                status, error, output = FAILED, failure.as_error(act["name"]), None
                record.finish(FAILED, {}, error)
            self._emit(ACTIVITY_ENDED, execution.record, record)
            if status == SUCCEEDED or attempt == retries:
                break
            try:  # the retry wait is bounded by an enclosing Until and interrupted by cancellation
                Call(self, execution, act, context, scope_deadline, record).sleep(interval)
            except ActivityError:
                break
        with execution.lock:
            execution.results[act["name"]] = {"output": output, "status": status, "error": error}
        return status, error

    def _handler(self, act: dict) -> Callable[[Call], Any]:
        """A stub named after the activity wins, then one for its type, then adfemu's own handler."""
        kind = act.get("type", "")
        handler = self.settings.stubs.get(act.get("name", "")) or self.handlers.get(kind)
        if handler is None:
            def unsupported(call: Call) -> Any:
                raise ActivityError(f"Activity type '{kind}' is not supported by adfemu; supply a stub for it "
                                    "(Settings.stubs or a stubs file) to run this pipeline.", "NotSupported")
            return unsupported
        return handler

    def _activity_run_id(self, execution: Execution, scope: str, act: dict, attempt: int = 0) -> str:
        return self.ids.new("activity", execution.record.run_id, scope, act["name"], attempt)

    def _triggered(self, trigger: Any) -> list:
        """Runs already started for this trigger run (retries of a window get their own run ids)."""
        with self._lock:
            runs = self._by_trigger.setdefault(trigger.run_id, [])
            runs.append(trigger)
            return runs[:-1]

    def _emit(self, kind: str, run: PipelineRun, activity: ActivityRun | None = None) -> None:
        emit(self.settings.listener, Event(kind, run, activity))

    def _bare_record(self, execution: Execution, act: dict, scope: str, parent: str | None) -> ActivityRun:
        return execution.record.add(ActivityRun(execution.record.pipeline_name, execution.record.run_id, act["name"],
                                                act.get("type", ""), clock=execution.clock.now, scope=scope,
                                                parent_run_id=parent,
                                                activity_run_id=self._activity_run_id(execution, scope, act)))

    def _inactive_record(self, execution: Execution, act: dict, status: str, scope: str,
                         parent: str | None) -> dict | None:
        record = self._bare_record(execution, act, scope, parent)
        error = {"errorCode": "", "message": "Activity is inactive and marked Failed", "failureType": "UserError",
                 "target": act["name"], "details": ""} if status == FAILED else None
        _decided(record, status, error)
        self._emit(ACTIVITY_ENDED, execution.record, record)
        with execution.lock:
            execution.results[act["name"]] = {"output": None, "status": status, "error": error}
        return error

    def _skipped_record(self, execution: Execution, act: dict, scope: str, parent: str | None) -> None:
        record = self._bare_record(execution, act, scope, parent)
        _decided(record, SKIPPED, None)
        self._emit(ACTIVITY_ENDED, execution.record, record)
        with execution.lock:
            execution.results[act["name"]] = {"output": None, "status": SKIPPED, "error": None}


def _trigger_variables(trigger: Any) -> dict:
    """``pipeline().TriggerType/TriggerName/TriggerId/TriggerTime`` of a run a trigger started (the id is the
    trigger run's, inferred: the documentation says "ID of the trigger that invoked the pipeline")."""
    if trigger is None:
        return {}
    from .trigger_runs import fractional
    return {"trigger_type": trigger.type, "trigger_name": trigger.name, "trigger_id": trigger.run_id,
            "trigger_time": fractional(trigger.fired)}


# What a variable declared without a default reads as before it is set. Microsoft's own test framework
# (microsoft/data-factory-testing-framework, tests/functional/variables_default_value) runs ADF's expression
# evaluator on such variables and gets "" (String), 0 (Integer), false (Boolean) and [] (Array), never null.
_TYPE_DEFAULTS = {"string": "", "bool": False, "boolean": False, "int": 0, "integer": 0, "array": []}


def initial_value(spec: Any) -> Any:
    """A variable's value when the run starts: its ``defaultValue``, else its type's empty value."""
    if not isinstance(spec, dict):
        return None
    if spec.get("defaultValue") is not None:
        return spec["defaultValue"]
    empty = _TYPE_DEFAULTS.get(str(spec.get("type", "")).lower())
    return list(empty) if isinstance(empty, list) else empty


def _decided(record: ActivityRun, status: str, error: dict | None) -> None:
    """A record for an activity that was not executed (Skipped, inactive): empty input and output, no duration."""
    record.input = {}
    record.finish(status, {}, error)
    record.end = record.start


def _missing_dependency(activities: Any) -> str | None:
    """The first dependsOn naming no activity of its level (names compared ignoring case), in the words of
    ADF's run-time template check (each activity is a 'template action' named '<activity>Scope')."""
    for level in scopes(activities):
        names = {a["name"].lower() for a in level if isinstance(a.get("name"), str)}
        for act in level:
            for dep in act.get("dependsOn") or []:
                target = dep.get("activity") if isinstance(dep, dict) else None
                if isinstance(target, str) and target.lower() not in names:
                    return (f"'The 'runAfter' property of template action '{act.get('name')}Scope' contains "
                            f"non-existent action: '{target}Scope'.'")
    return None


def _input(call: Call, random) -> Any:
    """The activity's input as monitoring shows it: its typeProperties, evaluated (nested activities left out).
    Evaluated once more by the handler itself, with a copy of the same random source (so a ``guid()`` shown
    here is the one the activity used); an expression that fails here fails there too."""
    props = {k: v for k, v in call.props.items() if k not in CONTAINER_KEYS}
    try:
        return evaluate_value(props, call.context.replace(random=random)) if props else None
    except ExpressionError:
        return props


def _satisfied(upstream_status: str | None, conditions: list[str]) -> bool:
    """One dependsOn entry: its conditions are OR-ed; Completed means Succeeded or Failed."""
    for condition in conditions:
        if condition == upstream_status or (condition == "Completed" and upstream_status in (SUCCEEDED, FAILED)):
            return True
    return False


def _leaf_rule(acts: list[dict], upstream: dict[str, list], status: dict[str, str]) -> tuple[str, str | None]:
    """Every leaf must have succeeded; a skipped leaf is replaced by its parents, recursively.
    Returns the status and the node that failed it (its error is the pipeline's message)."""
    has_dependant = {dep for deps in upstream.values() for dep, _ in deps if dep is not None}
    evaluated: set[str] = set()
    stack = [a["name"] for a in acts if a["name"] not in has_dependant]
    while stack:
        name = stack.pop()
        if name in evaluated:
            continue
        evaluated.add(name)
        if status.get(name) == SKIPPED:
            stack += [dep for dep, _ in upstream.get(name, []) if dep is not None]
        elif status.get(name) != SUCCEEDED:
            return FAILED, name
    return SUCCEEDED, None


def _seconds(timespan: str) -> float | None:
    match = TIMESPAN.match(timespan.strip())
    if not match:
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


def _timespan(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    return f"{days}.{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _is_execution(act: dict) -> bool:
    return "linkedServiceName" in act
