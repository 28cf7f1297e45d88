"""Control plane under ``/_emulator/`` (a prefix no Azure API uses): health, reset, state, journal."""
from __future__ import annotations

import json

from importlib import resources

from flask import Blueprint, Response, request

from ..config import ConfigError
from ..secrets import redact
from . import emulator, json_response

bp = Blueprint("control", __name__, url_prefix="/_emulator")


@bp.get("/")
def dashboard():
    """A small page for people: web services and models, jobs, ARM resources, latest requests; it refreshes
    itself from /state, /requests and /health."""
    page = resources.files("adfemu.emulator").joinpath("assets", "dashboard.html").read_text(encoding="utf-8")
    return Response(page, content_type="text/html; charset=utf-8")


@bp.get("/health")
def health():
    emu = emulator()
    storage_ok = emu.store.ping()
    state = emu.persistence
    body = {"status": "ok" if storage_ok else "degraded",
            "services": {"aml": "running", "storage": "running" if storage_ok else "unreachable"},
            "storage": {"url": emu.store.azurite_url, **emu.storage_status()}, "version": emu.version,
            "https": emu.ca_bundle is not None, "caBundle": emu.ca_bundle,
            "state": {"path": str(state.path), "schemaVersion": state.version} if state.persistent else None}
    return json_response(body, 200 if storage_ok else 503)


@bp.post("/reset")
def reset():
    emulator().reset()
    return json_response({"status": "ok"})


@bp.get("/state")
def state():
    emu = emulator()
    text = json.dumps(emu.state())
    return json_response(json.loads(redact(text, emu.secrets())))


@bp.post("/provision")
def provision():
    """Add the services, accounts, tenants and ARM resources of a config document (e.g. derived from a factory)."""
    try:
        document = json.loads(request.get_data(cache=True).decode("utf-8"))
    except (ValueError, RecursionError):
        return control_error("InvalidJson", "the body must be an emulator config document (JSON)")
    try:
        return json_response(emulator().provision(document, "<POST /_emulator/provision>"))
    except ConfigError as exc:
        return control_error("InvalidConfig", redact(str(exc), emulator().secrets()))


@bp.get("/requests")
def requests_journal():
    """The journal, oldest first; ``?path=`` keeps entries whose path contains it, ``?api=`` one API's."""
    entries = emulator().journal.entries()
    path, api, last = request.args.get("path"), request.args.get("api"), request.args.get("last", "")
    if path:
        entries = [e for e in entries if path in e["path"]]
    if api:
        entries = [e for e in entries if e["api"] == api]
    if last.isdigit():
        entries = entries[-int(last):] if int(last) else []
    return json_response(entries)


def control_error(code: str, message: str, status: int = 400):
    return json_response({"error": {"code": code, "message": message}}, status)


@bp.delete("/requests")
def clear_journal():
    emulator().journal.clear()
    return json_response({"status": "ok"})


@bp.get("/openapi.json")
def openapi():
    """Every API this emulator serves, as OpenAPI 3.1 (emulator/openapi.py)."""
    from ..openapi import document
    return json_response(document(emulator()))
