"""`adfemu run` options; git and ARM-template layouts, both expression forms and the secret forms of ``apiKey``;
plus the remaining failure paths."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from adfemu.cli import main
from adfemu.runner.definitions import Definitions, DefinitionsError
from adfemu.runner.endpoints import Endpoints
from adfemu.runner.engine import Engine, Settings
from adfemu.runner.factory import load_paths
from adfemu.runner.services import Services
from adfemu.runner.stubs import load_stubs

from .conftest import FIXTURES
from .helpers import CRASHING, CRASHING_KEY, TRAIN_CSV, TRAINING, TRAINING_KEY, WS, unique

CORRECTED = FIXTURES / "seed-factory-corrected"


def _factory(tmp_path, pipeline: dict, linked_services: list[dict] = ()) -> str:
    for folder in ("pipeline", "linkedService"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "pipeline" / f"{pipeline['name']}.json").write_text(json.dumps(pipeline))
    for ls in linked_services:
        (tmp_path / "linkedService" / f"{ls['name']}.json").write_text(json.dumps(ls))
    return str(tmp_path)


def _set(name, value) -> dict:
    return {"name": name, "type": "SetVariable", "typeProperties": {"variableName": "v", "value": value}}


def test_git_file_and_arm_template_load_the_same_pipeline(tmp_path):
    pipeline = {"name": "x", "properties": {"activities": [_set("s", "@pipeline().Pipeline")],
                                            "variables": {"v": {"type": "String"}}}}
    (tmp_path / "git").mkdir()
    git = Definitions.from_factory(load_paths([_factory(tmp_path / "git", pipeline)])[0])
    template = {"$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0", "parameters": {"factoryName": {"type": "string"}},
                "resources": [{"name": "[concat(parameters('factoryName'), '/x')]",
                               "type": "Microsoft.DataFactory/factories/pipelines", "apiVersion": "2018-06-01",
                               "properties": pipeline["properties"]}]}
    (tmp_path / "ARMTemplateForFactory.json").write_text(json.dumps(template))
    arm = Definitions.from_factory(load_paths([str(tmp_path / "ARMTemplateForFactory.json")])[0])
    assert git.pipeline("x")["properties"] == arm.pipeline("x")["properties"]
    runs = [Engine(d, Settings(time_scale=0)).run("x").activity_runs[0].output for d in (git, arm)]
    assert runs[0] == runs[1] == {"name": "v", "value": "x"}


def test_expression_string_and_expression_object_evaluate_the_same():
    activities = [_set("a", "@add(pipeline().parameters.n, 1)"),
                  dict(_set("b", {"type": "Expression", "value": "@add(pipeline().parameters.n, 1)"}),
                       dependsOn=[{"activity": "a", "dependencyConditions": ["Succeeded"]}])]
    defs = Definitions(pipelines={"p": {"name": "p", "properties": {
        "activities": activities, "parameters": {"n": {"type": "Int", "defaultValue": 41}},
        "variables": {"v": {"type": "Int"}}}}})
    outputs = [r.output["value"] for r in Engine(defs, Settings(time_scale=0)).run("p").activity_runs]
    assert outputs == [42, 42]


@pytest.mark.parametrize("form", ["SecureString", "AzureKeyVaultSecret"])
def test_api_key_as_secure_string_or_key_vault_secret(aml, seed_input, form):
    defs = Definitions.from_factory(load_paths([str(CORRECTED)])[0])
    ls = defs.linked_services["trainingendpoint"]["properties"]["typeProperties"]
    key = ls["apiKey"]["value"] if isinstance(ls["apiKey"], dict) else ls["apiKey"]
    if form == "SecureString":
        ls["apiKey"] = {"type": "SecureString", "value": key}
        vaults = {}
    else:
        ls["apiKey"] = {"type": "AzureKeyVaultSecret", "secretName": "aml-key",
                        "store": {"referenceName": "Vault", "type": "LinkedServiceReference"}}
        defs.linked_services["vault"] = {"name": "Vault", "properties": {
            "type": "AzureKeyVault", "typeProperties": {"baseUrl": "https://contoso-vault.vault.azure.net/"}}}
        vaults = {"contoso-vault": {"aml-key": key}}
    engine = Engine(defs, Settings(time_scale=0, poll_seconds=0, services=Services(Endpoints(aml.url), vaults=vaults)))
    record = engine.run("LookupPipelineDemo")
    assert record.status == "Succeeded", [r.error for r in record.activity_runs]
    assert key not in json.dumps(record.document())


def test_a_failed_bes_job_and_a_missing_input_blob(aml, blobs):
    def bes_pipeline(service, key, path):
        defs = Definitions.from_factory(load_paths([str(CORRECTED)])[0])
        ls = defs.linked_services["trainingendpoint"]["properties"]["typeProperties"]
        ls["mlEndpoint"] = f"https://ussouthcentral.services.azureml.net/workspaces/{WS}/services/{service}/jobs"
        ls["apiKey"] = key
        act = defs.pipelines["lookuppipelinedemo"]["properties"]["activities"][0]
        act["typeProperties"]["webServiceInputs"] = {"input1": dict(act["typeProperties"]["webServiceInputs"]["input1"],
                                                                    filePath=path)}
        act["typeProperties"]["webServiceOutputs"] = {}
        defs.pipelines["lookuppipelinedemo"]["properties"]["activities"] = [act]
        return Engine(defs, Settings(time_scale=0, poll_seconds=0, services=Services(Endpoints(aml.url))))

    container = unique("adfemu")
    blobs.create_container(container)
    blobs.get_blob_client(container, "train.csv").upload_blob(TRAIN_CSV)
    failed = bes_pipeline(CRASHING, CRASHING_KEY, f"{container}/train.csv").run("LookupPipelineDemo")
    error = failed.activity_runs[0].error
    assert failed.status == "Failed" and error["errorCode"] == "2600" and error["target"] == "amlBEGetilearner"
    assert "was 'Error 0000: Internal error while running the experiment: KeyError" in error["message"]

    missing = bes_pipeline(TRAINING, TRAINING_KEY, f"{container}/none.csv").run("LookupPipelineDemo")
    assert missing.status == "Failed"
    assert f"Unable to access the provided Azure blob - {container}/none.csv." in missing.activity_runs[0].error["message"]


def test_run_against_a_running_emulator_with_typed_parameters(aml, tmp_path):
    pipeline = {"name": "params", "properties": {
        "parameters": {"n": {"type": "int"}, "flag": {"type": "bool", "defaultValue": False},
                       "items": {"type": "array", "defaultValue": []}},
        "variables": {"v": {"type": "String"}},
        "activities": [_set("s", "@string(add(pipeline().parameters.n, length(pipeline().parameters.items)))")]}}
    factory = _factory(tmp_path, pipeline)
    out = tmp_path / "run.json"
    ok = CliRunner().invoke(main, ["run", factory, "--pipeline", "params", "--emulator", aml.url,
                                   "--param", "n=40", "--param", 'items=["a","b"]', "--output", str(out)])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(out.read_text())
    assert doc["activityRuns"][0]["output"] == {"name": "v", "value": "42"}
    assert doc["pipelineRun"]["parameters"] == {"n": "40", "flag": "False", "items": '["a","b"]'}
    missing = CliRunner().invoke(main, ["run", factory, "--pipeline", "params", "--emulator", aml.url])
    assert missing.exit_code == 2 and "needs a value for parameter 'n'" in missing.output
    wrong = CliRunner().invoke(main, ["run", factory, "--pipeline", "params", "--emulator", aml.url, "--param", "n=x"])
    assert wrong.exit_code == 2 and "parameter 'n' is Int; 'x' is not a Int value" in wrong.output


def test_stubs_file_gives_unsupported_activities_an_outcome(aml, tmp_path):
    pipeline = {"name": "copy", "properties": {"variables": {"v": {"type": "String"}}, "activities": [
        {"name": "CopyData", "type": "Copy", "typeProperties": {"source": {"type": "BlobSource"},
                                                               "sink": {"type": "BlobSink"}}},
        dict(_set("after", "@string(activity('CopyData').output.rowsCopied)"),
             dependsOn=[{"activity": "CopyData", "dependencyConditions": ["Succeeded"]}])]}}
    factory = _factory(tmp_path, pipeline)
    without = CliRunner().invoke(main, ["run", factory, "--pipeline", "copy", "--emulator", aml.url])
    assert without.exit_code == 1 and "Copy needs exactly one dataset in 'inputs'" in " ".join(without.output.split())
    stubs = tmp_path / "stubs.json"
    stubs.write_text(json.dumps({"Copy": {"status": "Succeeded", "output": {"rowsCopied": 3}}}))
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, ["run", factory, "--pipeline", "copy", "--emulator", aml.url,
                                       "--stubs", str(stubs), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["activityRuns"][1]["output"] == {"name": "v", "value": "3"}
    stubs.write_text(json.dumps({"CopyData": {"status": "Failed", "error": {"errorCode": "2200", "message": "no"}}}))
    assert CliRunner().invoke(main, ["run", factory, "--pipeline", "copy", "--emulator", aml.url,
                                     "--stubs", str(stubs)]).exit_code == 1
    stubs.write_text("[]")
    with pytest.raises(Exception, match="expected an object"):
        load_stubs(str(stubs))


def test_update_resource_without_update_endpoint_fails_at_run_time(aml, seed_input):
    defs = Definitions.from_factory(load_paths([str(CORRECTED)])[0])
    del defs.linked_services["updatablescoringendpoint2"]["properties"]["typeProperties"]["updateResourceEndpoint"]
    record = Engine(defs, Settings(time_scale=0, poll_seconds=0, services=Services(Endpoints(aml.url)))).run(
        "LookupPipelineDemo")
    update = next(r for r in record.activity_runs if r.activity_name == "amlUpdateResource")
    assert update.status == "Failed" and "has no updateResourceEndpoint" in update.error["message"]


def test_endpoint_overrides_and_unmapped_hosts():
    endpoints = Endpoints("http://127.0.0.1:1", {r"aml\.internal\.example": "http://127.0.0.1:2/prefix"})
    assert endpoints.map("https://aml.internal.example/workspaces/w/services/s/jobs?api-version=2.0") == \
        "http://127.0.0.1:2/prefix/workspaces/w/services/s/jobs?api-version=2.0"
    assert endpoints.map("https://europewest.services.azureml.net/x").startswith("http://127.0.0.1:1/x")
    with pytest.raises(ValueError, match="not an emulated host"):
        endpoints.map("https://example.com/x")


def test_unknown_parameter_is_refused():
    defs = Definitions(pipelines={"p": {"name": "p", "properties": {"activities": []}}})
    with pytest.raises(DefinitionsError, match="has no parameter nope"):
        Engine(defs).run("p", {"nope": 1})


def test_global_parameters_come_from_the_factory_file(aml, tmp_path):
    pipeline = {"name": "g", "properties": {"variables": {"v": {"type": "String"}}, "activities": [
        _set("s", "@concat(pipeline().globalParameters.env, '-', string(pipeline().globalParameters.size))")]}}
    factory = _factory(tmp_path, pipeline)
    (tmp_path / "factory").mkdir()
    (tmp_path / "factory" / "demo.json").write_text(json.dumps({"name": "demo", "properties": {"globalParameters": {
        "env": {"type": "string", "value": "test"}, "size": {"type": "int", "value": 3}}}}))
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, ["run", factory, "--pipeline", "g", "--emulator", aml.url, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["activityRuns"][0]["output"] == {"name": "v", "value": "test-3"}
