"""Run reports made from the run record: JUnit XML and the self-contained HTML page (its content; the browser
tests in test_browser.py render it)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest

from adfemu import run_reports

from .reports_helpers import definition_count, run_count, seed_records, shapes_record


@pytest.fixture
def records(adfemu):
    ok, failed = seed_records(adfemu)
    return {"ok": ok, "failed": failed, "shapes": shapes_record(adfemu)}


def test_junit_has_one_case_per_activity_run_with_adf_errors_and_skips(records):
    tree = ET.fromstring(run_reports.junit(records["failed"]))
    cases = tree.findall(".//testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("LookupPipelineDemo", "amlBEGetilearner"), ("LookupPipelineDemo", "amlUpdateResource")]
    failure = cases[0].find("failure")
    assert failure.get("type") == "2600" and "invalid or missing file extension" in failure.get("message")
    assert cases[1].find("skipped") is not None
    assert (tree.get("tests"), tree.get("failures"), tree.get("skipped")) == ("2", "1", "1")


def test_junit_names_attempts_iterations_and_child_pipelines(records):
    record = records["shapes"]
    tree = ET.fromstring(run_reports.junit(record))
    cases = tree.findall(".//testcase")
    assert len(cases) == run_count(record)
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert ("Shapes", "Flaky (attempt 1/3)") in names and ("Shapes", "Flaky (attempt 2/3)") in names
    assert ("Shapes", "Each[1] > Check(false) > Even") in names
    assert ("Shapes/Little", "Nap") in names
    flaky_first = next(c for c in cases if c.get("name") == "Flaky (attempt 1/3)")
    assert flaky_first.find("failure").get("type") == "2108"


def test_html_is_self_contained_and_masks_what_run_json_masks(records):
    page = run_reports.html(records["shapes"])
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "the report must not load anything"
    assert "hunter2-secret" not in page and "(secure)" in page
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page,
                                re.S).group(1))
    assert data == json.loads(json.dumps(records["shapes"]))
    assert definition_count(data) == 9 and run_count(data) == 13


def test_a_value_cannot_end_the_script_element(records):
    record = json.loads(json.dumps(records["ok"]))
    record["activityRuns"][0]["output"] = {"x": "</script><script>alert(1)</script>"}
    page = run_reports.html(record)
    assert page.count("</script>") == 2  # the data's and the code's


def test_report_command_makes_html_and_junit_from_run_json(records, tmp_path):
    source = tmp_path / "run.json"
    source.write_text(json.dumps(records["failed"]))
    for name, marker in (("run.html", "<!DOCTYPE html>"), ("run.xml", "<testsuites")):
        done = subprocess.run([sys.executable, "-m", "adfemu.cli", "report", str(source), "-o",
                               str(tmp_path / name)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert marker in (tmp_path / name).read_text()
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    done = subprocess.run([sys.executable, "-m", "adfemu.cli", "report", str(bad), "-o", str(tmp_path / "x.html")],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "is not a run record" in done.stderr and "Traceback" not in done.stderr
