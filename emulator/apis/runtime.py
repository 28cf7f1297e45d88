"""Runtime APIs of an endpoint: BES jobs, request-response scoring and swagger.json.

Served under ``/workspaces/{ws}/services/{id}/...`` and ``/subscriptions/{sub}/services/{id}/...``.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from .. import errors, scoring
from ..bes_requests import check_inputs_exist, parse_submit
from ..swagger import swagger_document
from . import JSON_TYPE, bearer_token, check_api_version, emulator, json_body, json_response

bp = Blueprint("runtime", __name__)
BASE = "/<any(workspaces, subscriptions):scope>/<scope_id>/services/<endpoint_id>"


def _endpoint(scope: str, scope_id: str, endpoint_id: str, *, authorize: bool = True):
    backend = emulator().backend
    if scope == "workspaces":
        ws, svc, ep = backend.runtime_endpoint(endpoint_id, ws_id=scope_id)
    else:
        ws, svc, ep = backend.runtime_endpoint(endpoint_id, subscription_id=scope_id)
    if authorize:
        token = bearer_token()
        if token is None or not ep.accepts_key(token):
            raise errors.ScoreRequestUnauthorized()
    return ws, svc, ep


@bp.post(BASE + "/jobs")
def submit_job(scope, scope_id, endpoint_id):
    _, svc, ep = _endpoint(scope, scope_id, endpoint_id)
    check_api_version()
    emu = emulator()
    bes = parse_submit(json_body(), svc, lenient_extensions=emu.config.lenient_extensions)
    check_inputs_exist(bes, emu.store)
    job = emu.jobs.submit(svc, ep, bes)
    return json_response(job.id)


@bp.get(BASE + "/jobs")
def list_jobs(scope, scope_id, endpoint_id):
    """Not confirmed by a source (inferred): an array of status objects."""
    _, _, ep = _endpoint(scope, scope_id, endpoint_id)
    check_api_version()
    jobs = emulator().jobs
    return json_response([dict(jobs.status(job), Id=job.id) for job in jobs.list(ep)])


@bp.post(BASE + "/jobs/<job_id>/start")
def start_job(scope, scope_id, endpoint_id, job_id):
    _, _, ep = _endpoint(scope, scope_id, endpoint_id)
    check_api_version()
    jobs = emulator().jobs
    jobs.start(jobs.get(ep, job_id))
    return Response(status=200)


@bp.get(BASE + "/jobs/<job_id>")
def job_status(scope, scope_id, endpoint_id, job_id):
    _, _, ep = _endpoint(scope, scope_id, endpoint_id)
    check_api_version()
    jobs = emulator().jobs
    return Response(jobs.status_json(jobs.get(ep, job_id)), content_type=JSON_TYPE)


@bp.delete(BASE + "/jobs/<job_id>")
def delete_job(scope, scope_id, endpoint_id, job_id):
    _, _, ep = _endpoint(scope, scope_id, endpoint_id)
    check_api_version()
    jobs = emulator().jobs
    jobs.delete(jobs.get(ep, job_id))
    return Response(status=200)


@bp.post(BASE + "/execute")
def execute(scope, scope_id, endpoint_id):
    _, svc, ep = _endpoint(scope, scope_id, endpoint_id)
    check_api_version()
    swagger = request.args.get("format", "").lower() == "swagger"
    details = request.args.get("details", "").lower() == "true"
    outputs = scoring.execute(svc, ep, json_body(), swagger=swagger)
    return json_response(scoring.render(outputs, swagger=swagger, details=details))


@bp.get(BASE + "/swagger.json")
def swagger(scope, scope_id, endpoint_id):
    """Served without a key: a public C# client downloads it anonymously (inferred)."""
    ws, svc, ep = _endpoint(scope, scope_id, endpoint_id, authorize=False)
    return json_response(swagger_document(ws, svc, ep, request.host, request.scheme, f"/{scope}/{scope_id}/services/{endpoint_id}"))
