"""Azure AD tokens for activities that authenticate as the factory's managed identity (``MSI``) or as a service
principal, from the emulated Azure AD (``login.microsoftonline.com`` maps to the emulator).

A factory's managed identity is a service principal of the emulated tenant ``adfemu.onmicrosoft.com`` whose
client id and secret derive from the factory's name: provisioning registers it and the runner asks for its
tokens with the client-credentials grant, so nothing is shared but the name. Tokens are asked for with the v1
endpoint and ``resource`` (what Web activity's ``authentication.resource`` names).
"""
from __future__ import annotations

import hashlib
import uuid

import requests

from .endpoints import UnmappedHost
from .services import Services

AUTHORITY = "https://login.microsoftonline.com"
MANAGED_IDENTITY_TENANT = "adfemu.onmicrosoft.com"


class TokenError(Exception):
    """No token: the message says why (the AADSTS description, never a secret)."""


def managed_identity(factory_name: str) -> tuple[str, str, str]:
    """(tenant, client id, secret) of a factory's managed identity in the emulated Azure AD."""
    client = str(uuid.uuid5(uuid.NAMESPACE_URL, f"adfemu:managed-identity:{factory_name.lower()}"))
    secret = hashlib.sha256(f"adfemu-managed-identity-secret:{factory_name.lower()}".encode()).hexdigest()
    return MANAGED_IDENTITY_TENANT, client, secret


def token(services: Services, tenant: str, client_id: str, secret: str, resource: str) -> str:
    """An access token for ``resource`` (client-credentials grant, v1 endpoint)."""
    url = f"{AUTHORITY}/{tenant}/oauth2/token"
    try:
        target = services.endpoints.map(url)
        response = services.session.post(target, data={"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": secret, "resource": resource},
                                          verify=services.verify, timeout=services.request_timeout)
    except UnmappedHost as exc:
        raise TokenError(str(exc)) from None
    except requests.RequestException as exc:
        raise TokenError(f"the emulated Azure AD could not be reached ({type(exc).__name__})") from None
    access, reason = token_or_reason(response)
    if access is None:
        raise TokenError(reason)
    return access


def token_or_reason(response: requests.Response) -> tuple[str | None, str]:
    """(the access token, "") of an Azure AD token response, or (None, why not): its ``error_description`` without
    the ``Trace ID`` tail, or the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.ok and isinstance(body, dict) and body.get("access_token"):
        return body["access_token"], ""
    description = body.get("error_description") if isinstance(body, dict) else None
    return None, (description or f"HTTP {response.status_code}").split(" Trace ID:")[0]
