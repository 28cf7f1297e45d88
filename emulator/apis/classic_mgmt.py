"""Classic management API (``management.azureml.net``): web services and their endpoints.

Authentication: ``Bearer`` + the workspace authorization token, or (for one endpoint's own
GET, PATCH and refresh) that endpoint's key. Endpoint keys appear in responses only to a
caller holding the workspace token, the owner who could read them in Studio.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, request

from .. import errors
from ..models import iso
from ..updates import update_resources
from . import bearer_token, emulator, json_body, json_response

bp = Blueprint("classic_mgmt", __name__)
# a new endpoint's name (Microsoft Learn: "Create endpoints for deployed Machine Learning Studio (classic) web services")
ENDPOINT_NAME = re.compile(r"[a-z0-9]{1,24}")
WS = "/workspaces/<ws_id>/webservices"
EP = WS + "/<service_id>/endpoints/<name>"


def _authorize(ws, endpoint=None) -> bool:
    """True when the caller holds the workspace token; an endpoint key is enough where ``endpoint`` is given."""
    token = bearer_token()
    if token and ws.accepts_token(token):
        return True
    if token and endpoint is not None and endpoint.accepts_key(token):
        return False
    raise errors.ManagementRequestUnauthorized()


@bp.get(WS)
def list_services(ws_id):
    ws = emulator().backend.workspace(ws_id)
    _authorize(ws)
    return json_response([_service_json(ws, svc) for svc in ws.services.values()])


@bp.get(WS + "/<service_id>")
def get_service(ws_id, service_id):
    ws, svc = emulator().backend.service(ws_id, service_id)
    _authorize(ws)
    return json_response(_service_json(ws, svc))


@bp.get(WS + "/<service_id>/endpoints")
def list_endpoints(ws_id, service_id):
    ws, svc = emulator().backend.service(ws_id, service_id)
    _authorize(ws)
    return json_response([_endpoint_json(ws, svc, ep, with_keys=True) for ep in svc.endpoints.values()])


@bp.get(EP)
def get_endpoint(ws_id, service_id, name):
    ws, svc, ep = emulator().backend.endpoint(ws_id, service_id, name)
    owner = _authorize(ws, ep)
    return json_response(_endpoint_json(ws, svc, ep, with_keys=owner))


@bp.put(EP)
def put_endpoint(ws_id, service_id, name):
    backend = emulator().backend
    ws = backend.workspace(ws_id)
    _authorize(ws)
    _, svc = backend.service(ws_id, service_id)
    if name not in svc.endpoints and not ENDPOINT_NAME.fullmatch(name):
        raise errors.InvalidEndpointSettings("Endpoint names must be 24 characters or less and made up of lower-case "
                                             "letters or numbers.")
    body = json_body(empty_ok=True)
    if body is None and not request.get_data(cache=True).strip():
        body = {}  # no body at all: default settings (a JSON null is not an object)
    if not isinstance(body, dict) or not _settings_typed(body):
        raise errors.RequestBodyInvalid()
    svc, ep, created = backend.put_endpoint(ws_id, service_id, name, body)
    return json_response(_endpoint_json(ws, svc, ep, with_keys=True), 201 if created else 200)


@bp.patch(EP)
def patch_endpoint(ws_id, service_id, name):
    emu = emulator()
    ws, svc, ep = emu.backend.endpoint(ws_id, service_id, name)
    _authorize(ws, ep)
    update_resources(emu.backend, emu.store, svc, ep, json_body())
    return Response(status=200)


@bp.delete(EP)
def delete_endpoint(ws_id, service_id, name):
    backend = emulator().backend
    _authorize(backend.workspace(ws_id))
    backend.delete_endpoint(ws_id, service_id, name)
    return Response(status=200)


@bp.post(EP + "/refresh")
def refresh_endpoint(ws_id, service_id, name):
    backend = emulator().backend
    ws, _, ep = backend.endpoint(ws_id, service_id, name)
    _authorize(ws, ep)
    json_body(empty_ok=True)  # {"OverwriteResources": "True"} or nothing: both refresh
    return Response(status=200 if backend.refresh(ws_id, service_id, name) else 304)


def _settings_typed(body: dict) -> bool:
    """Description and PreventUpdate deserialize into the service's typed object (a value of another JSON type fails
    there, inferred from the C# client classes; null is a missing value). ThrottleLevel and MaxConcurrentCalls are
    checked with their rules (``backend._throttle``: UserParameterInvalid)."""
    kinds = {"Description": (str,), "PreventUpdate": (bool, str)}
    return all(body.get(name) is None or isinstance(body[name], allowed) for name, allowed in kinds.items())


def _service_json(ws, svc) -> dict:
    return {"Id": svc.id, "Name": svc.name, "Description": svc.description, "CreationTime": iso(svc.created),
            "WorkspaceId": ws.id, "DefaultEndpointName": svc.default_endpoint_name,
            "EndpointCount": len(svc.endpoints)}


def _endpoint_json(ws, svc, ep, *, with_keys: bool) -> dict:
    root = request.host_url.rstrip("/")
    return {
        "Name": ep.name, "Description": ep.description, "CreationTime": iso(ep.created),
        "WorkspaceId": ws.id, "WebServiceId": svc.id,
        "HelpLocation": f"https://studio.azureml.net/apihelp/workspaces/{ws.id}/webservices/{svc.id}/endpoints/{ep.id}",
        "PrimaryKey": ep.primary_key if with_keys else None,
        "SecondaryKey": ep.secondary_key if with_keys else None,
        "ApiLocation": f"{root}/workspaces/{ws.id}/services/{ep.id}",
        "Version": str(ep.version), "MaxConcurrentCalls": ep.max_concurrent_calls,
        "DiagnosticsTraceLevel": "None", "ThrottleLevel": ep.throttle_level, "PreventUpdate": ep.prevent_update,
        "SampleDataEnabled": False,
        "ExperimentLocation": f"https://studio.azureml.net/Home/ViewWorkspace/{ws.id}#Workspaces/Experiments/Experiment/{svc.id}",
        "Resources": [{"Name": r.name, "Kind": r.kind,
                       "Location": r.location or {"BaseLocation": None, "RelativeLocation": None, "SasBlobToken": None}}
                      for r in ep.resources.values()],
    }
