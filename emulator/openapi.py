"""The emulator's HTTP interface as an OpenAPI 3.1 document (``GET /_emulator/openapi.json``), for fuzzers
(schemathesis in ``tests/test_openapi_fuzz.py``) and for people.

Request bodies are the JSON Schemas the emulator checks them against (``schemas/aml-*.schema.json``,
``arm-webservice-*.schema.json``, the config schema's ``faultsUpdate``), so the document and the checks cannot
drift apart. Path parameters name the ids this emulator serves (an ``enum``), so that generated requests reach
its web services (endpoint and ARM web service names, which come and go, are patterns); ids are not secrets, keys
never appear. Responses are the success shapes and each API family's
error envelope.
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from .arm_errors import SUPPORTED_VERSIONS

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def document(emulator: Any) -> dict:
    ids = _ids(emulator)
    paths: dict[str, dict] = {}
    for part in (_runtime, _management, _arm, _aad, _control):
        for path, operations in part(ids).items():
            paths.setdefault(path, {}).update(operations)
    return {"openapi": "3.1.0",
            "info": {"title": "adfemu: emulated Azure ML Studio (classic), Resource Manager and Azure AD",
                     "version": emulator.version,
                     "description": "Every API adfemu serves on one port; see docs/emulator.md and docs/arm.md."},
            "servers": [{"url": "/"}], "paths": paths, "components": {"schemas": _components()}}


# --- the ids this emulator serves ----------------------------------------------------------------------

def _ids(emulator: Any) -> dict[str, list[str]]:
    backend, arm = emulator.backend, emulator.arm
    with backend.lock:
        workspaces = [ws.id for ws in backend.workspaces.values()]
        services = sorted({svc.id for svc in backend.services()})
        endpoints = sorted({ep.id for svc in backend.services() for ep in svc.endpoints.values()})
        names = sorted({ep.name for svc in backend.services() for ep in svc.endpoints.values()})
    with arm.lock:
        subscriptions = sorted(s.id for s in arm.subscriptions.values())
        groups = sorted({g.name for s in arm.subscriptions.values() for g in s.groups.values()})
        web_services = sorted({r.name for r in arm.services.values()})
        tenants = sorted({t.id for t in emulator.directory.tenants} |
                         {d for t in emulator.directory.tenants for d in t.domains})
    return {"workspace": workspaces or ["none"], "service": services or ["none"], "endpoint": endpoints or ["none"],
            "endpointName": names or ["none"], "subscription": subscriptions or ["none"], "group": groups or ["none"],
            "webService": web_services or ["none"], "tenant": tenants or ["none"]}


def _param(name: str, where: str, schema: dict, required: bool = True, description: str = "") -> dict:
    found = {"name": name, "in": where, "required": required, "schema": schema}
    if description:
        found["description"] = description
    return found


def _path_params(ids: dict, **names: str) -> list[dict]:
    return [_param(name, "path", {"type": "string", "enum": ids[kind]}) for name, kind in names.items()]


# --- responses ----------------------------------------------------------------------------------------

def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _op(operation_id: str, summary: str, ok: dict, error: str, *, status: str = "200", parameters=None,
        body: dict | None = None, body_type: str = JSON, more: dict | None = None) -> dict:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary,
                                 "responses": {status: ok, **(more or {}), "default": _json(_ref(error), "an error")}}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {body_type: {"schema": body}}}
    return operation


EMPTY = {"description": "OK, no body"}


def _links(operations: tuple[str, ...], **parameters: str) -> dict:
    """OpenAPI links (stateful fuzzing follows them): what an answer lets a client call next."""
    return {op.split(".")[1]: {"operationId": op, "parameters": dict(parameters)} for op in operations}


# --- BES, RRS, swagger.json -----------------------------------------------------------------------------

def _runtime(ids: dict) -> dict:
    base = "/workspaces/{workspaceId}/services/{serviceId}"
    scope = _path_params(ids, workspaceId="workspace", serviceId="endpoint")
    version = [_param("api-version", "query", {"type": "string", "enum": ["2.0"]}, required=False)]
    job = scope + [_param("jobId", "path", {"type": "string", "minLength": 1})] + version
    submitted = dict(_json({"type": "string"}), links=_links(
        ("bes.start", "bes.status", "bes.delete"), workspaceId="$request.path.workspaceId",
        serviceId="$request.path.serviceId", jobId="$response.body"))
    return {
        f"{base}/jobs": {
            "post": _op("bes.submit", "Submit a Batch Execution job", submitted, "AmlError",
                        parameters=scope + version, body=_ref("BesSubmit")),
            "get": _op("bes.list", "List the endpoint's jobs", _json({"type": "array", "items": _ref("JobStatus")}),
                       "AmlError", parameters=scope + version)},
        f"{base}/jobs/{{jobId}}/start": {
            "post": _op("bes.start", "Start a job", EMPTY, "AmlError", parameters=job)},
        f"{base}/jobs/{{jobId}}": {
            "get": _op("bes.status", "A job's status", _json(_ref("JobStatus")), "AmlError", parameters=job),
            "delete": _op("bes.delete", "Cancel a running job; forget a finished one", EMPTY, "AmlError",
                          parameters=job)},
        f"{base}/execute": {
            "post": _op("rrs.execute", "Request-response scoring", _json({"type": "object", "required": ["Results"]}),
                        "AmlError", body=_ref("RrsRequest"), parameters=scope + version + [
                            _param("format", "query", {"type": "string"}, required=False),
                            _param("details", "query", {"type": "string"}, required=False)])},
        f"{base}/swagger.json": {
            "get": _op("swagger.get", "The endpoint's Swagger 2.0 document",
                       _json({"type": "object", "required": ["swagger"]}), "AmlError", parameters=scope)},
    }


# --- the classic management API -------------------------------------------------------------------------

def _management(ids: dict) -> dict:
    ws = _path_params(ids, workspaceId="workspace")
    svc = ws + _path_params(ids, webServiceId="service")
    # endpoints come and go (PUT, DELETE): a configured name, or any name a new endpoint may have
    name = {"type": "string", "anyOf": [{"enum": ids["endpointName"]}, {"pattern": "^[a-z0-9]{1,24}$"}]}
    ep = new_ep = svc + [_param("endpointName", "path", name)]
    base = "/workspaces/{workspaceId}/webservices"
    return {
        base: {"get": _op("management.listServices", "List web services", _json({"type": "array"}), "AmlError",
                          parameters=ws)},
        f"{base}/{{webServiceId}}": {
            "get": _op("management.getService", "A web service", _json({"type": "object"}), "AmlError",
                       parameters=svc)},
        f"{base}/{{webServiceId}}/endpoints": {
            "get": _op("management.listEndpoints", "List endpoints", _json({"type": "array"}), "AmlError",
                       parameters=svc)},
        f"{base}/{{webServiceId}}/endpoints/{{endpointName}}": {
            "get": _op("management.getEndpoint", "An endpoint", _json(_ref("Endpoint")), "AmlError", parameters=ep),
            "put": _op("management.putEndpoint", "Create or update a non-default endpoint", _json(_ref("Endpoint")),
                       "AmlError", parameters=new_ep, body=_ref("EndpointSettings"),
                       more={"201": _json(_ref("Endpoint"), "Created")}),
            "patch": _op("management.patchEndpoint", "Update trained-model resources", EMPTY, "AmlError",
                         parameters=ep, body=_ref("ClassicPatch")),
            "delete": _op("management.deleteEndpoint", "Delete a non-default endpoint", EMPTY, "AmlError",
                          parameters=ep)},
        f"{base}/{{webServiceId}}/endpoints/{{endpointName}}/refresh": {
            "post": _op("management.refreshEndpoint", "Re-sync resources with the default endpoint", EMPTY,
                        "AmlError", parameters=ep, more={"304": {"description": "Nothing changed"}})},
    }


# --- Resource Manager -----------------------------------------------------------------------------------

def _arm(ids: dict) -> dict:
    version = [_param("api-version", "query", {"type": "string", "enum": list(SUPPORTED_VERSIONS)})]
    sub = _path_params(ids, subscriptionId="subscription")
    group = sub + _path_params(ids, resourceGroupName="group")
    # web services come and go (PUT, DELETE): any name
    service = group + [_param("webServiceName", "path", {"type": "string", "minLength": 1},
                              description=f"e.g. {', '.join(ids['webService'][:3])}")]
    provider = "providers/Microsoft.MachineLearning"
    base = f"/subscriptions/{{subscriptionId}}/resourceGroups/{{resourceGroupName}}/{provider}/webServices"
    resource = _json(_ref("ArmWebService"))
    arm_links = _links(("arm.get", "arm.patch", "arm.listKeys", "arm.delete"),
                       subscriptionId="$request.path.subscriptionId", resourceGroupName="$request.path.resourceGroupName",
                       webServiceName="$request.path.webServiceName", **{"api-version": "$request.query.api-version"})
    listing = _json({"type": "object", "required": ["value"], "properties": {"value": {"type": "array"}}})
    return {
        f"{base}/{{webServiceName}}": {
            "get": _op("arm.get", "A web service resource", resource, "ArmError", parameters=service + version),
            "put": _op("arm.put", "Create or replace", dict(resource, links=arm_links), "ArmError",
                       parameters=service + version, body=_ref("ArmPut"),
                       more={"201": dict(_json(_ref("ArmWebService"), "Created"), links=arm_links)}),
            "patch": _op("arm.patch", "Update", resource, "ArmError", parameters=service + version,
                         body=_ref("ArmPatch")),
            "delete": _op("arm.delete", "Delete", {"description": "Accepted"}, "ArmError", status="202",
                          parameters=service + version)},
        f"{base}/{{webServiceName}}/listKeys": {
            "get": _op("arm.listKeys", "The default endpoint's keys", _json({"type": "object"}), "ArmError",
                       parameters=service + version)},
        base: {"get": _op("arm.listByGroup", "Web services of a resource group", listing, "ArmError",
                          parameters=group + version)},
        f"/subscriptions/{{subscriptionId}}/{provider}/webServices": {
            "get": _op("arm.list", "Web services of a subscription", listing, "ArmError", parameters=sub + version)},
        f"/subscriptions/{{subscriptionId}}/{provider}/locations/{{location}}/operationsStatus/{{operationId}}": {
            "get": _op("arm.operationStatus", "An async operation", _json({"type": "object", "required": ["status"]}),
                       "ArmError", parameters=sub + version + [
                           _param("location", "path", {"type": "string", "minLength": 1}),
                           _param("operationId", "path", {"type": "string", "minLength": 1})])},
        f"/{provider}/operations": {
            "get": _op("arm.operations", "What the provider can do", listing, "ArmError", parameters=version)},
    }


# --- Azure AD -------------------------------------------------------------------------------------------

def _aad(ids: dict) -> dict:
    tenant = _path_params(ids, tenant="tenant")
    token = _json({"type": "object", "required": ["access_token", "token_type"]})
    discovery = _json({"type": "object"})
    return {
        "/{tenant}/oauth2/token": {"post": _op("aad.tokenV1", "A client-credentials token (v1)", token, "AadError",
                                               parameters=tenant, body=_ref("TokenRequestV1"), body_type=FORM)},
        "/{tenant}/oauth2/v2.0/token": {"post": _op("aad.tokenV2", "A client-credentials token (v2)", token,
                                                    "AadError", parameters=tenant, body=_ref("TokenRequestV2"),
                                                    body_type=FORM)},
        "/{tenant}/.well-known/openid-configuration": {
            "get": _op("aad.openidV1", "OpenID discovery (v1)", discovery, "AadError", parameters=tenant)},
        "/{tenant}/v2.0/.well-known/openid-configuration": {
            "get": _op("aad.openidV2", "OpenID discovery (v2)", discovery, "AadError", parameters=tenant)},
        "/{tenant}/discovery/v2.0/keys": {"get": _op("aad.keys", "The signing keys (JWKS)", discovery, "AadError",
                                                     parameters=tenant)},
        "/common/discovery/instance": {
            "get": _op("aad.instanceDiscovery", "Instance discovery", discovery, "AadError", parameters=[
                _param("authorization_endpoint", "query", {"type": "string"}, required=False)])},
    }


# --- the control plane ----------------------------------------------------------------------------------

def _control(ids: dict) -> dict:
    obj = _json({"type": "object"})
    ok = _json({"type": "object", "required": ["status"]})
    faults = _json({"type": "object", "required": ["seed", "rules"]})
    return {
        "/_emulator/health": {"get": _op("control.health", "Health", _json(_ref("Health")), "Health",
                                         more={"503": _json(_ref("Health"), "Storage unreachable")})},
        "/_emulator/reset": {"post": _op("control.reset", "Back to the configured state", ok, "ControlError")},
        "/_emulator/state": {"get": _op("control.state", "Services, jobs, ARM resources (secrets masked)", obj,
                                        "ControlError")},
        "/_emulator/requests": {
            "get": _op("control.requests", "The request journal", _json({"type": "array"}), "ControlError",
                       parameters=[_param("api", "query", {"type": "string"}, required=False),
                                   _param("path", "query", {"type": "string"}, required=False),
                                   _param("last", "query", {"type": "string"}, required=False)]),
            "delete": _op("control.clearRequests", "Empty the journal", ok, "ControlError")},
        "/_emulator/faults": {
            "get": _op("control.faults", "The fault rules", faults, "ControlError"),
            "post": _op("control.addFaults", "Add or replace fault rules", faults, "ControlError",
                        body=_ref("FaultsUpdate")),
            "delete": _op("control.clearFaults", "Remove every fault rule", ok, "ControlError")},
        "/_emulator/faults/{ruleId}": {
            "delete": _op("control.deleteFault", "Remove one fault rule", ok, "ControlError",
                          parameters=[_param("ruleId", "path", {"type": "string", "minLength": 1})])},
        "/_emulator/openapi.json": {"get": _op("control.openapi", "This document", obj, "ControlError")},
    }


# --- components: the schemas the emulator checks bodies with, and the envelopes ------------------------

@lru_cache(maxsize=1)
def _components_cached() -> str:
    found = {
        "BesSubmit": _schema("aml-bes-submit"), "RrsRequest": _schema("aml-rrs-request"),
        "ClassicPatch": _schema("aml-classic-patch"),
        "ArmPut": _arm_put(), "ArmPatch": _arm_patch(),
        "FaultsUpdate": _schema("emulator-config", "faultsUpdate"),
        "EndpointSettings": {"type": "object", "properties": {
            "Description": {"type": "string"}, "ThrottleLevel": {"enum": ["Low", "High"]},
            "MaxConcurrentCalls": {"type": "integer", "minimum": 1, "maximum": 200},
            "PreventUpdate": {"type": ["boolean", "string"]}}},
        "TokenRequestV1": _token_form(resource=True), "TokenRequestV2": _token_form(resource=False),
        "JobStatus": {"type": "object", "required": ["StatusCode", "Results", "Details"], "properties": {
            "StatusCode": {"enum": ["NotStarted", "Running", "Failed", "Cancelled", "Finished"]},
            "Results": {"type": ["object", "null"]}, "Details": {"type": ["string", "null"]}}},
        "Endpoint": {"type": "object", "required": ["Name", "ApiLocation", "Resources"]},
        "ArmWebService": {"type": "object", "required": ["id", "name", "type", "properties"]},
        "Health": {"type": "object", "required": ["status", "services"]},
        "AmlError": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "array"}}}}},
        "ArmError": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
        "AadError": {"type": "object", "required": ["error", "error_description", "error_codes"]},
        "ControlError": {"type": "object", "required": ["error"]},
    }
    return json.dumps(found)


def _components() -> dict:
    return json.loads(_components_cached())


def _schema(name: str, definition: str | None = None) -> dict:
    """A schema file (or one of its $defs) as a component: its $defs are kept inside it and its local refs
    rewritten to point there."""
    text = resources.files("adfemu.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    defs = schema.pop("$defs", {})
    if definition is not None:
        schema = copy.deepcopy(defs[definition])
    schema = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
    component = f"{name}:{definition or ''}"
    return _rewrite(dict(schema, **({"$defs": defs} if defs else {})), component)


_COMPONENT_NAMES = {"aml-bes-submit:": "BesSubmit", "aml-rrs-request:": "RrsRequest",
                    "aml-classic-patch:": "ClassicPatch", "emulator-config:faultsUpdate": "FaultsUpdate"}


def _rewrite(node: Any, component: str) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v, component) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = f"#/components/schemas/{_COMPONENT_NAMES.get(component, component)}/$defs/{ref[8:]}"
        return out
    if isinstance(node, list):
        return [_rewrite(v, component) for v in node]
    return node


def _arm_put() -> dict:
    """PUT bodies: 2016-05-01-preview's schema (the stricter one: it requires ``location``)."""
    return _arm_schema("arm-webservice-2016-05-01-preview", None, "ArmPut")


def _arm_patch() -> dict:
    return {"type": "object", "required": ["properties"], "properties": {
        "properties": _arm_schema("arm-webservice-2016-05-01-preview", "WebServiceProperties", "ArmPatch"),
        "tags": {"type": "object", "additionalProperties": {"type": "string"}}}}


def _arm_schema(name: str, definition: str | None, component: str) -> dict:
    text = resources.files("adfemu.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    defs = schema.pop("$defs", {})
    root = copy.deepcopy(defs[definition]) if definition else {k: v for k, v in schema.items()
                                                               if k not in ("$schema", "$id")}
    prefix = f"#/components/schemas/{component}" + ("/properties/properties" if component == "ArmPatch" else "")

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: rewrite(v) for k, v in node.items()}
            if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#/$defs/"):
                out["$ref"] = f"{prefix}/$defs/{out['$ref'][8:]}"
            return out
        return [rewrite(v) for v in node] if isinstance(node, list) else node
    return rewrite(dict(root, **{"$defs": defs}))


def _token_form(*, resource: bool) -> dict:
    properties = {"grant_type": {"type": "string", "enum": ["client_credentials"]},
                  "client_id": {"type": "string", "minLength": 1}, "client_secret": {"type": "string", "minLength": 1}}
    properties["resource" if resource else "scope"] = {"type": "string", "minLength": 1}
    return {"type": "object", "required": ["grant_type", "client_id", "client_secret",
                                           "resource" if resource else "scope"], "properties": properties}
