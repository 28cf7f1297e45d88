"""Bad input on every ARM and Azure AD route gets the real error envelope, never a 500; no secret leaks.

ARM answers ``{"error": {"code", "message", ...}}`` plus ``x-ms-request-id`` and
``x-ms-correlation-request-id`` on every answer, errors included, and validates requests itself; Azure AD
answers ``{"error", "error_description", "error_codes", ...}``; keys, the storage key and asset credentials are
never shown (the ARM spec's GET returns no secrets). The classic APIs have the same sweep in test_bad_input.py
and test_secrets_redaction.py.

Every request is real HTTPS to the shared emulator (``arm`` fixture). The caller is OWNER_SP (Owner on the
subscription) unless a test says otherwise, so that requests get past authorization to the input checks.
"""
from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from .arm_helpers import (ALL_SECRETS, ARM_WS, EXPIRED_SECRET_SP, FOREIGN_SP, NO_ROLE_SP, OTHER_DOMAIN,
                          OWNER_SP, READER_SP, RG, SEED_SP, SHORT_LIVED_SP, SUB, TENANT, TENANT_DOMAIN, Arm, ws_id)

V2016, V2017 = "2016-05-01-preview", "2017-01-01"
TYPE = "Microsoft.MachineLearning/webServices"
RG_LIST = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{TYPE}"
SUB_LIST = f"/subscriptions/{SUB}/providers/{TYPE}"
OPERATIONS = "/providers/Microsoft.MachineLearning/operations"
NEW_WS = "badInputService"
MODEL = "ADFV2Sample Model [trained model]"
ARM_RESOURCE = "https://management.azure.com/"
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "', "site-packages")
AAD_FIELDS = {"error", "error_description", "error_codes"}


def op_path(op_id: str | None = None) -> str:
    return (f"/subscriptions/{SUB}/providers/Microsoft.MachineLearning/locations/southcentralus/operationsStatus/"
            f"{op_id or uuid.uuid4().hex}")


# --- the envelopes --------------------------------------------------------------------------------

def _no_traceback(r: requests.Response) -> None:
    for marker in TRACEBACK_MARKERS:
        assert marker not in r.text, r.text[:1000]


def assert_arm_envelope(r: requests.Response, status: int | None = None, code: str | tuple[str, ...] | None = None) -> dict:
    """A 4xx ARM error: JSON ``{"error": {...}}`` with request ids; returns ``error``."""
    assert r.status_code < 500, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}"
    assert 400 <= r.status_code < 500, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}"
    if status is not None:
        assert r.status_code == status, r.text[:500]
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert r.headers.get("x-ms-request-id") and r.headers.get("x-ms-correlation-request-id"), r.headers
    _no_traceback(r)
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict), error
    assert isinstance(error.get("code"), str) and error["code"], error
    assert isinstance(error.get("message"), str) and error["message"], error
    assert error.get("target") is None or isinstance(error["target"], str), error
    assert isinstance(error.get("details", []), list) and isinstance(error.get("additionalInfo", []), list), error
    if code is not None:
        assert error["code"] in ((code,) if isinstance(code, str) else code), error
    return error


def assert_aad_envelope(r: requests.Response, status: int | None = None, error: str | None = None,
                        code: int | None = None) -> dict:
    """A 4xx Azure AD error: ``error``, ``error_description`` starting with AADSTS<code>, ``error_codes``."""
    assert r.status_code < 500, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}"
    assert 400 <= r.status_code < 500, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}"
    if status is not None:
        assert r.status_code == status, r.text[:500]
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    _no_traceback(r)
    body = r.json()
    assert isinstance(body, dict) and AAD_FIELDS <= set(body), body
    assert "access_token" not in body
    assert isinstance(body["error"], str) and body["error"], body
    codes = body["error_codes"]
    assert isinstance(codes, list) and codes and all(isinstance(c, int) for c in codes), body
    assert body["error_description"].startswith(f"AADSTS{codes[0]}: "), body
    if error is not None:
        assert body["error"] == error, body
    if code is not None:
        assert codes == [code], body
    return body


# --- clients ----------------------------------------------------------------------------------------

def send(arm: Arm, method: str, path: str, data: bytes | str | None = None, *, token: str | None = None,
         version: str | None = V2017, timeout: float = 30, **headers) -> requests.Response:
    """One ARM request with a raw body (as is), the Owner's token unless another is given."""
    all_headers = {"Authorization": f"Bearer {token or arm.token(OWNER_SP)}"}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers)
    params = {"api-version": version} if version is not None else None
    return requests.request(method, arm.url + path, params=params, data=data, headers=all_headers,
                            verify=arm.ca_bundle, timeout=timeout)


def snapshot(arm: Arm, token: str) -> dict:
    """myWebService as GET shows it (what a rejected request must leave alone)."""
    r = arm.request("GET", ws_id(), token, api_version=V2017)
    assert r.status_code == 200, r.text
    return r.json()


def assert_nothing_changed(arm: Arm, token: str, before: dict, method: str) -> None:
    assert snapshot(arm, token) == before
    if method == "PUT":
        assert arm.request("GET", ws_id(NEW_WS), token).status_code == 404


def put_body(**properties) -> dict:
    return {"location": "South Central US", "tags": {"by": "test"},
            "properties": dict({"packageType": "Graph", "title": "a bad-input test"}, **properties)}


def patch_body(**properties) -> dict:
    return {"properties": dict({"packageType": "Graph"}, **properties)}


def module_asset(**changes) -> dict:
    asset = {"name": "Execute R Script", "type": "Module", "locationInfo": {"uri": "aml://module/moduleId-1"}}
    asset.update(changes)
    return asset


BODY_TARGETS = {"PUT": ws_id(NEW_WS), "PATCH": ws_id(), "PUT existing": ws_id()}


# --- 1. malformed JSON and bodies that are not objects ------------------------------------------------

MALFORMED = [
    pytest.param("{", id="open-brace"),
    pytest.param("{'properties': {}}", id="single-quotes"),
    pytest.param("not json", id="bare-word"),
    pytest.param('{"properties": }', id="missing-value"),
    pytest.param('{"properties": {"packageType": "Graph"}} trailing', id="trailing-garbage"),
    pytest.param("[1, 2", id="open-array"),
    pytest.param(b"\xff\xfe\x00{", id="invalid-utf8"),
    pytest.param(b'{"properties": {"title": "caf\xe9"}}', id="latin-1-bytes"),
    pytest.param("{}".encode("utf-16"), id="utf16"),
    pytest.param('{"a": "\\x41"}', id="bad-escape"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="deeply-nested-array"),
    pytest.param('{"a":' * 100_000 + "1" + "}" * 100_000, id="deeply-nested-object"),
    pytest.param('{"properties": {"packageType": "Graph", "n": ' + "9" * 5000 + "}}", id="huge-integer"),
]


@pytest.mark.parametrize("target", list(BODY_TARGETS))
@pytest.mark.parametrize("payload", MALFORMED)
def test_malformed_json_is_400_invalid_request_content(arm, target, payload):
    token = arm.token(OWNER_SP)
    before = snapshot(arm, token)
    r = send(arm, target.split()[0], BODY_TARGETS[target], payload, token=token)
    assert_arm_envelope(r, 400, "InvalidRequestContent")
    assert_nothing_changed(arm, token, before, target.split()[0])


NOT_OBJECTS = ["", "   ", "\r\n", "[]", '[{"properties": {"packageType": "Graph"}}]', '"x"', '""', "1", "0", "-3.5",
               "null", "true", "false"]


@pytest.mark.parametrize("target", list(BODY_TARGETS))
@pytest.mark.parametrize("payload", NOT_OBJECTS, ids=[repr(p) for p in NOT_OBJECTS])
def test_body_that_is_not_an_object_is_400_invalid_request_content(arm, target, payload):
    token = arm.token(OWNER_SP)
    before = snapshot(arm, token)
    r = send(arm, target.split()[0], BODY_TARGETS[target], payload, token=token)
    assert_arm_envelope(r, 400, "InvalidRequestContent")
    assert_nothing_changed(arm, token, before, target.split()[0])


# --- 2. fields of the wrong type ------------------------------------------------------------------------

def _set(path: str, value):
    """A body change: set a field (``properties.x``, ``tags``, ``location``...) to ``value``."""
    def change(body: dict) -> None:
        *parents, leaf = path.split(".")
        node = body
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return change


def _drop(path: str):
    def change(body: dict) -> None:
        *parents, leaf = path.split(".")
        node = body
        for p in parents:
            node = node[p]
        node.pop(leaf, None)
    return change


FIELD_CASES = {  # name: body change
    "properties a string": _set("properties", "Graph"),
    "properties a list": _set("properties", [{"packageType": "Graph"}]),
    "properties a number": _set("properties", 1),
    "properties true": _set("properties", True),
    "properties null": _set("properties", None),
    "properties missing": _drop("properties"),
    "packageType missing": _drop("properties.packageType"),
    "packageType Code": _set("properties.packageType", "Code"),
    "packageType a number": _set("properties.packageType", 1),
    "packageType null": _set("properties.packageType", None),
    "assets a list": _set("properties.assets", [module_asset()]),
    "assets a string": _set("properties.assets", "asset1"),
    "assets a number": _set("properties.assets", 5),
    "assets true": _set("properties.assets", True),
    "assets an empty list": _set("properties.assets", []),
    "asset a string": _set("properties.assets", {"asset1": "Execute R Script"}),
    "asset a list": _set("properties.assets", {"asset1": [module_asset()]}),
    "asset null": _set("properties.assets", {"asset1": None}),
    "asset without locationInfo": _set("properties.assets", {"asset1": {"name": "n", "type": "Module"}}),
    "asset locationInfo a string": _set("properties.assets", {"asset1": module_asset(locationInfo="aml://x")}),
    "asset locationInfo a list": _set("properties.assets", {"asset1": module_asset(locationInfo=[{"uri": "aml://x"}])}),
    "asset locationInfo without uri": _set("properties.assets", {"asset1": module_asset(locationInfo={})}),
    "asset uri a number": _set("properties.assets", {"asset1": module_asset(locationInfo={"uri": 5})}),
    "asset uri null": _set("properties.assets", {"asset1": module_asset(locationInfo={"uri": None})}),
    "asset credentials a number": _set("properties.assets", {"asset1": module_asset(
        locationInfo={"uri": "aml://x", "credentials": 5})}),
    "asset credentials a list": _set("properties.assets", {"asset1": module_asset(
        locationInfo={"uri": "aml://x", "credentials": ["AccountName=a"]})}),
    "asset without name": _set("properties.assets", {"asset1": {"type": "Module", "locationInfo": {"uri": "aml://x"}}}),
    "asset name a list": _set("properties.assets", {"asset1": module_asset(name=["n"])}),
    "asset without type": _set("properties.assets", {"asset1": {"name": "n", "locationInfo": {"uri": "aml://x"}}}),
    "asset type a number": _set("properties.assets", {"asset1": module_asset(type=5)}),
    "asset type unknown": _set("properties.assets", {"asset1": module_asset(type="Blob")}),
    "tags a list": _set("tags", ["a", "b"]),
    "tags a string": _set("tags", "a=b"),
    "tags a number": _set("tags", 3),
    "tag value a number": _set("tags", {"a": 1}),
    "tag value an object": _set("tags", {"a": {"b": "c"}}),
    "location a number": _set("location", 5),
    "location a list": _set("location", ["South Central US"]),
    "location an object": _set("location", {"name": "South Central US"}),
    "location not a region": _set("location", "Atlantis"),
    "title a number": _set("properties.title", 5),
    "keys a string": _set("properties.keys", "primary"),
    "keys a list": _set("properties.keys", ["primary"]),
    "keys primary a number": _set("properties.keys", {"primary": 5}),
    "storageAccount a string": _set("properties.storageAccount", "acct"),
    "storageAccount name a number": _set("properties.storageAccount", {"name": 5}),
    "readOnly a string": _set("properties.readOnly", "yes"),
    "parameters a list": _set("properties.parameters", [1]),
    "package a string": _set("properties.package", "graph"),
    "realtimeConfiguration a string": _set("properties.realtimeConfiguration", "4"),
    "maxConcurrentCalls out of range": _set("properties.realtimeConfiguration", {"maxConcurrentCalls": 1000}),
    "diagnostics without level": _set("properties.diagnostics", {}),
    "diagnostics level unknown": _set("properties.diagnostics", {"level": "Loud"}),
    "machineLearningWorkspace without id": _set("properties.machineLearningWorkspace", {}),
    "exposeSampleData a string": _set("properties.exposeSampleData", "yes"),
    "input a string": _set("properties.input", "input1"),
}


@pytest.mark.parametrize("version", [V2016, V2017])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])  # a PATCH needs properties.packageType too
@pytest.mark.parametrize("case", list(FIELD_CASES))
def test_fields_of_the_wrong_type_are_400_and_change_nothing(arm, method, version, case):
    change = FIELD_CASES[case]
    body = put_body(assets={"asset1": module_asset()}) if method == "PUT" else patch_body()
    change(body)
    token = arm.token(OWNER_SP)
    before = snapshot(arm, token)
    r = send(arm, method, BODY_TARGETS[method], json.dumps(body), token=token, version=version)
    assert_arm_envelope(r, 400, ("BadRequest", "InvalidRequestContent", "LocationNotAvailableForResourceType"))
    assert_nothing_changed(arm, token, before, method)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_the_good_bodies_of_the_wrong_type_sweep_are_accepted(arm, method):
    """The baseline the sweep above mutates: without the change, the same request succeeds."""
    body = put_body(assets={"asset1": module_asset()}) if method == "PUT" else patch_body()
    token = arm.token(OWNER_SP)
    r = send(arm, method, BODY_TARGETS[method], json.dumps(body), token=token)
    assert r.status_code in (200, 201), r.text
    assert arm.wait(r, token)["status"] == "Succeeded"


# --- 3. huge and deeply nested JSON, odd strings --------------------------------------------------------

def nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("field", ["description", "title", "storageAccount", "package", "parameters", "assets"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_deeply_nested_json_inside_properties_is_a_4xx(arm, method, field):
    body = put_body() if method == "PUT" else patch_body()
    body["properties"][field] = nested(600)  # the JSON parser accepts this depth; what comes after must cope
    token = arm.token(OWNER_SP)
    before = snapshot(arm, token)
    r = send(arm, method, BODY_TARGETS[method], json.dumps(body), token=token)
    assert_arm_envelope(r, 400)
    assert_nothing_changed(arm, token, before, method)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_huge_bodies_are_handled_without_a_5xx(arm, method):
    assets = {f"asset{i}": module_asset(name=f"module {i}") for i in range(1000)}
    body = (put_body if method == "PUT" else patch_body)(description="x" * 2_000_000, assets=assets)
    token = arm.token(OWNER_SP)
    r = send(arm, method, BODY_TARGETS[method], json.dumps(body), token=token)
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        assert_arm_envelope(r)
    else:
        assert arm.wait(r, token)["status"] == "Succeeded"
        got = arm.request("GET", BODY_TARGETS[method], token).json()
        assert len(got["properties"]["description"]) == 2_000_000 and len(got["properties"]["assets"]) >= 1000


@pytest.mark.parametrize("uri", ["https://[::1/container/model.ilearner", "http://[not-an-address]/c/m.ilearner"])
def test_asset_uri_that_is_not_a_url_fails_cleanly(arm, uri):  # urlsplit raises on these: a 400 or a Failed operation
    token = arm.token(OWNER_SP)
    body = patch_body(assets={"asset1": {"name": MODEL, "type": "Resource", "locationInfo": {"uri": uri}}})
    r = send(arm, "PATCH", ws_id(), json.dumps(body), token=token)
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        assert_arm_envelope(r)
    else:
        assert arm.wait(r, token)["status"] == "Failed"


@pytest.mark.parametrize("location", ["Ünïcødé Ëast", "\x00", "\x1b[31m", "a\u0085b"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_odd_latin_1_locations_are_answered(arm, method, location):
    token = arm.token(OWNER_SP)
    body = put_body() if method == "PUT" else patch_body()
    body["location"] = location
    r = send(arm, method, BODY_TARGETS[method], json.dumps(body), token=token)
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        assert_arm_envelope(r)
    else:
        assert arm.wait(r, token)["status"] == "Succeeded"


@pytest.mark.parametrize("location", ["東京", "\ud800"], ids=["cjk", "lone-surrogate"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_locations_beyond_latin_1_are_answered(arm, method, location):
    """The location goes into the Azure-AsyncOperation URL; a header the server cannot encode is no answer at all."""
    body = put_body() if method == "PUT" else patch_body()
    body["location"] = location
    r = send(arm, method, BODY_TARGETS[method], json.dumps(body), timeout=5)
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        assert_arm_envelope(r)


@pytest.mark.parametrize("location", ["West/Europe", "West?Europe", "West#Europe", "West%2FEurope"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_odd_locations_leave_a_status_url_that_can_be_followed(arm, method, location):
    """The location is part of the Azure-AsyncOperation URL (…/locations/<location>/operationsStatus/<id>): it is
    refused, or the status URL works."""
    token = arm.token(OWNER_SP)
    body = put_body() if method == "PUT" else patch_body()
    body["location"] = location
    r = send(arm, method, BODY_TARGETS[method], json.dumps(body), token=token)
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        assert_arm_envelope(r)
    else:
        status = requests.get(r.headers["Azure-AsyncOperation"], headers={"Authorization": f"Bearer {token}"},
                              verify=arm.ca_bundle, timeout=30)
        assert status.status_code == 200, status.text
        assert status.json()["status"] == "Succeeded"


# --- 4. unknown paths and wrong methods -----------------------------------------------------------------

_WS = ws_id()
UNKNOWN_PATHS = [
    f"/subscriptions/{SUB}",
    f"/subscriptions/{SUB}/resourceGroups",
    f"/subscriptions/{SUB}/resourceGroups/{RG}",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearning",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearning/commitmentPlans/plan",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/w",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Other/webServices/{ARM_WS}",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/foo",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/foo/bar/baz",
    f"{_WS}/listKeys/extra",
    f"{_WS}/regenerateKeys",
    f"{_WS}/CreateRegionalBlob/x",
    f"{_WS}/a/b/c",
    f"/subscriptions/{SUB}/providers/Microsoft.MachineLearning",
    f"/subscriptions/{SUB}/providers/Microsoft.MachineLearning/locations/southcentralus",
    f"/subscriptions/{SUB}/providers/Microsoft.MachineLearning/locations/southcentralus/operationsStatus",
    f"/subscriptions/{SUB}/providers/Microsoft.MachineLearning/commitmentPlans",
    f"/subscriptions/{SUB}/providers/Microsoft.Other/webServices",
    f"/subscriptions/{SUB}/foo/bar",
    "/providers/Microsoft.MachineLearning/nope",
]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "POST"])
@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_unknown_arm_paths_are_404_with_the_arm_envelope(arm, path, method):
    r = send(arm, method, path, json.dumps(patch_body()))
    assert_arm_envelope(r, 404)


def test_operations_of_an_unknown_provider_are_404(arm):
    assert_arm_envelope(send(arm, "GET", "/providers/Microsoft.Other/operations"), 404)


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_unknown_arm_paths_without_a_token_are_401(arm, path):  # authentication before routing
    r = requests.get(arm.url + path, params={"api-version": V2017}, verify=arm.ca_bundle, timeout=30)
    assert_arm_envelope(r, 401, "AuthenticationFailed")


WRONG_METHODS = [("POST", _WS), ("PUT", f"{_WS}/listKeys"), ("PATCH", f"{_WS}/listKeys"), ("DELETE", f"{_WS}/listKeys"),
                 ("PUT", RG_LIST), ("PATCH", RG_LIST), ("DELETE", RG_LIST), ("POST", RG_LIST),
                 ("PUT", SUB_LIST), ("PATCH", SUB_LIST), ("DELETE", SUB_LIST), ("POST", SUB_LIST),
                 ("POST", OPERATIONS), ("PUT", OPERATIONS), ("PATCH", OPERATIONS), ("DELETE", OPERATIONS)]


@pytest.mark.parametrize("method, path", WRONG_METHODS, ids=[f"{m} {p.rsplit('/', 2)[-2:]}" for m, p in WRONG_METHODS])
def test_wrong_methods_are_405_with_the_arm_envelope(arm, method, path):
    token = arm.token(OWNER_SP)
    before = snapshot(arm, token)
    assert_arm_envelope(send(arm, method, path, json.dumps(patch_body()), token=token), 405, "MethodNotAllowed")
    assert snapshot(arm, token) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_wrong_methods_on_an_operation_status_url_are_4xx(arm, method):  # only GET is an operation there
    token = arm.token(OWNER_SP)
    r = arm.request("PATCH", ws_id(), token, body=patch_body(title="for its status URL"))
    assert r.status_code == 200, r.text
    status_url = r.headers["Azure-AsyncOperation"]
    got = requests.request(method, status_url, headers={"Authorization": f"Bearer {token}"}, verify=arm.ca_bundle,
                           timeout=30, json={})
    assert_arm_envelope(got)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_operation_is_404(arm, method):
    assert_arm_envelope(send(arm, method, op_path()), 404)


# --- 5. api-version and $skiptoken ------------------------------------------------------------------

ROUTES = {"ws-get": ("GET", _WS), "ws-put": ("PUT", ws_id(NEW_WS)), "ws-patch": ("PATCH", _WS),
          "ws-delete": ("DELETE", _WS), "listKeys": ("GET", f"{_WS}/listKeys"), "list-rg": ("GET", RG_LIST),
          "list-sub": ("GET", SUB_LIST), "operation": ("GET", op_path()), "operations": ("GET", OPERATIONS)}
BAD_VERSIONS = ["", "garbage", "2.0", "2016-05-01", "2099-01-01", "2017-01-01-preview", "2017-1-1", "2017-01-01 ",
                "ü", "2017-01-01&x=1"]


@pytest.mark.parametrize("version", BAD_VERSIONS, ids=[repr(v) for v in BAD_VERSIONS])
@pytest.mark.parametrize("route", list(ROUTES))
def test_bad_api_versions_are_400(arm, route, version):
    method, path = ROUTES[route]
    body = json.dumps(put_body() if method == "PUT" else patch_body()) if method in ("PUT", "PATCH") else None
    r = send(arm, method, path, body, version=version)
    assert_arm_envelope(r, 400, ("InvalidApiVersionParameter", "NoRegisteredProviderFound"))


@pytest.mark.parametrize("route", list(ROUTES))
def test_missing_api_version_is_400(arm, route):
    method, path = ROUTES[route]
    r = send(arm, method, path, json.dumps(patch_body()) if method in ("PUT", "PATCH") else None, version=None)
    assert_arm_envelope(r, 400, "MissingApiVersionParameter")


@pytest.mark.parametrize("skiptoken", ["abc", "1.5", "", "%00", "99999999999999999999999", "-3", "٣"])
@pytest.mark.parametrize("path", [RG_LIST, SUB_LIST], ids=["list-rg", "list-sub"])
def test_odd_skiptokens_never_5xx(arm, path, skiptoken):
    r = requests.get(f"{arm.url}{path}?api-version={V2017}&$skiptoken={skiptoken}", verify=arm.ca_bundle, timeout=30,
                     headers={"Authorization": f"Bearer {arm.token(OWNER_SP)}"})
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert_arm_envelope(r, 400)
    else:
        assert isinstance(r.json()["value"], list)


# --- 6. Azure AD: token endpoints ------------------------------------------------------------------------

def aad_post(arm: Arm, tenant: str, v2: bool, data=None, **kw) -> requests.Response:
    path = "oauth2/v2.0/token" if v2 else "oauth2/token"
    return requests.post(f"{arm.url}/{tenant}/{path}", data=data, verify=arm.ca_bundle, timeout=30, **kw)


def good_form(v2: bool, p=SEED_SP, **changes) -> dict:
    fields = {"grant_type": "client_credentials", "client_id": p.client_id, "client_secret": p.secret}
    fields["scope" if v2 else "resource"] = ARM_RESOURCE.rstrip("/") + "/.default" if v2 else ARM_RESOURCE
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


UNKNOWN_CLIENT = "99999999-aaaa-4bbb-8ccc-dddddddddddd"
BAD_FORMS = {  # name: (changes, v1/v2/both, status, error, code)
    "empty form": ({"grant_type": None, "client_id": None, "client_secret": None, "resource": None, "scope": None},
                   "both", 400, "invalid_request", 900144),
    "no grant_type": ({"grant_type": None}, "both", 400, "invalid_request", 900144),
    "empty grant_type": ({"grant_type": ""}, "both", 400, "invalid_request", 900144),
    "no client_id": ({"client_id": None}, "both", 400, "invalid_request", 900144),
    "grant_type password": ({"grant_type": "password"}, "both", 400, "unsupported_grant_type", 70003),
    "grant_type in capitals": ({"grant_type": "CLIENT_CREDENTIALS"}, "both", 400, "unsupported_grant_type", 70003),
    "no resource": ({"resource": None}, "v1", 400, "invalid_request", 900144),
    "no scope": ({"scope": None}, "v2", 400, "invalid_request", 900144),
    "unknown resource": ({"resource": "https://example.com/"}, "v1", 400, "invalid_resource", 500011),
    "resource with a NUL": ({"resource": "\x00"}, "v1", 400, "invalid_resource", 500011),
    "unknown scope resource": ({"scope": "https://example.com/.default"}, "v2", 400, "invalid_resource", 500011),
    "scope without .default": ({"scope": "https://management.azure.com/user_impersonation"}, "v2", 400,
                               "invalid_scope", 1002012),
    "two scopes": ({"scope": "https://management.azure.com/.default openid"}, "v2", 400, "invalid_scope", 1002012),
    "blank scope": ({"scope": "   "}, "v2", 400, "invalid_scope", 1002012),
    "unknown client": ({"client_id": UNKNOWN_CLIENT}, "both", 400, "unauthorized_client", 700016),
    "client of another tenant": ({"client_id": FOREIGN_SP.client_id, "client_secret": FOREIGN_SP.secret}, "both", 400,
                                 "unauthorized_client", 700016),
    "unicode client id": ({"client_id": "ünïcødé-克莱恩特"}, "both", 400, "unauthorized_client", 700016),
    "huge client id": ({"client_id": "c" * 100_000}, "both", 400, "unauthorized_client", 700016),
    "client id with NUL": ({"client_id": SEED_SP.client_id + "\x00"}, "both", 400, "unauthorized_client", 700016),
    "no secret": ({"client_secret": None}, "both", 401, "invalid_client", 7000216),
    "empty secret": ({"client_secret": ""}, "both", 401, "invalid_client", 7000216),
    "wrong secret": ({"client_secret": "d3JvbmctY2xpZW50LXNlY3JldC0wMDAw"}, "both", 401, "invalid_client", 7000215),
    "unicode secret": ({"client_secret": "sécret-克"}, "both", 401, "invalid_client", 7000215),
    "huge secret": ({"client_secret": "s" * 100_000}, "both", 401, "invalid_client", 7000215),
    "expired secret": ({"client_id": EXPIRED_SECRET_SP.client_id, "client_secret": EXPIRED_SECRET_SP.secret}, "both",
                       401, "invalid_client", 7000222),
}


def _form_cases():
    return [pytest.param(name, v2, id=f"{'v2' if v2 else 'v1'}-{name}")
            for name, (_, which, *_rest) in BAD_FORMS.items()
            for v2 in (False, True) if which == "both" or which == ("v2" if v2 else "v1")]


@pytest.mark.parametrize("case, v2", _form_cases())
def test_bad_token_forms_get_the_aad_error(arm, case, v2):
    changes, _, status, error, code = BAD_FORMS[case]
    r = aad_post(arm, TENANT_DOMAIN, v2, good_form(v2, **changes))
    assert_aad_envelope(r, status, error, code)


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_the_good_token_form_is_accepted(arm, v2):  # the baseline the bad forms above change
    r = aad_post(arm, TENANT_DOMAIN, v2, good_form(v2))
    assert r.status_code == 200, r.text
    assert r.json()["access_token"]


RAW_BODIES = {  # name: (body, content type)
    "empty": (b"", None),
    "empty form": (b"", "application/x-www-form-urlencoded"),
    "garbage form": (b"garbage&&==%%zz&=&&", "application/x-www-form-urlencoded"),
    "percent garbage": (b"grant_type=%ZZ&client_id=%", "application/x-www-form-urlencoded"),
    "non-utf-8 bytes": (b"grant_type=client_credentials&client_id=\xff\xfe\xfd&client_secret=\xc3&resource=x",
                        "application/x-www-form-urlencoded"),
    "binary": (bytes(range(256)), "application/x-www-form-urlencoded"),
    "json instead of a form": (json.dumps({"grant_type": "client_credentials", "client_id": SEED_SP.client_id,
                                           "client_secret": SEED_SP.secret, "resource": ARM_RESOURCE}).encode(),
                               "application/json"),
    "form as text/plain": (f"grant_type=client_credentials&client_id={SEED_SP.client_id}".encode(), "text/plain"),
    "broken multipart": (b"--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient",
                         "multipart/form-data; boundary=x"),
    "multipart without boundary": (b"grant_type=client_credentials", "multipart/form-data"),
    "huge form": (b"x=" + b"a" * 600_000, "application/x-www-form-urlencoded"),
    "many fields": (b"&".join(b"f%d=v" % i for i in range(20_000)), "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
@pytest.mark.parametrize("case", list(RAW_BODIES))
def test_garbage_token_request_bodies_get_the_aad_error(arm, case, v2):
    body, content_type = RAW_BODIES[case]
    headers = {"Content-Type": content_type} if content_type else {}
    assert_aad_envelope(aad_post(arm, TENANT_DOMAIN, v2, body, headers=headers))


ODD_TENANTS = ["ünïcødé.com", "東京.onmicrosoft.com", "😀", "a" * 2000, "\x00", "x y", "%", "'; DROP TABLE tenants;--",
               "{tenantid}", "<script>", "mycompany.com.", " mycompany.com", TENANT_DOMAIN + "\x00",
               TENANT[:-1], TENANT + "0"]


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
@pytest.mark.parametrize("tenant", ODD_TENANTS, ids=[repr(t[:24]) for t in ODD_TENANTS])
def test_odd_tenants_are_aadsts90002_on_the_token_endpoints(arm, tenant, v2):
    r = aad_post(arm, quote(tenant, safe=""), v2, good_form(v2))
    body = assert_aad_envelope(r, 400, "invalid_request", 90002)
    assert "not found" in body["error_description"]


@pytest.mark.parametrize("document", ["v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"])
@pytest.mark.parametrize("tenant", ODD_TENANTS, ids=[repr(t[:24]) for t in ODD_TENANTS])
def test_odd_tenants_are_aadsts90002_on_openid_discovery(arm, tenant, document):
    r = requests.get(f"{arm.url}/{quote(tenant, safe='')}/{document}", verify=arm.ca_bundle, timeout=30)
    assert_aad_envelope(r, 400, "invalid_request", 90002)


@pytest.mark.parametrize("path", ["discovery/v2.0/keys", "discovery/keys"])
@pytest.mark.parametrize("tenant", ODD_TENANTS, ids=[repr(t[:24]) for t in ODD_TENANTS])
def test_odd_tenants_on_the_keys_endpoint_never_5xx(arm, tenant, path):
    r = requests.get(f"{arm.url}/{quote(tenant, safe='')}/{path}", verify=arm.ca_bundle, timeout=30)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert_aad_envelope(r)
    else:
        assert r.json()["keys"] and all(k["kty"] == "RSA" for k in r.json()["keys"])


DISCOVERY_QUERIES = {
    "none": "", "api-version only": "api-version=1.1",
    "endpoint %ff": "api-version=1.1&authorization_endpoint=%ff",
    "endpoint not a url": "api-version=1.1&authorization_endpoint=not%20a%20url",
    "endpoint unbalanced [": "api-version=1.1&authorization_endpoint=https://%5B::1/x",
    "endpoint 3000 chars": "api-version=1.1&authorization_endpoint=" + "a" * 3000,
    "endpoint unicode tenant": "api-version=1.1&authorization_endpoint=https://h/%E6%9D%B1/oauth2/v2.0/authorize",
    "endpoint empty tenant": "authorization_endpoint=https://h//oauth2",
    "unknown api-version": "api-version=99",
}


@pytest.mark.parametrize("query", list(DISCOVERY_QUERIES.values()), ids=list(DISCOVERY_QUERIES))
def test_odd_instance_discovery_queries_never_5xx(arm, query):
    r = requests.get(f"{arm.url}/common/discovery/instance?{query}", verify=arm.ca_bundle, timeout=30)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert_aad_envelope(r)
    else:
        assert r.json()["tenant_discovery_endpoint"].startswith(arm.url + "/")


AAD_ROUTES = {"v1 token": "/mycompany.com/oauth2/token", "v2 token": "/mycompany.com/oauth2/v2.0/token",
              "openid v2": "/mycompany.com/v2.0/.well-known/openid-configuration",
              "openid v1": "/mycompany.com/.well-known/openid-configuration",
              "instance discovery": "/common/discovery/instance", "keys": f"/{TENANT}/discovery/v2.0/keys"}
AAD_WRONG = [(m, route) for route in AAD_ROUTES for m in ("GET", "PUT", "PATCH", "DELETE", "POST")
             if m != ("POST" if "token" in route else "GET")]


@pytest.mark.parametrize("method, route", AAD_WRONG, ids=[f"{m} {r}" for m, r in AAD_WRONG])
def test_wrong_methods_on_aad_routes_are_4xx(arm, method, route):
    r = requests.request(method, arm.url + AAD_ROUTES[route], data=good_form(False), verify=arm.ca_bundle, timeout=30)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    _no_traceback(r)
    assert "access_token" not in r.json()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("route", ["v1 token", "v2 token"])
def test_wrong_methods_on_token_endpoints_get_the_aad_envelope(arm, route, method):
    """An Azure AD error body, not another API's envelope: AAD answers AADSTS900561 ('The endpoint only
    accepts POST, OPTIONS requests')."""
    r = requests.request(method, arm.url + AAD_ROUTES[route], verify=arm.ca_bundle, timeout=30)
    body = assert_aad_envelope(r)
    assert "POST" in body["error_description"], body


# --- 7. properties: arbitrary input never yields a 5xx ------------------------------------------------------

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=16)
LATIN_1 = st.text(st.characters(max_codepoint=0xFF, exclude_categories=["Cs"]), max_size=16)
json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False,
                                                                                  allow_infinity=False) | TEXT
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(TEXT, inner, max_size=3), max_leaves=10)


def _weighted(*choices: tuple[int, object]):
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(range(len(pool))).flatmap(lambda i: pool[i])


def _mostly(strategy, weight: int = 3):
    return _weighted((weight, strategy), (1, json_values))


uris = _mostly(st.sampled_from(["aml://module/moduleId-1", "aml://resource/x",
                                "https://devstoreaccount1.blob.core.windows.net/nocontainer/m.ilearner",
                                "https://acct.blob.core.windows.net/c/m.ilearner?sv=1&sig=x", "http://", "ftp://x/y",
                                "", "https://devstoreaccount1.blob.core.windows.net/"]) | TEXT)
credentials = _mostly(st.sampled_from(["", "AccountName=acct;AccountKey=YWJj", "AccountName=acct;AccountKey=!!",
                                       "garbage", "UseDevelopmentStorage=true"]) | TEXT)
location_infos = _mostly(st.fixed_dictionaries({"uri": uris}, optional={"credentials": credentials}))
asset_items = _mostly(st.fixed_dictionaries(
    {"name": _mostly(st.sampled_from([MODEL, "Execute R Script"]) | TEXT),
     "type": _mostly(st.sampled_from(["Module", "Resource"])), "locationInfo": location_infos},
    optional={"id": TEXT, "inputPorts": json_values, "outputPorts": json_values, "metadata": json_values}))
assets = st.none() | st.dictionaries(st.sampled_from(["asset1", "asset2", "asset3"]) | TEXT, asset_items, max_size=3)
properties = _mostly(st.fixed_dictionaries(
    {"packageType": _mostly(st.just("Graph"), 6)},
    optional={"title": _mostly(TEXT), "description": _mostly(TEXT), "assets": assets,
              "keys": _mostly(st.fixed_dictionaries({}, optional={"primary": TEXT, "secondary": TEXT})),
              "storageAccount": _mostly(st.fixed_dictionaries({"name": TEXT}, optional={"key": TEXT})),
              "readOnly": _mostly(st.booleans()), "exposeSampleData": _mostly(st.booleans()),
              "parameters": _mostly(st.dictionaries(TEXT, TEXT | json_values, max_size=2)),
              "realtimeConfiguration": _mostly(st.fixed_dictionaries({"maxConcurrentCalls": st.integers(-5, 300)})),
              "diagnostics": _mostly(st.fixed_dictionaries({"level": st.sampled_from(["None", "Error", "All", "x"])})),
              "package": _mostly(st.fixed_dictionaries({}, optional={"nodes": json_values, "edges": json_values})),
              "createdOn": json_values, "provisioningState": json_values, "swaggerLocation": json_values,
              "payloadsInBlobStorage": json_values, "commitmentPlan": json_values}), 5)
arm_bodies = _mostly(st.fixed_dictionaries(
    {"properties": properties},
    optional={"location": _mostly(st.sampled_from(["South Central US", "West Europe", ""]) | LATIN_1),
              "tags": _mostly(st.dictionaries(TEXT, TEXT, max_size=3)), "name": json_values, "id": json_values,
              "type": json_values}), 5)


def _arm_outcome(arm: Arm, r: requests.Response, token: str) -> None:
    assert r.status_code < 500, f"{r.request.method} {r.request.url}: {r.request.body!r:.300} -> {r.status_code} {r.text}"
    if r.status_code >= 400:
        event(f"{r.status_code} {assert_arm_envelope(r)['code']}")
    else:
        event(str(r.status_code))
        if "Azure-AsyncOperation" in r.headers:
            assert arm.wait(r, token)["status"] in ("Succeeded", "Failed")


@PROPERTY
@given(body=arm_bodies, method=st.sampled_from(["PUT", "PATCH"]), version=st.sampled_from([V2016, V2017]),
       name=st.sampled_from([ARM_WS, NEW_WS]))
def test_property_any_json_as_a_put_or_patch_body(arm, body, method, version, name):
    token = arm.token(OWNER_SP)
    _arm_outcome(arm, send(arm, method, ws_id(name), json.dumps(body), token=token, version=version), token)


@PROPERTY
@given(raw=st.binary(max_size=64) | TEXT.map(str.encode), method=st.sampled_from(["PUT", "PATCH"]))
def test_property_any_bytes_as_a_put_or_patch_body(arm, raw, method):
    token = arm.token(OWNER_SP)
    _arm_outcome(arm, send(arm, method, ws_id(), raw, token=token), token)


SEGMENT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=24)


@PROPERTY
@given(segment=SEGMENT, slot=st.sampled_from(["name", "rg", "sub"]),
       method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "GET listKeys", "GET list"]))
def test_property_any_text_in_a_path_segment(arm, segment, slot, method):
    assume(segment not in (".", ".."))
    quoted = quote(segment, safe="")
    parts = {"name": ARM_WS, "rg": RG, "sub": SUB, slot: quoted}
    path = (f"/subscriptions/{parts['sub']}/resourceGroups/{parts['rg']}/providers/{TYPE}"
            + ("" if method == "GET list" else f"/{parts['name']}") + ("/listKeys" if method == "GET listKeys" else ""))
    verb = method.split()[0]
    body = json.dumps(put_body() if verb == "PUT" else patch_body()) if verb in ("PUT", "PATCH") else None
    token = arm.token(OWNER_SP)
    _arm_outcome(arm, send(arm, verb, path, body, token=token), token)


@PROPERTY
@given(version=TEXT, route=st.sampled_from(list(ROUTES)))
def test_property_any_api_version(arm, version, route):
    method, path = ROUTES[route]
    body = json.dumps(put_body() if method == "PUT" else patch_body()) if method in ("PUT", "PATCH") else None
    token = arm.token(OWNER_SP)
    _arm_outcome(arm, send(arm, method, path, body, token=token, version=version), token)


form_values = {
    "grant_type": _weighted((3, st.just("client_credentials")), (1, st.sampled_from(["", "password", "CLIENT"])),
                            (1, TEXT)),
    "client_id": _weighted((3, st.sampled_from([SEED_SP.client_id, OWNER_SP.client_id, FOREIGN_SP.client_id,
                                                EXPIRED_SECRET_SP.client_id])), (1, TEXT)),
    "client_secret": _weighted((3, st.sampled_from([SEED_SP.secret, OWNER_SP.secret, "wrong", ""])), (1, TEXT)),
    "resource": _weighted((3, st.sampled_from([ARM_RESOURCE, "https://graph.microsoft.com/", "https://x/", ""])),
                          (1, TEXT)),
    "scope": _weighted((3, st.sampled_from([ARM_RESOURCE + ".default", "https://graph.microsoft.com/.default",
                                            ARM_RESOURCE + "x", "a b", ""])), (1, TEXT)),
    "client_info": st.just("1"),
}
token_forms = st.fixed_dictionaries({}, optional=form_values).flatmap(
    lambda fixed: st.dictionaries(TEXT, TEXT, max_size=2).map(lambda extra: {**extra, **fixed}))
tenants = _weighted((3, st.sampled_from([TENANT_DOMAIN, TENANT, OTHER_DOMAIN, "nosuch.example"])), (1, SEGMENT))
RESERVED_FIRST = {"subscriptions", "providers", "workspaces", "_emulator", "common", "organizations", "consumers"}


def _aad_outcome(r: requests.Response) -> None:
    assert r.status_code < 500, f"{r.request.url}: {r.request.body!r:.300} -> {r.status_code} {r.text}"
    if r.status_code >= 400:
        event(f"{r.status_code} {assert_aad_envelope(r)['error_codes'][0]}")
    else:
        event(str(r.status_code))


@PROPERTY
@given(form=token_forms, tenant=tenants, v2=st.booleans())
def test_property_any_form_to_a_token_endpoint(arm, form, tenant, v2):
    # a '/' (even sent as %2F) splits the path into another route; '.' and '..' are path steps
    assume(tenant not in (".", "..") and "/" not in tenant and tenant.lower() not in RESERVED_FIRST)
    r = aad_post(arm, quote(tenant, safe=""), v2, form)
    _aad_outcome(r)
    if r.status_code == 200:
        assert form.get("grant_type") == "client_credentials" and r.json()["access_token"]


@PROPERTY
@given(raw=st.binary(max_size=128), v2=st.booleans(),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", None,
                                     "multipart/form-data; boundary=b"]))
def test_property_any_bytes_to_a_token_endpoint(arm, raw, v2, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    _aad_outcome(aad_post(arm, TENANT_DOMAIN, v2, raw, headers=headers))


@PROPERTY
@given(tenant=SEGMENT, route=st.sampled_from(["oauth2/token", "oauth2/v2.0/token", "v2.0/.well-known/openid-configuration",
                                              ".well-known/openid-configuration"]))
def test_property_any_tenant_segment(arm, tenant, route):
    # a '/' (even sent as %2F) splits the path into another route; '.' and '..' are path steps
    assume(tenant not in (".", "..") and "/" not in tenant and tenant.lower() not in RESERVED_FIRST)
    url = f"{arm.url}/{quote(tenant, safe='')}/{route}"
    if "token" in route:
        r = requests.post(url, data=good_form("v2.0" in route), verify=arm.ca_bundle, timeout=30)
    else:
        r = requests.get(url, verify=arm.ca_bundle, timeout=30)
    _aad_outcome(r)


# --- 8. secrets: journal, reads, error bodies, the log ----------------------------------------------

def _b64(text: str) -> str:
    return base64.b64encode(text.encode().ljust(48, b"0")).decode()


WRONG_SECRET = _b64("a client secret that belongs to no application")
NEW_PRIMARY, NEW_SECONDARY = _b64("new primary key set by PUT"), _b64("new secondary key set by PUT")
PATCH_PRIMARY = _b64("primary key set by PATCH")
STORAGE_KEY, PATCH_STORAGE_KEY = _b64("storage account key given on PUT"), _b64("storage account key given on PATCH")
ASSET_KEY, FAILING_ASSET_KEY = _b64("asset credentials account key"), _b64("failing asset credentials account key")
SAS_SIG = "c2lnbmF0dXJlLW9mLWEtc2FzLXRva2VuLWluLWFuLWFzc2V0LXVyaQ%3D%3D"
SECRET_WS = "serviceWithSecrets"
UNMASKED_ACCOUNT_KEY = re.compile(r"AccountKey\s*=\s*(?!\*\*\*)[^;\"'\s&]", re.IGNORECASE)


def connection_string(account: str, key: str) -> str:
    return f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};EndpointSuffix=core.windows.net"


def needles(secret: str) -> set[str]:
    """The forms a secret can take in text: as is, without base64 padding, URL-encoded."""
    core = secret.rstrip("=")
    return {secret, core, quote(core, safe=""), quote(secret, safe="")} if len(core) >= 12 else {secret}


def assert_no_secrets(text: str, secrets: set[str], where: str) -> None:
    for secret in secrets:
        for needle in needles(secret):
            i = text.find(needle)
            assert i < 0, f"{where} leaks {secret[:10]}…: …{text[max(0, i - 80): i + len(needle) + 20]}…"


def assert_response_clean(r: requests.Response, secrets: set[str]) -> None:
    headers = "\n".join(f"{k}: {v}" for k, v in r.headers.items())
    assert_no_secrets(headers + "\n" + r.text, secrets, f"{r.request.method} {r.request.url} -> {r.status_code}")


def secret_put_body() -> dict:
    return {"location": "South Central US", "tags": {"owner": "secrets-test"},
            "properties": {"packageType": "Graph", "title": "a service with secrets",
                           "keys": {"primary": NEW_PRIMARY, "secondary": NEW_SECONDARY},
                           "storageAccount": {"name": "secretacct", "key": STORAGE_KEY},
                           "assets": {"asset1": {"name": "Custom module", "type": "Module", "locationInfo": {
                               "uri": "https://secretacct.blob.core.windows.net/modules/module.zip",
                               "credentials": connection_string("secretacct", ASSET_KEY)}}}}}


def list_all(arm: Arm, path: str, token: str, version: str) -> list[requests.Response]:
    pages, r = [], arm.request("GET", path, token, api_version=version)
    while True:
        assert r.status_code == 200, r.text
        pages.append(r)
        if not r.json().get("nextLink"):
            return pages
        r = arm.request("GET", r.json()["nextLink"], token, api_version=None)


def run_scenario(arm: Arm) -> dict:
    """Token requests with client secrets, PUT/PATCH with keys, storage keys and asset credentials, reads, and
    errors of every kind. Returns the tokens issued and the responses: reads, errors, listKeys."""
    tokens, reads, errors = [], [], []
    # Azure AD: good secrets (v1 and v2), wrong ones, another app's, an expired one, a secret in the query
    for p in (SEED_SP, OWNER_SP, READER_SP, NO_ROLE_SP):
        for v2 in (False, True):
            tokens.append(arm.token(p, v2=v2))
    for v2 in (False, True):
        errors += [arm.token_response(SEED_SP, v2=v2, secret=WRONG_SECRET),
                   arm.token_response(SEED_SP, v2=v2, secret=OWNER_SP.secret),
                   arm.token_response(EXPIRED_SECRET_SP, v2=v2),
                   arm.token_response(SEED_SP, v2=v2, tenant="no-such-tenant.example"),
                   arm.token_response(FOREIGN_SP, v2=v2, tenant=TENANT_DOMAIN),
                   arm.token_response(SEED_SP, v2=v2, resource="https://unknown.example/")]
    errors.append(requests.post(f"{arm.url}/{TENANT_DOMAIN}/oauth2/token?client_secret={quote(SEED_SP.secret)}",
                                data={"grant_type": "client_credentials", "client_id": SEED_SP.client_id},
                                verify=arm.ca_bundle, timeout=30))
    owner = arm.token(OWNER_SP)
    tokens.append(owner)
    # ARM writes carrying every kind of secret
    put = arm.request("PUT", ws_id(SECRET_WS), owner, body=secret_put_body(), api_version=V2017)
    assert put.status_code == 201, put.text
    assert arm.wait(put, owner)["status"] == "Succeeded"
    patch = arm.request("PATCH", ws_id(), owner, api_version=V2016, body={"properties": {
        "packageType": "Graph", "keys": {"primary": PATCH_PRIMARY},
        "storageAccount": {"name": "patchacct", "key": PATCH_STORAGE_KEY},
        "assets": {"asset9": {"name": "Another module", "type": "Module", "locationInfo": {
            "uri": "https://patchacct.blob.core.windows.net/m/module.zip",
            "credentials": connection_string("patchacct", ASSET_KEY)}}}}})
    assert patch.status_code == 200, patch.text
    assert arm.wait(patch, owner)["status"] == "Succeeded"
    for credentials, uri in ((connection_string("nosuchacct", FAILING_ASSET_KEY),
                              "https://nosuchacct.blob.core.windows.net/models/m.ilearner"),
                             (f"AccountName=nosuchacct;AccountKey={FAILING_ASSET_KEY};broken",
                              "https://nosuchacct.blob.core.windows.net/models/m.ilearner"),
                             (None, f"https://devstoreaccount1.blob.core.windows.net/models/m.ilearner?sv=2020-02-10"
                                    f"&sr=b&sp=r&sig={SAS_SIG}")):
        location = {"uri": uri} if credentials is None else {"uri": uri, "credentials": credentials}
        failing = arm.request("PATCH", ws_id(), owner, api_version=V2017, body={"properties": {
            "packageType": "Graph", "assets": {"asset1": {"name": MODEL, "type": "Resource", "locationInfo": location}}}})
        assert failing.status_code == 200, failing.text
        status = arm.wait(failing, owner)
        assert status["status"] == "Failed", status
        errors.append(requests.get(failing.headers["Azure-AsyncOperation"], headers={"Authorization": f"Bearer {owner}"},
                                   verify=arm.ca_bundle, timeout=30))
    # reads: every service, both versions, every list page; listKeys (the one place keys belong)
    for version in (V2016, V2017):
        for name in (SECRET_WS, ARM_WS):
            reads.append(arm.request("GET", ws_id(name), owner, api_version=version))
        reads += list_all(arm, RG_LIST, owner, version) + list_all(arm, SUB_LIST, owner, version)
    reads.append(arm.request("GET", ws_id(), arm.token(READER_SP)))
    keys = [arm.request("GET", ws_id(SECRET_WS) + "/listKeys", owner), arm.request("GET", ws_id() + "/listKeys", owner)]
    # errors carrying secrets in their requests
    errors += [
        arm.request("GET", ws_id(), WRONG_SECRET),
        arm.request("GET", ws_id(), arm.token(SHORT_LIVED_SP)),
        arm.request("GET", ws_id(), arm.token(SEED_SP, resource="https://graph.microsoft.com/")),
        arm.request("GET", ws_id(), arm.token(FOREIGN_SP)),
        arm.request("PATCH", ws_id(), arm.token(NO_ROLE_SP), body=secret_put_body()),
        arm.request("PATCH", ws_id("noSuchService"), owner, body=secret_put_body()),
        arm.request("PUT", ws_id(SECRET_WS), owner, body=secret_put_body(), api_version="garbage"),
        arm.request("PUT", ws_id("readOnlyService"), owner, body=secret_put_body()),
        send(arm, "PUT", ws_id("broken"), json.dumps(secret_put_body())[:-3], token=owner),
        send(arm, "PATCH", ws_id(), json.dumps({"properties": {"packageType": "Code", "keys": {"primary": NEW_PRIMARY},
                                                               "storageAccount": {"name": "a", "key": STORAGE_KEY}}}),
             token=owner),
        send(arm, "PATCH", ws_id(), json.dumps({"properties": {"packageType": "Graph", "assets": {"asset1": {
            "name": MODEL, "type": "Resource",
            "locationInfo": {"uri": 5, "credentials": connection_string("acct", ASSET_KEY)}}}}}), token=owner),
        send(arm, "GET", ws_id() + f"/{NEW_PRIMARY}", token=owner),
        send(arm, "GET", ws_id(), token=owner, version=NEW_PRIMARY),
    ]
    return {"tokens": tokens, "reads": reads, "errors": errors, "keys": keys}


def all_secrets(tokens: list[str]) -> set[str]:
    return ({*ALL_SECRETS, WRONG_SECRET, NEW_PRIMARY, NEW_SECONDARY, PATCH_PRIMARY, STORAGE_KEY, PATCH_STORAGE_KEY,
             ASSET_KEY, FAILING_ASSET_KEY, SAS_SIG}
            | set(tokens) | {t.rsplit(".", 1)[1] for t in tokens})  # the whole token and its signature


@pytest.fixture
def scenario(arm, caplog):
    caplog.set_level(logging.DEBUG)
    result = run_scenario(arm)
    # the keys were really stored (so that their absence elsewhere means something)
    assert result["keys"][0].json() == {"primary": NEW_PRIMARY, "secondary": NEW_SECONDARY}
    assert result["keys"][1].json()["primary"] == PATCH_PRIMARY
    return result


def test_journal_holds_no_secret_token_or_key(arm, scenario):
    entries = arm.emulator.journal.entries()
    text = json.dumps(entries)
    assert_no_secrets(text, all_secrets(scenario["tokens"]), "the request journal")
    assert not UNMASKED_ACCOUNT_KEY.search(text)
    # the journal still shows what a test needs: the requests, the token forms, the masked credentials
    assert any(e["method"] == "PUT" and e["path"] == ws_id(SECRET_WS) and '"secretacct"' in e["body"] for e in entries)
    assert any(e["path"].endswith("/oauth2/token") and "client_id=" in e["body"] for e in entries)
    assert any(e["path"].endswith("/oauth2/v2.0/token") for e in entries)
    auth = [e["headers"]["Authorization"] for e in entries if "Authorization" in e["headers"]]
    assert len(auth) > 20 and all(re.fullmatch(r"(?i)bearer\s+\*\*\*", v) for v in auth), auth


def test_arm_reads_hold_no_secret(arm, scenario):
    secrets = all_secrets(scenario["tokens"])
    assert len(scenario["reads"]) > 6
    for r in scenario["reads"]:
        assert r.status_code == 200, r.text
        assert_response_clean(r, secrets)
    got = next(r.json() for r in scenario["reads"] if r.json().get("name") == SECRET_WS)
    assert got["properties"]["storageAccount"] == {"name": "secretacct"}  # name only: GET never shows the storage key
    assert got["properties"]["assets"]["asset1"]["locationInfo"].get("credentials", "") == ""
    assert "keys" not in got["properties"]


def test_error_bodies_hold_no_secret(arm, scenario):
    secrets = all_secrets(scenario["tokens"])
    errors = scenario["errors"]
    assert len(errors) > 20
    for r in errors:
        if r.status_code == 200:  # the status body of a Failed operation
            assert r.json()["status"] == "Failed" and r.json()["error"]["message"]
        else:
            assert 400 <= r.status_code < 500, r.text
        assert_response_clean(r, secrets)
        assert not UNMASKED_ACCOUNT_KEY.search(r.text), r.text


def test_log_holds_no_secret(arm, scenario, caplog):
    """Everything the process logged while the scenario ran (in the fixture: the setup phase), every logger at
    every level (the scenario turns DEBUG on), but for the test client's own request lines (urllib3 naming the
    emulator): the emulator's storage client fetching assets by SAS or key is included."""
    netloc = arm.url.split("://", 1)[1]
    records = [r for r in caplog.get_records("setup") + caplog.records
               if not (r.name.startswith("urllib3") and netloc in r.getMessage())]
    assert any(r.name == "adfemu.emulator" for r in records), "the emulator logs each request"
    text = "\n".join(f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in records)
    assert_no_secrets(text, all_secrets(scenario["tokens"]), "the Python log")
    assert not UNMASKED_ACCOUNT_KEY.search(text)


@pytest.mark.parametrize("bad", [{"readOnly": "yes"}, {"storageAccount": {"name": 5, "key": STORAGE_KEY}},
                                 {"title": 5}], ids=["readOnly-a-string", "storage-name-a-number", "title-a-number"])
def test_put_schema_errors_do_not_echo_keys_or_storage_keys(arm, bad):
    """A schema error names the rule, not the value: a message quoting 'properties' would hand back the keys."""
    body = secret_put_body()
    body["properties"].update(bad)
    r = arm.request("PUT", ws_id(SECRET_WS), arm.token(OWNER_SP), body=body, api_version=V2017)
    assert_arm_envelope(r, 400, "BadRequest")
    assert_response_clean(r, {NEW_PRIMARY, NEW_SECONDARY, STORAGE_KEY, ASSET_KEY})


@pytest.mark.parametrize("header", ["Basic {t}", "{t}", "Token {t}"], ids=["basic", "no-scheme", "token-scheme"])
def test_journal_masks_an_access_token_under_another_scheme(arm, header):
    """Not only 'Bearer <token>': the journal keeps no credential whatever the scheme."""
    token = arm.token(OWNER_SP)
    r = arm.request("GET", ws_id(), headers={"Authorization": header.format(t=token)})
    assert_arm_envelope(r, 401, "AuthenticationFailed")
    assert_no_secrets(json.dumps(arm.emulator.journal.entries()), {token, token.rsplit(".", 1)[1]}, "the journal")
