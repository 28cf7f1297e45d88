"""A snapshot of the emulator's state for people (the dashboard) and tests (``GET /_emulator/state``): web
services and their endpoints with the model each scores with, BES jobs, ARM resources. Secrets are redacted by
the route that serves it; each part is read under its own owner's lock, and no storage is touched."""
from __future__ import annotations

from typing import Any

from .models import iso


def snapshot(emulator: Any) -> dict:
    return {"workspaces": _workspaces(emulator.backend), "jobs": _jobs(emulator.jobs),
            "armResources": _arm_resources(emulator.arm)}


def _workspaces(backend) -> list[dict]:
    with backend.lock:
        return [{"id": ws.id, "name": ws.name, "webServices": [
            {"id": svc.id, "name": svc.name, "kind": svc.kind, "endpoints": [
                {"name": ep.name, "id": ep.id, "version": ep.version, "primaryKey": ep.primary_key,
                 "default": svc.is_default(ep),
                 "resources": [{"name": r.name, "sha256": r.digest, "hasModel": bool(r.model), "location": r.location,
                                "updated": iso(r.updated), "updatedBy": r.updated_by}
                               for r in ep.resources.values()]}
                for ep in svc.endpoints.values()]}
            for svc in ws.services.values()]} for ws in backend.workspaces.values()]


def _jobs(runner) -> list[dict]:
    return [{"id": j.id, "endpointId": j.endpoint.id, "webService": j.service.name, "status": j.status,
             "created": iso(j.created), "started": iso(j.started), "ended": iso(j.ended),
             "durationMs": int((j.ended - j.started).total_seconds() * 1000) if j.started and j.ended else None,
             "details": j.details}
            for j in sorted(runner.all(), key=lambda j: j.created)]


def _arm_resources(arm) -> list[dict]:
    with arm.lock:
        return [{"id": r.id, "name": r.name, "location": r.location, "provisioningState": r.provisioning_state,
                 "created": iso(r.created), "modified": iso(r.modified), "webServiceId": r.service.id}
                for r in arm.services.values()]
