"""Control plane under ``/_emulator/`` (a prefix no Azure API uses): health, reset, state, journal."""
from __future__ import annotations

import json

from flask import Blueprint, request

from ..secrets import redact
from . import emulator, json_response

bp = Blueprint("control", __name__, url_prefix="/_emulator")


@bp.get("/health")
def health():
    emu = emulator()
    storage_ok = emu.store.ping()
    body = {"status": "ok" if storage_ok else "degraded",
            "services": {"aml": "running", "storage": "running" if storage_ok else "unreachable"},
            "storage": {"url": emu.store.azurite_url}, "version": emu.version,
            "https": emu.ca_bundle is not None, "caBundle": emu.ca_bundle}
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


@bp.get("/requests")
def requests_journal():
    entries = emulator().journal.entries()
    path = request.args.get("path")
    if path:
        entries = [e for e in entries if path in e["path"]]
    return json_response(entries)


@bp.delete("/requests")
def clear_journal():
    emulator().journal.clear()
    return json_response({"status": "ok"})
