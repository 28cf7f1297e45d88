"""Thin HTTP layer: parse the request, call the backend, render. No business rules here."""
from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, request

from .. import errors
from ..secrets import redact

JSON_TYPE = "application/json; charset=utf-8"


def emulator():
    """The Emulator (state, jobs, storage, journal) that this app serves."""
    return current_app.extensions["adfemu"]


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload), status=status, mimetype=None, content_type=JSON_TYPE, headers=headers)


def render_aml_error(error: errors.AmlError) -> Response:
    """The AML envelope; any known key a message would echo back (an id, a name) is masked."""
    text = redact(json.dumps(error.envelope()), _known_secrets())
    return Response(text, status=error.status, content_type=JSON_TYPE)


def _known_secrets() -> list[str]:
    try:
        return emulator().secrets()
    except (RuntimeError, KeyError):  # outside an app context
        return []


def bearer_token() -> str | None:
    """The credential of ``Authorization: Bearer X``; the scheme matches in any case."""
    # the environ directly: what ``request.headers.get("Authorization", "")`` reads, without the lookup's cost
    scheme, _, token = request.environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def json_body(*, empty_ok: bool = False) -> Any:
    """The parsed JSON body; a missing or malformed one is ``RequestBodyInvalid``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if empty_ok:
            return None
        raise errors.RequestBodyInvalid()
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):  # bad UTF-8, bad JSON, too deep, an integer too long to convert
        raise errors.RequestBodyInvalid() from None


def check_api_version() -> None:
    """BES/RRS speak 2.0; a missing api-version is taken as 2.0 (inferred: one C# client omits it)."""
    if request.query_string == b"api-version=2.0":  # what clients send, decided without parsing the query
        return
    version = request.args.get("api-version")
    if version is not None and version != "2.0":
        raise errors.BadVersionCall(version)
