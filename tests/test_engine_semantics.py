"""Execution semantics of the pipeline engine: dependencies, Skipped, the leaf rule, control flow, policies,
activity state and run records, as Microsoft Learn's ADF pages and the ADF REST spec describe them.

Pipelines are built in memory and run by ``runner.engine.Engine``: no emulator, no storage, no HTTP.
Activities whose outcome a test controls have type ``Stub`` and are served by the handler ``Stubs``
below (``typeProperties.outcome`` "succeed"/"fail", ``seconds`` to sleep in emulated seconds, ``value``
to evaluate and record). Emulated time is scaled by ``Settings.time_scale``; no test sleeps itself.
"""
from __future__ import annotations

import json
import re
import threading
import tracemalloc
from datetime import datetime, timezone

import pytest

from adfemu.runner.definitions import Definitions, DefinitionsError
from adfemu.runner.engine import ActivityError, Engine, Settings
from adfemu.runner.records import SECURE, PipelineRun

S, F, C, K = "Succeeded", "Failed", "Completed", "Skipped"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


# --- building blocks ------------------------------------------------------------------------------

class Stubs:
    """The ``Stub`` activity type: records each call, the values it evaluated and its concurrency."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list[str] = []
        self.values: list = []
        self.active = 0
        self.max_active = 0

    def __call__(self, call):
        with self.lock:
            self.calls.append(call.name)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if "value" in call.props:
                value = call.evaluate(call.props["value"])
                with self.lock:
                    self.values.append(value)
            if "input" in call.props:  # as the AzureML handlers do: the handler records its input
                call.record.input = call.evaluate(call.props["input"])
            seconds = call.props.get("seconds", 0)
            if seconds:
                call.sleep(seconds)
            if call.evaluate(call.props.get("outcome", "succeed")) == "fail":
                raise ActivityError(call.props.get("message", f"{call.name} failed"), call.props.get("code", "E42"))
            if call.props.get("token"):  # an output that appears nowhere in the activity's definition
                return {"token": f"tok-{call.name.lower()}-{len(call.name) * 41}"}
            return call.evaluate(call.props.get("output", {"ran": call.name}))
        finally:
            with self.lock:
                self.active -= 1

    def count(self, name: str) -> int:
        return self.calls.count(name)


def stub(name: str, *depends: dict, outcome: str = "succeed", **props) -> dict:
    return activity(name, "Stub", *depends, outcome=outcome, **props)


def activity(name: str, kind: str, *depends: dict, policy: dict | None = None, **props) -> dict:
    doc = {"name": name, "type": kind, "dependsOn": list(depends), "userProperties": [], "typeProperties": props}
    if policy is not None:
        doc["policy"] = policy
    return doc


def on(name: str, *conditions: str) -> dict:
    return {"activity": name, "dependencyConditions": list(conditions)}


def wait(name: str, seconds: float, *depends: dict) -> dict:
    return activity(name, "Wait", *depends, waitTimeInSeconds=seconds)


def set_var(name: str, variable: str, value, *depends: dict, **extra) -> dict:
    return activity(name, "SetVariable", *depends, variableName=variable, value=value, **extra)


def pipeline(name: str, activities: list, parameters: dict | None = None, variables: dict | None = None) -> dict:
    return {"name": name, "properties": {"activities": activities, "parameters": parameters or {},
                                         "variables": variables or {}, "annotations": []}}


def run(activities: list, parameters: dict | None = None, *, declared: dict | None = None,
        variables: dict | None = None, stubs: Stubs | None = None, time_scale: float = 0.001,
        extra: list[dict] | None = None) -> PipelineRun:
    docs = [pipeline("p", activities, declared, variables)] + (extra or [])
    defs = Definitions(pipelines={d["name"].lower(): d for d in docs})
    handlers = {"Stub": stubs} if stubs is not None else {}
    return Engine(defs, Settings(time_scale=time_scale, stubs=handlers)).run("p", parameters or {})


def runs(record: PipelineRun, name: str) -> list:
    return [r for r in record.activity_runs if r.activity_name == name]


def status(record: PipelineRun, name: str) -> str:
    found = runs(record, name)
    assert found, f"no activity run for {name}"
    return found[-1].status


def statuses(record: PipelineRun) -> dict[str, str]:
    return {r.activity_name: r.status for r in record.activity_runs}


def parse_stamp(text: str) -> datetime:
    assert STAMP.match(text), text
    return datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)


@pytest.fixture
def stubs() -> Stubs:
    return Stubs()


# --- dependsOn: AND of entries, OR inside an entry --------------------------------------------------

@pytest.mark.parametrize("a, b, runs_c", [("succeed", "succeed", True), ("succeed", "fail", False),
                                          ("fail", "succeed", False), ("fail", "fail", False)])
def test_depends_on_entries_are_anded(stubs, a, b, runs_c):
    record = run([stub("A", outcome=a), stub("B", outcome=b), stub("C", on("A", S), on("B", S))], stubs=stubs)
    assert status(record, "C") == (S if runs_c else K)
    assert stubs.count("C") == (1 if runs_c else 0)


def test_depends_on_matches_names_ignoring_case(stubs):
    """Item 7 (run time): the seed's "amlbeGetilearner" reaches "amlBEGetilearner"."""
    record = run([stub("amlBEGetilearner"), stub("next", on("amlbeGetilearner", S), outcome="fail")], stubs=stubs)
    assert stubs.calls == ["amlBEGetilearner", "next"] and record.status == F


@pytest.mark.parametrize("where", ["top", "nested"])
def test_depends_on_a_missing_activity_fails_the_run_before_anything_starts(stubs, where):
    """Item 7 (run time): ADF accepts the pipeline, and its run fails at start with InvalidTemplate."""
    broken = [stub("Wait 1"), stub("Wait 4", on("If Condition1", S))]
    acts = broken if where == "top" else [stub("First"), activity(
        "If Condition", "IfCondition", on("First", S), expression={"value": "@true", "type": "Expression"},
        ifTrueActivities=broken)]
    record = run(acts, stubs=stubs)
    assert record.status == F and stubs.calls == [] and record.activity_runs == []
    assert record.message == ("ErrorCode=InvalidTemplate, ErrorMessage=The template validation failed: 'The "
                              "'runAfter' property of template action 'Wait 4Scope' contains non-existent action: "
                              "'If Condition1Scope'.'")
    assert record.as_dict()["status"] == F


@pytest.mark.parametrize("upstream, expected", [("succeed", K), ("fail", S), ("skip", S)])
def test_conditions_inside_one_entry_are_ored(stubs, upstream, expected):
    """Item 10: ["Failed", "Skipped"] is met by Failed or Skipped, not by Succeeded."""
    acts = [stub("Z", outcome="fail" if upstream == "skip" else "succeed"),
            stub("A", on("Z", S), outcome="fail" if upstream == "fail" else "succeed"),
            stub("E", on("A", F, K))]
    record = run(acts, stubs=stubs)
    assert status(record, "A") == {"succeed": S, "fail": F, "skip": K}[upstream]
    assert status(record, "E") == expected
    assert stubs.count("E") == (1 if expected == S else 0)


@pytest.mark.parametrize("upstream, expected", [("succeed", S), ("fail", S), ("skip", K)])
def test_completed_means_succeeded_or_failed_not_skipped(stubs, upstream, expected):
    acts = [stub("Z", outcome="fail" if upstream == "skip" else "succeed"),
            stub("A", on("Z", S), outcome="fail" if upstream == "fail" else "succeed"),
            stub("C", on("A", C))]
    record = run(acts, stubs=stubs)
    assert status(record, "C") == expected
    assert stubs.count("C") == (1 if expected == S else 0)


def test_skipped_is_an_ordinary_status_that_cascades(stubs):
    """Item 12: X fails -> Y Skipped -> Z Skipped; an activity on Y's Skipped runs."""
    acts = [stub("X", outcome="fail"), stub("Y", on("X", S)), stub("Z", on("Y", S)), stub("OnSkip", on("Y", K))]
    record = run(acts, stubs=stubs)
    assert statuses(record) == {"X": F, "Y": K, "Z": K, "OnSkip": S}
    assert stubs.calls == ["X", "OnSkip"]


@pytest.mark.parametrize("a_status, expected", [
    (S, {"S": S, "F": K, "C": S, "K": K}),
    (F, {"S": K, "F": S, "C": S, "K": K}),
    (K, {"S": K, "F": K, "C": K, "K": S}),
])
def test_one_upstream_with_four_dependants_table(stubs, a_status, expected):
    """One upstream A with dependants on Succeeded, Failed, Completed and Skipped (the four conditional paths)."""
    acts = [stub("Z", outcome="fail" if a_status == K else "succeed"),
            stub("A", on("Z", S), outcome="fail" if a_status == F else "succeed"),
            stub("S", on("A", S)), stub("F", on("A", F)), stub("C", on("A", C)), stub("K", on("A", K))]
    record = run(acts, stubs=stubs)
    assert status(record, "A") == a_status
    assert {n: status(record, n) for n in "SFCK"} == expected
    assert sorted(n for n in stubs.calls if n in "SFCK") == sorted(n for n, s in expected.items() if s == S)


# --- the leaf rule and the documented patterns -----------------------------------------------------

@pytest.mark.parametrize("a, expected", [("succeed", {"A": S, "H": K}), ("fail", {"A": F, "H": S})])
def test_try_catch(stubs, a, expected):
    record = run([stub("A", outcome=a), stub("H", on("A", F))], stubs=stubs)
    assert statuses(record) == expected
    assert record.status == S


@pytest.mark.parametrize("a, expected, pipeline_status", [
    ("succeed", {"A": S, "S": S, "H": K}, S),
    ("fail", {"A": F, "S": K, "H": S}, F),
])
def test_do_if_else(stubs, a, expected, pipeline_status):
    record = run([stub("A", outcome=a), stub("S", on("A", S)), stub("H", on("A", F))], stubs=stubs)
    assert statuses(record) == expected
    assert record.status == pipeline_status
    if pipeline_status == F:
        assert "A failed" in record.message  # the error of A, the failed node the leaf rule reached


@pytest.mark.parametrize("a, expected", [
    ("succeed", {"A": S, "S": S, "D": K, "H": K}),
    ("fail", {"A": F, "S": K, "D": S, "H": S}),
])
def test_do_if_skip_else(stubs, a, expected):
    acts = [stub("A", outcome=a), stub("S", on("A", S)), stub("D", on("S", K)), stub("H", on("A", F))]
    record = run(acts, stubs=stubs)
    assert statuses(record) == expected
    assert record.status == S


@pytest.mark.parametrize("a, n, expected, pipeline_status", [
    ("succeed", "succeed", {"A": S, "H": K, "N": S}, S),
    ("fail", "succeed", {"A": F, "H": S, "N": S}, S),
    ("fail", "fail", {"A": F, "H": S, "N": F}, F),
])
def test_try_catch_proceed(stubs, a, n, expected, pipeline_status):
    """N (not linked to A) depends on H with one entry ["Completed", "Skipped"]."""
    acts = [stub("A", outcome=a), stub("H", on("A", F)), stub("N", on("H", C, K), outcome=n)]
    record = run(acts, stubs=stubs)
    assert statuses(record) == expected
    assert record.status == pipeline_status


def test_try_catch_proceed_with_failed_and_skipped_skips_n_when_h_succeeds(stubs):
    """The AND/OR rule, not the tutorial's prose: with ["Failed", "Skipped"] a succeeding H skips N."""
    acts = [stub("A", outcome="fail"), stub("H", on("A", F)), stub("N", on("H", F, K))]
    record = run(acts, stubs=stubs)
    assert statuses(record) == {"A": F, "H": S, "N": K}
    assert record.status == S  # leaf N skipped -> its parent H succeeded


@pytest.mark.parametrize("failing, e_outcome, expected, pipeline_status", [
    (None, "succeed", {"A1": S, "A2": S, "A3": S, "E": K}, S),
    ("A1", "succeed", {"A1": F, "A2": K, "A3": K, "E": S}, S),
    ("A2", "succeed", {"A1": S, "A2": F, "A3": K, "E": S}, S),
    ("A3", "succeed", {"A1": S, "A2": S, "A3": F, "E": S}, S),
    ("A1", "fail", {"A1": F, "A2": K, "A3": K, "E": F}, F),
])
def test_generic_error_handling(stubs, failing, e_outcome, expected, pipeline_status):
    acts = [stub("A1", outcome="fail" if failing == "A1" else "succeed"),
            stub("A2", on("A1", S), outcome="fail" if failing == "A2" else "succeed"),
            stub("A3", on("A2", S), outcome="fail" if failing == "A3" else "succeed"),
            stub("E", on("A3", F, K), outcome=e_outcome)]
    record = run(acts, stubs=stubs)
    assert statuses(record) == expected
    assert record.status == pipeline_status


def test_leaf_rule_independent_failed_leaf_fails_the_pipeline(stubs):
    record = run([stub("A"), stub("B", outcome="fail")], stubs=stubs)
    assert record.status == F and "Operation on target B failed" in record.message


# --- parallelism ----------------------------------------------------------------------------------

def test_independent_activities_run_concurrently():
    record = run([wait("W1", 1), wait("W2", 1)], time_scale=0.2)
    w1, w2 = runs(record, "W1")[0], runs(record, "W2")[0]
    assert w1.status == w2.status == S
    assert w1.start < w2.end and w2.start < w1.end, "both started before either finished"
    assert (w1.end - w1.start).total_seconds() >= 0.15  # the waits really took ~0.2 s each


def test_dependant_starts_after_its_upstream_ends():
    record = run([wait("W1", 1), wait("W2", 1, on("W1", S))], time_scale=0.05)
    assert runs(record, "W2")[0].start >= runs(record, "W1")[0].end


# --- ForEach --------------------------------------------------------------------------------------

def for_each(name: str, items, body: list, *depends: dict, **props) -> dict:
    return activity(name, "ForEach", *depends, items={"value": items, "type": "Expression"}, activities=body,
                    **props)


def test_foreach_parallel_respects_batch_count_and_gives_each_item_once(stubs):
    body = [stub("Body", value="@item()", seconds=1)]
    record = run([for_each("Each", "@createArray(1, 2, 3, 4, 5)", body, isSequential=False, batchCount=2)],
                 stubs=stubs, time_scale=0.05)
    assert status(record, "Each") == S and record.status == S
    assert stubs.max_active == 2, "at most batchCount iterations in progress (and they do run in parallel)"
    assert sorted(stubs.values) == [1, 2, 3, 4, 5]
    assert len(runs(record, "Body")) == 5


def test_a_long_parallel_foreach_holds_little_beyond_its_records_at_its_peak():
    """Memory stays flat: the engine hands the pool batchCount iterations at a time. Handing it all 1,500 at once
    (``pool.map``) kept a queued future per item, about 2.5 MiB more at the peak; with batches, about 0.6."""
    each = for_each("Each", "@range(0, 1500)", [activity("Inner", "Noop")], batchCount=50)
    engine = Engine(Definitions(pipelines={"p": {"name": "p", "properties": {"activities": [each]}}}),
                    Settings(time_scale=0.0, stubs={"Noop": lambda call: {}}))
    tracemalloc.start()
    try:
        record = engine.run("p")
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record.status == S and len(runs(record, "Inner")) == 1500
    assert peak - kept < 1.2 * 2**20, f"{(peak - kept) / 2**20:.1f} MiB above what the run keeps"


def test_foreach_sequential_runs_in_order(stubs):
    body = [stub("Body", value="@item()", seconds=1)]
    record = run([for_each("Each", "@createArray('c', 'a', 'e', 'b', 'd')", body, isSequential=True)],
                 stubs=stubs, time_scale=0.005)
    assert stubs.values == ["c", "a", "e", "b", "d"]
    assert stubs.max_active == 1
    bodies = runs(record, "Body")
    assert all(x.end <= y.start for x, y in zip(bodies, bodies[1:]))


def test_foreach_fails_when_an_iteration_fails_after_all_ran(stubs):
    body = [stub("Body", value="@item()", outcome="@if(equals(item(), 2), 'fail', 'succeed')")]
    record = run([for_each("Each", "@createArray(1, 2, 3)", body, isSequential=True)], stubs=stubs)
    assert stubs.values == [1, 2, 3]
    assert status(record, "Each") == F and record.status == F


# --- Until ----------------------------------------------------------------------------------------

def until(name: str, expression: str, body: list, timeout: str | None = None) -> dict:
    props = {"expression": {"value": expression, "type": "Expression"}, "activities": body}
    if timeout:
        props["timeout"] = timeout
    return activity(name, "Until", **props)


def test_until_runs_its_body_once_when_the_expression_is_initially_true(stubs):
    record = run([until("Loop", "@equals(1, 1)", [stub("Body")], timeout="0.00:10:00")], stubs=stubs)
    assert stubs.count("Body") == 1 and len(runs(record, "Body")) == 1
    assert status(record, "Loop") == S


def test_until_stops_when_the_expression_becomes_true():
    body = [activity("Add", "AppendVariable", variableName="seen", value="x")]
    # the timeout (0.6 s real) is only a backstop so that a broken loop fails instead of hanging
    record = run([until("Loop", "@greaterOrEquals(length(variables('seen')), 3)", body, timeout="0.00:10:00")],
                 variables={"seen": {"type": "Array", "defaultValue": []}})
    assert len(runs(record, "Add")) == 3 and status(record, "Loop") == S


def test_until_fails_when_its_timeout_elapses():
    # the expression turns true after 20 iterations (40 s): a backstop so a missing timeout fails, not hangs
    body = [wait("Body", 2), activity("Count", "AppendVariable", on("Body", S), variableName="seen", value=1)]
    record = run([until("Loop", "@greaterOrEquals(length(variables('seen')), 20)", body, timeout="0.00:00:05")],
                 variables={"seen": {"type": "Array", "defaultValue": []}}, time_scale=0.02)
    loop = runs(record, "Loop")[0]
    assert loop.status == F and record.status == F
    assert "timeout" in loop.error["message"].lower() or "timed out" in loop.error["message"].lower()
    # 2 s per iteration against a 5 s timeout: at most 3 iterations start (fewer on a loaded machine)
    assert 1 <= len(runs(record, "Body")) <= 3


def test_until_timeout_interrupts_a_long_iteration():
    """Until times out at ~5 emulated s even when one body iteration takes 30 s."""
    body = [wait("Body", 30), activity("Count", "AppendVariable", on("Body", S), variableName="seen", value=1)]
    record = run([until("Loop", "@greaterOrEquals(length(variables('seen')), 2)", body, timeout="0.00:00:05")],
                 variables={"seen": {"type": "Array", "defaultValue": []}}, time_scale=0.01)
    loop = runs(record, "Loop")[0]
    assert loop.status == F
    assert (loop.end - loop.start).total_seconds() < 15 * 0.01  # well before the first 30 s iteration ends


def test_until_timeout_bounds_activities_nested_in_a_container():
    branch = activity("If", "IfCondition", expression={"value": "@true", "type": "Expression"},
                      ifTrueActivities=[wait("Inner", 30)])
    body = [branch, activity("Count", "AppendVariable", on("If", S), variableName="seen", value=1)]
    record = run([until("Loop", "@greaterOrEquals(length(variables('seen')), 2)", body, timeout="0.00:00:05")],
                 variables={"seen": {"type": "Array", "defaultValue": []}}, time_scale=0.01)
    loop = runs(record, "Loop")[0]
    assert loop.status == F and status(record, "Inner") == F
    assert (loop.end - loop.start).total_seconds() < 15 * 0.01


def test_until_timeout_bounds_retries_of_its_body(stubs):
    body = [stub("R", outcome="fail", policy={"retry": 5, "retryIntervalInSeconds": 20})]
    record = run([until("Loop", "@true", body, timeout="0.00:00:05")], stubs=stubs, time_scale=0.01)
    loop = runs(record, "Loop")[0]
    assert loop.status == F
    assert len(runs(record, "R")) == 1, "no retry starts after the 5 s timeout (the first interval is 20 s)"
    assert (loop.end - loop.start).total_seconds() < 15 * 0.01


# --- Fail -----------------------------------------------------------------------------------------

def test_fail_activity_sets_error_and_fails_the_pipeline():
    record = run([activity("Stop", "Fail", message="m", errorCode="E1")])
    stop = runs(record, "Stop")[0]
    assert stop.status == F
    assert stop.error["message"] == "m" and stop.error["errorCode"] == "E1" and stop.error["target"] == "Stop"
    assert record.status == F and "m" in record.message and "Stop" in record.message
    doc = record.document()
    assert doc["pipelineRun"]["status"] == F
    assert doc["activityRuns"][0]["error"]["errorCode"] == "E1"


def test_fail_activity_evaluates_message_and_code():
    record = run([activity("Stop", "Fail", message="@concat('bad ', pipeline().parameters.what)",
                           errorCode="@string(42)")], {"what": "thing"},
                 declared={"what": {"type": "String"}})
    assert runs(record, "Stop")[0].error["message"] == "bad thing"
    assert runs(record, "Stop")[0].error["errorCode"] == "42"


def test_skipped_and_fail_records_have_empty_object_input_and_output():
    record = run([activity("Stop", "Fail", message="m", errorCode="E1"), wait("After", 1, on("Stop", S))])
    by_name = {r["activityName"]: r for r in record.document()["activityRuns"]}
    assert by_name["After"]["status"] == K
    assert by_name["After"]["input"] == {} and by_name["After"]["output"] == {}
    assert by_name["After"]["durationInMs"] == 0
    assert by_name["Stop"]["output"] == {}


# --- ExecutePipeline ------------------------------------------------------------------------------

def execute(name: str, child: str, wait_on_completion: bool, *depends: dict, parameters: dict | None = None) -> dict:
    return activity(name, "ExecutePipeline", *depends, pipeline={"referenceName": child, "type": "PipelineReference"},
                    waitOnCompletion=wait_on_completion, parameters=parameters or {})


def test_execute_pipeline_waiting_fails_when_the_child_fails():
    child = pipeline("child", [activity("Stop", "Fail", message="child broke", errorCode="C1")])
    record = run([execute("Exec", "child", True), wait("After", 1, on("Exec", F))], extra=[child])
    assert status(record, "Exec") == F and status(record, "After") == S
    assert "child broke" in runs(record, "Exec")[0].error["message"]
    assert [c.status for c in record.children] == [F]


def test_execute_pipeline_waiting_succeeds_with_a_succeeding_child():
    child = pipeline("child", [wait("W", 1)])
    record = run([execute("Exec", "child", True)], extra=[child])
    exec_run, child_run = runs(record, "Exec")[0], record.children[0]
    assert exec_run.status == S and child_run.status == S
    assert exec_run.output["pipelineRunId"] == child_run.run_id and exec_run.output["pipelineName"] == "child"
    assert exec_run.end >= child_run.end


def test_execute_pipeline_not_waiting_succeeds_once_the_child_has_started():
    child = pipeline("child", [wait("Long", 50), activity("Stop", "Fail", message="late", errorCode="C1")])
    record = run([execute("Exec", "child", False), wait("After", 0, on("Exec", S))], extra=[child],
                 time_scale=0.01)
    exec_run = runs(record, "Exec")[0]
    assert exec_run.status == S and status(record, "After") == S and record.status == S
    child_run = record.children[0]
    assert child_run.status == F, "the child's failure does not reach the parent"
    assert exec_run.output["pipelineRunId"] == child_run.run_id
    long_wait = runs(child_run, "Long")[0]
    assert exec_run.end < long_wait.end and (long_wait.end - exec_run.end).total_seconds() > 0.3


def test_execute_pipeline_not_waiting_fails_when_the_child_cannot_start():
    child = pipeline("child", [wait("W", 1)], parameters={"x": {"type": "String"}})
    record = run([execute("Exec", "child", False)], extra=[child])
    assert status(record, "Exec") == F and "'x'" in runs(record, "Exec")[0].error["message"]


def test_execute_pipeline_child_is_invoked_by_the_pipeline_activity():
    child = pipeline("child", [set_var("By", "by", "@pipeline()?.TriggeredByPipelineRunId"),
                               set_var("ByName", "byName", "@pipeline()?.TriggeredByPipelineName")],
                     variables={"by": {"type": "String"}, "byName": {"type": "String"}})
    record = run([execute("Exec", "child", True)], extra=[child])
    child_run = record.children[0]
    assert child_run.invoked_by["invokedByType"] == "PipelineActivity"
    assert child_run.invoked_by["pipelineRunId"] == record.run_id and child_run.invoked_by["pipelineName"] == "p"
    assert runs(child_run, "By")[0].output == {"name": "by", "value": record.run_id}
    assert runs(child_run, "ByName")[0].output == {"name": "byName", "value": "p"}
    doc = record.document()
    assert doc["childRuns"][0]["pipelineRun"]["invokedBy"]["invokedByType"] == "PipelineActivity"
    assert doc["childRuns"][0]["pipelineRun"]["runId"] == child_run.run_id
    assert doc["pipelineRun"]["invokedBy"]["invokedByType"] == "Manual"


def test_execute_pipeline_passes_parameters_to_the_child():
    child = pipeline("child", [set_var("Got", "got", "@pipeline().parameters.n")],
                     parameters={"n": {"type": "Int"}}, variables={"got": {"type": "String"}})
    record = run([execute("Exec", "child", True, parameters={"n": "@add(1, 2)"})], extra=[child])
    assert runs(record.children[0], "Got")[0].output == {"name": "got", "value": 3}


def test_pipeline_return_value_is_readable_in_the_parent():
    child = pipeline("child", [set_var("Ret", "pipelineReturnValue",
                                       [{"key": "k", "value": {"type": "String", "content": "v"}},
                                        {"key": "n", "value": {"type": "Expression", "content": "@add(2, 3)"}}],
                                       setSystemVariable=True)])
    record = run([execute("Exec", "child", True),
                  set_var("Read", "got", "@activity('Exec').output.pipelineReturnValue.k", on("Exec", S)),
                  set_var("ReadN", "gotN", "@activity('Exec').output.pipelineReturnValue.n", on("Exec", S))],
                 variables={"got": {"type": "String"}, "gotN": {"type": "String"}}, extra=[child])
    assert record.status == S
    assert runs(record, "Read")[0].output == {"name": "got", "value": "v"}
    assert runs(record, "ReadN")[0].output == {"name": "gotN", "value": 5}
    assert runs(record.children[0], "Ret")[0].output == {"name": "pipelineReturnValue", "value": {"k": "v", "n": 5}}


# --- policies -------------------------------------------------------------------------------------

def test_retry_produces_one_record_per_attempt_spaced_by_the_interval(stubs):
    acts = [stub("A", outcome="fail", policy={"retry": 2, "retryIntervalInSeconds": 10}),
            stub("OnFail", on("A", F)), stub("OnOk", on("A", S))]
    record = run(acts, stubs=stubs, time_scale=0.01)
    attempts = runs(record, "A")
    assert [a.retry_attempt for a in attempts] == [None, 1, 2]
    assert [a.status for a in attempts] == [F, F, F]
    assert len({a.activity_run_id for a in attempts}) == 3
    for before, after in zip(attempts, attempts[1:]):
        assert (after.start - before.end).total_seconds() >= 10 * 0.01 * 0.9
    assert stubs.count("A") == 3
    assert stubs.count("OnFail") == 1 and len(runs(record, "OnFail")) == 1 and status(record, "OnOk") == K
    assert [r["retryAttempt"] for r in record.document()["activityRuns"] if r["activityName"] == "A"] == [None, 1, 2]


class FailsOnce(Stubs):
    """The first call fails, later ones succeed."""

    def __call__(self, call):
        with self.lock:
            first = not self.calls
        if first:
            with self.lock:
                self.calls.append(call.name)
            raise ActivityError("transient", "T1")
        return super().__call__(call)


def test_retry_stops_at_the_first_success_and_dependants_see_it():
    flaky = FailsOnce()
    acts = [stub("A", policy={"retry": 3, "retryIntervalInSeconds": 1}), stub("OnOk", on("A", S)),
            stub("OnFail", on("A", F))]
    record = run(acts, stubs=flaky)
    assert [(a.retry_attempt, a.status) for a in runs(record, "A")] == [(None, F), (1, S)]
    assert statuses(record)["OnOk"] == S and statuses(record)["OnFail"] == K and record.status == S
    assert flaky.calls == ["A", "A", "OnOk"]


def test_timeout_fails_the_attempt(stubs):
    record = run([stub("Slow", seconds=2, policy={"timeout": "0.00:00:01"})], stubs=stubs, time_scale=0.2)
    slow = runs(record, "Slow")[0]
    assert slow.status == F and record.status == F
    assert "timed out" in slow.error["message"] or "timeout" in slow.error["message"].lower()
    assert (slow.end - slow.start).total_seconds() < 1.5 * 0.2, "ended at the 1 s timeout, not after the 2 s work"


def test_timeout_applies_to_each_attempt(stubs):
    policy = {"timeout": "0.00:00:01", "retry": 1, "retryIntervalInSeconds": 1}
    record = run([stub("Slow", seconds=2, policy=policy)], stubs=stubs, time_scale=0.01)
    assert [(a.retry_attempt, a.status) for a in runs(record, "Slow")] == [(None, F), (1, F)]


def test_no_timeout_when_the_work_fits(stubs):
    record = run([stub("Quick", seconds=1, policy={"timeout": "0.00:00:05"})], stubs=stubs, time_scale=0.01)
    assert status(record, "Quick") == S


def test_secure_output_hides_the_record_but_not_the_expression_value(stubs):
    acts = [stub("Src", token=True, policy={"secureOutput": True}),
            set_var("Use", "got", "@activity('Src').output.token", on("Src", S))]
    record = run(acts, stubs=stubs, variables={"got": {"type": "String"}})
    src = runs(record, "Src")[0]
    assert src.output == {"token": "tok-src-123"}  # computed...
    assert src.as_dict()["output"] == SECURE   # ...but not shown
    doc = record.document()
    assert "tok-src-123" not in json.dumps([r for r in doc["activityRuns"] if r["activityName"] == "Src"])
    assert runs(record, "Use")[0].output == {"name": "got", "value": "tok-src-123"}


def test_output_is_shown_without_secure_output(stubs):
    record = run([stub("Src", output={"token": "tok-123"}, policy={"secureOutput": False})], stubs=stubs)
    assert runs(record, "Src")[0].as_dict()["output"] == {"token": "tok-123"}


@pytest.mark.parametrize("secure", [True, False])
def test_secure_input_hides_the_recorded_input(stubs, secure):
    record = run([stub("Src", input={"password": "pw-456"}, policy={"secureInput": secure})], stubs=stubs)
    shown = [r for r in record.document()["activityRuns"] if r["activityName"] == "Src"][0]["input"]
    if secure:
        assert shown == SECURE and "pw-456" not in json.dumps(record.document())
    else:
        assert shown == {"password": "pw-456"}


def test_set_variable_input_is_recorded_and_secure_input_hides_it():
    acts = [set_var("Plain", "a", "@concat('x', 'y')"),
            set_var("Hidden", "b", "s3cret", policy={"secureInput": True})]
    record = run(acts, variables={"a": {"type": "String"}, "b": {"type": "String"}})
    by_name = {r["activityName"]: r for r in record.document()["activityRuns"]}
    assert by_name["Plain"]["input"] == {"variableName": "a", "value": "xy"}
    assert by_name["Hidden"]["input"] == SECURE


# --- state / onInactiveMarkAs ---------------------------------------------------------------------

def inactive(doc: dict, mark_as: str | None) -> dict:
    doc["state"] = "Inactive"
    if mark_as:
        doc["onInactiveMarkAs"] = mark_as
    return doc


def test_inactive_marked_failed_is_not_run_and_triggers_upon_failure(stubs):
    acts = [inactive(stub("A", value="@div(1, 0)"), F), stub("H", on("A", F)), stub("OnOk", on("A", S))]
    record = run(acts, stubs=stubs)
    assert stubs.calls == ["H"], "A is not executed (and its expressions are not evaluated)"
    assert statuses(record) == {"A": F, "H": S, "OnOk": K}
    assert runs(record, "A")[0].error["target"] == "A"


def test_inactive_marked_failed_as_a_leaf_fails_the_pipeline(stubs):
    record = run([stub("Ok"), inactive(stub("A"), F)], stubs=stubs)
    assert stubs.calls == ["Ok"]
    assert status(record, "A") == F and record.status == F


def test_inactive_marked_failed_leaf_gives_a_failure_message(stubs):
    record = run([inactive(stub("A"), F)], stubs=stubs)
    assert record.status == F and "A" in record.message


def test_inactive_without_mark_is_succeeded(stubs):
    acts = [inactive(stub("A"), None), stub("OnOk", on("A", S)), stub("OnFail", on("A", F))]
    record = run(acts, stubs=stubs)
    assert stubs.calls == ["OnOk"]
    assert statuses(record) == {"A": S, "OnOk": S, "OnFail": K}
    assert record.status == S


def test_inactive_marked_skipped_triggers_upon_skip(stubs):
    acts = [stub("Up"), inactive(stub("A", on("Up", S)), K), stub("OnSkip", on("A", K)), stub("OnOk", on("A", S))]
    record = run(acts, stubs=stubs)
    assert stubs.calls.count("A") == 0
    assert statuses(record) == {"Up": S, "A": K, "OnSkip": S, "OnOk": K}
    assert record.status == S


# --- run records ----------------------------------------------------------------------------------

def test_pipeline_run_shape(stubs):
    declared = {"name": {"type": "String"}, "n": {"type": "Int"}, "flag": {"type": "Bool"},
                "list": {"type": "Array"}, "obj": {"type": "Object", "defaultValue": {"a": 1}}}
    record = run([wait("W", 1)], {"name": "x", "n": 3, "flag": "true", "list": ["a", "b"]}, declared=declared,
                 time_scale=0.02)
    doc = record.document()
    pr = doc["pipelineRun"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", pr["runId"])
    assert pr["runGroupId"] == pr["runId"] == record.run_id
    assert pr["isLatest"] is True and pr["pipelineName"] == "p" and pr["status"] == S and pr["message"] == ""
    assert all(isinstance(v, str) for v in pr["parameters"].values()), pr["parameters"]
    assert pr["parameters"]["name"] == "x" and pr["parameters"]["n"] == "3"
    assert json.loads(pr["parameters"]["list"]) == ["a", "b"] and json.loads(pr["parameters"]["obj"]) == {"a": 1}
    assert pr["invokedBy"]["invokedByType"] == "Manual" and pr["invokedBy"]["name"] == "Manual"
    start, end = parse_stamp(pr["runStart"]), parse_stamp(pr["runEnd"])
    assert abs((end - start).total_seconds() * 1000 - pr["durationInMs"]) <= 1
    assert pr["durationInMs"] >= 15  # the 1 s wait at time_scale 0.02
    assert parse_stamp(pr["lastUpdated"]) >= start


def test_activity_runs_one_per_attempt_including_skipped(stubs):
    acts = [stub("A", outcome="fail", policy={"retry": 1, "retryIntervalInSeconds": 1}),
            stub("B", on("A", S)), stub("C", on("B", S)), stub("Ok")]
    record = run(acts, stubs=stubs)
    doc = record.document()
    names = sorted(r["activityName"] for r in doc["activityRuns"])
    assert names == ["A", "A", "B", "C", "Ok"]
    for r in doc["activityRuns"]:
        assert r["error"]["target"] == r["activityName"]
        assert r["pipelineRunId"] == record.run_id and r["pipelineName"] == "p"
        assert r["activityType"] == "Stub"
        assert STAMP.match(r["activityRunStart"]) and STAMP.match(r["activityRunEnd"])
        start, end = parse_stamp(r["activityRunStart"]), parse_stamp(r["activityRunEnd"])
        assert abs((end - start).total_seconds() * 1000 - r["durationInMs"]) <= 1
    by_name = {r["activityName"]: r for r in doc["activityRuns"]}
    assert by_name["B"]["status"] == K and by_name["C"]["status"] == K
    assert by_name["A"]["error"]["errorCode"] == "E42" and by_name["Ok"]["error"]["errorCode"] == ""
    starts = [parse_stamp(r["activityRunStart"]) for r in doc["activityRuns"]]
    assert starts == sorted(starts), "records follow start times"


def test_set_variable_output_is_name_and_value():
    record = run([set_var("Set", "v", "@createArray(1, 2)")], variables={"v": {"type": "Array"}})
    assert runs(record, "Set")[0].output == {"name": "v", "value": [1, 2]}
    assert record.document()["activityRuns"][0]["output"] == {"name": "v", "value": [1, 2]}


def test_set_variable_of_an_undeclared_variable_fails():
    record = run([set_var("Set", "nope", "x")])
    assert status(record, "Set") == F and "nope" in runs(record, "Set")[0].error["message"]


def test_missing_required_parameter_raises():
    with pytest.raises(DefinitionsError, match="needs"):
        run([wait("W", 1)], {}, declared={"need": {"type": "String"}})


def test_unknown_parameter_raises():
    with pytest.raises(DefinitionsError):
        run([wait("W", 1)], {"other": "x"}, declared={})


def test_secure_string_parameter_is_masked():
    record = run([wait("W", 1)], {"pw": "hunter2-secret"}, declared={"pw": {"type": "SecureString"}})
    assert record.document()["pipelineRun"]["parameters"]["pw"] == SECURE
    assert "hunter2-secret" not in json.dumps(record.document())


def test_unsupported_activity_type_fails_naming_it():
    record = run([activity("Hive", "HDInsightHive", scriptPath="x.hql")])
    hive = runs(record, "Hive")[0]
    assert hive.status == F and "HDInsightHive" in hive.error["message"]
    assert record.status == F and "HDInsightHive" in record.message


@pytest.mark.parametrize("mode, ran", [("a", "CaseA"), ("b", "CaseB"), ("zzz", "Default"), ("A", "Default")])
def test_switch_picks_the_matching_case_else_default(stubs, mode, ran):
    switch = activity("Sw", "Switch", on={"value": "@pipeline().parameters.mode", "type": "Expression"},
                      cases=[{"value": "a", "activities": [stub("CaseA")]},
                             {"value": "b", "activities": [stub("CaseB")]}],
                      defaultActivities=[stub("Default")])
    record = run([switch], {"mode": mode}, declared={"mode": {"type": "String"}}, stubs=stubs)
    assert stubs.calls == [ran]
    assert status(record, "Sw") == S and record.status == S


@pytest.mark.parametrize("flag, ran", [(True, "Yes"), (False, "No")])
def test_if_condition_runs_one_branch(stubs, flag, ran):
    cond = activity("If", "IfCondition", expression={"value": "@pipeline().parameters.flag", "type": "Expression"},
                    ifTrueActivities=[stub("Yes")], ifFalseActivities=[stub("No")])
    record = run([cond], {"flag": flag}, declared={"flag": {"type": "Bool"}}, stubs=stubs)
    assert stubs.calls == [ran] and status(record, "If") == S


def test_if_condition_fails_when_its_branch_fails_by_the_leaf_rule(stubs):
    cond = activity("If", "IfCondition", expression={"value": "@true", "type": "Expression"},
                    ifTrueActivities=[stub("X", outcome="fail"), stub("H", on("X", F))])
    handled = run([cond], stubs=stubs)
    assert status(handled, "If") == S, "a handled failure inside the branch does not fail the If"
    cond["typeProperties"]["ifTrueActivities"] = [stub("X", outcome="fail"), stub("Y", on("X", S))]
    failed = run([cond], stubs=Stubs())
    assert status(failed, "If") == F and failed.status == F


def test_filter_output():
    flt = activity("Flt", "Filter", items={"value": "@createArray(1, 2, 3, 4, 5)", "type": "Expression"},
                   condition={"value": "@greater(item(), 2)", "type": "Expression"})
    record = run([flt, set_var("Use", "n", "@activity('Flt').output.FilteredItemsCount", on("Flt", S))],
                 variables={"n": {"type": "String"}})
    assert runs(record, "Flt")[0].output == {"ItemsCount": 5, "FilteredItemsCount": 3, "Value": [3, 4, 5]}
    assert runs(record, "Use")[0].output["value"] == 3


def test_append_variable_appends():
    acts = [activity("Add1", "AppendVariable", variableName="arr", value="y"),
            activity("Add2", "AppendVariable", on("Add1", S), variableName="arr", value="@concat('z', '1')"),
            set_var("Show", "out", "@variables('arr')", on("Add2", S))]
    record = run(acts, variables={"arr": {"type": "Array", "defaultValue": ["x"]}, "out": {"type": "Array"}})
    assert runs(record, "Show")[0].output == {"name": "out", "value": ["x", "y", "z1"]}


def test_unexpected_handler_exception_fails_the_activity_not_the_runner():
    def broken(call):
        raise RuntimeError("handler bug")

    defs = Definitions(pipelines={"p": pipeline("p", [stub("A"), stub("H", on("A", F))])})
    record = Engine(defs, Settings(time_scale=0.001, stubs={"Stub": broken})).run("p")
    assert status(record, "A") == F and "handler bug" in runs(record, "A")[0].error["message"]


# --- issue 12: ADF's values and type checks in control flow -------------------------------------------

def test_variables_without_default_read_as_their_types_empty_value():
    """Microsoft's own test framework runs ADF's expression evaluator on variables declared without a default
    (microsoft/data-factory-testing-framework, tests/functional/variables_default_value): String reads as "",
    Integer as 0, Boolean as false, Array as []. adfemu read them all as null."""
    acts = [set_var("Show", "out", "@createArray(variables('s'), variables('b'), variables('a'), variables('i'), "
                                   "concat('is not null: ', variables('b')))")]
    record = run(acts, variables={"s": {"type": "String"}, "b": {"type": "Boolean"}, "a": {"type": "Array"},
                                  "i": {"type": "Integer"}, "out": {"type": "Array"}})
    assert runs(record, "Show")[0].output["value"] == ["", False, [], 0, "is not null: False"]


def test_a_declared_default_still_wins_over_the_types_empty_value():
    record = run([set_var("Show", "out", "@variables('s')")],
                 variables={"s": {"type": "String", "defaultValue": "x"}, "out": {"type": "String"}})
    assert runs(record, "Show")[0].output["value"] == "x"


@pytest.mark.parametrize("on_value, case_name", [("@null", "None"), ("@true", "True"), ("@json('1')", "1")])
def test_switch_on_a_value_that_is_not_a_string_fails_instead_of_matching_its_python_name(stubs, on_value,
                                                                                          case_name):
    """Microsoft Learn, "Switch activity in Azure Data Factory": the expression "must evaluate to string value".
    adfemu compared str(on) with the case values, so null ran the case "None" and true the case "True"."""
    switch = activity("Sw", "Switch", on={"value": on_value, "type": "Expression"},
                      cases=[{"value": case_name, "activities": [stub("Case")]}], defaultActivities=[stub("Default")])
    record = run([switch], stubs=stubs)
    assert stubs.calls == []
    sw = runs(record, "Sw")[0]
    assert sw.status == F and "must evaluate to a string" in sw.error["message"]


def test_until_with_an_expression_that_is_not_boolean_fails_at_once(stubs):
    """Microsoft Learn, "Until activity in Azure Data Factory": "an expression that would evaluate to Boolean".
    adfemu looped until the timeout (7 days emulated by default); ADF fails with a type error, as If does."""
    record = run([until("Loop", "@'done'", [stub("Body")], timeout="0.00:10:00")], stubs=stubs)  # bounded: 0.6 s real
    loop = runs(record, "Loop")[0]
    assert loop.status == F and "must be a boolean" in loop.error["message"]
    assert stubs.count("Body") == 1, "the body ran once (do-while), then the expression failed the loop"
