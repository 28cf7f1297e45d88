"""Control-flow activities, as Microsoft Learn's Azure Data Factory control-flow activity pages describe them."""
from __future__ import annotations

import itertools
import json
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait as wait_for
from typing import Any, Callable

from ..engine import FAILED, SUCCEEDED, ActivityError, Call, _seconds

MAX_BATCH = 50


def wait(call: Call) -> dict:
    seconds = call.evaluate(call.props.get("waitTimeInSeconds", 0))
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ActivityError(f"waitTimeInSeconds must be a number, not {seconds!r}")
    call.sleep(float(seconds))
    return {}


def set_variable(call: Call) -> dict:
    name = call.props.get("variableName")
    if name == "pipelineReturnValue" and call.props.get("setSystemVariable"):
        value = {entry["key"]: _return_value(call, entry.get("value") or {})
                 for entry in call.props.get("value") or [] if isinstance(entry, dict) and "key" in entry}
        with call.execution.lock:
            call.execution.variables["pipelineReturnValue"] = value
        return {"name": name, "value": value}
    _declared(call, name)
    value = call.evaluate(call.props.get("value"))
    with call.execution.lock:
        call.execution.variables[name] = value
    return {"name": name, "value": value}


def append_variable(call: Call) -> dict:
    name = call.props.get("variableName")
    _declared(call, name)
    value = call.evaluate(call.props.get("value"))
    with call.execution.lock:
        current = call.execution.variables.get(name)
        if current is None:
            current = []
        if not isinstance(current, list):
            raise ActivityError(f"AppendVariable needs an Array variable; '{name}' holds {type(current).__name__}")
        call.execution.variables[name] = current + [value]
    return {"name": name, "value": value}


def fail(call: Call) -> Any:
    message = call.evaluate(call.props.get("message"))
    code = call.evaluate(call.props.get("errorCode"))
    if not str(message or "").strip() or not str(code or "").strip():
        raise ActivityError("The Fail activity needs a non-blank message and errorCode.")
    raise ActivityError(str(message), str(code))


def if_condition(call: Call) -> dict:
    result = call.evaluate(call.props.get("expression"))
    if not isinstance(result, bool):
        raise ActivityError(f"The IfCondition expression must be a boolean, not {result!r}")
    branch = call.props.get("ifTrueActivities" if result else "ifFalseActivities") or []
    _run_branch(call, branch, "true" if result else "false")
    return {}


def switch(call: Call) -> dict:
    """``on`` "must evaluate to string value" and each case value is a string (Microsoft Learn, "Switch activity
    in Azure Data Factory"): strings are compared as they are (case-sensitive, inferred); any other result fails
    the activity with a type error, as If does, instead of matching a case named "None" or "True"."""
    on = call.evaluate(call.props.get("on"))
    if not isinstance(on, str):
        raise ActivityError(f"The Switch expression must evaluate to a string, not {_json_type(on)} "
                            f"({json.dumps(on)[:80]}).")
    chosen, branch = call.props.get("defaultActivities") or [], "default"
    for case in call.props.get("cases") or []:
        if isinstance(case, dict) and case.get("value") == on:
            chosen, branch = case.get("activities") or [], f"case {case.get('value')}"
            break
    _run_branch(call, chosen, branch)
    return {}


def for_each(call: Call) -> dict:
    items = call.evaluate(call.props.get("items"))
    if not isinstance(items, list):
        raise ActivityError(f"ForEach items must be an array, not {type(items).__name__}")
    sequential = bool(call.props.get("isSequential"))
    batch = min(int(call.props.get("batchCount") or 20), MAX_BATCH)
    body = call.props.get("activities") or []
    statuses: list[str] = []
    lock = threading.Lock()

    def iteration(index: int, item: Any) -> None:
        status, _ = call.run_inner(body, f"[{index}]", call.context.replace(item=item))
        with lock:
            statuses.append(status)

    if sequential:
        for index, item in enumerate(items):
            iteration(index, item)
    else:
        _in_batches(iteration, items, max(1, batch))
    if FAILED in statuses:
        raise ActivityError(f"{statuses.count(FAILED)} of {len(items)} iteration(s) failed.", "ActivityFailed")
    return {}


def _in_batches(work: Callable[[int, Any], None], items: list, batch: int) -> None:
    """``work(index, item)`` for each item, in the items' order, ``batch`` at a time. Only ``batch`` iterations are
    handed to the pool at once: a ForEach over 10,000 items keeps 50 pending, not 10,000 queued futures."""
    errors: list[BaseException] = []

    def settle(done: set[Future]) -> None:
        errors.extend(e for e in (f.exception() for f in done) if e is not None)

    with ThreadPoolExecutor(max_workers=batch, thread_name_prefix="foreach") as pool:
        pending: set[Future] = set()
        for index, item in enumerate(items):
            if len(pending) >= batch:
                done, pending = wait_for(pending, return_when=FIRST_COMPLETED)
                settle(done)
            pending.add(pool.submit(work, index, item))
        settle(wait_for(pending).done)
    if errors:  # as pool.map did: every iteration ran, then an error (the first to happen) surfaces
        raise errors[0]


def until(call: Call) -> dict:
    """Do-while: the body runs, then the expression decides; ``timeout`` bounds the whole loop, body included."""
    timeout = _seconds(str(call.evaluate(call.props.get("timeout") or "7.00:00:00"))) or 7 * 86400
    deadline = _deadline(call, timeout)
    if call.deadline is not None:  # an enclosing Until's timeout bounds this one too
        deadline = call.deadline if deadline is None else min(deadline, call.deadline)
    deadline_call = Call(call.engine, call.execution, call.activity, call.context, deadline, call.record)
    for iteration in itertools.count():
        status, error = call.run_inner(call.props.get("activities") or [], f"#{iteration}", deadline=deadline)
        deadline_call.check_deadline(f"the Until timeout {call.props.get('timeout') or '7.00:00:00'}")
        if status == FAILED:
            raise ActivityError((error or {}).get("message", "An activity inside Until failed."), "ActivityFailed")
        done = deadline_call.evaluate(call.props.get("expression"))
        if not isinstance(done, bool):  # "an expression that would evaluate to Boolean" (Until activity page)
            raise ActivityError(f"The Until expression must be a boolean, not {_json_type(done)} "
                                f"({json.dumps(done)[:80]}).")
        if done:
            return {}
        deadline_call.check_deadline(f"the Until timeout {call.props.get('timeout') or '7.00:00:00'}")


def filter_items(call: Call) -> dict:
    items = call.evaluate(call.props.get("items"))
    if not isinstance(items, list):
        raise ActivityError(f"Filter items must be an array, not {type(items).__name__}")
    kept = []
    for item in items:
        result = Call(call.engine, call.execution, call.activity, call.context.replace(item=item), None,
                      call.record).evaluate(call.props.get("condition"))
        if result is True:
            kept.append(item)
    return {"ItemsCount": len(items), "FilteredItemsCount": len(kept), "Value": kept}


def execute_pipeline(call: Call) -> dict:
    reference = call.props.get("pipeline") or {}
    name = reference.get("referenceName")
    parameters = call.evaluate(call.props.get("parameters") or {})
    wait_on_completion = bool(call.props.get("waitOnCompletion"))
    invoked_by = {"name": call.name, "id": call.record.activity_run_id, "invokedByType": "PipelineActivity",
                  "pipelineName": call.execution.record.pipeline_name,
                  "pipelineRunId": call.execution.record.run_id}
    from ..definitions import DefinitionsError
    try:
        if not wait_on_completion:
            child = _start_in_background(call, name, parameters, invoked_by)
            return {"pipelineName": name, "pipelineRunId": child}
        run = call.engine.run(name, parameters, invoked_by=invoked_by, parent=call.execution)
    except DefinitionsError as exc:
        raise ActivityError(str(exc)) from None
    output = {"pipelineName": run.pipeline_name, "pipelineRunId": run.run_id}
    returned = _child_return_value(run)
    if returned is not None:
        output["pipelineReturnValue"] = returned
    if run.status != SUCCEEDED:
        raise ActivityError(f"Operation on target {call.name} failed: {run.message}", "2011", details=output)
    return output


def _start_in_background(call: Call, name: str, parameters: dict, invoked_by: dict) -> str:
    """waitOnCompletion false: the activity succeeds once the child run is started."""
    pipeline = call.engine.definitions.pipeline(name)  # an unknown pipeline or a bad parameter fails the
    call.engine.definitions.bind_parameters(pipeline, parameters)  # activity now, not the background thread
    run_id = call.engine.ids.new("child", invoked_by["id"])
    thread = threading.Thread(target=call.engine.run, name=f"child-{name}", daemon=True,
                              args=(name, parameters), kwargs={"invoked_by": invoked_by, "parent": call.execution,
                                                               "run_id": run_id})
    with call.execution.lock:
        call.execution.background.append(thread)
    thread.start()
    return run_id


def _child_return_value(run) -> dict | None:
    for record in reversed(run.activity_runs):
        output = record.output
        if record.activity_type == "SetVariable" and isinstance(output, dict) \
                and output.get("name") == "pipelineReturnValue":
            return output.get("value")
    return None


def _return_value(call: Call, spec: dict) -> Any:
    kind, content = spec.get("type"), spec.get("content")
    if kind == "Null":
        return None
    if kind == "Expression":
        return call.evaluate(content)
    return call.evaluate(content) if isinstance(content, (str, dict, list)) else content


def _declared(call: Call, name: Any) -> None:
    declared = (call.execution.pipeline.get("properties") or {}).get("variables") or {}
    if name not in declared:
        raise ActivityError(f"The variable '{name}' is not declared in pipeline '{call.execution.record.pipeline_name}'.")


def _run_branch(call: Call, activities: list, branch: str) -> None:
    status, error = call.run_inner(activities, f"({branch})")
    if status == FAILED:
        raise ActivityError((error or {}).get("message", "An activity in the branch failed."), "ActivityFailed")


def _json_type(value: Any) -> str:
    """The JSON type of a value, for type errors (null, a boolean, a number, ...)."""
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "an array", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _deadline(call: Call, seconds: float) -> float | None:
    scale = call.engine.settings.time_scale
    return time.monotonic() + seconds * scale if scale > 0 else None


HANDLERS = {"Wait": wait, "SetVariable": set_variable, "AppendVariable": append_variable, "Fail": fail,
            "IfCondition": if_condition, "Switch": switch, "ForEach": for_each, "Until": until,
            "Filter": filter_items, "ExecutePipeline": execute_pipeline}
