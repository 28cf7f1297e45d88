"""The pytest plugin as a user's test session sees it (pytester runs a separate pytest in a subprocess, with
the plugin loaded through its pytest11 entry point, as after `pip install adfemu`)."""
from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

USER_TEST = '''
import adfemu as api

def test_runs_a_factory(adfemu):
    adfemu.upload("input/hello.txt", b"hi")
    result = adfemu.run("plain", "NoAzureMl", {"greeting": "bonjour"})
    assert result.status == "Succeeded"
    assert result.activity("Compose").output["value"] == "bonjour from adfemu"
    assert adfemu.list_blobs() == ["input/hello.txt"]
    print("EMULATOR", adfemu.url)

def test_is_reset_between_tests(adfemu):
    assert adfemu.list_blobs() == []
'''


@pytest.fixture
def user_repo(pytester):
    shutil.copytree(ROOT / "tests" / "factories" / "plain", pytester.path / "plain")
    pytester.makepyfile(test_user=USER_TEST)
    return pytester


def test_the_fixture_starts_its_own_environment(user_repo):
    result = user_repo.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=2)


def test_the_fixture_uses_a_running_serve_with_adfemu_url(user_repo):
    serve = subprocess.Popen([sys.executable, "-m", "adfemu.cli", "serve", "--factory",
                              str(ROOT / "tests" / "factories" / "plain")], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        for line in serve.stdout:
            if m := re.match(r"adfemu emulator listening on (\S+)", line):
                url = m.group(1)
            if line.startswith("health:"):
                break
        result = user_repo.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--adfemu-url", url)
        result.assert_outcomes(passed=2)
        assert f"EMULATOR {url}" in result.stdout.str()
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        serve.stdout.close()


def test_a_failed_start_is_one_line_naming_the_cause(user_repo, monkeypatch):
    monkeypatch.setenv("ADFEMU_AZURITE", "/nonexistent/azurite-blob")
    result = user_repo.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*adfemu: cannot start the emulated Azure side: ADFEMU_AZURITE names "
                                 "/nonexistent/azurite-blob, which does not exist*"])
    assert "Traceback" not in result.stdout.str()


def test_factories_named_in_the_ini_file_exist_from_the_start(pytester):
    shutil.copytree(ROOT / "tests" / "factories" / "twoaccounts", pytester.path / "twoaccounts")
    sqlite3.connect(pytester.path / "sales.sqlite").close()
    pytester.makeini("[pytest]\nadfemu_factories = twoaccounts\nadfemu_sql = SqlDb=sales.sqlite\n")
    pytester.makepyfile(test_user='''
from pathlib import Path

def test_account_is_there_without_loading(adfemu):
    adfemu.upload("data/x.csv", b"1", account="adfemualpha")
    assert adfemu.list_blobs(account="adfemualpha") == ["data/x.csv"]
    assert adfemu.requests() == []   # nothing was provisioned during the test
    assert adfemu.settings.sql == {"SqlDb": str(Path("sales.sqlite").resolve())}   # ini adfemu_sql
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_failed_test_shows_the_failed_runs_activity_table_and_reports_are_written(pytester):
    shutil.copytree(ROOT / "fixtures" / "seed-factory-corrected", pytester.path / "seed")
    pytester.makepyfile(test_user='''
def test_retrain(adfemu):
    result = adfemu.run("seed", "LookupPipelineDemo")   # no training data uploaded: the BES job fails
    assert result.status == "Succeeded"
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--adfemu-report", "reports")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*adfemu run LookupPipelineDemo (Failed)*",
                                 "*amlBEGetilearner*AzureMLBatchExecution*Failed*",
                                 "*amlUpdateResource*Skipped*",
                                 "*amlBEGetilearner failed, errorCode 2600*"])
    reports = sorted(p.name for p in (pytester.path / "reports").iterdir())
    assert reports == ["test_user.py_test_retrain-1.html"]
