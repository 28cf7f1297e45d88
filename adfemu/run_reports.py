"""Reports of a pipeline run, made from its record (the run.json document): JUnit XML for CI and one
self-contained HTML page (no network, no CDN) drawing the pipeline as a graph and the run as a timeline."""
from __future__ import annotations

import json
from importlib import resources
from xml.etree import ElementTree as ET

from .progress import scope_label


def _all_runs(record: dict, path: str) -> list[tuple[str, dict]]:
    """(pipeline path, run document) for the run and every child run of ExecutePipeline."""
    found = [(path, record)]
    for child in record.get("childRuns") or []:
        found += _all_runs(child, f"{path}/{child['pipelineRun']['pipelineName']}")
    return found


def junit(record: dict) -> str:
    """One test suite per pipeline run, one test case per activity run (classname: the pipeline path, name: the
    activity inside its containers, with the attempt); Failed runs carry ADF's errorCode and message, Skipped
    ones are skipped."""
    runs = _all_runs(record, record["pipelineRun"]["pipelineName"])
    suites = ET.Element("testsuites", name="adfemu run")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for path, run in runs:
        info = run["pipelineRun"]
        suite = ET.SubElement(suites, "testsuite", name=path, timestamp=str(info.get("runStart") or ""),
                              time=f"{(info.get('durationInMs') or 0) / 1000:.3f}")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for activity in run["activityRuns"]:
            extra = activity.get("adfemu") or {}
            name = f"{scope_label(extra.get('scope', ''))}{activity['activityName']}"
            if extra.get("maxAttempts", 1) > 1:
                name += f" (attempt {(activity.get('retryAttempt') or 0) + 1}/{extra['maxAttempts']})"
            case = ET.SubElement(suite, "testcase", classname=path, name=name,
                                 time=f"{(activity.get('durationInMs') or 0) / 1000:.3f}")
            counts["tests"] += 1
            if activity["status"] == "Failed":
                error = activity.get("error") or {}
                failure = ET.SubElement(case, "failure", type=str(error.get("errorCode") or "Failed"),
                                        message=str(error.get("message") or "Failed"))
                failure.text = json.dumps(error, indent=2)
                counts["failures"] += 1
            elif activity["status"] == "Skipped":
                ET.SubElement(case, "skipped", message="Skipped: its dependency conditions were not met")
                counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        if info.get("status") == "Failed" and info.get("message"):
            ET.SubElement(suite, "system-out").text = info["message"]
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def table(record: dict, width: int = 100) -> str:
    """The activity runs as a plain-text table (the pytest plugin shows it for a failed run), then the ending."""
    import textwrap

    from .progress import ending
    lines = []
    for path, run in _all_runs(record, record["pipelineRun"]["pipelineName"]):
        lines.append(f"pipeline {path}: {run['pipelineRun']['status']} (run {run['pipelineRun']['runId']})")
        for activity in run["activityRuns"]:
            extra = activity.get("adfemu") or {}
            name = f"{scope_label(extra.get('scope', ''))}{activity['activityName']}"
            if extra.get("maxAttempts", 1) > 1:
                name += f" (attempt {(activity.get('retryAttempt') or 0) + 1}/{extra['maxAttempts']})"
            lines.append(f"  {name:<32} {activity['activityType']:<24} {activity['status']:<10} "
                         f"{activity.get('durationInMs') or 0:>7} ms")
    lines += ending(record)[1:]
    return "\n".join(textwrap.fill(line, width, subsequent_indent="      ", break_long_words=False,
                                   break_on_hyphens=False) for line in lines)


def html(record: dict) -> str:
    """The HTML report: the record embedded as JSON (every ``<`` written as ``\\u003c``, so no value can end the
    script element)."""
    template = resources.files(__package__).joinpath("assets", "run-report.html").read_text(encoding="utf-8")
    data = json.dumps(record, ensure_ascii=False).replace("<", "\\u003c")
    return template.replace("/*__DATA__*/", data)
