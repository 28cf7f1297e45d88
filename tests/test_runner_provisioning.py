"""Zero-config runs: the emulated services derived from the factory itself (issue "Runner", items 3 and 10)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from adfemu.cli import main
from adfemu.runner.definitions import Definitions
from adfemu.runner.factory import load_paths
from adfemu.runner.provision import emulator_config

from .conftest import FIXTURES
from .helpers import TRAIN_CSV

PUBLISHED = FIXTURES / "seed-factory"
CORRECTED = FIXTURES / "seed-factory-corrected"


def _defs(path) -> Definitions:
    return Definitions.from_factory(load_paths([str(path)])[0])


def test_published_seed_provisions_its_services_with_ids_kept_exactly():
    document, notes = emulator_config(_defs(PUBLISHED))
    training, predictive = document["workspaces"]
    assert training["id"] == "xxx"
    [service] = training["webServices"]
    assert service["id"] == "--training experiment--" and service["endpoints"][0]["primaryKey"] == "myKey"
    assert [p["name"] for p in service["inputs"]] == ["input1", "input2"]
    assert document["storage"]["accounts"] == [{"name": "name", "key": "key"}]
    # the ARM flavour: the web service the updateResourceEndpoint names, its runtime id from mlEndpoint
    assert predictive["id"] == "00000000eb0abe4d6bbb1d7886062747d7"
    [arm_service] = predictive["webServices"]
    assert arm_service["id"] == "00000000026734a5889e02fbb1f65cefd"
    assert arm_service["arm"] == {"subscriptionId": "00000000-0000-0000-0000-000000000000",
                                  "resourceGroup": "Default-MachineLearning-SouthCentralUS", "name": "myWebService"}
    assert arm_service["resources"] == [{"name": "ADFV2Sample Model [trained model]"}]
    [tenant] = document["azureAd"]["tenants"]
    assert tenant["domains"] == ["mycompany.com"]
    assert tenant["servicePrincipals"] == [{"clientId": "fe200044-c008-4008-a005-94000000731",
                                            "secret": "zWa0000000000Tp6FjtZOspK/WMA2tQ08c8U+gZRBlw="}]
    assert document["resourceManager"]["roleAssignments"] == [{
        "principal": "fe200044-c008-4008-a005-94000000731", "role": "Contributor",
        "scope": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/Default-MachineLearning-SouthCentralUS"}]
    assert any("ARM web service myWebService" in n for n in notes)


def test_corrected_seed_provisions_a_training_and_an_updatable_predictive_service():
    document, _ = emulator_config(_defs(CORRECTED))
    services = {s["kind"]: s for s in document["workspaces"][0]["webServices"]}
    assert services["training"]["outputs"] == [{"name": "output1", "type": "ilearner"}]
    predictive = services["predictive"]
    assert [e["name"] for e in predictive["endpoints"]] == ["default", "updatable"]
    assert predictive["endpoints"][1]["id"] == "26734a5889e02fbb1f65cefd00000000"
    assert predictive["resources"] == [{"name": "ADFV2Sample Model [trained model]"}]


def test_published_seed_fails_as_in_adf_without_any_config(tmp_path, azurite):
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, ["run", str(PUBLISHED), "--pipeline", "LookupPipelineDemo",
                                       "--storage", azurite.connection_string(), "--output", str(out)])
    assert result.exit_code == 1, result.output
    assert "provisioned: 'trainingEndpoint': predictive web service --training experiment--" in result.output
    runs = {r["activityName"]: r for r in json.loads(out.read_text())["activityRuns"]}
    assert runs["amlUpdateResource"]["status"] == "Skipped"
    error = runs["amlBEGetilearner"]["error"]
    assert (error["errorCode"], error["failureType"], error["target"]) == ("2600", "UserError", "amlBEGetilearner")
    assert error["message"] == (
        "Batch Execution failed. The response from the Machine Learning service at endpoint "
        "https://ussouthcentral.services.azureml.net/workspaces/xxx/services/--training experiment--/jobs was "
        "'Invalid argument provided. The blob reference: azuremltesting/input has an invalid or missing file "
        "extension. Supported file extensions for this output type are: \".csv, .tsv, .arff\".'.")


def test_corrected_seed_succeeds_without_any_config(azurite, blobs):
    container = blobs.get_container_client("azuremltesting")
    if not container.exists():
        container.create_container()
    container.upload_blob("input/train.csv", TRAIN_CSV, overwrite=True)
    result = CliRunner().invoke(main, ["run", str(CORRECTED), "--pipeline", "LookupPipelineDemo",
                                       "--storage", azurite.connection_string()])
    assert result.exit_code == 0, result.output


def test_lenient_accepts_extension_less_paths_and_says_so(tmp_path, azurite):
    result = CliRunner().invoke(main, ["run", str(PUBLISHED), "--pipeline", "LookupPipelineDemo", "--lenient",
                                       "--storage", azurite.connection_string()])
    assert "--lenient: BES blob names without a file extension are accepted" in result.output
    assert "invalid or missing file extension" not in result.output
