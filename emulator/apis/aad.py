"""Azure AD (login.microsoftonline.com): token endpoints v1 and v2, OpenID discovery, keys."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, request

from .. import aad_errors as errors
from ..secrets import redact
from . import JSON_TYPE, emulator, json_response

bp = Blueprint("aad", __name__)


def _origin() -> str:
    return request.host_url.rstrip("/")


def _form() -> dict[str, str]:
    """Form fields as sent; unknown extra fields (``client_info``...) are ignored by the checks. The raw
    body is cached first so that the journal still sees it (form parsing would consume the stream)."""
    request.get_data(cache=True)
    return {k: v for k, v in request.form.items()}


@bp.post("/<tenant>/oauth2/token")
def token_v1(tenant):
    token = emulator().directory.issue(tenant, _form(), v2=False)
    c = token.claims
    lifetime = str(c["exp"] - c["iat"])
    return json_response({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                          "expires_on": str(c["exp"]), "not_before": str(c["nbf"]), "resource": token.resource,
                          "access_token": token.access_token}, headers=_no_cache())


@bp.post("/<tenant>/oauth2/v2.0/token")
def token_v2(tenant):
    token = emulator().directory.issue(tenant, _form(), v2=True)
    lifetime = token.claims["exp"] - token.claims["iat"]
    return json_response({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                          "access_token": token.access_token}, headers=_no_cache())


MULTI_TENANT = ("common", "organizations", "consumers")


@bp.get("/<tenant>/v2.0/.well-known/openid-configuration")
def openid_v2(tenant):
    """For /common (and the other multi-tenant names) the issuer keeps the {tenantid} placeholder, as AAD's."""
    tenant_id = "{tenantid}" if tenant.lower() in MULTI_TENANT else emulator().directory.tenant(tenant).id
    base = f"{_origin()}/{tenant}"
    return json_response({
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{_origin()}/{tenant}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"https://login.microsoftonline.com/{tenant_id}/v2.0",
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "tenant_region_scope": "NA", "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com"})


@bp.get("/<tenant>/.well-known/openid-configuration")
def openid_v1(tenant):
    found = emulator().directory.tenant(tenant)
    base = f"{_origin()}/{tenant}"
    return json_response({
        "token_endpoint": f"{base}/oauth2/token", "authorization_endpoint": f"{base}/oauth2/authorize",
        "jwks_uri": f"{_origin()}/common/discovery/keys", "issuer": found.issuer,
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": "NA", "cloud_instance_name": "microsoftonline.com"})


@bp.get("/common/discovery/instance")
def instance_discovery():
    """The discovery document of the tenant named in ``authorization_endpoint`` (``/common`` without one)."""
    host = request.host
    try:
        path = urlsplit(request.args.get("authorization_endpoint", "")).path.strip("/").split("/")
    except ValueError:  # not a URL: the multi-tenant document
        path = []
    tenant = quote(path[0], safe="") if path and path[0] else "common"
    return json_response({
        "tenant_discovery_endpoint": f"{_origin()}/{tenant}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]})


@bp.get("/<tenant>/discovery/v2.0/keys")
@bp.get("/<tenant>/discovery/keys")
def keys(tenant):
    if tenant.lower() not in MULTI_TENANT:  # an unknown tenant has no keys (AADSTS90002, as its token endpoint)
        emulator().directory.tenant(tenant)
    return json_response(emulator().directory.jwks())


def is_token_path(path: str) -> bool:
    return path.rstrip("/").endswith(("/oauth2/token", "/oauth2/v2.0/token"))


def _no_cache() -> dict:
    return {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def render_aad_error(error: errors.AadError) -> Response:
    """The AAD error body: the description carries trace and correlation ids and a timestamp."""
    if error.plain is not None:
        return Response(error.plain, status=error.status, content_type="text/plain; charset=utf-8")
    trace, correlation = str(uuid.uuid4()), request.headers.get("client-request-id") or str(uuid.uuid4())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {"error": error.error,
            "error_description": f"{error.description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [error.code] if error.code else [], "timestamp": stamp, "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={error.code}" if error.code else None}
    text = redact(json.dumps(body), emulator().secrets())
    return Response(text, status=error.status, content_type=JSON_TYPE, headers=_no_cache())
