"""`adfemu validate --format sarif|github` and the pre-commit hook: where users validate (issue 12)."""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from adfemu.cli import main

ROOT = Path(__file__).resolve().parent.parent

# The official OASIS SARIF 2.1.0 JSON Schema, vendored verbatim (vendor/sarif/SOURCE.md names its origin).
SARIF_SCHEMA = json.loads((ROOT / "vendor" / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
SEED = ROOT / "fixtures" / "seed-factory"


def sarif_errors(log: dict) -> list[str]:
    """Every violation of the SARIF 2.1.0 schema (formats checked where jsonschema can)."""
    validator = Draft202012Validator(SARIF_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def _factory(tmp_path: Path) -> Path:
    folder = tmp_path / "my factory" / "pipeline"
    folder.mkdir(parents=True)
    doc = {"name": "P", "properties": {"variables": {"out": {"type": "String"}}, "parameters": {"p": {"type": "STRING"}},
                                       "activities": [{"name": "A", "type": "SetVariable", "typeProperties": {
                                           "variableName": "out", "value": "@concat('a, b', variables('out')"}}]}}
    (folder / "P.json").write_text(json.dumps(doc, indent=2))
    return folder.parent


def test_sarif_is_a_sarif_2_1_0_log_with_one_result_per_finding(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(_factory(tmp_path)), "--format", "sarif"])
    assert result.exit_code == 1
    log = json.loads(result.output)
    assert sarif_errors(log) == []
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "adfemu"
    levels = sorted((r["ruleId"], r["level"]) for r in run["results"])
    assert levels == [("ADF-E-EXPRESSION-SYNTAX", "error"), ("ADF-W-ENUM-CASE", "warning")]
    error = next(r for r in run["results"] if r["level"] == "error")
    assert run["tool"]["driver"]["rules"][error["ruleIndex"]]["id"] == error["ruleId"]
    location = error["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("my%20factory/pipeline/P.json")
    assert location["physicalLocation"]["region"] == {"startLine": 20, "startColumn": 20}
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "/properties/activities/0/typeProperties/value"


def test_sarif_of_the_seed_factory_is_valid_against_the_official_schema():
    result = CliRunner().invoke(main, ["validate", str(SEED), "--format", "sarif"])
    log = json.loads(result.output)
    assert sarif_errors(log) == []
    results = log["runs"][0]["results"]
    assert results and {r["level"] for r in results} <= {"error", "warning", "note"}


def test_the_schema_check_can_fail():
    """The vendored schema really constrains a log: a result without a message and a bad level are caught."""
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "adfemu"}},
                                         "results": [{"ruleId": "X", "level": "fatal"}]}]}
    errors = sarif_errors(log)
    assert any("'message' is a required property" in e for e in errors)
    assert any("'fatal' is not one of" in e for e in errors)


def test_github_format_writes_one_workflow_command_per_finding(tmp_path):
    """GitHub Docs, "Workflow commands for GitHub Actions": ::error file={name},line={line},col={col},title=...::msg;
    ',' and ':' in properties and '%', CR, LF in the message are escaped (%2C %3A %25 %0D %0A)."""
    result = CliRunner().invoke(main, ["validate", str(_factory(tmp_path)), "--format", "github"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    error = next(l for l in lines if l.startswith("::error "))
    assert error.startswith("::error file=") and ",line=20,col=20,title=ADF-E-EXPRESSION-SYNTAX::" in error
    assert "/properties/activities/0/typeProperties/value: expression at offset" in error
    assert any(l.startswith("::warning ") and "title=ADF-W-ENUM-CASE" in l for l in lines)
    assert lines[-1] == "1 error(s), 1 warning(s) in 1 file(s), 1 factory"


def test_github_escapes_what_the_runner_would_split_on():
    from adfemu import report
    from adfemu.schemas.entities import Finding
    finding = Finding("a,b:c.json", "/x", "error", "ADF-E-X", "50% done\nnext", line=1, column=2)
    line = report.github([finding], {"errors": 1, "warnings": 0, "files": 1, "factories": 1}).splitlines()[0]
    assert line == "::error file=a%2Cb%3Ac.json,line=1,col=2,title=ADF-E-X::/x: 50%25 done%0Anext"


def test_pre_commit_hook_runs_adfemu_validate_on_adf_json_files():
    """pre-commit's hook manifest (.pre-commit-hooks.yaml): id, name, entry and language are required."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"adfemu-validate", "adfemu-validate-factory"}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["entry"] == "adfemu validate"
        assert hook["language"] == "python"
    import re
    pattern = re.compile(by_id["adfemu-validate"]["files"])
    assert pattern.search("factory/pipeline/Retrain.json") and pattern.search("linkedService/AML.json")
    assert not pattern.search("docs/notes.json") and not pattern.search("pipeline/readme.md")
    assert by_id["adfemu-validate-factory"]["pass_filenames"] is False
