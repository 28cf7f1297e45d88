"""Swagger 2.0 document of one endpoint, as the API help page served it."""
from __future__ import annotations

from .experiments import ilearner
from .models import Endpoint, WebService, Workspace


def swagger_document(ws: Workspace, svc: WebService, ep: Endpoint, host: str, scheme: str, base_path: str) -> dict:
    columns = _input_columns(ep)
    row = {"type": "object", "properties": {c: {"type": "string"} for c in columns}} if columns else {"type": "object"}
    table = {"type": "object", "properties": {"ColumnNames": {"type": "array", "items": {"type": "string"}},
                                              "Values": {"type": "array", "items": {"type": "array",
                                                                                   "items": {"type": "string"}}}}}
    params = {"type": "object", "properties": {p["name"]: {"type": "string"} for p in svc.global_parameters}}
    blob = {"type": "object", "properties": {k: {"type": "string"} for k in
                                             ("ConnectionString", "RelativeLocation", "BaseLocation", "SasBlobToken")}}
    paths = {
        "/jobs": {"post": _op("Submit a batch execution job", "BatchExecutionRequest", '"jobId" as a JSON string')},
        "/jobs/{jobId}/start": {"post": _op("Start a submitted job", None, "empty", job_id=True)},
        "/jobs/{jobId}": {"get": _op("Get the status of a job", None, "BatchScoreStatus", job_id=True),
                          "delete": _op("Cancel or delete a job", None, "empty", job_id=True)},
    }
    if svc.kind == "predictive":
        paths["/execute"] = {"post": _op("Score in request-response mode", "ExecutionRequest", "ExecutionResponse")}
    return {
        "swagger": "2.0",
        "info": {"version": "2.0", "title": svc.name,
                 "description": svc.description or f"{svc.kind.capitalize()} web service, endpoint {ep.name}"},
        "host": host, "basePath": base_path, "schemes": [scheme],
        "consumes": ["application/json"], "produces": ["application/json"],
        "securityDefinitions": {"apiKey": {"type": "apiKey", "name": "Authorization", "in": "header",
                                           "description": "Bearer {endpoint key}"}},
        "security": [{"apiKey": []}],
        "paths": paths,
        "definitions": {
            "InputRow": row, "Table": table, "GlobalParameters": params, "BlobReference": blob,
            "ExecutionRequest": {"type": "object", "properties": {
                "Inputs": {"type": "object", "properties": {p["name"]: {"$ref": "#/definitions/Table"} for p in svc.inputs}},
                "GlobalParameters": {"$ref": "#/definitions/GlobalParameters"}}},
            "ExecutionResponse": {"type": "object", "properties": {"Results": {"type": "object"}}},
            "BatchExecutionRequest": {"type": "object", "properties": {
                "Inputs": {"type": "object", "additionalProperties": {"$ref": "#/definitions/BlobReference"}},
                "Outputs": {"type": "object", "additionalProperties": {"$ref": "#/definitions/BlobReference"}},
                "GlobalParameters": {"$ref": "#/definitions/GlobalParameters"}}},
            "BatchScoreStatus": {"type": "object", "properties": {
                "StatusCode": {"type": "string", "enum": ["NotStarted", "Running", "Failed", "Cancelled", "Finished"]},
                "Results": {"type": "object", "additionalProperties": {"$ref": "#/definitions/BlobReference"}},
                "Details": {"type": "string"}}},
        },
    }


def _op(summary: str, body: str | None, result: str, job_id: bool = False) -> dict:
    params = [{"name": "api-version", "in": "query", "required": True, "type": "string", "default": "2.0"}]
    if job_id:
        params.append({"name": "jobId", "in": "path", "required": True, "type": "string"})
    if body:
        params.append({"name": "body", "in": "body", "required": True, "schema": {"$ref": f"#/definitions/{body}"}})
    return {"summary": summary, "parameters": params, "responses": {"200": {"description": result}}}


def _input_columns(ep: Endpoint) -> list[str]:
    """Feature columns of the endpoint's current built-in model, when it has one."""
    for resource in ep.resources.values():
        try:
            return ilearner.loads(resource.model).features
        except ilearner.IlearnerError:
            return []
    return []
