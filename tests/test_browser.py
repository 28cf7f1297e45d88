"""The HTML run report and the emulator dashboard, rendered by a real headless Chromium."""
from __future__ import annotations

import pytest

from adfemu import run_reports

from .browser import browser, distinct_pixels, page  # noqa: F401 (fixtures)
from .reports_helpers import definition_count, run_count, seed_records, shapes_record


@pytest.fixture
def records(adfemu):
    ok, failed = seed_records(adfemu)
    return {"ok": ok, "failed": failed, "shapes": shapes_record(adfemu)}


def _open_report(page, record: dict, tmp_path) -> None:
    path = tmp_path / "run.html"
    path.write_text(run_reports.html(record), encoding="utf-8")
    page.goto(path.as_uri())


@pytest.mark.parametrize("which", ["ok", "failed", "shapes"])
def test_report_draws_every_activity_and_every_activity_run(page, records, which, tmp_path):
    record = records[which]
    _open_report(page, record, tmp_path)
    assert page.locator("g.node").count() == definition_count(record)
    assert page.locator("rect.bar").count() == run_count(record)
    assert page.locator("#run-status").inner_text() == record["pipelineRun"]["status"]
    assert distinct_pixels(page.screenshot(full_page=True)) > 20


def test_clicking_a_failed_node_shows_its_error(page, records, tmp_path):
    _open_report(page, records["failed"], tmp_path)
    node = page.locator('g.node[data-activity="amlBEGetilearner"]')
    assert node.get_attribute("data-status") == "Failed"
    assert page.locator('g.node[data-activity="amlUpdateResource"]').get_attribute("data-status") == "Skipped"
    node.click()
    error = page.locator("#details pre.error").inner_text()
    assert error.startswith("2600 Batch Execution failed.") and "invalid or missing file extension" in error


def test_containers_expand_and_attempts_are_shown(page, records, tmp_path):
    _open_report(page, records["shapes"], tmp_path)
    inside = page.locator('div.nested[data-container="Each"]')
    assert not inside.is_visible()
    page.locator('text[data-toggle="Each"]').click()
    assert inside.is_visible()
    assert page.locator('g.node[data-activity="Odd"]').first.get_attribute("data-status") == "Succeeded"
    page.locator('g.node[data-activity="Flaky"]').click()
    assert page.locator("#details .runs button").count() == 2
    assert "attempt 2/3" in page.locator("#details p.meta").inner_text()
    assert page.locator("#details pre.input").inner_text() == '"(secure)"'
    assert page.locator('rect.bar[data-status="Failed"]').count() == 1  # Flaky's first attempt


def test_dashboard_shows_services_models_jobs_and_requests(page, records, adfemu):
    page.goto(f"{adfemu.url}/_emulator/")
    page.wait_for_selector("#jobs tbody td.status")
    jobs = page.locator("#jobs tbody").inner_text()
    assert "Finished" in jobs and "Failed" not in jobs
    rows = page.locator("#services tbody tr").all_inner_texts()
    assert any("updatable" in r and "sha256" in r and "classic management API: PATCH" in r for r in rows), rows
    assert page.locator("#requests tbody tr").count() >= 5
    before = page.locator("#refreshed").inner_text()
    page.wait_for_function(f"document.getElementById('refreshed').textContent !== {before!r}", timeout=10_000)
    assert distinct_pixels(page.screenshot(full_page=True)) > 20
