"""Make the screenshots in docs/images/: the HTML report of the seed as published (a failed run) and the
emulator dashboard after the demo's three runs. Needs Debian's chromium. Usage: python tools/screenshots.py"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import adfemu
from adfemu import run_reports

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
OUT = ROOT / "docs" / "images"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]


def main() -> int:
    from playwright.sync_api import sync_playwright
    linked = sorted((FIXTURES / "seed-factory-corrected" / "linkedService").glob("*.json"))
    published = adfemu.load([*linked, FIXTURES / "seed-factory" / "pipeline" / "LookupPipelineDemo.json"])
    with adfemu.start(config=FIXTURES / "seed-emulator.json", https=True) as env, \
            tempfile.TemporaryDirectory() as work, sync_playwright() as playwright:
        env.upload_folder(FIXTURES / "seed-data")
        env.run(FIXTURES / "seed-factory-corrected", "LookupPipelineDemo")
        failed = env.run(published, "LookupPipelineDemo")
        env.run(FIXTURES / "seed-factory-arm", "LookupPipelineDemo")
        report = Path(work, "run.html")
        report.write_text(run_reports.html(failed.record), encoding="utf-8")
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 640}, ignore_https_errors=True)
        page = context.new_page()
        page.goto(report.as_uri())
        page.locator('g.node[data-activity="amlBEGetilearner"]').click()
        page.screenshot(path=str(OUT / "report-failed-seed.png"))
        page.goto(f"{env.url}/_emulator/")
        page.wait_for_selector("#jobs tbody td.status")
        page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
        browser.close()
    print(f"written: {OUT / 'report-failed-seed.png'}, {OUT / 'dashboard.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
