"""The emulator's state objects as JSON documents and back, for ``persistence.SqliteState``.

Model bytes are kept apart, by SHA-256 digest (``encode_*`` return them next to the document; ``decode_*``
take a function that fetches one), so a model shared by endpoints, or unchanged between changes, is stored
once. Secrets (keys, client secrets, the token signing key) are stored as they are: the file is the user's.
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from .models import Endpoint, Resource, WebService, Workspace, utcnow

Model = Callable[[str], bytes]  # digest -> bytes


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# --- web services -----------------------------------------------------------------------------------

def encode_workspace(ws: Workspace) -> tuple[dict, dict[str, bytes]]:
    blobs: dict[str, bytes] = {}
    services = []
    for svc in ws.services.values():
        endpoints = []
        for ep in svc.endpoints.values():
            resources = []
            for r in ep.resources.values():
                blobs[r.digest] = r.model
                resources.append({"name": r.name, "model": r.digest, "location": r.location, "kind": r.kind,
                                  "updated": _when(r.updated), "updatedBy": r.updated_by})
            endpoints.append({"name": ep.name, "id": ep.id, "primaryKey": ep.primary_key,
                              "secondaryKey": ep.secondary_key, "description": ep.description,
                              "created": _when(ep.created), "throttleLevel": ep.throttle_level,
                              "maxConcurrentCalls": ep.max_concurrent_calls, "preventUpdate": ep.prevent_update,
                              "version": ep.version, "resources": resources})
        services.append({"id": svc.id, "name": svc.name, "kind": svc.kind, "experiment": _spec(svc),
                         "inputs": svc.inputs, "outputs": svc.outputs, "globalParameters": svc.global_parameters,
                         "settings": svc.settings, "description": svc.description, "queueSeconds": svc.queue_seconds,
                         "runSeconds": svc.run_seconds, "created": _when(svc.created), "arm": svc.arm,
                         "endpoints": endpoints})
    document = {"id": ws.id, "name": ws.name, "region": ws.region, "tier": ws.tier,
                "subscriptionId": ws.subscription_id, "tokens": list(ws.tokens), "services": services}
    return document, blobs


def _spec(svc: WebService) -> dict:
    return svc.experiment_spec or {"builtin": "train" if svc.kind == "training" else "score"}


def decode_workspace(doc: dict, model: Model) -> Workspace:
    from .experiments import resolve
    ws = Workspace(doc["id"], doc["name"], doc["region"], doc["tier"], doc["subscriptionId"], tuple(doc["tokens"]))
    for s in doc["services"]:
        experiment, check = resolve(s["experiment"])
        svc = WebService(id=s["id"], name=s["name"], kind=s["kind"], workspace_id=ws.id, experiment=experiment,
                         model_check=check, inputs=s["inputs"], outputs=s["outputs"],
                         global_parameters=s["globalParameters"], settings=s["settings"], endpoints={},
                         description=s["description"], queue_seconds=s["queueSeconds"], run_seconds=s["runSeconds"],
                         created=_moment(s["created"]), arm=s["arm"], experiment_spec=s["experiment"])
        for e in s["endpoints"]:
            resources = {r["name"]: Resource(r["name"], model(r["model"]), r["location"], r["kind"],
                                             _moment(r["updated"]), r["updatedBy"]) for r in e["resources"]}
            svc.endpoints[e["name"]] = Endpoint(
                e["name"], e["id"], e["primaryKey"], e["secondaryKey"], e["description"], _moment(e["created"]),
                e["throttleLevel"], e["maxConcurrentCalls"], e["preventUpdate"], resources, e["version"])
        ws.services[svc.id.lower()] = svc
    return ws


# --- BES jobs ---------------------------------------------------------------------------------------

def _address(a: Any) -> dict:
    return {"account": a.account, "container": a.container, "blob": a.blob, "accountKey": a.account_key, "sas": a.sas}


def _blob_address(doc: dict) -> Any:
    from .storage import BlobAddress
    return BlobAddress(doc["account"], doc["container"], doc["blob"], doc["accountKey"], doc["sas"])


def _ports(found: dict) -> dict:
    return {n: {"address": _address(p.address), "shownAs": p.shown_as} for n, p in found.items()}


def _port_blobs(found: dict) -> dict:
    from .bes_requests import PortBlob
    return {n: PortBlob(_blob_address(p["address"]), p["shownAs"]) for n, p in found.items()}


def encode_job(job: Any) -> dict:
    return {"id": job.id, "workspace": job.service.workspace_id, "service": job.service.id,
            "endpoint": job.endpoint.name, "status": job.status, "details": job.details,
            "created": _when(job.created), "started": _when(job.started), "ended": _when(job.ended),
            "request": {"inputs": _ports(job.request.inputs), "outputs": _ports(job.request.outputs),
                        "globalParameters": job.request.global_parameters},
            "results": {n: _address(a) for n, a in job.results.items()}}


def decode_job(doc: dict, workspaces: dict[str, Workspace]) -> Any:
    """The job, or None when its endpoint no longer exists (e.g. an ARM web service deleted since)."""
    from .bes_requests import BesRequest
    from .jobs import Job
    ws = workspaces.get(doc["workspace"].lower())
    svc = ws.services.get(doc["service"].lower()) if ws else None
    ep = svc.endpoints.get(doc["endpoint"]) if svc else None
    if ep is None:
        return None
    request = BesRequest(_port_blobs(doc["request"]["inputs"]), _port_blobs(doc["request"]["outputs"]),
                         doc["request"]["globalParameters"])
    return Job(doc["id"], svc, ep, request, doc["status"], doc["details"], _moment(doc["created"]),
               _moment(doc["started"]), _moment(doc["ended"]),
               {n: _blob_address(a) for n, a in doc["results"].items()})


# --- Resource Manager ------------------------------------------------------------------------------

def encode_arm_setup(rm: Any) -> dict:
    return {"subscriptions": [{"id": s.id, "tenant": s.tenant_id,
                               "groups": [{"name": g.name, "location": g.location} for g in s.groups.values()]}
                              for s in rm.subscriptions.values()],
            "assignments": [[a.principal, a.role, a.scope] for a in rm.assignments]}


def decode_arm_setup(doc: dict) -> tuple[dict, list]:
    from .arm import ResourceGroup, RoleAssignment, Subscription
    subscriptions = {}
    for s in doc["subscriptions"]:
        sub = Subscription(s["id"], s["tenant"])
        sub.groups = {g["name"].lower(): ResourceGroup(g["name"], g["location"]) for g in s["groups"]}
        subscriptions[sub.id.lower()] = sub
    return subscriptions, [RoleAssignment(*a) for a in doc["assignments"]]


def arm_key(resource: Any) -> str:
    return f"{resource.subscription.id}/{resource.group.name}/{resource.name}".lower()


def encode_arm_resource(r: Any) -> dict:
    return {"subscription": r.subscription.id, "group": r.group.name, "name": r.name, "location": r.location,
            "tags": r.tags, "properties": r.properties, "workspace": r.service.workspace_id,
            "service": r.service.id, "created": _when(r.created), "modified": _when(r.modified),
            "operation": r.operation.id if r.operation else None}


def decode_arm_resource(doc: dict, subscriptions: dict, workspaces: dict[str, Workspace],
                        operations: dict) -> Any:
    """The resource, or None when its engine service or group is gone."""
    from .arm import ArmWebService
    sub = subscriptions.get(doc["subscription"].lower())
    group = sub.groups.get(doc["group"].lower()) if sub else None
    ws = workspaces.get(doc["workspace"].lower())
    svc = ws.services.get(doc["service"].lower()) if ws else None
    if group is None or svc is None:
        return None
    return ArmWebService(sub, group, doc["name"], doc["location"], doc["tags"], doc["properties"], svc,
                         _moment(doc["created"]), _moment(doc["modified"]), operations.get(doc["operation"]))


def encode_operation(op: Any) -> dict:
    error = {"code": op.error.code, "message": op.error.message, "target": op.error.target} if op.error else None
    return {"id": op.id, "location": op.location, "startTime": _when(op.start_time), "delay": op.delay,
            "outcome": op.outcome, "error": error}


def decode_operation(doc: dict) -> Any:
    from . import arm_errors
    from .arm import Operation
    start = _moment(doc["startTime"])
    elapsed = max(0.0, (utcnow() - start).total_seconds())
    error = None
    if doc["error"]:  # the outcome's code and message, as the status answer shows them
        error = arm_errors.ArmError.__new__(arm_errors.ArmError)
        Exception.__init__(error, doc["error"]["message"])
        error.code, error.message, error.target = doc["error"]["code"], doc["error"]["message"], doc["error"]["target"]
    return Operation(doc["id"], doc["location"], time.monotonic() - elapsed, doc["delay"], doc["outcome"], error,
                     start)


# --- Azure AD and the config ------------------------------------------------------------------------

def encode_directory(directory: Any) -> dict:
    pem, key_id = directory.signing_key()
    return {"keyPem": pem, "keyId": key_id, "lifetime": directory.lifetime,
            "tenants": [{"id": t.id, "domains": t.domains, "principals": [
                {"clientId": p.client_id, "objectId": p.object_id, "secret": p.secret, "displayName": p.display_name,
                 "secretExpired": p.secret_expired, "lifetime": p.lifetime} for p in t.principals.values()]}
                for t in directory.tenants]}


def restore_directory(directory: Any, doc: dict) -> None:
    from .aad import Principal, Tenant
    tenants = []
    for t in doc["tenants"]:
        tenant = Tenant(t["id"], t["domains"])
        for p in t["principals"]:
            tenant.principals[p["clientId"].lower()] = Principal(p["clientId"], p["objectId"], p["secret"],
                                                                 p["displayName"], p["secretExpired"], p["lifetime"])
        tenants.append(tenant)
    directory.restore(tenants, doc["lifetime"], doc["keyPem"], doc["keyId"])


def encode_config(config: Any) -> tuple[dict, dict[str, bytes]]:
    import hashlib
    digests = {pointer: hashlib.sha256(data).hexdigest() for pointer, data in config.models.items()}
    blobs = {digests[p]: data for p, data in config.models.items()}
    return {"document": config.document, "source": config.source, "baseDir": str(config.base_dir),
            "models": digests}, blobs


def decode_config(doc: dict, model: Model) -> Any:
    from .config import Config
    return Config(doc["document"], doc["source"], {p: model(d) for p, d in doc["models"].items()},
                  Path(doc["baseDir"]))
