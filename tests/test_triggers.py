"""Schedule and tumbling-window triggers: when they fire (pure calendar arithmetic), and what they start over an
interval with time compressed (through the public API and `adfemu run --trigger`)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from adfemu.runner.events import RUN_ENDED, RUN_STARTED
from adfemu.runner.triggers import TriggerError, schedule_times

ROOT = Path(__file__).resolve().parent.parent
WINDOWS = ROOT / "tests" / "factories" / "windows"
UTC = timezone.utc


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(recurrence: dict, start: str, end: str) -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M") for t in schedule_times(recurrence, utc(start), utc(end))]


# --- schedule triggers: the calendar ------------------------------------------------------------------------

def test_hours_and_minutes_lists_in_a_time_zone_across_the_spring_dst_change():
    """W. Europe: clocks go from 02:00 CET to 03:00 CEST on 2024-03-31. A Day recurrence keeps the wall-clock time
    (01:30 and 02:30 local); 02:30 does not exist that day and fires after the gap, at the instant 03:30 CEST."""
    recurrence = {"frequency": "Day", "interval": 1, "startTime": "2024-03-29T00:00:00",
                  "timeZone": "W. Europe Standard Time", "schedule": {"hours": [2, 1], "minutes": [30]}}
    assert fires(recurrence, "2024-03-29T00:00", "2024-04-01T23:00") == [
        "2024-03-29T00:30", "2024-03-29T01:30",   # CET = UTC+1
        "2024-03-30T00:30", "2024-03-30T01:30",
        "2024-03-31T00:30", "2024-03-31T01:30",   # 01:30 CET; 02:30 does not exist -> 03:30 CEST
        "2024-03-31T23:30", "2024-04-01T00:30",   # CEST = UTC+2: still 01:30 and 02:30 local
    ]


def test_the_autumn_dst_change_fires_a_repeated_wall_time_once():
    recurrence = {"frequency": "Day", "interval": 1, "startTime": "2024-10-26T00:00:00",
                  "timeZone": "W. Europe Standard Time", "schedule": {"hours": [2], "minutes": [30]}}
    assert fires(recurrence, "2024-10-26T00:00", "2024-10-29T00:00") == [
        "2024-10-26T00:30", "2024-10-27T00:30", "2024-10-28T01:30"]  # 02:30 CEST on the 27th, then CET


def test_hourly_recurrence_steps_in_absolute_time_through_dst():
    recurrence = {"frequency": "Hour", "interval": 1, "startTime": "2024-03-31T00:30:00",
                  "timeZone": "W. Europe Standard Time"}
    assert fires(recurrence, "2024-03-30T00:00", "2024-03-31T02:00") == [
        "2024-03-30T23:30", "2024-03-31T00:30", "2024-03-31T01:30"]  # every 60 minutes, 00:30 CET first


def test_minute_interval_starts_at_start_time_and_stops_at_end_time():
    recurrence = {"frequency": "Minute", "interval": 15, "startTime": "2024-06-01T00:05:00Z",
                  "endTime": "2024-06-01T00:50:00Z"}
    assert fires(recurrence, "2024-06-01T00:00", "2024-06-02T00:00") == [
        "2024-06-01T00:05", "2024-06-01T00:20", "2024-06-01T00:35", "2024-06-01T00:50"]


def test_week_days_month_days_and_monthly_occurrences():
    weekly = {"frequency": "Week", "interval": 1, "startTime": "2024-06-03T08:00:00Z",
              "schedule": {"weekDays": ["friday", "Monday"], "hours": [8], "minutes": [0]}}
    assert fires(weekly, "2024-06-01T00:00", "2024-06-15T00:00") == [
        "2024-06-03T08:00", "2024-06-07T08:00", "2024-06-10T08:00", "2024-06-14T08:00"]
    monthly = {"frequency": "Month", "interval": 1, "startTime": "2024-01-01T06:00:00Z",
               "schedule": {"monthDays": [31, -1], "hours": [6], "minutes": [0]}}
    assert fires(monthly, "2024-01-01T00:00", "2024-05-01T00:00") == [
        "2024-01-31T06:00", "2024-02-29T06:00", "2024-03-31T06:00", "2024-04-30T06:00"]
    occurrences = {"frequency": "Month", "interval": 1, "startTime": "2024-01-01T09:00:00Z",
                   "schedule": {"monthlyOccurrences": [{"day": "Monday", "occurrence": 1},
                                                       {"day": "Friday", "occurrence": -1}]}}
    assert fires(occurrences, "2024-01-01T00:00", "2024-03-01T00:00") == [
        "2024-01-01T09:00", "2024-01-26T09:00", "2024-02-05T09:00", "2024-02-23T09:00"]


@pytest.mark.parametrize("recurrence, message", [
    ({"frequency": "Fortnight", "startTime": "2024-01-01"}, "is not Minute, Hour, Day, Week or Month"),
    ({"frequency": "Day", "interval": 0, "startTime": "2024-01-01"}, "interval must be a positive integer"),
    ({"frequency": "Day", "startTime": "2024-01-01", "timeZone": "Mars Time"}, "is not a Windows time zone"),
    ({"frequency": "Day", "startTime": "soon"}, "is not an ISO 8601 date"),
    ({"frequency": "Week", "startTime": "2024-01-01", "schedule": {"weekDays": ["Funday"]}}, "not a day of the week"),
    ({"frequency": "Day", "startTime": "2024-01-01", "schedule": {"hours": [24]}}, "integers 0 to 23"),
])
def test_bad_recurrences_are_one_line_errors(recurrence, message):
    with pytest.raises(TriggerError, match=message):
        schedule_times(recurrence, utc("2024-01-01T00:00"), utc("2024-02-01T00:00"))


# --- what the triggers start ---------------------------------------------------------------------------------

class Concurrency:
    """A listener that tracks how many pipeline runs are in flight at once."""

    def __init__(self):
        self.now = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, event) -> None:
        with self.lock:
            if event.kind == RUN_STARTED:
                self.now += 1
                self.most = max(self.most, self.now)
            elif event.kind == RUN_ENDED:
                self.now -= 1


def _returned(run) -> dict:
    return run.activity("Report").output["value"]


def test_tumbling_windows_with_delay_map_the_window_into_parameters_and_records(adfemu):
    result = adfemu.run_trigger(WINDOWS, "Hourly", "2024-06-01T00:00:00Z", "2024-06-01T03:00:00Z", seed=1)
    assert result.status == "Succeeded"
    assert [r["properties"]["WindowStartTime"] for r in result.trigger_runs] == [
        "6/1/2024 12:00:00 AM", "6/1/2024 1:00:00 AM", "6/1/2024 2:00:00 AM"]
    first = result.trigger_runs[0]
    assert first["triggerName"] == "Hourly" and first["triggerType"] == "TumblingWindowTrigger"
    assert first["status"] == "Succeeded" and first["message"] == ""
    assert first["triggerRunTimestamp"] == "2024-06-01T01:01:00.0000000Z"  # window end + delay 00:01:00
    assert first["properties"] == {"TriggerTime": "6/1/2024 1:01:00 AM", "ScheduleTime": "6/1/2024 1:00:00 AM",
                                   "WindowStartTime": "6/1/2024 12:00:00 AM", "WindowEndTime": "6/1/2024 1:00:00 AM"}
    assert re.fullmatch(r"0\d{19}\d{5}CU\d{2}", first["triggerRunId"])
    run = result.runs[0]
    assert first["triggeredPipelines"] == {"Stamp": run.run_id}
    assert run.record["pipelineRun"]["invokedBy"] == {"name": "Hourly", "id": first["triggerRunId"],
                                                     "invokedByType": "TumblingWindowTrigger"}
    assert run.record["pipelineRun"]["runStart"].startswith("2024-06-01T01:01:00")
    assert _returned(run) == {"window": "2024-06-01T00:00:00Z/2024-06-01T01:00:00Z", "label": "Hourly",
                              "triggerType": "TumblingWindowTrigger", "triggerName": "Hourly",
                              "triggerTime": "2024-06-01T01:01:00.0000000Z", "now": "2024-06-01T01:01:00.0000000Z"}
    assert [_returned(r)["window"][:20] for r in result.runs] == [
        "2024-06-01T00:00:00Z", "2024-06-01T01:00:00Z", "2024-06-01T02:00:00Z"]


@pytest.mark.parametrize("trigger, limit", [("Serial", 1), ("Upstream", 3)])
def test_max_concurrency_bounds_windows_in_flight(adfemu, trigger, limit):
    seen = Concurrency()
    result = adfemu.run_trigger(WINDOWS, trigger, "2024-06-01T00:00:00Z", "2024-06-01T06:00:00Z", listener=seen,
                                time_scale=0.05)
    assert result.status == "Succeeded" and len(result.runs) == 6
    assert seen.most == limit


def test_a_failing_window_is_retried_by_the_trigger_policy(adfemu):
    attempts: dict[str, int] = {}

    def work(call):  # the 01:00 window fails its first attempt
        window = call.context.parameters["windowStart"]
        attempts[window] = attempts.get(window, 0) + 1
        if window.startswith("2024-06-01T01") and attempts[window] == 1:
            from adfemu.runner.engine import ActivityError
            raise ActivityError("transient failure", "2108")
        return {}

    result = adfemu.run_trigger(WINDOWS, "Retrying", "2024-06-01T00:00:00Z", "2024-06-01T03:00:00Z",
                                stubs={"Work": work})
    assert result.status == "Succeeded"
    assert [r["status"] for r in result.trigger_runs] == ["Succeeded"] * 3
    window = result.trigger_runs[1]
    retried = [r for r in result.runs if r.record["pipelineRun"]["invokedBy"]["id"] == window["triggerRunId"]]
    assert [r.status for r in retried] == ["Failed", "Succeeded"]
    assert window["triggeredPipelines"] == {"Stamp": retried[1].run_id} and retried[0].run_id != retried[1].run_id
    assert len(result.runs) == 4


def test_dependency_on_another_trigger_with_an_offset(adfemu):
    def work(call):  # Upstream's 01:00-02:00 window fails
        if call.context.parameters["label"] == "Upstream" and \
                call.context.parameters["windowStart"].startswith("2024-06-01T01"):
            from adfemu.runner.engine import ActivityError
            raise ActivityError("upstream failed", "2108")
        return {}

    result = adfemu.run_trigger(WINDOWS, "Downstream", "2024-06-01T00:00:00Z", "2024-06-01T03:00:00Z",
                                stubs={"Work": work})
    assert result.status == "Failed"
    by = {(r["triggerName"], r["properties"]["WindowStartTime"]): r for r in result.trigger_runs}
    assert by[("Upstream", "6/1/2024 1:00:00 AM")]["status"] == "Failed"
    # Downstream's window depends on Upstream's previous hour (offset -01:00:00)
    assert by[("Downstream", "6/1/2024 12:00:00 AM")]["status"] == "Succeeded"   # its dependency is history
    assert by[("Downstream", "6/1/2024 1:00:00 AM")]["status"] == "Succeeded"    # Upstream 00:00 succeeded
    blocked = by[("Downstream", "6/1/2024 2:00:00 AM")]
    assert blocked["status"] == "Failed" and blocked["triggeredPipelines"] == {}
    assert blocked["message"] == ("Dependency not met: Upstream window 2024-06-01T01:00:00Z - "
                                  "2024-06-01T02:00:00Z (Failed)")
    assert blocked["dependencyStatus"] == {"Upstream 2024-06-01T01:00:00Z": {"status": "Failed"}}
    labels = [r.record["pipelineRun"]["parameters"]["label"] for r in result.runs]
    assert labels.count("Downstream") == 2 and labels.count("Upstream") == 3


def test_self_dependency_runs_windows_one_after_another_and_stops_at_a_failure(adfemu):
    seen = Concurrency()

    def work(call):
        if call.context.parameters["windowStart"].startswith("2024-06-01T02"):
            from adfemu.runner.engine import ActivityError
            raise ActivityError("bad data", "2108")
        return {}

    result = adfemu.run_trigger(WINDOWS, "Chained", "2024-06-01T00:00:00Z", "2024-06-01T05:00:00Z",
                                stubs={"Work": work}, listener=seen)
    assert seen.most == 1  # maxConcurrency 3, but each window waits for the previous one
    assert [r["status"] for r in result.trigger_runs] == ["Succeeded", "Succeeded", "Failed", "Failed", "Failed"]
    assert "Chained window 2024-06-01T02:00:00Z - 2024-06-01T03:00:00Z (Failed)" in result.trigger_runs[3]["message"]
    assert len(result.runs) == 3


def test_schedule_trigger_starts_its_pipelines_at_each_firing(adfemu):
    result = adfemu.run_trigger(WINDOWS, "Daily", "2024-03-30T00:00:00Z", "2024-04-01T00:00:00Z")
    assert [r["triggerRunTimestamp"] for r in result.trigger_runs] == [
        "2024-03-30T00:30:00.0000000Z", "2024-03-30T01:30:00.0000000Z",
        "2024-03-31T00:30:00.0000000Z", "2024-03-31T01:30:00.0000000Z",  # CET until 02:00 on the 31st
        "2024-03-31T23:30:00.0000000Z"]  # 01:30 CEST on April 1st
    assert all(r["status"] == "Succeeded" and r["triggerType"] == "ScheduleTrigger" for r in result.trigger_runs)
    assert result.trigger_runs[0]["properties"] == {"TriggerTime": "3/30/2024 12:30:00 AM",
                                                   "ScheduleTime": "3/30/2024 12:30:00 AM"}
    assert _returned(result.runs[0])["window"] == "2024-03-30T00:30:00Z/2024-03-30T00:30:00.0000000Z"


def test_a_single_run_as_a_trigger_would_start_it(adfemu):
    run = adfemu.run(WINDOWS, "Stamp", window=("2024-06-01T05:00:00Z", "2024-06-01T06:00:00Z"))
    assert _returned(run)["window"] == "2024-06-01T05:00:00Z/2024-06-01T06:00:00Z"  # the first TW trigger's mapping
    assert _returned(run)["triggerType"] == "TumblingWindowTrigger" and _returned(run)["triggerName"] == "Chained"
    scheduled = adfemu.run(WINDOWS, "Stamp", {"windowStart": "a", "windowEnd": "b"}, trigger_time="2024-06-01T07:00:00Z",
                           trigger_type="ScheduleTrigger")
    assert _returned(scheduled)["window"] == "a/b" and _returned(scheduled)["triggerName"] == "Daily"
    assert _returned(scheduled)["triggerTime"] == "2024-06-01T07:00:00.0000000Z"


def test_unknown_trigger_and_empty_interval_are_refused(adfemu):
    import adfemu as api
    with pytest.raises(api.RunInputError, match="trigger 'Nope' is not in the factory"):
        adfemu.run_trigger(WINDOWS, "Nope", "2024-06-01T00:00:00Z", "2024-06-01T01:00:00Z")
    with pytest.raises(api.RunInputError, match="the interval is empty"):
        adfemu.run_trigger(WINDOWS, "Hourly", "2024-06-01T01:00:00Z", "2024-06-01T01:00:00Z")


def test_cli_runs_a_trigger_and_writes_runs_json(tmp_path):
    out = tmp_path / "runs.json"
    done = subprocess.run([sys.executable, "-m", "adfemu.cli", "run", str(WINDOWS), "--trigger", "Hourly",
                           "--start", "2024-06-01T00:00:00Z", "--end", "2024-06-01T02:00:00Z", "--output", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(out.read_text())
    assert [t["status"] for t in document["triggerRuns"]] == ["Succeeded", "Succeeded"]
    assert [r["pipelineRun"]["pipelineName"] for r in document["runs"]] == ["Stamp", "Stamp"]
    assert all({"pipelineRun", "activityRuns"} <= r.keys() for r in document["runs"])
    assert "trigger Hourly: 2 trigger run(s), 2 succeeded" in " ".join(done.stdout.split())
    single = subprocess.run([sys.executable, "-m", "adfemu.cli", "run", str(WINDOWS), "--pipeline", "Stamp",
                             "--window", "2024-06-01T05:00:00Z/2024-06-01T06:00:00Z", "--output", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stdout + single.stderr
    returned = json.loads(out.read_text())["activityRuns"][-1]["output"]["value"]
    assert returned["window"] == "2024-06-01T05:00:00Z/2024-06-01T06:00:00Z"
