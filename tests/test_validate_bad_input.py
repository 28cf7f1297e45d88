"""``adfemu validate`` on input it cannot use: one line on stderr naming the path, exit 2, never a traceback.

docs/validate.md: files are UTF-8 (BOM optional) or UTF-16/UTF-32 with a BOM, as real exports are; exit 0
without errors, 1 with errors, 2 when the input cannot be read. Inside a factory folder one unreadable file is
an ``ADF-E-JSON`` finding (exit 1) and the other files are still validated; only when nothing at all can be
read is it exit 2. ``--format json`` prints ``{"problems": [{"file", "line", "column", "pointer", "severity",
"code", "message", "hint"}], "summary": {...}}``; ``--format junit`` one test case per file, failed when the
file has errors.

The CLI runs in-process (click's CliRunner) and, for a few representative inputs, as a real subprocess.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from adfemu.cli import main
from adfemu.runner.factory import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parent.parent
SEED_FACTORY = ROOT / "fixtures" / "seed-factory"
TRACEBACK = "Traceback (most recent call last)"
PROBLEM_KEYS = {"file", "line", "column", "pointer", "severity", "code", "message", "hint"}
SUMMARY_KEYS = {"errors", "warnings", "files", "factories", "byCode"}

STORAGE = {"name": "Storage", "properties": {"type": "AzureBlobStorage", "typeProperties": {
    "connectionString": "DefaultEndpointsProtocol=https;AccountName=acct;EndpointSuffix=core.windows.net"}}}
# Valid, with one non-ASCII character so that the encodings differ in more than their BOM.
PIPELINE = {"name": "Copy", "properties": {"description": "Übertrag – copy", "activities": [
    {"name": "Pause", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1}}]}}
# One error: the Lookup names a dataset that does not exist.
BROKEN_PIPELINE = {"name": "Broken", "properties": {"activities": [
    {"name": "Read", "type": "Lookup", "typeProperties": {
        "source": {"type": "DelimitedTextSource"},
        "dataset": {"referenceName": "Nowhere", "type": "DatasetReference"}}}]}}
BROKEN_POINTER = "/properties/activities/0/typeProperties/dataset/referenceName"


def text_of(doc: dict) -> str:
    return json.dumps(doc, indent=4, ensure_ascii=False) + "\n"


def position_of(text: str, needle: str) -> tuple[int, int]:
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


# ------------------------------------------------------------------------------------------------ bad bytes

def huge_json() -> bytes:
    """A syntactically valid linked service of about 5 MB (over MAX_FILE_BYTES)."""
    doc = {"name": "Huge", "properties": {"type": "AzureBlobStorage", "typeProperties": {"connectionString": "x"},
                                          "annotations": ["a" * 1000] * 5200}}
    data = json.dumps(doc).encode()
    assert len(data) > MAX_FILE_BYTES and len(data) > 5_000_000
    return data


BAD_FILES: dict[str, tuple[bytes, str]] = {
    # id: (bytes, what the one-line message must contain)
    "not-json-unquoted-key": (b"{ name: 1 }", "not JSON"),
    "not-json-trailing-comma": (b'{"name": "a",}', "not JSON"),
    "not-json-comment": (b'// exported\n{"name": "a"}', "not JSON"),
    "not-json-single-quotes": (b"{'name': 'a'}", "not JSON"),
    "not-json-nan": (b'{"name": NaN}', "not JSON"),
    "not-json-two-values": (b'{"name": "a"} {"name": "b"}', "not JSON"),
    "not-json-truncated": (text_of(STORAGE).encode()[:40], "not JSON"),
    "not-json-html": (b"<html><body>Sign in</body></html>", "not JSON"),
    "utf16-without-bom": (text_of(STORAGE).encode("utf-16-le"), "byte-order mark"),
    "utf16-be-without-bom": (text_of(STORAGE).encode("utf-16-be"), "byte-order mark"),
    "utf16-bom-odd-length": (b"\xff\xfe" + text_of(STORAGE).encode("utf-16-le") + b"\x00", "UTF-16"),
    "utf16-bom-lone-surrogate": (b"\xff\xfe" + '{"name": "'.encode("utf-16-le") + b"\x00\xd8" +
                                 '"}'.encode("utf-16-le"), "UTF-16"),
    "invalid-utf8": (text_of(STORAGE).encode()[:20] + b"\xff\xfe\xc3" + text_of(STORAGE).encode()[20:], "UTF-8"),
    "latin1": (text_of(PIPELINE).replace("–", "-").encode("latin-1"), "UTF-8"),
    "utf8-bom-then-invalid": (b"\xef\xbb\xbf" + b'{"name": "\xff"}', "UTF-8"),
    "empty": (b"", "empty"),
    "whitespace-only": (b"  \n\t \r\n", "empty"),
    "bom-only": (b"\xef\xbb\xbf", "empty"),
    "utf16-bom-whitespace-only": (b"\xff\xfe" + " \n ".encode("utf-16-le"), "empty"),
    "nul-bytes": (b"\x00" * 64, "byte-order mark"),
    "binary": (bytes(range(256)) * 4, "not JSON"),
    "too-deep": (b"[" * 1000 + b"]" * 1000, "nesting"),
    "array-not-object": (b'[{"name": "Storage"}]', "expected a JSON object"),
    "string-not-object": (b'"Storage"', "expected a JSON object"),
    "huge-5mb": (huge_json(), "too large"),
}


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None


def run_cli(*args: str) -> Run:
    result = CliRunner().invoke(main, ["validate", *args])
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Run(result.exit_code, result.stdout, result.stderr, exception)


def run_subprocess(*args: str) -> Run:
    proc = subprocess.run([sys.executable, "-m", "adfemu.cli", "validate", *args], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_no_traceback(run: Run) -> None:
    assert run.exception is None, f"uncaught {type(run.exception).__name__}: {run.exception}"
    assert TRACEBACK not in run.stderr and TRACEBACK not in run.stdout, run.stderr[-2000:]


def assert_unusable(run: Run, path: Path | str, fragment: str | None = None) -> str:
    """Exit 2, nothing on stdout, one line on stderr that names ``path``; returns that line."""
    assert_no_traceback(run)
    assert run.exit_code == 2, (run.exit_code, run.stdout[-1000:], run.stderr[-1000:])
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("adfemu validate: "), line
    assert str(path) in line, line
    if fragment is not None:
        assert fragment.lower() in line.lower(), line
    return line


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# ------------------------------------------------------------------------------------------------ single files

@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_unreadable_file_is_one_line_and_exit_2(tmp_path, case):
    data, fragment = BAD_FILES[case]
    path = write(tmp_path / "linkedService" / f"{case}.json", data)
    for fmt in ("text", "json", "junit"):
        assert_unusable(run_cli(str(path), "--format", fmt), path, fragment)


def test_unreadable_file_among_good_files_named_explicitly_is_exit_2(tmp_path):
    good = write(tmp_path / "linkedService" / "Storage.json", text_of(STORAGE))
    bad = write(tmp_path / "linkedService" / "Bad.json", b"{,}")
    line = assert_unusable(run_cli(str(good), str(bad)), bad, "not JSON")
    assert "line 1, column 2" in line


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
    ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b"\x00\x00\xfe\xff")])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_valid_file_in_any_supported_encoding_is_read(tmp_path, encoding, bom, newline):
    text = text_of(PIPELINE).replace("\n", newline)
    path = write(tmp_path / "pipeline" / "Copy.json", bom + text.encode(encoding))
    run = run_cli(str(path), "--format", "json")
    assert_no_traceback(run)
    assert run.exit_code == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["problems"] == [] and report["summary"]["files"] == 1


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                          ("utf-8", b"\xef\xbb\xbf")])
def test_errors_in_a_utf16_file_are_exit_1_at_the_right_line_and_column(tmp_path, encoding, bom):
    write(tmp_path / "pipeline" / "Copy.json", bom + text_of(PIPELINE).encode(encoding))
    text = text_of(BROKEN_PIPELINE)
    path = write(tmp_path / "pipeline" / "Broken.json", bom + text.encode(encoding))
    run = run_cli(str(tmp_path), "--format", "json")
    assert_no_traceback(run)
    assert run.exit_code == 1, run.stdout + run.stderr
    [problem] = json.loads(run.stdout)["problems"]
    assert (problem["file"], problem["pointer"], problem["code"]) == (str(path), BROKEN_POINTER, "ADF-E-REFERENCE")
    assert (problem["line"], problem["column"]) == position_of(text, '"Nowhere"')


# ------------------------------------------------------------------------------------------------ paths

def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    assert_unusable(run_cli(str(missing)), missing, "no such file")


def test_missing_path_among_good_ones(tmp_path):
    write(tmp_path / "f" / "linkedService" / "Storage.json", text_of(STORAGE))
    missing = tmp_path / "nope.json"
    assert_unusable(run_cli(str(tmp_path / "f"), str(missing)), missing, "no such file")


@pytest.mark.parametrize("layout", ["empty", "files-but-no-kind-folder", "kind-folder-without-json",
                                    "nested-kind-folder-too-deep"])
def test_directory_with_no_factory(tmp_path, layout):
    root = tmp_path / "repo"
    root.mkdir()
    if layout == "files-but-no-kind-folder":
        write(root / "README.md", "# nothing here")
        write(root / "notes" / "Storage.json", text_of(STORAGE))
    elif layout == "kind-folder-without-json":
        write(root / "pipeline" / "README.md", "no definitions yet")
    elif layout == "nested-kind-folder-too-deep":
        write(root / "pipeline" / "archive" / "pipeline" / "Copy.json", text_of(PIPELINE))
    assert_unusable(run_cli(str(root)), root, "no ADF factory found")


@pytest.mark.parametrize("kind_folder", ["pipeline", "linkedService", "LinkedService"])
def test_kind_folder_given_directly(tmp_path, kind_folder):
    folder = tmp_path / "factory" / kind_folder
    write(folder / "Storage.json", text_of(STORAGE))
    line = assert_unusable(run_cli(str(folder)), folder, "entity folder")
    assert "parent folder" in line


def test_only_ignored_files(tmp_path):
    params = write(tmp_path / "ARMTemplateParametersForFactory.json",
                   json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                                          "deploymentParameters.json#", "parameters": {}}))
    assert_unusable(run_cli(str(params)), params, "nothing to load")


def test_folder_where_nothing_can_be_read_is_exit_2(tmp_path):
    write(tmp_path / "pipeline" / "a.json", b"{,}")
    write(tmp_path / "linkedService" / "b.json", b"")
    line = assert_unusable(run_cli(str(tmp_path)), tmp_path, "no entity could be read")
    assert "(and 1 more problems)" in line


# ------------------------------------------------------------------------------------------------ folders

@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_one_unreadable_file_in_a_factory_is_an_error_finding_and_the_rest_is_validated(tmp_path, case):
    data, fragment = BAD_FILES[case]
    write(tmp_path / "linkedService" / "Storage.json", text_of(STORAGE))
    broken = write(tmp_path / "pipeline" / "Broken.json", text_of(BROKEN_PIPELINE))
    bad = write(tmp_path / "linkedService" / f"{case}.json", data)
    run = run_cli(str(tmp_path), "--format", "json")
    assert_no_traceback(run)
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.stderr == ""
    report = json.loads(run.stdout)
    by_file = {}
    for problem in report["problems"]:
        by_file.setdefault(problem["file"], []).append(problem)
    assert set(by_file) == {str(bad), str(broken)}
    [json_error] = by_file[str(bad)]
    assert (json_error["code"], json_error["severity"], json_error["pointer"]) == ("ADF-E-JSON", "error", "")
    assert fragment.lower() in json_error["message"].lower() and "\n" not in json_error["message"]
    assert [(p["code"], p["pointer"]) for p in by_file[str(broken)]] == [("ADF-E-REFERENCE", BROKEN_POINTER)]
    assert report["summary"]["errors"] == 2 and report["summary"]["files"] == 3

    text = run_cli(str(tmp_path))
    assert text.exit_code == 1 and text.stderr == ""
    assert any(line.startswith(f"{bad}:") and "ADF-E-JSON" in line for line in text.stdout.splitlines())


def test_json_error_finding_keeps_its_line_and_column(tmp_path):
    write(tmp_path / "linkedService" / "Storage.json", text_of(STORAGE))
    bad = write(tmp_path / "linkedService" / "Bad.json", b'{\n  "name": "Bad",\n  "properties": {,}\n}\n')
    run = run_cli(str(tmp_path), "--format", "json")
    [problem] = json.loads(run.stdout)["problems"]
    assert problem["file"] == str(bad) and problem["code"] == "ADF-E-JSON"
    assert (problem["line"], problem["column"]) == (3, 18)


def test_seed_factory_as_published_is_exit_0_with_warnings_only():
    run = run_cli(str(SEED_FACTORY), "--format", "json")
    assert_no_traceback(run)
    assert run.exit_code == 0
    report = json.loads(run.stdout)
    assert report["summary"]["errors"] == 0 and report["summary"]["warnings"] == 15
    assert report["summary"]["files"] == 5 and report["summary"]["factories"] == 1


# ------------------------------------------------------------------------------------------------ formats

@pytest.fixture
def mixed_factory(tmp_path) -> dict[str, Path]:
    """A factory with a valid file, a file with an error, a file with only a warning and an unreadable file."""
    files = {
        "ok": write(tmp_path / "linkedService" / "Storage.json", text_of(STORAGE)),
        "error": write(tmp_path / "pipeline" / "Broken.json", text_of(BROKEN_PIPELINE)),
        "warning": write(tmp_path / "linkedService" / "Clear.json", text_of(
            {"name": "Clear", "properties": {"type": "AzureML", "typeProperties": {
                "mlEndpoint": "https://example.net/jobs", "apiKey": "in-clear-text"}}})),
        "unreadable": write(tmp_path / "dataset" / "Bad.json", b"\xff\xfe{"),
    }
    return files


def test_json_format(mixed_factory, tmp_path):
    run = run_cli(str(tmp_path), "--format", "json")
    assert_no_traceback(run)
    assert run.exit_code == 1 and run.stderr == ""
    report = json.loads(run.stdout)
    assert set(report) == {"problems", "summary"}
    assert set(report["summary"]) == SUMMARY_KEYS
    for problem in report["problems"]:
        assert set(problem) == PROBLEM_KEYS, problem
        assert problem["severity"] in ("error", "warning")
        assert isinstance(problem["message"], str) and "\n" not in problem["message"]
        assert isinstance(problem["pointer"], str) and (problem["pointer"] == "" or problem["pointer"].startswith("/"))
        assert problem["line"] is None or (isinstance(problem["line"], int) and problem["line"] >= 1)
        assert problem["column"] is None or (isinstance(problem["column"], int) and problem["column"] >= 1)
        assert problem["hint"] is None or isinstance(problem["hint"], str)
        assert problem["code"].startswith(("ADF-E-", "ADF-W-"))
        assert problem["code"].startswith("ADF-E-") == (problem["severity"] == "error")
    files = {p["file"] for p in report["problems"]}
    assert files == {str(mixed_factory[k]) for k in ("error", "warning", "unreadable")}
    summary = report["summary"]
    assert summary["errors"] == sum(p["severity"] == "error" for p in report["problems"]) == 2
    assert summary["warnings"] == sum(p["severity"] == "warning" for p in report["problems"]) == 1
    assert summary["files"] == 4 and summary["factories"] == 1
    assert summary["byCode"] == {"ADF-E-JSON": 1, "ADF-E-REFERENCE": 1, "ADF-W-CLEAR-SECRET": 1}
    [reference] = [p for p in report["problems"] if p["code"] == "ADF-E-REFERENCE"]
    assert (reference["line"], reference["column"]) == position_of(text_of(BROKEN_PIPELINE), '"Nowhere"')


def test_junit_format(mixed_factory, tmp_path):
    run = run_cli(str(tmp_path), "--format", "junit")
    assert_no_traceback(run)
    assert run.exit_code == 1 and run.stderr == ""
    suites = ET.fromstring(run.stdout.encode())
    assert suites.tag == "testsuites"
    cases = {case.get("name"): case for case in suites.iter("testcase")}
    assert set(cases) == {str(p) for p in mixed_factory.values()}
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {str(mixed_factory["error"]), str(mixed_factory["unreadable"])}
    assert "ADF-E-REFERENCE" in cases[str(mixed_factory["error"])].find("failure").text
    assert "ADF-E-JSON" in cases[str(mixed_factory["unreadable"])].find("failure").text
    assert "ADF-W-CLEAR-SECRET" in cases[str(mixed_factory["warning"])].find("system-out").text
    assert suites.get("tests") == "4" and suites.get("failures") == "2"


def test_junit_and_json_of_a_clean_factory(tmp_path):
    write(tmp_path / "linkedService" / "Storage.json", text_of(STORAGE))
    write(tmp_path / "pipeline" / "Copy.json", b"\xff\xfe" + text_of(PIPELINE).encode("utf-16-le"))
    junit = run_cli(str(tmp_path), "--format", "junit")
    assert junit.exit_code == 0
    suites = ET.fromstring(junit.stdout.encode())
    assert len(list(suites.iter("testcase"))) == 2 and not list(suites.iter("failure"))
    report = json.loads(run_cli(str(tmp_path), "--format", "json").stdout)
    assert report["problems"] == [] and report["summary"]["errors"] == 0


# ------------------------------------------------------------------------------------------------ deep nesting

def nested_foreach(depth: int) -> dict:
    act = {"name": "Leaf", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1}}
    for i in range(depth):
        act = {"name": f"Loop{i}", "type": "ForEach", "typeProperties": {
            "items": {"type": "Expression", "value": "@createArray(1)"}, "activities": [act]}}
    return {"name": "Deep", "properties": {"activities": [act]}}


def test_deeply_nested_containers_do_not_crash(tmp_path):
    path = write(tmp_path / "pipeline" / "Deep.json", json.dumps(nested_foreach(80)))
    run = run_cli(str(path))
    assert_no_traceback(run)
    # jsonschema-rs decides validity without Python recursion (issue 12), so 80 levels now validate instead of
    # stopping at ADF-E-TOO-DEEP; either way one summary line and no traceback
    assert run.exit_code in (0, 1) and "error(s)" in run.stdout.splitlines()[-1]
    assert len(run.stderr.splitlines()) <= 1


def test_moderately_nested_containers_validate(tmp_path):
    path = write(tmp_path / "pipeline" / "Deep.json", json.dumps(nested_foreach(20)))
    run = run_cli(str(path))
    assert_no_traceback(run)
    assert run.exit_code == 0, run.stdout + run.stderr


# ------------------------------------------------------------------------------------------------ subprocess

# Each subprocess pays the CLI's start-up (about 1.5 s here, mostly scikit-learn imported through
# emulator.config), so only representative cases run this way; the in-process tests cover the rest.
@pytest.mark.parametrize("case", ["not-json-unquoted-key", "utf16-without-bom", "empty", "huge-5mb"])
def test_subprocess_unreadable_file(tmp_path, case):
    data, fragment = BAD_FILES[case]
    path = write(tmp_path / f"{case}.json", data)
    assert_unusable(run_subprocess(str(path)), path, fragment)


def test_subprocess_paths_and_folders(tmp_path):
    assert_unusable(run_subprocess(str(tmp_path / "missing")), tmp_path / "missing", "no such file")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_unusable(run_subprocess(str(empty)), empty, "no ADF factory found")
    kind = tmp_path / "f" / "pipeline"
    write(kind / "Copy.json", text_of(PIPELINE))
    assert_unusable(run_subprocess(str(kind)), kind, "entity folder")

    # a valid UTF-16-with-BOM factory with one broken file: exit 1, the broken file is a finding
    factory = tmp_path / "f"
    write(factory / "linkedService" / "Storage.json", b"\xff\xfe" + text_of(STORAGE).encode("utf-16-le"))
    bad = write(factory / "linkedService" / "Bad.json", text_of(STORAGE).encode("utf-16-le"))
    run = run_subprocess(str(factory), "--format", "json")
    assert_no_traceback(run)
    assert run.exit_code == 1 and run.stderr == ""
    report = json.loads(run.stdout)
    assert [(p["file"], p["code"]) for p in report["problems"]] == [(str(bad), "ADF-E-JSON")]
    assert report["summary"]["files"] == 3


def test_subprocess_deeply_nested_containers(tmp_path):
    path = write(tmp_path / "Deep.json", json.dumps(nested_foreach(80)))
    run = run_subprocess(str(path))
    assert_no_traceback(run)
    assert run.exit_code in (0, 1) and len(run.stderr.splitlines()) <= 1  # see test_deeply_nested_containers_...
