"""The runner's Update Resource through Resource Manager (the calls ADF is inferred to make, see docs/arm.md),
with the seed's ARM-flavour linked service as published, against the emulator over HTTPS.

Each failure of the acceptance list is checked as the ADF activity error the runner reports; the same
failures at the HTTP level are in tests/test_arm_auth.py, tests/test_aad.py and tests/test_arm_resource.py.
"""
from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs

import numpy as np
import pytest
import requests
from click.testing import CliRunner
from sklearn.linear_model import LinearRegression
from werkzeug.serving import make_server

from adfemu.cli import main
from adfemu.runner.definitions import Definitions
from adfemu.runner.endpoints import Endpoints
from adfemu.runner.engine import Engine, Settings
from adfemu.runner.factory import load_paths
from adfemu.runner.services import Services

from .arm_helpers import ARM_SVC, ARM_WS, NO_ROLE_SP, READER_SP, SEED_SP, SHORT_LIVED_SP, SUB, Principal, ws_id
from .conftest import FIXTURES
from .helpers import SCORE_CSV, TRAIN_CSV, csv_rows, deadline_poll

ARM_FACTORY = FIXTURES / "seed-factory-arm"
PIPELINE = "LookupPipelineDemo"
MODEL_PATH = "azuremltesting/output/newModelForArm.ilearner"


def _definitions(mutate=None) -> Definitions:
    defs = Definitions.from_factory(load_paths([str(ARM_FACTORY)])[0])
    if mutate:
        mutate(defs)
    return defs


def _linked_service(defs: Definitions) -> dict:
    return defs.linked_services["updatablescoringendpoint2"]["properties"]["typeProperties"]


def _principal(p: Principal):
    def mutate(defs):
        _linked_service(defs).update(servicePrincipalId=p.client_id, servicePrincipalKey=p.secret, tenant=p.tenant)
    return mutate


def _run(arm, defs: Definitions, overrides: dict | None = None):
    services = Services(Endpoints(arm.url, overrides or {}), ca_bundle=arm.ca_bundle)
    record = Engine(defs, Settings(time_scale=0.001, poll_seconds=1, services=services)).run(PIPELINE)
    return record, {r.activity_name: r for r in record.activity_runs}


def _scores(arm) -> np.ndarray:
    columns, values = csv_rows(SCORE_CSV)
    key = arm.request("GET", ws_id() + "/listKeys", arm.token()).json()["primary"]
    response = arm.score([dict(zip(columns, row)) for row in values[:5]], key=key)
    assert response.status_code == 200, response.text
    return np.array([float(row["Scored Labels"]) for row in response.json()["Results"]["output1"]])


def _journal(arm) -> list[dict]:
    return arm.emulator.journal.entries()


# --- the seed's ARM flavour, end to end ---------------------------------------------------------------

def test_arm_seed_updates_the_web_service_and_its_rrs_scores_with_the_new_model(arm, seed_input):
    before = _scores(arm)
    asset_before = arm.request("GET", ws_id(), arm.token()).json()["properties"]
    arm.emulator.journal.clear()

    record, runs = _run(arm, _definitions())
    assert record.status == "Succeeded", record.document()
    assert runs["amlUpdateResource"].status == "Succeeded"

    # token -> GET -> PATCH -> status polls, in that order
    calls = [(e["method"], e["path"]) for e in _journal(arm) if "/jobs" not in e["path"]]
    update = [c for c in calls if "oauth2" in c[1] or "Microsoft.MachineLearning" in c[1]]
    assert update[0] == ("POST", "/mycompany.com/oauth2/token")
    assert update[1] == ("GET", ws_id())
    assert update[2] == ("PATCH", ws_id())
    assert update[3][0] == "GET" and "/operationsStatus/" in update[3][1]
    patch = next(e for e in _journal(arm) if e["method"] == "PATCH")
    assert patch["headers"]["Authorization"] == "Bearer ***"
    assert parse_qs(patch["query"])["api-version"] == ["2016-05-01-preview"]  # the URL as configured
    sent = json.loads(patch["body"])["properties"]
    assert sent["packageType"] == "Graph" and list(sent["assets"]) == ["asset1"]

    # the asset named trainedModelName points at trainedModelFilePath; nothing else changed
    after_props = arm.request("GET", ws_id(), arm.token()).json()["properties"]
    uri = after_props["assets"]["asset1"]["locationInfo"]["uri"]
    assert uri.split("?")[0] == f"https://devstoreaccount1.blob.core.windows.net/{MODEL_PATH}"
    assert "sig=" in uri  # a read SAS
    for field in ("title", "description", "input", "output", "machineLearningWorkspace"):
        assert after_props[field] == asset_before[field]

    # RRS of the ARM web service scores with the retrained model
    after = _scores(arm)
    assert not np.allclose(before, after)
    columns, train_rows = csv_rows(TRAIN_CSV)
    model = LinearRegression().fit([[float(v) for v in r[:-1]] for r in train_rows], [float(r[-1]) for r in train_rows])
    _, score_rows = csv_rows(SCORE_CSV)
    np.testing.assert_allclose(after, model.predict([[float(v) for v in r] for r in score_rows[:5]]), rtol=1e-9)
    swagger = requests.get(after_props["swaggerLocation"], verify=arm.ca_bundle, timeout=30)
    assert swagger.status_code == 200 and "paths" in swagger.json()


def test_bes_of_the_arm_service_scores_with_the_updated_model(arm, seed_input, azurite):
    """Deliverable 4: BES at /subscriptions/{sub}/services/{id}/jobs uses the swapped model as RRS does."""
    record, _ = _run(arm, _definitions())
    assert record.status == "Succeeded"
    seed_input.upload_blob("input/score.csv", SCORE_CSV, overwrite=True)
    key = arm.request("GET", ws_id() + "/listKeys", arm.token()).json()["primary"]
    base = f"{arm.url}/subscriptions/{SUB}/services/{ARM_SVC}/jobs"
    auth = {"Authorization": f"Bearer {key}"}
    cs = azurite.connection_string()
    body = {"Inputs": {"input1": {"ConnectionString": cs, "RelativeLocation": "azuremltesting/input/score.csv"}},
            "Outputs": {"output1": {"ConnectionString": cs, "RelativeLocation": "azuremltesting/output/scored.csv"}},
            "GlobalParameters": {}}
    http = dict(verify=arm.ca_bundle, timeout=30)
    job = requests.post(f"{base}?api-version=2.0", json=body, headers=auth, **http).json()
    assert requests.post(f"{base}/{job}/start?api-version=2.0", headers=auth, **http).status_code == 200
    final = deadline_poll(lambda: (s := requests.get(f"{base}/{job}?api-version=2.0", headers=auth, **http).json())
                          ["StatusCode"] in ("Finished", "Failed") and s)
    assert final["StatusCode"] == "Finished", final
    _, scored = csv_rows(seed_input.get_blob_client("output/scored.csv").download_blob().readall())
    np.testing.assert_allclose([float(r[-1]) for r in scored[:5]], _scores(arm), rtol=1e-9)


def test_run_record_shows_no_secret(arm, seed_input):
    record, _ = _run(arm, _definitions())
    text = json.dumps(record.document())
    assert SEED_SP.secret not in text
    assert "sig=***" in text and "access_token" not in text and "eyJ" not in text  # SAS masked, no JWT


# --- an unknown asset name writes nothing -------------------------------------------------------------

def test_unknown_asset_name_fails_without_any_write(arm, seed_input):
    def rename(defs):
        act = defs.pipelines["lookuppipelinedemo"]["properties"]["activities"][1]
        act["typeProperties"]["trainedModelName"] = "Another Model [trained model]"
    arm.emulator.journal.clear()
    record, runs = _run(arm, _definitions(rename))
    error = runs["amlUpdateResource"].error
    assert record.status == "Failed" and error["target"] == "amlUpdateResource"
    assert "has no asset named 'Another Model [trained model]'" in error["message"]
    assert "'ADFV2Sample Model [trained model]'" in error["message"]  # what it does have
    assert not [e for e in _journal(arm) if e["method"] in ("PATCH", "PUT")]


# --- each upstream failure, as the activity error -------------------------------------------------------

def _endpoint(name: str = ARM_WS) -> str:
    return f"https://management.azure.com{ws_id(name)}?api-version=2016-05-01-preview"


@pytest.mark.parametrize("case, mutate, expected", [
    ("wrong secret", lambda d: _linked_service(d).update(servicePrincipalKey="not-the-secret"),
     "AADSTS7000215: Invalid client secret provided"),
    ("unknown tenant", lambda d: _linked_service(d).update(tenant="nowhere.example"),
     "AADSTS90002: Tenant 'nowhere.example' not found"),
    ("no role", _principal(NO_ROLE_SP),
     f"(AuthorizationFailed) The client '{NO_ROLE_SP.client_id}' with object id '{NO_ROLE_SP.object_id}' does not have "
     f"authorization to perform action 'Microsoft.MachineLearning/webServices/read' over scope '{ws_id()}' or the "
     "scope is invalid. If access was recently granted, please refresh your credentials."),
    ("reader only", _principal(READER_SP),
     f"(AuthorizationFailed) The client '{READER_SP.client_id}' with object id '{READER_SP.object_id}' does not have "
     f"authorization to perform action 'Microsoft.MachineLearning/webServices/write' over scope '{ws_id()}'"),
    ("expired token", _principal(SHORT_LIVED_SP), "(ExpiredAuthenticationToken) The access token expiry UTC time"),
    ("missing web service", lambda d: _linked_service(d).update(updateResourceEndpoint=_endpoint("noSuchService")),
     "(ResourceNotFound) The Resource 'Microsoft.MachineLearning/webServices/noSuchService' under resource group"),
])
def test_upstream_failures_become_the_activity_error(arm, seed_input, case, mutate, expected):
    record, runs = _run(arm, _definitions(mutate))
    update = runs["amlUpdateResource"]
    assert record.status == "Failed" and update.status == "Failed"
    assert (update.error["errorCode"], update.error["target"]) == ("2600", "amlUpdateResource")
    assert expected in update.error["message"], update.error["message"]
    assert "not-the-secret" not in json.dumps(record.document())


def test_async_failure_becomes_the_activity_error(arm, seed_input):
    """The model blob is not an .ilearner: PATCH is accepted, the operation ends Failed."""
    seed_input.upload_blob("output/broken.ilearner", b"not a model", overwrite=True)

    def broken(defs):
        act = defs.pipelines["lookuppipelinedemo"]["properties"]["activities"][1]
        act["typeProperties"]["trainedModelFilePath"] = "azuremltesting/output/broken.ilearner"
    record, runs = _run(arm, _definitions(broken))
    message = runs["amlUpdateResource"].error["message"]
    assert record.status == "Failed"
    assert "ended Failed: (InvalidTrainedModel) The asset 'ADFV2Sample Model [trained model]' cannot be loaded" in message
    state = arm.request("GET", ws_id(), arm.token()).json()["properties"]
    assert state["provisioningState"] == "Failed"


@pytest.fixture
def graph_token_service(arm):
    """A token service that hands out tokens for Microsoft Graph (a real token of the emulated Azure AD,
    for the wrong audience): what ARM sees when a client asks for the wrong resource."""
    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        tenant = environ["PATH_INFO"].strip("/").split("/")[0]
        answer = requests.post(f"{arm.url}/{tenant}/oauth2/token", verify=arm.ca_bundle, timeout=30,
                               data=dict(form, resource="https://graph.microsoft.com/"))
        start_response(f"{answer.status_code} X", [("Content-Type", "application/json")])
        return [answer.content]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def test_token_for_the_wrong_audience_becomes_the_activity_error(arm, seed_input, graph_token_service):
    _, runs = _run(arm, _definitions(), overrides={r"login\.microsoftonline\.com": graph_token_service})
    message = runs["amlUpdateResource"].error["message"]
    assert "(InvalidAuthenticationTokenAudience) The access token has been obtained for wrong audience or resource " \
           "'https://graph.microsoft.com/'" in message


# --- zero-config provisioning: the principal gets Contributor on the resource group --------------------

def test_arm_seed_runs_without_any_config_over_https(azurite, blobs, tmp_path):
    container = blobs.get_container_client("azuremltesting")
    if not container.exists():
        container.create_container()
    container.upload_blob("input/train.csv", TRAIN_CSV, overwrite=True)
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, ["run", str(ARM_FACTORY), "--pipeline", PIPELINE, "--https",
                                       "--storage", azurite.connection_string(), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "ARM web service myWebService" in result.output and "Contributor on the resource group" in result.output
    runs = {r["activityName"]: r["status"] for r in json.loads(out.read_text())["activityRuns"]}
    assert runs == {"amlBEGetilearner": "Succeeded", "amlUpdateResource": "Succeeded"}


def test_a_config_decides_the_roles(azurite, seed_input, tmp_path):
    """With ``--config`` its role assignments rule: the seed principal as a mere Reader cannot update."""
    config = json.loads((FIXTURES / "seed-emulator.json").read_text())
    config["resourceManager"]["roleAssignments"][0]["role"] = "Reader"
    for ws in config["workspaces"]:
        for svc in ws["webServices"]:
            for res in svc.get("resources", []):
                res["model"] = str(FIXTURES / res["model"])
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, ["run", str(ARM_FACTORY), "--pipeline", PIPELINE, "--config", str(path),
                                       "--storage", azurite.connection_string(), "--output", str(out)])
    assert result.exit_code == 1, result.output
    error = {r["activityName"]: r for r in json.loads(out.read_text())["activityRuns"]}["amlUpdateResource"]["error"]
    assert "(AuthorizationFailed)" in error["message"] and "webServices/write" in error["message"]


def test_runtime_urls_of_the_arm_service(arm):
    """The ARM service answers under /subscriptions/{sub}/services/{id} (the runtime URL form of new web services)."""
    response = arm.score([{"age": 0.0}], key="wrong")
    assert response.status_code == 401
    assert ARM_SVC in arm.request("GET", ws_id(), arm.token()).json()["properties"]["swaggerLocation"]
    assert SUB in arm.request("GET", ws_id(), arm.token()).json()["properties"]["swaggerLocation"]
