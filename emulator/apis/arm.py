"""Resource Manager (management.azure.com) for ``Microsoft.MachineLearning/webServices``.

Paths are parsed here, case-insensitively for every keyword, provider, type and name (as ARM does); the
order of checks is ARM's: authentication, subscription and tenant, api-version, authorization,
then existence (a caller without rights gets 403 even for a missing service; the order is inferred).
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Blueprint, Response, request
from werkzeug.routing import BaseConverter

from .. import arm_errors as errors
from ..arm import PROVIDER, RESOURCE_TYPE, ArmWebService, Operation, ResourceManager
from ..secrets import redact
from . import JSON_TYPE, emulator, json_response

bp = Blueprint("arm", __name__)
METHODS = ["GET", "PUT", "PATCH", "DELETE", "POST"]
READ, WRITE, DELETE = (f"{RESOURCE_TYPE}/{verb}" for verb in ("read", "write", "delete"))
LIST_KEYS = f"{RESOURCE_TYPE}/listkeys/read"


@dataclass
class Target:
    """What an ARM path names: a collection, one web service, its listKeys, or an async operation."""
    kind: str  # "list" | "service" | "listKeys" | "operation"
    group: str | None = None
    name: str | None = None
    operation: str | None = None


def parse(rest: list[str]) -> Target | None:
    lower = [p.lower() for p in rest]
    provider = [PROVIDER.lower(), "webservices"]
    if lower[:1] == ["resourcegroups"] and len(rest) >= 2:
        group, tail, ltail = rest[1], rest[2:], lower[2:]
        if ltail[:1] != ["providers"] or ltail[1:3] != provider:
            return None
        if len(tail) == 3:
            return Target("list", group)
        if len(tail) == 4:
            return Target("service", group, tail[3])
        if len(tail) == 5 and ltail[4] == "listkeys":
            return Target("listKeys", group, tail[3])
        return None
    if lower[:1] == ["providers"] and lower[1:2] == [PROVIDER.lower()]:
        if lower[2:] == ["webservices"]:
            return Target("list")
        if len(rest) == 6 and lower[2] == "locations" and lower[4] == "operationsstatus":
            return Target("operation", operation=rest[5])
    return None


class Keyword(BaseConverter):
    """One of the given words, in any case (ARM paths are case-insensitive)."""

    def __init__(self, url_map, *words: str):
        super().__init__(url_map)
        self.regex = "(?i:" + "|".join(re.escape(w) for w in words) + ")"


@bp.record
def _register_converter(state) -> None:
    state.app.url_map.converters.setdefault("keyword", Keyword)


@bp.route('/subscriptions/<sub>/<keyword("resourceGroups", "providers"):first>/<path:rest>', methods=METHODS)
def resource_manager(sub: str, first: str, rest: str):
    rm: ResourceManager = emulator().arm
    claims = rm.authenticate(request.headers.get("Authorization"))
    target = parse([first] + rest.rstrip("/").split("/"))
    if target is None:
        raise errors.RouteNotFound(request.path)
    subscription = rm.subscription(sub, claims)
    if target.kind == "operation":
        rm.api_version(request.args)
        op = rm.operation(target.operation)
        if request.method != "GET":
            raise errors.MethodNotAllowed(request.path)
        return _status(op, subscription.id)
    group_location = subscription.groups.get((target.group or "").lower())
    version = rm.api_version(request.args, group_location.location if group_location else "southcentralus")
    scope = request.path.rstrip("/")
    if target.kind == "list":
        if request.method != "GET":
            raise errors.MethodNotAllowed(request.path)
        rm.authorize(claims, READ, scope)
        return _list(rm, rm.listing(subscription, target.group), version)
    if target.kind == "listKeys":
        if request.method not in ("GET", "POST"):  # listKeys is a GET in this provider; POST is harmless
            raise errors.MethodNotAllowed(request.path)
        rm.authorize(claims, LIST_KEYS, scope.rsplit("/", 1)[0])
        return json_response(rm.keys(rm.get(subscription, target.group, target.name)))
    action = {"GET": READ, "PUT": WRITE, "PATCH": WRITE, "DELETE": DELETE}.get(request.method)
    if action is None:
        raise errors.MethodNotAllowed(request.path)
    rm.authorize(claims, action, scope)
    if request.method == "GET":
        return json_response(rm.render(rm.get(subscription, target.group, target.name), version, _origin()))
    if request.method == "DELETE":
        op = rm.delete(subscription, target.group, target.name)
        return _accepted(op, subscription.id, version)
    body = _body()
    if request.method == "PUT":
        resource, created = rm.put(subscription, target.group, target.name, body, version)
        return _async(rm, resource, version, 201 if created else 200)
    return _async(rm, rm.patch(subscription, target.group, target.name, body, version), version, 200)


@bp.route("/providers/<namespace>/operations", methods=["GET"])
def operations_list(namespace: str):
    """Operations_List (2017-01-01): what this provider can do."""
    emulator().arm.authenticate(request.headers.get("Authorization"))
    if namespace.lower() != PROVIDER.lower():
        raise errors.RouteNotFound(request.path)
    emulator().arm.api_version(request.args)
    verbs = {"read": "Read web service", "write": "Create or update web service", "delete": "Delete web service",
             "listkeys/read": "List keys of a web service"}
    return json_response({"value": [{"name": f"{RESOURCE_TYPE}/{v}", "display": {"provider": PROVIDER, "resource": "webServices",
                                                                       "operation": text, "description": text}}
                            for v, text in verbs.items()]})


# --- responses --------------------------------------------------------------------------------------

def _origin() -> str:
    return request.host_url.rstrip("/")


MAX_DEPTH = 64  # deeper JSON is refused before any rule walks it (inferred: the limit of ARM's JSON reader)


def _body():
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw.decode("utf-8-sig")) if raw.strip() else None
    except (ValueError, RecursionError):
        raise errors.InvalidRequestContent("the body is not valid JSON") from None
    if _depth(body) > MAX_DEPTH:
        raise errors.InvalidRequestContent(f"the JSON is nested more than {MAX_DEPTH} levels deep")
    return body


def _depth(value) -> int:
    """Nesting depth, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _status_url(op: Operation, subscription_id: str, version: str) -> str:
    return (f"{_origin()}/subscriptions/{subscription_id}/providers/{PROVIDER}/locations/{op.location}"
            f"/operationsStatus/{op.id}?api-version={version}")


def _retry_after(op: Operation) -> str:
    """1 s while the operation runs (the poller waits at most that); 0 when it is already over, so the
    client's own polling interval applies."""
    return "1" if op.status() == "InProgress" else "0"


def _async(rm: ResourceManager, resource: ArmWebService, version: str, status: int) -> Response:
    op = resource.operation
    headers = {"Azure-AsyncOperation": _status_url(op, resource.subscription.id, version),
               "Retry-After": _retry_after(op)}
    body = rm.render(resource, version, _origin())
    body["properties"]["provisioningState"] = "Provisioning"  # the initial answer of every PUT/PATCH (spec)
    return json_response(body, status, headers)


def _accepted(op: Operation, subscription_id: str, version: str) -> Response:
    url = _status_url(op, subscription_id, version)
    return Response(status=202, headers={"Azure-AsyncOperation": url, "Location": url,
                                         "Retry-After": _retry_after(op)})


def _status(op: Operation, subscription_id: str) -> Response:
    return json_response(op.body(subscription_id), headers={"Retry-After": _retry_after(op)})


def _list(rm: ResourceManager, items: list[ArmWebService], version: str) -> Response:
    """One page of ``page_size`` items; ``nextLink`` (absolute, with ``$skiptoken``) while more remain."""
    try:
        start = max(0, int(request.args.get("$skiptoken", "0")))
    except ValueError:
        raise errors.BadRequest("The $skiptoken is invalid.", target="$skiptoken") from None
    page = items[start:start + rm.page_size]
    body = {"value": [rm.render(r, version, _origin()) for r in page]}
    if start + rm.page_size < len(items):
        body["nextLink"] = f"{_origin()}{request.path}?api-version={version}&$skiptoken={start + rm.page_size}"
    return json_response(body)


# --- errors and headers -----------------------------------------------------------------------------

def render_arm_error(error: errors.ArmError) -> Response:
    text = redact(json.dumps(error.envelope()), emulator().secrets())
    headers = {}
    if isinstance(error, errors.AuthenticationError):
        description = error.message.replace('"', "'")
        headers["WWW-Authenticate"] = (f'Bearer authorization_uri="https://login.windows.net/common", '
                                       f'error="invalid_token", error_description="{description}"')
    return Response(text, status=error.status, content_type=JSON_TYPE, headers=headers)


def unrouted(code: int | None) -> Response:
    """A path or method no route serves: ARM authenticates first (inferred), then answers 404 or 405."""
    emulator().arm.authenticate(request.headers.get("Authorization"))
    if code == 405:
        raise errors.MethodNotAllowed(request.path)
    raise errors.RouteNotFound(request.path)


def is_arm_path(path: str) -> bool:
    parts = path.lower().split("/")
    return (parts[1:2] == ["subscriptions"] and parts[3:4] != ["services"]) or parts[1:2] == ["providers"]


def add_arm_headers(response: Response) -> Response:
    """Every ARM answer, errors included, carries request ids; a caller's correlation id is echoed."""
    request_id = str(uuid.uuid4())
    response.headers["x-ms-request-id"] = request_id
    response.headers["x-ms-correlation-request-id"] = request.headers.get("x-ms-correlation-request-id") or request_id
    response.headers["x-ms-routing-request-id"] = f"SOUTHCENTRALUS:{_now_stamp()}:{request_id}"
    kind = "reads" if request.method == "GET" else "writes"
    response.headers[f"x-ms-ratelimit-remaining-subscription-{kind}"] = "11999" if kind == "reads" else "1199"
    return response


def _now_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
