"""`adfemu validate`: the corpus and the seed, leniency, dependsOn, duplicates and cycles, naming rules, limits."""
from __future__ import annotations

import collections
import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from adfemu.cli import main
from adfemu.runner.factory import load_paths
from adfemu.runner.validation import validate_factory
from adfemu.schemas.adf import validate_entity
from adfemu.schemas.entities import Entity, Factory

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "vendor" / "real-adf-definitions"
SEED = ROOT / "fixtures" / "seed-factory"
SPEC_CODES = {"ADF-E-SCHEMA", "ADF-E-UNKNOWN-TYPE", "ADF-E-TYPE-CASE"}


def _validate(paths, strict=False):
    findings = []
    for factory in load_paths([str(p) for p in paths]):
        findings += validate_factory(factory, strict=strict)
    return findings


def _pipeline(*activities, parameters=None, variables=None) -> Entity:
    props = {"activities": list(activities)}
    if parameters is not None:
        props["parameters"] = parameters
    if variables is not None:
        props["variables"] = variables
    return Entity("pipeline", "P", {"name": "P", "properties": props}, "P.json")


def _wait(name: str, *depends) -> dict:
    return {"name": name, "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1},
            "dependsOn": [{"activity": d, "dependencyConditions": ["Succeeded"]} for d in depends]}


def _errors(findings):
    return [(f.pointer, f.code) for f in findings if f.severity == "error"]


# --- the corpus, lenient and strict ----------------------------------------------------------------

def test_corpus_validates_without_errors():
    findings = _validate([CORPUS])
    assert [f for f in findings if f.severity == "error"] == []
    # BigFactorySample2's "Multiple Waits": Wait 4 depends on "If Condition1", which exists under no casing.
    # ADF publishes it (the sample is deployed by its tool's tests); its runs fail, so it is a warning.
    missing = [(Path(f.source).name, f.pointer) for f in findings if f.code == "ADF-W-DEPENDSON-MISSING"]
    assert missing == [("Multiple Waits.json", "/properties/activities/2/dependsOn/0/activity")]
    by_code = collections.Counter(f.code for f in findings if f.severity == "warning")
    unattached = [f for f in findings if f.code == "ADF-W-TRIGGER-NO-PIPELINE"]
    assert [Path(f.source).name for f in unattached] == ["TR_TumblingWindow.json"]
    # every warning is one a user should act on (issue 12): 309 ADF-W-ENUM-CASE for the lower-case parameter
    # types that ADF Studio itself writes are gone; one new warning, for a name with '-' after '.'
    assert dict(by_code) == {"ADF-W-REFERENCE-OUTSIDE": 32, "ADF-W-REFERENCE-CASE": 12, "ADF-W-TIMEOUT": 6,
                             "ADF-W-RANGE": 5, "ADF-W-NAME": 4, "ADF-W-NAME-CASE": 3, "ADF-W-TYPE-CASE": 1,
                             "ADF-W-TRIGGER-NO-PIPELINE": 1, "ADF-W-SPEC-REQUIRED": 1, "ADF-W-EXPRESSION-NAME": 1,
                             "ADF-W-DEPENDSON-MISSING": 1}


@pytest.mark.parametrize("written, warned", [("string", False), ("object", False), ("int", False), ("bool", False),
                                             ("securestring", False), ("STRING", True), ("sTring", True)])
def test_parameter_types_as_adf_studio_writes_them_give_no_warning(written, warned):
    """ADF Studio writes dataset, linked-service and pipeline parameter types in lower case (188 'string', 67
    'object', 42 'int' in the corpus): that warning taught nothing. Spellings Studio never writes still warn."""
    entity = _pipeline(_wait("W"), parameters={"p": {"type": written}})
    findings = validate_factory(Factory("f", [entity]))
    assert [f.code for f in findings] == (["ADF-W-ENUM-CASE"] if warned else [])


def test_the_variable_type_boolean_as_adf_studio_writes_it_gives_no_warning():
    entity = _pipeline(_wait("W"), variables={"v": {"type": "Boolean"}})
    assert validate_factory(Factory("f", [entity])) == []


def test_strict_reproduces_the_spec_measurement():
    findings = _validate([CORPUS], strict=True)
    failing = {f.source for f in findings if f.severity == "error" and f.code in SPEC_CODES}
    entities = [e for factory in load_paths([str(CORPUS)]) for e in factory.entities]
    passed = collections.Counter(e.kind for e in entities if e.source not in failing)
    assert len(entities) == 159
    assert sum(passed.values()) == 50
    assert passed["pipeline"] == 3


# --- PascalCase keys in the seed --------------------------------------------------------------------

def test_seed_validates_with_warnings_that_name_what_will_fail():
    findings = _validate([SEED])
    assert _errors(findings) == []
    renames = {(f.pointer, f.message) for f in findings if f.code == "ADF-W-NAME-CASE"}
    assert ("/properties/activities/0/typeProperties/webServiceInputs/input1/FilePath", "FilePath -> filePath") in renames
    assert ("/properties/activities/0/typeProperties/webServiceOutputs/output1/LinkedServiceName",
            "LinkedServiceName -> linkedServiceName") in renames
    extensions = [f.pointer for f in findings if f.code == "ADF-W-BES-EXTENSION"]
    assert len(extensions) == 3
    not_produced = [f for f in findings if f.code == "ADF-W-MODEL-NOT-PRODUCED"]
    assert len(not_produced) == 1 and "newModelForArm.ilearner" in not_produced[0].message
    assert {f.code for f in findings} >= {"ADF-W-CLEAR-SECRET", "ADF-W-JSON-CONTROL-CHAR", "ADF-W-DEPENDSON-CASE"}


def test_canonical_document_uses_spec_spelling():
    factory = load_paths([str(SEED / "pipeline" / "LookupPipelineDemo.json")])[0]
    _, item = validate_entity(factory.entities[0])
    port = item.canonical.value["properties"]["activities"][0]["typeProperties"]["webServiceInputs"]["input1"]
    assert set(port) == {"linkedServiceName", "filePath"} and port["filePath"] == "azuremltesting/input"


def test_strict_rejects_the_seed_spelling():
    findings = _validate([SEED / "pipeline" / "LookupPipelineDemo.json"], strict=True)
    assert any(f.code == "ADF-E-SCHEMA" and "filePath" in f.message for f in findings)


# --- lower-case parameter types and the Boolean alias ----------------------------------------------

@pytest.mark.parametrize("kind, spelled, canonical", [
    ("parameters", "string", "String"), ("parameters", "int", "Int"), ("parameters", "bool", "Bool"),
    ("parameters", "object", "Object"), ("variables", "Boolean", "Bool"), ("variables", "string", "String")])
def test_parameter_and_variable_types_are_read_case_insensitively(kind, spelled, canonical):
    entity = _pipeline(_wait("W"), **{kind: {"x": {"type": spelled}}})
    findings, item = validate_entity(entity)
    assert _errors(findings) == []
    assert item.canonical.value["properties"][kind]["x"]["type"] == canonical
    # issue 12: read as ADF Studio writes them, without a warning (there is nothing to act on)
    assert not any(f.code == "ADF-W-ENUM-CASE" for f in findings)
    strict, _ = validate_entity(entity, strict=True)
    assert any(f.pointer == f"/properties/{kind}/x/type" for f in strict if f.severity == "error")


# --- dependsOn resolution --------------------------------------------------------------------------

def test_depends_on_with_other_case_resolves_and_a_missing_name_is_reported():
    factory = Factory("mem", [_pipeline(_wait("amlBEGetilearner"), _wait("next", "amlbeGetilearner"), _wait("x", "nope"))])
    findings = validate_factory(factory)
    case = [f for f in findings if f.code == "ADF-W-DEPENDSON-CASE"]
    assert [f.pointer for f in case] == ["/properties/activities/1/dependsOn/0/activity"]
    missing = [f for f in findings if f.code == "ADF-W-DEPENDSON-MISSING"]
    assert [f.pointer for f in missing] == ["/properties/activities/2/dependsOn/0/activity"]
    assert "'nope'" in missing[0].message and "InvalidTemplate" in missing[0].message
    assert _errors(findings) == []  # ADF saves it; the run fails (tests/test_engine_semantics.py)


# --- duplicates and cycles -------------------------------------------------------------------------

def test_duplicate_activity_names_include_nested_ones_case_insensitively():
    loop = {"name": "Loop", "type": "ForEach", "typeProperties": {
        "items": {"type": "Expression", "value": "@createArray(1)"}, "activities": [_wait("step")]}}
    factory = Factory("mem", [_pipeline(_wait("STEP"), loop)])
    assert _errors(validate_factory(factory)) == [
        ("/properties/activities/1/typeProperties/activities/0/name", "ADF-E-DUPLICATE-ACTIVITY")]


def test_dependency_cycles_are_errors():
    factory = Factory("mem", [_pipeline(_wait("a", "c"), _wait("b", "a"), _wait("c", "b"))])
    errors = _errors(validate_factory(factory))
    assert errors and all(code == "ADF-E-CYCLE" for _, code in errors)


# --- naming rules ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, name, ok", [
    ("dataset", "my-data", False), ("linkedService", "ls-1", False), ("pipeline", "pipe-line", True),
    ("pipeline", "a.b", False), ("pipeline", "x" * 140, True), ("pipeline", "x" * 141, False),
    ("dataset", "with space", True), ("pipeline", "a:b", False), ("dataset", "a%b", False)])
def test_entity_names(kind, name, ok):
    props = {"pipeline": {"activities": []}, "dataset": {"type": "Json", "linkedServiceName": {
        "referenceName": "ls", "type": "LinkedServiceReference"}}, "linkedService": {"type": "AzureBlobStorage",
                                                                                       "typeProperties": {}}}[kind]
    entities = [Entity(kind, name, {"name": name, "properties": props}, "f.json"),
                Entity("linkedService", "ls", {"name": "ls", "properties": {"type": "AzureBlobStorage",
                                                                             "typeProperties": {}}}, "ls.json")]
    names = [f for f in validate_factory(Factory("mem", entities)) if f.code == "ADF-E-NAME"]
    assert (not names) == ok, names


@pytest.mark.parametrize("name, ok", [("x" * 55, True), ("x" * 56, False), ("Set Run Id", True), ("a/b", False),
                                      ("_private", True), ("-lead", False)])
def test_activity_names(name, ok):
    findings = validate_factory(Factory("mem", [_pipeline(_wait(name))]))
    assert (not [f for f in findings if f.code == "ADF-E-NAME"]) == ok


# --- limits ----------------------------------------------------------------------------------------

def test_activity_and_parameter_limits():
    many = lambda n: Factory("mem", [_pipeline(*[_wait(f"w{i}") for i in range(n)])])  # noqa: E731
    assert not [f for f in validate_factory(many(80)) if "LIMIT" in f.code]
    assert [f.code for f in validate_factory(many(81)) if "LIMIT" in f.code] == ["ADF-W-LIMIT"]
    assert [f.code for f in validate_factory(many(121)) if "LIMIT" in f.code] == ["ADF-E-LIMIT"]
    params = {f"p{i}": {"type": "String"} for i in range(51)}
    assert [f.code for f in validate_factory(Factory("mem", [_pipeline(_wait("w"), parameters=params)]))
            if "LIMIT" in f.code] == ["ADF-E-LIMIT"]


def test_nested_activities_count_toward_the_limit():
    inner = [_wait(f"i{i}") for i in range(80)]
    loop = {"name": "Loop", "type": "ForEach", "typeProperties": {
        "items": {"type": "Expression", "value": "@createArray(1)"}, "activities": inner}}
    assert [f.code for f in validate_factory(Factory("mem", [_pipeline(loop)])) if "LIMIT" in f.code] == ["ADF-W-LIMIT"]


# --- AzureML rules -----------------------------------------------------------------------------------

def _aml_factory(update_path="models/m.ilearner", ls_type="AzureStorage", with_endpoint=True) -> Factory:
    storage = {"name": "Storage", "properties": {"type": ls_type, "typeProperties": {"connectionString": "x"}}}
    aml_props = {"mlEndpoint": "https://x/jobs", "apiKey": {"type": "SecureString", "value": "k"}}
    if with_endpoint:
        aml_props["updateResourceEndpoint"] = "https://management.azureml.net/workspaces/w/webservices/s/endpoints/e"
    aml = {"name": "Aml", "properties": {"type": "AzureML", "typeProperties": aml_props}}
    ref = lambda n: {"referenceName": n, "type": "LinkedServiceReference"}  # noqa: E731
    bes = {"name": "Train", "type": "AzureMLBatchExecution", "linkedServiceName": ref("Aml"), "typeProperties": {
        "webServiceInputs": {"input1": {"linkedServiceName": ref("Storage"), "filePath": "data/train.csv"}},
        "webServiceOutputs": {"output1": {"linkedServiceName": ref("Storage"), "filePath": "models/m.ilearner"}}}}
    update = {"name": "Update", "type": "AzureMLUpdateResource", "linkedServiceName": ref("Aml"),
              "dependsOn": [{"activity": "Train", "dependencyConditions": ["Succeeded"]}],
              "typeProperties": {"trainedModelName": "M [trained model]", "trainedModelLinkedServiceName": ref("Storage"),
                                 "trainedModelFilePath": update_path}}
    return Factory("mem", [Entity("linkedService", "Storage", storage, "Storage.json"),
                           Entity("linkedService", "Aml", aml, "Aml.json"),
                           Entity("pipeline", "P", {"name": "P", "properties": {"activities": [bes, update]}}, "P.json")])


def test_aml_pipeline_without_problems():
    assert [f for f in validate_factory(_aml_factory())] == []


def test_aml_rules():
    assert ("/properties/activities/1/typeProperties/trainedModelFilePath", "ADF-E-ILEARNER") in \
        _errors(validate_factory(_aml_factory(update_path="models/m.bin")))
    wrong_type = _errors(validate_factory(_aml_factory(ls_type="AzureSqlDatabase")))
    assert ("/properties/activities/0/typeProperties/webServiceInputs/input1/linkedServiceName/referenceName",
            "ADF-E-LINKED-SERVICE-TYPE") in wrong_type
    no_endpoint = validate_factory(_aml_factory(with_endpoint=False))
    assert [f.code for f in no_endpoint] == ["ADF-W-NO-UPDATE-ENDPOINT"]


def test_dfe_properties_accept_literal_expression_string_and_object():
    for value, ok in ((3, True), ("@pipeline().parameters.n", True), ({"type": "Expression", "value": "@pipeline().parameters.n"}, True),
                      ({"type": "Expression", "value": "@x"}, False),
                      ([1], False)):
        act = dict(_wait("w"), typeProperties={"waitTimeInSeconds": value})
        findings = validate_factory(Factory("mem", [_pipeline(act, parameters={"n": {"type": "Int"}})]))
        assert (not _errors(findings)) == ok, (value, findings)


def test_undeclared_parameters_and_variables_are_errors():
    act = {"name": "s", "type": "SetVariable", "typeProperties": {
        "variableName": "v", "value": "@concat(pipeline().parameters.known, pipeline().parameters.unknown, variables('w'))"}}
    errors = [(p, c) for p, c in _errors(validate_factory(Factory("mem", [_pipeline(
        act, parameters={"known": {"type": "String"}}, variables={"v": {"type": "String"}})])))]
    assert errors == [("/properties/activities/0/typeProperties/value", "ADF-E-UNDECLARED")] * 2


# --- the command -----------------------------------------------------------------------------------

def test_cli_formats_and_exit_codes(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(SEED)])
    assert ok.exit_code == 0 and "0 error(s), 15 warning(s) in 5 file(s), 1 factory" in ok.output
    line = next(l for l in ok.output.splitlines() if "ADF-W-DEPENDSON-CASE" in l)
    assert line.startswith(f"{SEED}/pipeline/LookupPipelineDemo.json:59:")
    doc = json.loads(runner.invoke(main, ["validate", "--format", "json", str(SEED)]).output)
    assert set(doc["problems"][0]) == {"file", "line", "column", "pointer", "severity", "code", "message", "hint"}
    assert doc["summary"]["warnings"] == 15

    broken = tmp_path / "pipeline"
    broken.mkdir()
    (broken / "P.json").write_text(json.dumps({"name": "P", "properties": {"activities": [_wait("a", "a")]}}))
    failed = runner.invoke(main, ["validate", "--format", "junit", str(tmp_path)])
    assert failed.exit_code == 1 and "<failure" in failed.output and "ADF-E-CYCLE" in failed.output
    assert runner.invoke(main, ["validate", str(tmp_path / "missing")]).exit_code == 2


def test_arm_template_pointers_point_into_the_template(tmp_path):
    pipeline = json.loads((SEED / "pipeline" / "LookupPipelineDemo.json").read_text())
    template = {"$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "parameters": {"factoryName": {"type": "string"}},
                "resources": [{"name": "[concat(parameters('factoryName'), '/LookupPipelineDemo')]",
                               "type": "Microsoft.DataFactory/factories/pipelines", "apiVersion": "2018-06-01",
                               "properties": copy.deepcopy(pipeline["properties"])}]}
    path = tmp_path / "ARMTemplateForFactory.json"
    path.write_text(json.dumps(template, indent=2))
    findings = _validate([path])
    case = [f for f in findings if f.code == "ADF-W-DEPENDSON-CASE"]
    assert [f.pointer for f in case] == ["/resources/0/properties/activities/1/dependsOn/0/activity"]


@pytest.mark.parametrize("strict", [False, True])
def test_jsonschema_rs_and_jsonschema_agree_on_every_corpus_definition(strict):
    """jsonschema-rs decides validity, jsonschema explains failures: they must agree, or a failure would go
    unexplained (or a valid file get a message)."""
    from adfemu.schemas import adf
    from adfemu.schemas.lenient import Canonical
    checked = 0
    for factory in load_paths([str(CORPUS)]):
        for entity in factory.entities:
            definition = adf.RESOURCE_DEFS.get(entity.kind)
            if definition is None:
                continue
            schema = {"$ref": f"#/$defs/{definition}"}
            value = entity.document if strict else adf._walker().canonicalize(schema, entity.document).value
            slow_valid = not list(adf._validator(definition, strict).iter_errors(value))
            assert adf._decider(definition, strict).is_valid(value) == slow_valid, entity.source
            checked += 1
    assert checked == 159


# --- ranges the spec states in words (issue 12) -------------------------------------------------------

def _with(kind="Wait", policy=None, **props):
    act = {"name": "A", "type": kind, "typeProperties": props}
    if policy is not None:
        act["policy"] = policy
    return act


@pytest.mark.parametrize("act, pointer, code, words", [
    (_with(policy={"retry": -1}, waitTimeInSeconds=1), "/policy/retry", "ADF-E-RANGE", "at least 0"),
    (_with(policy={"retryIntervalInSeconds": 90000}, waitTimeInSeconds=1), "/policy/retryIntervalInSeconds",
     "ADF-E-RANGE", "30 to 86400"),
    (_with(policy={"timeout": "8.00:00:00"}, waitTimeInSeconds=1), "/policy/timeout", "ADF-E-RANGE", "7 days"),
    (_with(policy={"timeout": "12 hours"}, waitTimeInSeconds=1), "/policy/timeout", "ADF-E-TIMESPAN", "[d.]hh:mm:ss"),
    (_with(waitTimeInSeconds=-5), "/typeProperties/waitTimeInSeconds", "ADF-E-RANGE", "at least 0"),
    (_with("ForEach", items={"type": "Expression", "value": "@createArray(1)"}, activities=[], batchCount=0),
     "/typeProperties/batchCount", "ADF-E-RANGE", "at least 1"),
    (_with("Until", expression={"type": "Expression", "value": "@true"}, activities=[], timeout="7.00:00:01"),
     "/typeProperties/timeout", "ADF-E-RANGE", "7 days"),
    (_with("Switch", on={"type": "Expression", "value": "@'a'"},
           cases=[{"value": str(i), "activities": []} for i in range(26)]), "/typeProperties/cases", "ADF-E-RANGE",
     "at most 25"),
])
def test_ranges_described_in_words_are_errors_that_give_the_range(act, pointer, code, words):
    """`policy.retry: -1` passed validation: the spec says "minimum: 0" in its description only."""
    findings = validate_factory(Factory("f", [_pipeline(act)]))
    errors = [f for f in findings if f.severity == "error"]
    assert [(f.pointer, f.code) for f in errors] == [(f"/properties/activities/0{pointer}", code)]
    assert words in errors[0].message
    assert not [f for f in findings if f.code == "ADF-W-RANGE"]


def test_values_inside_the_ranges_and_expressions_are_not_errors():
    acts = [_with(policy={"retry": 0, "retryIntervalInSeconds": 30, "timeout": "7.00:00:00"}, waitTimeInSeconds=0),
            dict(_with(policy={"retry": "@pipeline().parameters.n"}, waitTimeInSeconds=1), name="B")]
    assert _errors(validate_factory(Factory("f", [_pipeline(*acts, parameters={"n": {"type": "Int"}})]))) == []
