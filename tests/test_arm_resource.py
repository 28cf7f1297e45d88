"""The ARM resource ``Microsoft.MachineLearning/webServices`` over real HTTPS.

The operations of its ARM spec (GET, PUT, PATCH, DELETE, listKeys, lists), their long-running pattern and ARM's
conventions (request ids, case-insensitive paths, api-version and not-found errors), plus scoring at HTTP level
(one engine: a PATCHed trained-model asset is what RRS scores with).
"""
from __future__ import annotations

import copy
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
from azure.core.paging import ItemPaged
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas
from sklearn.linear_model import LinearRegression

from adfemu.emulator import app as emu_app, config as emu_config, server as emu_server, storage as emu_storage, tls as emu_tls
from adfemu.emulator.azurite import DEV_KEY
from adfemu.emulator.experiments import ilearner
from tests import conftest as _conftest

from .arm_helpers import (ARM_KEY, ARM_KEY2, ARM_SVC, ARM_WS, OTHER_SUB_WS, OWNER_SP, READONLY_WS, RG, RG2, SECOND_WS,
                          SUB, SUB2, TENANT, Arm, ws_id)
from .helpers import RESOURCE, SCORE_CSV, TRAIN_CSV, csv_rows, deadline_poll, unique

V2016, V2017 = "2016-05-01-preview", "2017-01-01"
DEV = "devstoreaccount1"
TYPE = "Microsoft.MachineLearning/webServices"
SEED_SERVICES = {ARM_WS, READONLY_WS, SECOND_WS}  # the ARM web services in SUB / RG
NOT_FOUND = "The Resource 'Microsoft.MachineLearning/webServices/{name}' under resource group '{rg}' was not found."
NOT_FOUND_SUFFIX = " For more details please go to https://aka.ms/ARMResourceNotFoundFix"
FIRST_MODEL_ROWS = 40  # fixtures/models/initial.ilearner was fitted on training rows 0-39


# --- helpers ----------------------------------------------------------------------------------------

def _error(r: requests.Response, status: int, code: str) -> str:
    """Assert an ARM error envelope with this status and code; returns its message."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    error = r.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error["message"]


def _any_error(r: requests.Response, status: int | tuple[int, int]) -> dict:
    """Assert an ARM error envelope (any code) with this status, or a status in [low, high]; returns the error."""
    low, high = status if isinstance(status, tuple) else (status, status)
    assert low <= r.status_code <= high, (r.status_code, r.text)
    error = r.json()["error"]
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    return error


def _ok(r: requests.Response, status: int = 200) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def _ok_response(r: requests.Response, status: int = 200) -> requests.Response:
    assert r.status_code == status, (r.status_code, r.text)
    return r


def _get(arm: Arm, token: str, name: str = ARM_WS, version: str = V2016, **kw) -> dict:
    return _ok(arm.request("GET", ws_id(name, **kw), token, api_version=version))


def _list_all(arm: Arm, token: str, path: str = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{TYPE}",
              version: str = V2016) -> tuple[list[dict], list[str]]:
    """Every item of a list, following nextLink; also the raw page texts."""
    items, texts = [], []
    r = arm.request("GET", path, token, api_version=version)
    while True:
        page = _ok(r)
        items += page["value"]
        texts.append(r.text)
        if not page.get("nextLink"):
            return items, texts
        r = arm.request("GET", page["nextLink"], token, api_version=None)


def _module_asset(name: str, uri: str = "aml://module/moduleId-1", **extra) -> dict:
    return dict({"name": name, "type": "Module", "locationInfo": {"uri": uri}}, **extra)


def _put_body(title: str = "created by a test", **properties) -> dict:
    return {"location": "South Central US", "tags": {"created": "by-test"},
            "properties": dict({"packageType": "Graph", "title": title, "description": "a PUT body",
                                "assets": {"asset1": _module_asset("Execute R Script")}}, **properties)}


def _succeeded(arm: Arm, r: requests.Response, token: str) -> dict:
    status = arm.wait(r, token)
    assert status["status"] == "Succeeded", status
    return status


def _score_rows(n: int = 25) -> list[dict]:
    columns, values = csv_rows(SCORE_CSV)
    return [dict(zip(columns, map(float, row))) for row in values[:n]]


def _scores(arm: Arm, rows: list[dict], **kw) -> np.ndarray:
    r = arm.score(rows, **kw)
    assert r.status_code == 200, r.text
    out = r.json()["Results"]["output1"]
    assert isinstance(out, list) and len(out) == len(rows)
    return np.array([float(row["Scored Labels"]) for row in out])


def _training(start: int, stop: int | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
    columns, rows = csv_rows(TRAIN_CSV)
    rows = rows[start:stop]
    assert columns[-1] == "target"
    x = np.array([[float(v) for v in row[:-1]] for row in rows])
    y = np.array([float(row[-1]) for row in rows])
    return columns[:-1], x, y


def _model_bytes(start: int, stop: int | None = None) -> bytes:
    """A valid .ilearner fitted (by scikit-learn, in-process) on training rows [start:stop]."""
    features, x, y = _training(start, stop)
    est = LinearRegression().fit(x, y)
    return ilearner.dumps(ilearner.TrainedModel("LinearRegression", "target", features, [est.coef_.tolist()],
                                                [float(est.intercept_)], [], len(y)))


def _expected(rows: list[dict], start: int, stop: int | None = None) -> np.ndarray:
    features, x, y = _training(start, stop)
    return LinearRegression().fit(x, y).predict(np.array([[row[f] for f in features] for row in rows]))


def _cloud_url(container: str, blob: str) -> str:
    return f"https://{DEV}.blob.core.windows.net/{container}/{blob}"


def _read_sas(container: str, blob: str) -> str:
    return generate_blob_sas(DEV, container, blob, account_key=DEV_KEY, permission=BlobSasPermissions(read=True),
                             expiry=datetime.now(timezone.utc) + timedelta(hours=1))


def _patch_model(arm: Arm, token: str, location_info: dict, name: str = ARM_WS) -> requests.Response:
    body = {"properties": {"packageType": "Graph", "assets": {"asset1": {
        "name": RESOURCE, "type": "Resource", "locationInfo": location_info,
        "outputPorts": {"Results dataset": {"type": "Dataset"}}}}}}
    return arm.request("PATCH", ws_id(name), token, body=body)


@pytest.fixture(scope="module")
def model_blobs(azurite):
    """Models and a non-model in a container of this module (Azurite's dev account)."""
    client = BlobServiceClient.from_connection_string(azurite.connection_string())
    container = unique("armres")
    client.create_container(container)
    blobs = {"initial": (_conftest.FIXTURES / "models" / "initial.ilearner").read_bytes(),
             "train.csv": TRAIN_CSV}
    for start in (100, 150, 200):
        blobs[f"rows{start}.ilearner"] = _model_bytes(start)
    for name, data in blobs.items():
        client.get_blob_client(container, name).upload_blob(data)
    return container


# --- 1, 2, 3: GET, secrets, listKeys -----------------------------------------------------------------

def test_get_both_api_versions_and_preview_omits_payload_fields(arm):
    token = arm.token()
    patch = arm.request("PATCH", ws_id(), token, api_version=V2017, body={"properties": {
        "packageType": "Graph", "payloadsInBlobStorage": False,
        "payloadsLocation": {"uri": _cloud_url("payloads", "ws.json")}}})
    _ok(patch)
    _succeeded(arm, patch, token)
    for version in (V2016, V2017):
        body = _get(arm, token, version=version)
        listed = [item for item in _list_all(arm, token, version=version)[0] if item["name"] == ARM_WS]
        assert listed == [body]
        assert body["id"] == ws_id()
        assert body["name"] == ARM_WS
        assert body["type"] == TYPE
        assert body["location"] == "South Central US"
        assert isinstance(body["tags"], dict)
        assert body["properties"]["packageType"] == "Graph"
        if version == V2016:
            assert "payloadsInBlobStorage" not in body["properties"]
            assert "payloadsLocation" not in body["properties"]
        else:
            assert body["properties"]["payloadsInBlobStorage"] is False
            assert body["properties"]["payloadsLocation"]["uri"] == _cloud_url("payloads", "ws.json")


def test_get_and_list_never_return_keys_storage_key_or_asset_credentials(arm, azurite, model_blobs):
    token = arm.token()
    primary, secondary = f"p-{uuid.uuid4().hex}", f"s-{uuid.uuid4().hex}"
    module_secret = f"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={uuid.uuid4().hex}"
    body = _put_body(keys={"primary": primary, "secondary": secondary},
                     storageAccount={"name": DEV, "key": DEV_KEY},
                     assets={"asset1": {"name": RESOURCE, "type": "Resource",
                                        "locationInfo": {"uri": _cloud_url(model_blobs, "initial"),
                                                         "credentials": azurite.connection_string()}},
                             "asset2": _module_asset("Execute R Script", locationInfo={
                                 "uri": "aml://module/1", "credentials": module_secret})})
    put = arm.request("PUT", ws_id("secretsService"), token, body=body)
    _ok(put, 201)
    _succeeded(arm, put, token)
    secrets = (primary, secondary, DEV_KEY, azurite.connection_string(), module_secret)

    gets = [arm.request("GET", ws_id("secretsService"), token, api_version=v) for v in (V2016, V2017)]
    listed, list_texts = _list_all(arm, token)
    resources = [_ok(g) for g in gets] + [item for item in listed if item["name"] == "secretsService"]
    assert len(resources) == 3  # GET 2016, GET 2017, list
    for resource in resources:
        props = resource["properties"]
        assert "keys" not in props
        assert props["storageAccount"] == {"name": DEV}
        for asset in props["assets"].values():
            assert asset["locationInfo"].get("credentials", "") == ""
    for text in [g.text for g in gets] + list_texts:
        assert not any(secret in text for secret in secrets)
    # the secrets were stored, not dropped: the keys are there for listKeys
    assert _ok(arm.request("GET", ws_id("secretsService") + "/listKeys", token)) == {"primary": primary,
                                                                                   "secondary": secondary}


def test_list_keys_returns_the_seeded_keys(arm):
    token = arm.token()
    r = arm.request("GET", ws_id() + "/listKeys", token)
    assert _ok(r) == {"primary": ARM_KEY, "secondary": ARM_KEY2}


def test_list_keys_returns_keys_given_on_put(arm):
    token = arm.token()
    keys = {"primary": f"given-primary-{uuid.uuid4().hex}", "secondary": f"given-secondary-{uuid.uuid4().hex}"}
    _ok(arm.request("PUT", ws_id("keyedService"), token, body=_put_body(keys=keys)), 201)
    assert _ok(arm.request("GET", ws_id("keyedService") + "/listKeys", token)) == keys
    # a PUT of an existing service with new keys replaces them
    _ok(arm.request("PUT", ws_id(), token, body=_put_body(keys={"primary": "new-1", "secondary": "new-2"})), 200)
    assert _ok(arm.request("GET", ws_id() + "/listKeys", token)) == {"primary": "new-1", "secondary": "new-2"}


def test_list_keys_are_generated_when_put_gives_none(arm):
    token = arm.token()
    generated = []
    for name in ("generatedOne", "generatedTwo"):
        _ok(arm.request("PUT", ws_id(name), token, body=_put_body()), 201)
        keys = _ok(arm.request("GET", ws_id(name) + "/listKeys", token))
        assert set(keys) == {"primary", "secondary"}
        assert isinstance(keys["primary"], str) and len(keys["primary"]) >= 16
        assert isinstance(keys["secondary"], str) and len(keys["secondary"]) >= 16
        assert keys["primary"] != keys["secondary"]
        generated += [keys["primary"], keys["secondary"]]
    assert len(set(generated)) == 4
    assert not {ARM_KEY, ARM_KEY2} & set(generated)


# --- 4, 5, 6, 7: PUT and PATCH ----------------------------------------------------------------------

def test_put_new_name_is_201_existing_is_200_both_provisioning_with_async_header(arm):
    token = arm.token()
    for name, status in (("brandNewService", 201), ("brandNewService", 200), (ARM_WS, 200)):
        r = arm.request("PUT", ws_id(name), token, body=_put_body(title=f"title {status}"))
        body = _ok(r, status)
        assert body["properties"]["provisioningState"] == "Provisioning"
        assert body["properties"]["title"] == f"title {status}"
        assert body["id"] == ws_id(name) and body["name"] == name
        assert r.headers["Azure-AsyncOperation"].startswith("https://")
        _succeeded(arm, r, token)
        got = _get(arm, token, name)
        assert got["properties"]["provisioningState"] == "Succeeded"
        assert got["properties"]["title"] == f"title {status}"


BAD_PROPERTIES = {
    "no packageType": {"title": "x"},
    "packageType Code": {"packageType": "Code", "title": "x"},
    "packageType graph (lower case)": {"packageType": "graph", "title": "x"},
    "packageType null": {"packageType": None, "title": "x"},
}


@pytest.mark.parametrize("method,name", [("PUT", "rejectedNewService"), ("PUT", ARM_WS), ("PATCH", ARM_WS)])
@pytest.mark.parametrize("properties", list(BAD_PROPERTIES.values()), ids=list(BAD_PROPERTIES))
def test_put_or_patch_without_graph_package_type_is_400(arm, method, name, properties):
    token = arm.token()
    before = _get(arm, token)
    r = arm.request(method, ws_id(name), token, body={"location": "South Central US", "properties": properties})
    _any_error(r, 400)
    assert "Azure-AsyncOperation" not in r.headers
    after = _get(arm, token)
    assert after == before
    if name != ARM_WS:
        _error(arm.request("GET", ws_id(name), token), 404, "ResourceNotFound")


def test_put_without_properties_is_400(arm):
    token = arm.token()
    r = arm.request("PUT", ws_id("noPropertiesService"), token, body={"location": "South Central US"})
    _any_error(r, 400)
    _error(arm.request("GET", ws_id("noPropertiesService"), token), 404, "ResourceNotFound")


@pytest.mark.parametrize("body", [
    pytest.param({"tags": {"only": "tags"}}, id="no properties"),
    pytest.param({"properties": None}, id="properties null"),
    pytest.param({"location": "South Central US", "properties": {}}, id="properties without packageType"),
])
def test_patch_body_without_properties_package_type_is_400(arm, body):
    token = arm.token()
    before = _get(arm, token)
    r = arm.request("PATCH", ws_id(), token, api_version=V2016, body=body)
    _any_error(r, 400)
    assert "Azure-AsyncOperation" not in r.headers
    assert _get(arm, token) == before


def test_patch_returns_merged_body_then_succeeded_with_newer_modified_on(arm):
    token = arm.token()
    before = _get(arm, token)
    r = arm.request("PATCH", ws_id(), token, body={"properties": {"packageType": "Graph",
                                                                  "description": "patched description"}})
    body = _ok(r, 200)
    assert r.headers["Azure-AsyncOperation"].startswith("https://")
    assert body["id"] == ws_id()
    assert body["properties"]["provisioningState"] == "Provisioning"
    assert body["properties"]["description"] == "patched description"
    for kept in ("title", "assets", "realtimeConfiguration", "machineLearningWorkspace", "input", "output"):
        assert body["properties"][kept] == before["properties"][kept], kept
    _succeeded(arm, r, token)
    after = _get(arm, token)
    assert after["properties"]["provisioningState"] == "Succeeded"
    assert after["properties"]["description"] == "patched description"
    assert after["properties"]["modifiedOn"] > before["properties"]["modifiedOn"]
    assert after["properties"]["createdOn"] == before["properties"]["createdOn"]


def test_patch_of_one_asset_key_replaces_only_that_asset(arm):
    token = arm.token()
    first = _module_asset("Execute R Script", inputPorts={"Input 1": {"type": "Dataset"}},
                          outputPorts={"Result": {"type": "Dataset"}})
    _succeeded(arm, _ok_response(arm.request("PATCH", ws_id(), token, body={"properties": {
        "packageType": "Graph", "assets": {"asset2": first}}})), token)
    before = _get(arm, token)
    assert before["properties"]["assets"]["asset2"] == first

    replacement = _module_asset("Select Columns", uri="aml://module/moduleId-2")
    r = arm.request("PATCH", ws_id(), token, body={"properties": {"packageType": "Graph",
                                                                  "assets": {"asset2": replacement}}})
    _ok(r)
    _succeeded(arm, r, token)
    after = _get(arm, token)
    assert after["properties"]["assets"] == {"asset1": before["properties"]["assets"]["asset1"], "asset2": replacement}
    ignore = {"assets", "modifiedOn"}
    assert {k: v for k, v in after["properties"].items() if k not in ignore} == \
           {k: v for k, v in before["properties"].items() if k not in ignore}
    assert {k: v for k, v in after.items() if k != "properties"} == \
           {k: v for k, v in before.items() if k != "properties"}


# --- 8, 9: missing services and DELETE --------------------------------------------------------------

@pytest.mark.parametrize("method,suffix", [("GET", ""), ("PATCH", ""), ("GET", "/listKeys")])
def test_missing_service_is_404_resource_not_found(arm, method, suffix):
    token = arm.token()
    body = {"properties": {"packageType": "Graph", "title": "x"}} if method == "PATCH" else None
    r = arm.request(method, ws_id("noSuchService") + suffix, token, body=body)
    message = _error(r, 404, "ResourceNotFound")
    base = NOT_FOUND.format(name="noSuchService", rg=RG)
    assert message in (base, base + NOT_FOUND_SUFFIX)
    if method == "PATCH":  # a PATCH creates nothing
        _error(arm.request("GET", ws_id("noSuchService"), token), 404, "ResourceNotFound")


def test_delete_is_202_with_async_header_and_the_service_is_gone(arm):
    token = arm.token()
    _get(arm, token, SECOND_WS)
    r = arm.request("DELETE", ws_id(SECOND_WS), token)
    assert r.status_code == 202, r.text
    assert r.headers["Azure-AsyncOperation"].startswith("https://")
    _succeeded(arm, r, token)
    message = _error(arm.request("GET", ws_id(SECOND_WS), token), 404, "ResourceNotFound")
    assert message.startswith(NOT_FOUND.format(name=SECOND_WS, rg=RG))
    assert sorted(item["name"] for item in _list_all(arm, token)[0]) == sorted(SEED_SERVICES - {SECOND_WS})


def test_delete_of_a_service_that_never_existed_is_202_too(arm):
    token = arm.token()
    r = arm.request("DELETE", ws_id("neverExisted"), token)
    assert r.status_code == 202, r.text
    assert r.headers["Azure-AsyncOperation"].startswith("https://")
    _succeeded(arm, r, token)
    _error(arm.request("GET", ws_id("neverExisted"), token), 404, "ResourceNotFound")


# --- 10: lists and paging ---------------------------------------------------------------------------

LISTS = {
    "resource group": (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{TYPE}", SEED_SERVICES),
    "subscription": (f"/subscriptions/{SUB}/providers/{TYPE}", SEED_SERVICES),
    "other subscription": (f"/subscriptions/{SUB2}/providers/{TYPE}", {OTHER_SUB_WS}),
    "other resource group": (f"/subscriptions/{SUB2}/resourceGroups/{RG2}/providers/{TYPE}", {OTHER_SUB_WS}),
}


@pytest.mark.parametrize("path,expected", list(LISTS.values()), ids=list(LISTS))
def test_list_pages_with_next_link_and_skiptoken(arm, path, expected):
    token = arm.token(OWNER_SP)
    page = _ok(arm.request("GET", path, token))
    assert set(page) <= {"value", "nextLink"}
    assert isinstance(page["value"], list)
    names = [item["name"] for item in page["value"]]
    assert all(item["type"] == TYPE and "keys" not in item["properties"] for item in page["value"])
    pages = 1
    while page.get("nextLink"):
        link = page["nextLink"]
        assert link.startswith("https://") and "$skiptoken=" in link
        assert urlsplit(link).path == path  # the same list URL
        assert len(page["value"]) == 2  # the test config's pageSize
        page = _ok(arm.request("GET", link, token, api_version=None))
        names += [item["name"] for item in page["value"]]
        pages += 1
    assert sorted(names) == sorted(expected)  # every item once
    assert pages == (len(expected) + 1) // 2


def test_list_is_collected_by_azure_core_pager(arm):
    token = arm.token(OWNER_SP)
    first = f"/subscriptions/{SUB}/providers/{TYPE}"
    calls = []

    def get_next(link):
        calls.append(link)
        return _ok_response(arm.request("GET", link or first, token, api_version=None if link else V2017))

    def extract(response):
        body = response.json()
        return body.get("nextLink") or None, iter(body["value"])

    items = list(ItemPaged(get_next, extract))
    assert sorted(i["name"] for i in items) == sorted(SEED_SERVICES)
    assert len(calls) == 2 and calls[0] is None and "$skiptoken=" in calls[1]
    assert all(i["id"] == ws_id(i["name"]) for i in items)


def test_list_of_a_subscription_without_services_is_empty(arm):  # 200 {"value": []}, not 404
    token = arm.token(OWNER_SP)
    r = arm.request("DELETE", ws_id(OTHER_SUB_WS, sub=SUB2, rg=RG2), token)
    assert r.status_code == 202
    _succeeded(arm, r, token)
    body = _ok(arm.request("GET", f"/subscriptions/{SUB2}/providers/{TYPE}", token))
    assert body["value"] == [] and not body.get("nextLink")


# --- 11: read-only services -------------------------------------------------------------------------

READ_ONLY_WRITES = {
    "PUT": lambda: _put_body(title="overwritten", readOnly=False, keys={"primary": "x1", "secondary": "x2"}),
    "PATCH title": lambda: {"properties": {"packageType": "Graph", "title": "patched"}},
    "PATCH readOnly false": lambda: {"properties": {"packageType": "Graph", "readOnly": False}},
}


@pytest.mark.parametrize("method,make_body", [(k.split()[0], v) for k, v in READ_ONLY_WRITES.items()],
                         ids=list(READ_ONLY_WRITES))
def test_read_only_service_rejects_put_and_patch(arm, method, make_body):
    token = arm.token()
    before = _get(arm, token, READONLY_WS)
    assert before["properties"]["readOnly"] is True
    keys = _ok(arm.request("GET", ws_id(READONLY_WS) + "/listKeys", token))
    r = arm.request(method, ws_id(READONLY_WS), token, body=make_body())
    _any_error(r, (400, 499))
    assert "Azure-AsyncOperation" not in r.headers
    assert _get(arm, token, READONLY_WS) == before
    assert _ok(arm.request("GET", ws_id(READONLY_WS) + "/listKeys", token)) == keys


def test_read_only_service_can_still_be_deleted(arm):  # the spec: a read-only service can only be removed
    token = arm.token()
    r = arm.request("DELETE", ws_id(READONLY_WS), token)
    assert r.status_code == 202, r.text
    _succeeded(arm, r, token)
    _error(arm.request("GET", ws_id(READONLY_WS), token), 404, "ResourceNotFound")


# --- 13, 16 (subscription): an emulator of this module with a slow async operation ------------------

CASED_SUB = "AbCdEf01-2345-4789-aBcD-Ef0123456789"
CASED_RG = "Mixed-Case-RG"
CASED_WS = "CasedService"
CASED_SVC = "9b5c4e1f7a3d8c6e2f0a4b5c6d7e8f90"


@pytest.fixture(scope="module")
def slow_arm(azurite):
    """Own emulator over HTTPS: async operations stay InProgress for 0.5 s; plus a subscription whose id
    has letters (the shared config's ids are all digits)."""
    doc = copy.deepcopy(_conftest.test_document())
    doc["resourceManager"]["asyncOperationSeconds"] = 0.5
    doc["resourceManager"]["subscriptions"].append(
        {"id": CASED_SUB, "tenant": TENANT, "resourceGroups": [{"name": CASED_RG, "location": "South Central US"}]})
    doc["resourceManager"]["roleAssignments"].append(
        {"principal": OWNER_SP.object_id, "role": "Owner", "scope": f"/subscriptions/{CASED_SUB}"})
    doc["workspaces"][0]["webServices"].append(
        {"id": CASED_SVC, "name": "cased", "kind": "predictive",
         "arm": {"subscriptionId": CASED_SUB, "resourceGroup": CASED_RG, "name": CASED_WS},
         "resources": [{"name": RESOURCE, "model": "models/initial.ilearner"}]})
    config = emu_config.from_document(doc, "test", _conftest.FIXTURES)
    emu = emu_app.Emulator(config, emu_storage.BlobStore(azurite.url))
    tls = emu_tls.local_tls()
    server = emu_server.EmulatorServer(emu_app.create_app(emu), tls=tls).start()
    try:
        yield Arm(server.url, str(tls.ca_bundle), emu)
    finally:
        server.stop()
        emu.close()
        tls.cleanup()


def test_status_url_reports_in_progress_then_succeeded_with_short_retry_after(slow_arm):
    slow_arm.emulator.reset()
    token = slow_arm.token()
    r = slow_arm.request("PATCH", ws_id(), token, body={"properties": {"packageType": "Graph", "title": "slow"}})
    _ok(r)
    url = r.headers["Azure-AsyncOperation"]
    assert 0 <= int(r.headers["Retry-After"]) <= 1
    seen = []

    def poll():
        status = slow_arm.request("GET", url, token, api_version=None)
        body = _ok(status)
        assert body["status"] == body["provisioningState"]
        if body["status"] == "InProgress":
            assert 0 <= int(status.headers["Retry-After"]) <= 1
            if not any(s == "InProgress" for s in seen):  # the resource is Provisioning meanwhile
                assert _get(slow_arm, token)["properties"]["provisioningState"] == "Provisioning"
        seen.append(body["status"])
        return body["status"] in ("Succeeded", "Failed", "Canceled")

    deadline_poll(poll, timeout=10)
    assert seen[0] == "InProgress", seen
    assert seen[-1] == "Succeeded", seen
    assert set(seen) == {"InProgress", "Succeeded"}
    after = _get(slow_arm, token)["properties"]
    assert after["provisioningState"] == "Succeeded" and after["title"] == "slow"


def test_subscription_id_matches_case_insensitively(slow_arm):  # subscription
    slow_arm.emulator.reset()
    token = slow_arm.token(OWNER_SP)
    stored = ws_id(CASED_WS, sub=CASED_SUB, rg=CASED_RG)
    for sub in (CASED_SUB.upper(), CASED_SUB.lower()):
        body = _ok(slow_arm.request("GET", ws_id(CASED_WS, sub=sub, rg=CASED_RG), token))
        assert body["id"] == stored
        listed = _ok(slow_arm.request("GET", f"/subscriptions/{sub}/providers/{TYPE}", token))
        assert [item["id"] for item in listed["value"]] == [stored]


def test_gets_answer_while_a_patch_waits_for_its_model(arm, model_blobs):
    """No storage I/O under the resource manager's lock: while a PATCH's model read is held up 4 s by a storage
    latency fault, GETs of the same web service answer at once (under the lock they would wait for the read)."""
    token = arm.token()
    faults = f"{arm.url}/_emulator/faults"
    rule = {"api": "storage", "operation": "read", "count": 1, "effect": {"type": "latency", "ms": 4000}}
    assert requests.post(faults, json={"rules": [rule]}, verify=arm.ca_bundle).status_code == 200
    uri = _cloud_url(model_blobs, "rows150.ilearner") + "?" + _read_sas(model_blobs, "rows150.ilearner")
    with ThreadPoolExecutor(1) as pool:
        patch = pool.submit(_patch_model, arm, token, {"uri": uri})
        deadline_poll(lambda: requests.get(faults, verify=arm.ca_bundle).json()["rules"][0]["fired"], 10)
        began = time.monotonic()
        for _ in range(3):
            assert _get(arm, token)["name"] == ARM_WS
        answered = time.monotonic() - began
        still_reading = not patch.done()
        _ok(patch.result())
    assert still_reading and answered < 2, f"3 GETs took {answered:.2f} s while the model read took 4 s"


# --- 14: a model that cannot be loaded --------------------------------------------------------------

@pytest.mark.parametrize("blob", ["missing.ilearner", "train.csv"], ids=["missing blob", "not an ilearner"])
def test_patch_with_unloadable_model_fails_the_operation(arm, model_blobs, blob):
    token = arm.token()
    rows = _score_rows()
    before = _scores(arm, rows)
    r = _patch_model(arm, token, {"uri": _cloud_url(model_blobs, blob) + "?" + _read_sas(model_blobs, blob)})
    _ok(r)
    status = arm.wait(r, token)
    assert status["status"] == "Failed" and status["provisioningState"] == "Failed", status
    assert isinstance(status["error"], dict) and status["error"]["code"] and status["error"]["message"]
    assert isinstance(status["errorInfo"], dict) and status["errorInfo"]["code"] and status["errorInfo"]["message"]
    assert _get(arm, token)["properties"]["provisioningState"] == "Failed"
    np.testing.assert_array_equal(_scores(arm, rows), before)


WRONG_KEY = "d3Jvbmcta2V5LW5vdC10aGUtZGV2LWFjY291bnQta2V5LTAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA=="
BAD_CREDENTIALS = {
    "SAS with a wrong signature": lambda c, b: {"uri": _cloud_url(c, b) + "?" + generate_blob_sas(
        DEV, c, b, account_key=WRONG_KEY, permission=BlobSasPermissions(read=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1))},
    "connection string with a wrong key": lambda c, b: {
        "uri": _cloud_url(c, b),
        "credentials": f"DefaultEndpointsProtocol=http;AccountName={DEV};AccountKey={WRONG_KEY};"
                       f"BlobEndpoint=https://{DEV}.blob.core.windows.net/{DEV};"},
}


@pytest.mark.parametrize("make", list(BAD_CREDENTIALS.values()), ids=list(BAD_CREDENTIALS))
def test_model_is_read_with_the_given_credentials(arm, model_blobs, make):  # each form of locationInfo is used
    token = arm.token()
    rows = _score_rows()
    before = _scores(arm, rows)
    r = _patch_model(arm, token, make(model_blobs, "rows100.ilearner"))
    _ok(r)
    status = arm.wait(r, token)
    assert status["status"] == "Failed", status
    assert status["error"]["code"] == status["errorInfo"]["code"]
    assert _get(arm, token)["properties"]["provisioningState"] == "Failed"
    np.testing.assert_array_equal(_scores(arm, rows), before)


# --- 15, 16, 17, 18: ARM conventions and errors -----------------------------------------------------

def _status_url_response(arm: Arm, token: str, headers: dict) -> requests.Response:
    r = arm.request("PATCH", ws_id(), token, body={"properties": {"packageType": "Graph"}})
    return arm.request("GET", r.headers["Azure-AsyncOperation"], token, api_version=None, headers=headers)


UNKNOWN_SUB = "99999999-8888-7777-6666-555555555555"
HEADER_CASES = {
    "GET 200": lambda arm, t, h: arm.request("GET", ws_id(), t, headers=h),
    "GET 404": lambda arm, t, h: arm.request("GET", ws_id("noSuchService"), t, headers=h),
    "PATCH 200": lambda arm, t, h: arm.request("PATCH", ws_id(), t, headers=h,
                                               body={"properties": {"packageType": "Graph", "title": "t"}}),
    "PUT 400": lambda arm, t, h: arm.request("PUT", ws_id(), t, headers=h, body={"properties": {}}),
    "no token 401": lambda arm, t, h: arm.request("GET", ws_id(), None, headers=h),
    "no api-version 400": lambda arm, t, h: arm.request("GET", ws_id(), t, headers=h, api_version=None),
    "listKeys": lambda arm, t, h: arm.request("GET", ws_id() + "/listKeys", t, headers=h),
    "list": lambda arm, t, h: arm.request("GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{TYPE}", t,
                                          headers=h),
    "DELETE 202": lambda arm, t, h: arm.request("DELETE", ws_id("neverExisted"), t, headers=h),
    "status URL": _status_url_response,
    "unknown status URL 404": lambda arm, t, h: arm.request(
        "GET", f"/subscriptions/{SUB}/providers/Microsoft.MachineLearning/locations/southcentralus/operationsStatus/"
               f"{uuid.uuid4().hex}", t, headers=h),
    "unknown resource type 404": lambda arm, t, h: arm.request(
        "GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearning/commitmentPlans/x", t,
        headers=h),
    "POST service 405": lambda arm, t, h: arm.request("POST", ws_id(), t, headers=h),
    "unknown subscription 404": lambda arm, t, h: arm.request("GET", ws_id(sub=UNKNOWN_SUB), t, headers=h),
}


@pytest.mark.parametrize("caller", [None, "c0ffee00-1234-4abc-8def-000000000015"], ids=["no caller id", "caller id"])
@pytest.mark.parametrize("send", list(HEADER_CASES.values()), ids=list(HEADER_CASES))
def test_every_response_has_request_ids_and_echoes_correlation_id(arm, send, caller):
    token = arm.token()
    headers = {"x-ms-correlation-request-id": caller} if caller else {}
    responses = [send(arm, token, headers), send(arm, token, headers)]
    for r in responses:
        assert r.headers.get("x-ms-request-id"), (r.status_code, dict(r.headers))
        assert r.headers.get("x-ms-correlation-request-id"), (r.status_code, dict(r.headers))
        if caller:
            assert r.headers["x-ms-correlation-request-id"] == caller
    assert responses[0].headers["x-ms-request-id"] != responses[1].headers["x-ms-request-id"]
    if not caller:  # a new correlation id per request
        first, second = (r.headers["x-ms-correlation-request-id"] for r in responses)
        assert first != second


def _path(rg_keyword="resourceGroups", rg=RG, provider="Microsoft.MachineLearning", type_="webServices",
          name=ARM_WS) -> str:
    return f"/subscriptions/{SUB}/{rg_keyword}/{rg}/providers/{provider}/{type_}/{name}"


CASINGS = {
    "resourcegroups keyword": _path(rg_keyword="RESOURCEGROUPS"),
    "resource group": _path(rg=RG.lower()),
    "provider namespace": _path(provider="MICROSOFT.machinelearning"),
    "type": _path(type_="WEBSERVICES"),
    "name": _path(name=ARM_WS.upper()),
    "everything": _path("resourcegroups", RG.upper(), "microsoft.MachineLearning", "WebServices", "mywebservice"),
}


@pytest.mark.parametrize("path", list(CASINGS.values()), ids=list(CASINGS))
def test_paths_match_case_insensitively_and_id_keeps_stored_casing(arm, path):
    token = arm.token()
    body = _ok(arm.request("GET", path, token))
    assert body["id"] == ws_id() and body["name"] == ARM_WS
    assert _ok(arm.request("GET", path + "/listKeys", token))["primary"] == ARM_KEY
    # a PUT through the other casing updates the stored service (200), it does not create a second one
    r = arm.request("PUT", path, token, body=_put_body(title="through another casing"))
    body = _ok(r, 200)
    assert body["id"] == ws_id() and body["name"] == ARM_WS
    assert _get(arm, token)["properties"]["title"] == "through another casing"
    assert sorted(item["name"] for item in _list_all(arm, token)[0]) == sorted(SEED_SERVICES)


VERSIONED = {
    "GET": ("GET", ws_id(), None),
    "PATCH": ("PATCH", ws_id(), {"properties": {"packageType": "Graph", "title": "x"}}),
    "listKeys": ("GET", ws_id() + "/listKeys", None),
    "list by resource group": ("GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{TYPE}", None),
    "list by subscription": ("GET", f"/subscriptions/{SUB}/providers/{TYPE}", None),
}


@pytest.mark.parametrize("method,path,body", list(VERSIONED.values()), ids=list(VERSIONED))
def test_missing_api_version_is_400_with_exact_message(arm, method, path, body):
    token = arm.token(OWNER_SP)
    message = _error(arm.request(method, path, token, api_version=None, body=body), 400, "MissingApiVersionParameter")
    assert message == "The api-version query parameter (?api-version=) is required for all requests."


@pytest.mark.parametrize("method,path,body", list(VERSIONED.values()), ids=list(VERSIONED))
def test_unknown_api_version_is_400_no_registered_provider(arm, method, path, body):
    token = arm.token(OWNER_SP)
    before = _get(arm, token)
    message = _error(arm.request(method, path, token, api_version="2099-01-01", body=body), 400,
                     "NoRegisteredProviderFound")
    assert re.fullmatch(r"No registered resource provider found for location '[a-z]+' and API version '2099-01-01' "
                        r"for type 'webServices'\. The supported api-versions are '2016-05-01-preview, 2017-01-01'\. "
                        r"The supported locations are '[^']+'\.", message), message
    assert _get(arm, token) == before


GROUP_PATHS = {
    "GET service": ("GET", ws_id(rg="no-such-rg"), None),
    "PATCH service": ("PATCH", ws_id(rg="no-such-rg"), {"properties": {"packageType": "Graph"}}),
    "listKeys": ("GET", ws_id(rg="no-such-rg") + "/listKeys", None),
    "DELETE service": ("DELETE", ws_id(rg="no-such-rg"), None),
    "list": ("GET", f"/subscriptions/{SUB}/resourceGroups/no-such-rg/providers/{TYPE}", None),
}


@pytest.mark.parametrize("method,path,body", list(GROUP_PATHS.values()), ids=list(GROUP_PATHS))
def test_unknown_resource_group_is_404(arm, method, path, body):
    token = arm.token(OWNER_SP)  # Owner of the subscription: authorized, so existence decides
    message = _error(arm.request(method, path, token, body=body), 404, "ResourceGroupNotFound")
    assert message == "Resource group 'no-such-rg' could not be found."


SUB_PATHS = {
    "GET service": ("GET", ws_id(sub=UNKNOWN_SUB)),
    "list by resource group": ("GET", f"/subscriptions/{UNKNOWN_SUB}/resourceGroups/{RG}/providers/{TYPE}"),
    "list by subscription": ("GET", f"/subscriptions/{UNKNOWN_SUB}/providers/{TYPE}"),
    "DELETE": ("DELETE", ws_id(sub=UNKNOWN_SUB)),
}


@pytest.mark.parametrize("method,path", list(SUB_PATHS.values()), ids=list(SUB_PATHS))
def test_unknown_subscription_is_404(arm, method, path):
    token = arm.token(OWNER_SP)
    message = _error(arm.request(method, path, token), 404, "SubscriptionNotFound")
    assert message == f"The subscription '{UNKNOWN_SUB}' could not be found."


# --- 35: one engine ---------------------------------------------------------------------------------

MODEL_FORMS = {
    "uri with read SAS": lambda c, b, cs: {"uri": _cloud_url(c, b) + "?" + _read_sas(c, b)},
    "uri plus credentials": lambda c, b, cs: {"uri": _cloud_url(c, b), "credentials": cs},
    "plain uri": lambda c, b, cs: {"uri": _cloud_url(c, b)},
}


@pytest.mark.parametrize("form,start", [(form, start) for form, start in zip(MODEL_FORMS, (100, 150, 200))],
                         ids=list(MODEL_FORMS))
def test_patched_model_is_what_rrs_scores_with(arm, azurite, model_blobs, form, start):
    token = arm.token()
    rows = _score_rows()
    before = _scores(arm, rows)
    np.testing.assert_allclose(before, _expected(rows, 0, FIRST_MODEL_ROWS), rtol=1e-9, atol=1e-6)

    blob = f"rows{start}.ilearner"
    r = _patch_model(arm, token, MODEL_FORMS[form](model_blobs, blob, azurite.connection_string()))
    _ok(r)
    _succeeded(arm, r, token)

    key = _ok(arm.request("GET", ws_id() + "/listKeys", token))["primary"]
    after = _scores(arm, rows, key=key)
    np.testing.assert_allclose(after, _expected(rows, start), rtol=1e-9, atol=1e-6)
    assert not np.allclose(before, after), "the update must change the scores"
    resource = _get(arm, token)
    asset = resource["properties"]["assets"]["asset1"]
    assert resource["properties"]["provisioningState"] == "Succeeded"
    assert asset["name"] == RESOURCE and asset["locationInfo"]["uri"].split("?")[0] == _cloud_url(model_blobs, blob)
    assert asset["locationInfo"].get("credentials", "") == ""  # not even after a PATCH that set them
    assert resource["properties"]["swaggerLocation"].endswith(f"/subscriptions/{SUB}/services/{ARM_SVC}/swagger.json")
    swagger = requests.get(resource["properties"]["swaggerLocation"], verify=arm.ca_bundle, timeout=30)
    assert swagger.status_code == 200 and swagger.json()["swagger"] == "2.0"


@pytest.mark.parametrize("form", [
    pytest.param("plain uri"),
    pytest.param("uri plus credentials"),
])
def test_repeated_update_to_the_same_blob_scores_with_the_new_model(arm, azurite, form):
    token = arm.token()
    rows = _score_rows()
    client = BlobServiceClient.from_connection_string(azurite.connection_string())
    container = unique("armsame")
    client.create_container(container)
    blob = client.get_blob_client(container, "output/newModelForArm.ilearner")
    for start in (100, 200):  # two retraining runs writing the same trainedModelFilePath
        blob.upload_blob(_model_bytes(start), overwrite=True)
        r = _patch_model(arm, token, MODEL_FORMS[form](container, "output/newModelForArm.ilearner",
                                                       azurite.connection_string()))
        _ok(r)
        _succeeded(arm, r, token)
        np.testing.assert_allclose(_scores(arm, rows), _expected(rows, start), rtol=1e-9, atol=1e-6)
