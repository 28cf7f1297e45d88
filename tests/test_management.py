"""Classic management API: endpoints, PATCH of trained-model resources, refresh."""
from __future__ import annotations

import pytest
import requests

from adfemu.emulator.experiments import ilearner

from .helpers import (FREE_SVC, FREE_TOKEN, FREE_WS, PREDICTIVE, RESOURCE, TRAIN_CSV, TRAINING, TRAINING_KEY,
                      UPDATABLE_KEY, UPDATABLE_NAME, WS_TOKEN, upload)

ENDPOINT_FIELDS = {"Name", "Description", "CreationTime", "WorkspaceId", "WebServiceId", "HelpLocation", "PrimaryKey",
                   "SecondaryKey", "ApiLocation", "Version", "MaxConcurrentCalls", "DiagnosticsTraceLevel",
                   "ThrottleLevel", "PreventUpdate", "SampleDataEnabled", "ExperimentLocation", "Resources"}


def _trained_location(aml, blobs) -> dict:
    relative = upload(blobs, TRAIN_CSV)
    out = f"{relative.split('/')[0]}/model.ilearner"
    _, final = aml.run_job(TRAINING, TRAINING_KEY, aml.train_body(relative, out))
    result = final["Results"]["output1"]
    return {k: result[k] for k in ("BaseLocation", "RelativeLocation", "SasBlobToken")}


def _patch(aml, endpoint: str, key: str, location: dict, name: str = RESOURCE, service: str = PREDICTIVE):
    return requests.patch(aml.mgmt(f"/{service}/endpoints/{endpoint}"), headers=aml.auth(key),
                          json={"Resources": [{"Name": name, "Location": location}]})


def test_list_and_get_endpoints_and_api_location_works(aml, blobs):
    listed = requests.get(aml.mgmt(f"/{TRAINING}/endpoints"), headers=aml.auth(WS_TOKEN))
    assert listed.status_code == 200 and isinstance(listed.json(), list)
    endpoint = requests.get(aml.mgmt(f"/{TRAINING}/endpoints/default"), headers=aml.auth(WS_TOKEN)).json()
    assert ENDPOINT_FIELDS <= set(endpoint)
    assert endpoint["PrimaryKey"] == TRAINING_KEY
    body = aml.train_body(upload(blobs, TRAIN_CSV))
    r = requests.post(endpoint["ApiLocation"] + "/jobs?api-version=2.0", json=body, headers=aml.auth(TRAINING_KEY))
    assert r.status_code == 200 and r.text.startswith('"')
    services = requests.get(aml.mgmt(), headers=aml.auth(WS_TOKEN)).json()
    assert {s["Id"] for s in services} >= {TRAINING, PREDICTIVE}
    assert all(s["DefaultEndpointName"] == "default" for s in services)


def test_endpoint_key_reads_its_endpoint_but_not_the_keys(aml):
    r = requests.get(aml.mgmt(f"/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}"), headers=aml.auth(UPDATABLE_KEY))
    assert r.status_code == 200
    assert r.json()["PrimaryKey"] is None and r.json()["Resources"][0]["Name"] == RESOURCE
    denied = requests.get(aml.mgmt(f"/{PREDICTIVE}/endpoints"), headers=aml.auth(UPDATABLE_KEY))
    assert denied.status_code == 401
    assert denied.json()["error"]["details"][0] == {"code": "ManagementRequestUnauthorized", "message": "Unauthorized"}


def test_put_creates_endpoint_with_own_id_and_keys_and_delete_removes_it(aml, blobs):
    url = aml.mgmt(f"/{PREDICTIVE}/endpoints/retrain2")
    created = requests.put(url, headers=aml.auth(WS_TOKEN),
                           json={"Description": "second", "ThrottleLevel": "High", "MaxConcurrentCalls": 10})
    assert created.status_code in (200, 201), created.text
    ep = created.json()
    assert ep["Name"] == "retrain2" and ep["MaxConcurrentCalls"] == 10 and ep["Resources"][0]["Name"] == RESOURCE
    assert ep["PrimaryKey"] and ep["PrimaryKey"] != UPDATABLE_KEY
    endpoint_id = ep["ApiLocation"].rsplit("/", 1)[1]
    assert endpoint_id != PREDICTIVE
    # the new endpoint is live: scoring works with its own key, and PATCH updates only it
    assert _patch(aml, "retrain2", ep["PrimaryKey"], _trained_location(aml, blobs)).status_code == 200
    assert requests.delete(url, headers=aml.auth(WS_TOKEN)).status_code == 200
    assert requests.get(url, headers=aml.auth(WS_TOKEN)).status_code == 404
    gone = requests.post(ep["ApiLocation"] + "/execute?api-version=2.0", json={}, headers=aml.auth(ep["PrimaryKey"]))
    assert gone.status_code == 404


def test_low_throttle_pins_four_calls(aml):
    ep = requests.put(aml.mgmt(f"/{PREDICTIVE}/endpoints/low1"), headers=aml.auth(WS_TOKEN),
                      json={"ThrottleLevel": "Low", "MaxConcurrentCalls": 50}).json()
    assert ep["MaxConcurrentCalls"] == 4


def test_free_tier_allows_three_endpoints(aml):
    url = f"{aml.url}/workspaces/{FREE_WS}/webservices/{FREE_SVC}/endpoints"
    for name in ("second", "third"):
        assert requests.put(f"{url}/{name}", headers=aml.auth(FREE_TOKEN), json={}).status_code in (200, 201)
    r = requests.put(f"{url}/fourth", headers=aml.auth(FREE_TOKEN), json={})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["code"] == "EndpointLimitReached"
    high = requests.put(f"{url}/second", headers=aml.auth(FREE_TOKEN), json={"ThrottleLevel": "High"})
    assert high.status_code == 400


@pytest.mark.parametrize("credential", ["workspace token", "endpoint key"])
def test_patch_swaps_the_model_with_either_credential(aml, blobs, credential):
    location = _trained_location(aml, blobs)
    key = WS_TOKEN if credential == "workspace token" else UPDATABLE_KEY
    r = _patch(aml, UPDATABLE_NAME, key, location)
    assert 200 <= r.status_code < 300, r.text
    ep = requests.get(aml.mgmt(f"/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}"), headers=aml.auth(WS_TOKEN)).json()
    assert ep["Resources"][0]["Location"]["RelativeLocation"] == location["RelativeLocation"]
    state = requests.get(f"{aml.url}/_emulator/state").json()
    svc = next(s for s in state["workspaces"][0]["webServices"] if s["id"] == PREDICTIVE)
    digests = {e["name"]: e["resources"][0]["sha256"] for e in svc["endpoints"]}
    assert digests["default"] != digests[UPDATABLE_NAME]


def test_patch_failures(aml, blobs):
    location = _trained_location(aml, blobs)
    default = _patch(aml, "default", WS_TOKEN, location)
    assert default.status_code == 400 and default.json()["error"]["details"][0]["code"] == "CannotUpdateDefaultEndpoint"

    unknown = _patch(aml, UPDATABLE_NAME, UPDATABLE_KEY, location, name="Other Model [trained model]")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "BadArgument"

    empty = _patch(aml, UPDATABLE_NAME, UPDATABLE_KEY, location, name="")
    assert "Resource name is empty string" in empty.json()["error"]["details"][0]["message"]

    bad_sas = dict(location, SasBlobToken="?sv=2020-02-10&sr=b&sig=AAAA&se=2099-01-01T00%3A00%3A00Z&sp=r")
    unreadable = _patch(aml, UPDATABLE_NAME, UPDATABLE_KEY, bad_sas)
    assert unreadable.status_code == 400 and unreadable.json()["error"]["details"][0]["code"] == "BlobNotFound"

    missing = dict(location, RelativeLocation=location["RelativeLocation"] + ".missing.ilearner")
    assert _patch(aml, UPDATABLE_NAME, UPDATABLE_KEY, missing).json()["error"]["details"][0]["code"] == "BlobNotFound"

    not_a_model = upload(blobs, b"age,target\n1,2\n", "fake.ilearner")
    invalid = _patch(aml, UPDATABLE_NAME, UPDATABLE_KEY, {
        "BaseLocation": location["BaseLocation"], "RelativeLocation": not_a_model,
        "SasBlobToken": _read_sas(not_a_model)})
    assert invalid.status_code == 400
    assert invalid.json()["error"]["details"][0]["code"] == "IncompatibleModel"

    training_default = requests.put(aml.mgmt(f"/{TRAINING}/endpoints/extra"), headers=aml.auth(WS_TOKEN), json={})
    no_resources = _patch(aml, "extra", training_default.json()["PrimaryKey"], location, service=TRAINING)
    assert no_resources.status_code == 400
    assert "This Web Service has no updatable resources." in no_resources.json()["error"]["details"][0]["message"]

    wrong_key = _patch(aml, UPDATABLE_NAME, TRAINING_KEY, location)
    assert wrong_key.status_code == 401
    # nothing changed by the failed attempts
    ep = requests.get(aml.mgmt(f"/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}"), headers=aml.auth(WS_TOKEN)).json()
    assert ep["Resources"][0]["Location"]["RelativeLocation"] is None


def _read_sas(relative: str) -> str:
    from datetime import datetime, timedelta, timezone
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas
    from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY
    container, blob = relative.split("/", 1)
    return "?" + generate_blob_sas(DEV_ACCOUNT, container, blob, account_key=DEV_KEY,
                                   permission=BlobSasPermissions(read=True),
                                   expiry=datetime.now(timezone.utc) + timedelta(hours=1))


@pytest.mark.parametrize("path", [
    "/ffffffffffffffffffffffffffffffff/endpoints",
    f"/{PREDICTIVE}/endpoints/nosuchendpoint",
])
def test_unknown_ids_are_not_found(aml, path):
    r = requests.get(aml.mgmt(path), headers=aml.auth(WS_TOKEN))
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
    ws = requests.get(aml.mgmt("", ws="0" * 32), headers=aml.auth(WS_TOKEN))
    assert ws.status_code == 404 and ws.json()["error"]["details"][0]["code"] == "WorkspaceNotFound"


def test_refresh_200_after_change_304_when_unchanged_and_not_on_default(aml, blobs):
    url = aml.mgmt(f"/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}/refresh")
    assert requests.post(url, headers=aml.auth(WS_TOKEN), json={"OverwriteResources": "True"}).status_code == 304
    assert _patch(aml, UPDATABLE_NAME, UPDATABLE_KEY, _trained_location(aml, blobs)).status_code == 200
    assert requests.post(url, headers=aml.auth(WS_TOKEN), json={"OverwriteResources": "True"}).status_code == 200
    assert requests.post(url, headers=aml.auth(WS_TOKEN)).status_code == 304
    default = requests.post(aml.mgmt(f"/{PREDICTIVE}/endpoints/default/refresh"), headers=aml.auth(WS_TOKEN))
    assert default.status_code == 400


def test_model_file_stays_loadable_after_download(aml, blobs):
    location = _trained_location(aml, blobs)
    data = requests.get(location["BaseLocation"] + location["RelativeLocation"] + location["SasBlobToken"]).content
    assert ilearner.loads(data).rows == 342
