"""Fault injection over HTTP: the control routes under ``/_emulator/faults`` and the one hook that applies
``error`` and ``latency`` rules before a route runs (the rules themselves live in ``emulator/faults.py``).

Injected errors are raised as the API family's own error classes, so each is rendered once, in its envelope, by
the handlers of ``app.py``; 429 and 503 carry ``Retry-After`` when the rule gives one.
"""
from __future__ import annotations

import json
import time

from flask import Blueprint, request

from .. import aad_errors, arm_errors, errors
from ..faults import FaultError
from ..secrets import redact
from . import emulator, json_response
from .arm import parse as parse_arm

bp = Blueprint("faults", __name__, url_prefix="/_emulator/faults")

# Flask endpoint -> (API, operation); ARM's one route is split by method and target below
OPERATIONS = {
    "runtime.submit_job": ("bes", "submit"), "runtime.start_job": ("bes", "start"),
    "runtime.job_status": ("bes", "status"), "runtime.delete_job": ("bes", "delete"),
    "runtime.list_jobs": ("bes", "list"), "runtime.execute": ("rrs", "execute"), "runtime.swagger": ("swagger", "get"),
    "classic_mgmt.list_services": ("management", "listServices"),
    "classic_mgmt.get_service": ("management", "getService"),
    "classic_mgmt.list_endpoints": ("management", "listEndpoints"),
    "classic_mgmt.get_endpoint": ("management", "getEndpoint"),
    "classic_mgmt.put_endpoint": ("management", "putEndpoint"),
    "classic_mgmt.patch_endpoint": ("management", "patchEndpoint"),
    "classic_mgmt.delete_endpoint": ("management", "deleteEndpoint"),
    "classic_mgmt.refresh_endpoint": ("management", "refreshEndpoint"),
    "arm.operations_list": ("arm", "operations"),
    "aad.token_v1": ("aad", "token"), "aad.token_v2": ("aad", "token"),
    "aad.openid_v1": ("aad", "openidConfiguration"), "aad.openid_v2": ("aad", "openidConfiguration"),
    "aad.instance_discovery": ("aad", "instanceDiscovery"), "aad.keys": ("aad", "keys"),
}
RETRY_AFTER = "adfemu.retry_after"  # WSGI environ key: the Retry-After of an injected error
ARM_OPERATIONS = {"list": "list", "listKeys": "listKeys", "operation": "operationStatus"}

# status -> the error class of each family (one class per error code)
AML_ERRORS = {503: errors.RequestThrottled, 429: errors.TooManyRequests, 500: errors.InternalError}
ARM_ERRORS = {503: arm_errors.ServiceUnavailable, 429: arm_errors.TooManyRequests, 500: arm_errors.InternalServerError}
AAD_ERRORS = {503: aad_errors.TemporarilyUnavailable, 429: aad_errors.Throttled, 500: aad_errors.ServerError}
FAMILY = {"arm": ARM_ERRORS, "aad": AAD_ERRORS}
DEFAULT_MESSAGES = {503: "The service is temporarily unavailable; retry later.",
                    429: "The request was throttled; retry after the interval Retry-After gives.",
                    500: "The service hit an internal error."}


# --- control routes ---------------------------------------------------------------------------------

@bp.get("")
def list_faults():
    return _masked(emulator().faults.listing())


@bp.post("")
def add_faults():
    try:
        body = json.loads(request.get_data(cache=True).decode("utf-8"))
    except (ValueError, RecursionError):
        return _error("InvalidJson", '/: the body must be JSON: {"rules": [...], "seed": 1, "replace": false}')
    try:
        return _masked(emulator().faults.update(body))
    except FaultError as exc:
        return _error("InvalidFaultRule", str(exc))


@bp.delete("")
def clear_faults():
    emulator().faults.clear()
    return json_response({"status": "ok"})


@bp.delete("/<rule_id>")
def delete_fault(rule_id: str):
    if not emulator().faults.remove(rule_id):
        return _error("FaultRuleNotFound", f"no fault rule has the id '{rule_id[:64]}'", 404)
    return json_response({"status": "ok"})


def _error(code: str, message: str, status: int = 400):
    return json_response({"error": {"code": code, "message": redact(message, emulator().secrets())}}, status)


def _masked(listing: dict):
    """Rules are shown as given, but a secret pasted into one (a message, an id) is masked like anywhere else."""
    return json_response(json.loads(redact(json.dumps(listing), emulator().secrets())))


# --- the request hook -------------------------------------------------------------------------------

def before_request() -> None:
    """Applies ``error`` and ``latency`` rules to the routed request (called by the app's before-request hook)."""
    if emulator().faults.idle:  # no rules: skip finding what the request targets
        return
    where = _operation()
    if where is None:
        return
    api, operation = where
    services, endpoints = _targets(api)
    decision = emulator().faults.decide("request", api, operation, services, endpoints)
    if decision.delay:
        time.sleep(decision.delay)
    effect = decision.effect
    if effect is None:
        return
    status = effect["status"]
    if "retryAfter" in effect:
        request.environ[RETRY_AFTER] = str(effect["retryAfter"])
    raise FAMILY.get(api, AML_ERRORS)[status](effect.get("message") or DEFAULT_MESSAGES[status])


def add_retry_after(req, response) -> None:
    """The Retry-After of an injected 429/503 (called by the app's after-request hook)."""
    value = req.environ.pop(RETRY_AFTER, None)
    if value is not None:
        response.headers["Retry-After"] = value


def _operation() -> tuple[str, str] | None:
    """(API, operation) of the routed request; None for the control plane and unrouted paths."""
    if request.endpoint == "arm.resource_manager":
        args = request.view_args or {}
        target = parse_arm([args.get("first", "")] + str(args.get("rest", "")).rstrip("/").split("/"))
        if target is None:
            return None
        return "arm", ARM_OPERATIONS.get(target.kind, request.method.lower())
    return OPERATIONS.get(request.endpoint or "")


def _targets(api: str) -> tuple[list[str], list[str]]:
    """The web service (id, name) and endpoint (runtime id, name) a request is for, as far as the URL says."""
    args = request.view_args or {}
    if api in ("bes", "rrs", "swagger"):
        endpoint_id = args.get("endpoint_id", "")
        try:
            scope = {"ws_id": args.get("scope_id")} if args.get("scope") == "workspaces" else \
                {"subscription_id": args.get("scope_id")}
            _, svc, ep = emulator().backend.runtime_endpoint(endpoint_id, **scope)
        except errors.AmlError:
            return [], [endpoint_id]
        return [svc.id, svc.name], [ep.id, ep.name]
    if api == "management":
        return [args.get("service_id", "")], [args.get("name", "")]
    if api == "arm":
        target = parse_arm([args.get("first", "")] + str(args.get("rest", "")).rstrip("/").split("/"))
        return [target.name or ""] if target else [], []
    return [], []
