"""The runner's AzureML activities against the emulator: the BES request, the classic Update Resource PATCH,
ADF's 2600 error, the cancel on timeout, and the seed."""
from __future__ import annotations

import json

import numpy as np
import requests
from sklearn.linear_model import LinearRegression

from adfemu.runner.definitions import Definitions
from adfemu.runner.endpoints import Endpoints
from adfemu.runner.engine import Engine, Settings
from adfemu.runner.factory import load_paths
from adfemu.runner.services import Services

from .conftest import FIXTURES
from .helpers import SCORE_CSV, SLOW, SLOW_KEY, TRAIN_CSV, UPDATABLE, UPDATABLE_KEY, WS, csv_rows

CORRECTED = FIXTURES / "seed-factory-corrected"


def _definitions(mutate=None) -> Definitions:
    defs = Definitions.from_factory(load_paths([str(CORRECTED)])[0])
    if mutate:
        mutate(defs)
    return defs


def _engine(aml, defs: Definitions, **settings) -> Engine:
    return Engine(defs, Settings(time_scale=0.001, poll_seconds=1, services=Services(Endpoints(aml.url)), **settings))


def _scores(aml) -> np.ndarray:
    columns, values = csv_rows(SCORE_CSV)
    r = aml.execute(UPDATABLE, UPDATABLE_KEY, {"Inputs": {"input1": {"ColumnNames": columns, "Values": values[:5]}}})
    return np.array([float(row[-1]) for row in r.json()["Results"]["output1"]["value"]["Values"]])


def test_corrected_seed_retrains_and_updates_the_predictive_endpoint(aml, seed_input):
    before = _scores(aml)
    record = _engine(aml, _definitions()).run("LookupPipelineDemo")
    assert record.status == "Succeeded", record.document()
    assert [(r.activity_name, r.status) for r in record.activity_runs] == [
        ("amlBEGetilearner", "Succeeded"), ("amlUpdateResource", "Succeeded")]
    after = _scores(aml)
    assert not np.allclose(before, after), "scoring must use the retrained model"
    # input1 and input2 both read train.csv: the same rows twice give the same least-squares fit
    train_columns, train_rows = csv_rows(TRAIN_CSV)
    model = LinearRegression().fit([[float(v) for v in r[:-1]] for r in train_rows], [float(r[-1]) for r in train_rows])
    _, score_rows = csv_rows(SCORE_CSV)
    np.testing.assert_allclose(after, model.predict([[float(v) for v in r] for r in score_rows[:5]]), rtol=1e-9)

    submit = next(e for e in aml.journal(path="/jobs") if e["method"] == "POST" and e["path"].endswith("/jobs"))
    sent = json.loads(submit["body"])
    assert sent["Inputs"]["input1"]["RelativeLocation"] == "azuremltesting/input/train.csv"  # filePath verbatim
    assert sent["Outputs"]["output1"]["RelativeLocation"] == "azuremltesting/output/newModelForArm.ilearner"
    assert "AccountName=devstoreaccount1" in sent["Inputs"]["input1"]["ConnectionString"]
    patches = [e for e in aml.journal() if e["method"] == "PATCH"]
    assert len(patches) == 1 and patches[0]["headers"]["Authorization"] == "Bearer ***"
    resource = json.loads(patches[0]["body"])["Resources"][0]
    assert resource["Name"] == "ADFV2Sample Model [trained model]"
    assert resource["Location"]["RelativeLocation"] == "azuremltesting/output/newModelForArm.ilearner"
    assert resource["Location"]["SasBlobToken"].startswith("?") and "sig=***" in resource["Location"]["SasBlobToken"]


def test_global_parameters_are_sent_as_strings(aml, seed_input):
    def add_parameters(defs):
        act = defs.pipelines["lookuppipelinedemo"]["properties"]["activities"][0]
        act["typeProperties"]["globalParameters"] = {"Random seed": 42, "Flag": True}
        defs.pipelines["lookuppipelinedemo"]["properties"]["activities"] = [act]
    record = _engine(aml, _definitions(add_parameters)).run("LookupPipelineDemo")
    # the seed training service declares no parameters: the emulator refuses them, as AML would
    assert record.status == "Failed"
    submit = next(e for e in aml.journal(path="/jobs") if e["method"] == "POST")
    assert json.loads(submit["body"])["GlobalParameters"] == {"Random seed": "42", "Flag": "True"}


def test_bes_4xx_becomes_the_adf_2600_error(aml, seed_input):  # the published seed's failure
    def published_paths(defs):
        act = defs.pipelines["lookuppipelinedemo"]["properties"]["activities"][0]["typeProperties"]
        act["webServiceInputs"]["input1"]["filePath"] = "azuremltesting/input"
        act["webServiceInputs"]["input2"]["filePath"] = "azuremltesting/input"
        act["webServiceOutputs"]["output1"]["filePath"] = "azuremltesting/output"
    record = _engine(aml, _definitions(published_paths)).run("LookupPipelineDemo")
    runs = {r.activity_name: r for r in record.activity_runs}
    assert record.status == "Failed"
    assert runs["amlUpdateResource"].status == "Skipped"
    error = runs["amlBEGetilearner"].as_dict()["error"]
    assert error == {
        "errorCode": "2600", "failureType": "UserError", "target": "amlBEGetilearner", "details": "",
        "message": f"Batch Execution failed. The response from the Machine Learning service at endpoint "
                   f"https://ussouthcentral.services.azureml.net/workspaces/{WS}/services/7c2d4e3f1a9b4c8d9e0f1a2b3c4d5e6f"
                   f"/jobs was 'Invalid argument provided. The blob reference: azuremltesting/input has an invalid or "
                   f"missing file extension. Supported file extensions for this output type are: \".csv, .tsv, .arff\".'."}
    assert record.message.startswith("Operation on target amlBEGetilearner failed: Batch Execution failed.")


def test_wrong_api_key_and_missing_model(aml, seed_input):
    def wrong_key(defs):
        defs.linked_services["trainingendpoint"]["properties"]["typeProperties"]["apiKey"] = "d3Jvbmc="
    runs = {r.activity_name: r for r in _engine(aml, _definitions(wrong_key)).run("LookupPipelineDemo").activity_runs}
    assert "Request is unauthorized to access resource. Invalid credentials provided." in runs["amlBEGetilearner"].error["message"]

    def missing_model(defs):
        acts = defs.pipelines["lookuppipelinedemo"]["properties"]["activities"]
        acts[1]["typeProperties"]["trainedModelFilePath"] = "azuremltesting/output/none.ilearner"
        del acts[1]["dependsOn"]
        defs.pipelines["lookuppipelinedemo"]["properties"]["activities"] = [acts[1]]
    record = _engine(aml, _definitions(missing_model)).run("LookupPipelineDemo")
    error = record.activity_runs[0].error
    assert record.status == "Failed" and error["errorCode"] == "2600" and error["target"] == "amlUpdateResource"
    assert error["message"].startswith("Update Resource failed. The response from the Machine Learning service at "
                                       "endpoint https://management.azureml.net/")
    assert "BlobNotFound" not in error["message"] and "Unable to access the provided Azure blob" in error["message"]


def test_timeout_deletes_the_running_job(aml, seed_input):
    def slow_service(defs):
        ls = defs.linked_services["trainingendpoint"]["properties"]["typeProperties"]
        ls["mlEndpoint"] = f"https://ussouthcentral.services.azureml.net/workspaces/{WS}/services/{SLOW}/jobs"
        ls["apiKey"] = SLOW_KEY
        act = defs.pipelines["lookuppipelinedemo"]["properties"]["activities"][0]
        act["typeProperties"]["webServiceOutputs"] = {}
        act["typeProperties"]["webServiceInputs"].pop("input2")
        act["policy"] = {"timeout": "0.00:00:05", "retry": 0}
        defs.pipelines["lookuppipelinedemo"]["properties"]["activities"] = [act]
    engine = Engine(_definitions(slow_service), Settings(time_scale=0.02, poll_seconds=1,
                                                         services=Services(Endpoints(aml.url))))
    record = engine.run("LookupPipelineDemo")
    assert record.status == "Failed" and "timed out" in record.activity_runs[0].error["message"]
    deletes = [e for e in aml.journal() if e["method"] == "DELETE"]
    assert len(deletes) == 1 and deletes[0]["status"] == 200
    job_id = deletes[0]["path"].rsplit("/", 1)[1]
    status = requests.get(f"{aml.runtime(SLOW)}/jobs/{job_id}?api-version=2.0", headers=aml.auth(SLOW_KEY)).json()
    assert status["StatusCode"] == "Cancelled"


def test_arm_update_endpoint_without_a_service_principal_fails_clearly(aml, seed_input):
    def arm(defs):
        ls = defs.linked_services["updatablescoringendpoint2"]["properties"]["typeProperties"]
        ls["updateResourceEndpoint"] = ("https://management.azure.com/subscriptions/0/resourceGroups/g/providers/"
                                        "Microsoft.MachineLearning/webServices/w?api-version=2016-05-01-preview")
    record = _engine(aml, _definitions(arm)).run("LookupPipelineDemo")
    update = next(r for r in record.activity_runs if r.activity_name == "amlUpdateResource")
    assert update.status == "Failed" and "needs servicePrincipalId, servicePrincipalKey and tenant" \
        in update.error["message"]


def test_cli_run_writes_the_run_record(tmp_path, azurite, seed_input):
    from click.testing import CliRunner
    from adfemu.cli import main
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, ["run", str(CORRECTED), "--pipeline", "LookupPipelineDemo", "--config",
                                       str(FIXTURES / "seed-emulator.json"), "--storage", azurite.connection_string(),
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["pipelineRun"]["status"] == "Succeeded" and doc["pipelineRun"]["runGroupId"] == doc["pipelineRun"]["runId"]
    assert [a["activityName"] for a in doc["activityRuns"]] == ["amlBEGetilearner", "amlUpdateResource"]
    assert "AccountKey=***" in json.dumps(doc["activityRuns"][0]["input"])
    bad = CliRunner().invoke(main, ["run", str(CORRECTED), "--pipeline", "Nope", "--config",
                                    str(FIXTURES / "seed-emulator.json"), "--storage", azurite.connection_string()])
    assert bad.exit_code == 2 and "pipeline 'Nope' is not in the factory" in bad.output
