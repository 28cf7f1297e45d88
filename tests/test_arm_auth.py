"""Authentication and authorization of the emulated Resource Manager.

ARM's authentication errors and role checks (Owner, Contributor, Reader at each scope), the order of ARM's
checks (authentication, then the subscription and its tenant, then authorization, then existence) and the
acceptance list at HTTP level: wrong secret, unknown tenant, principal without role, Reader only, expired
token, wrong audience, missing web service. Every request is real HTTPS to the shared emulator (``arm``
fixture); tokens come from its Azure AD.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from .arm_helpers import (ARM_WS, FOREIGN_SP, NO_ROLE_SP, OTHER_SUB_WS, OTHER_TENANT, OWNER_SP, READER_SP,
                          RESOURCE_SP, RG, RG2, SECOND_WS, SEED_SP, SHORT_LIVED_SP, SUB, SUB2, TENANT, Arm, Principal,
                          ws_id)

V2016, V2017 = "2016-05-01-preview", "2017-01-01"
TYPE = "Microsoft.MachineLearning/webServices"
READ, WRITE, DELETE, LIST_KEYS = (f"{TYPE}/{verb}" for verb in ("read", "write", "delete", "listkeys/read"))
RG_LIST = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{TYPE}"
SUB_LIST = f"/subscriptions/{SUB}/providers/{TYPE}"
OPERATION = f"/subscriptions/{SUB}/providers/Microsoft.MachineLearning/locations/southcentralus/operationsStatus/" \
            f"{uuid.uuid4().hex}"
MISSING_WS = "noSuchWebService"
UNKNOWN_SUB = "99999999-8888-7777-6666-555555555555"

# ARM's authentication and authorization message templates, verbatim
MISSING_HEADER = "Authentication failed. The 'Authorization' header is missing."
AUDIENCE = ("The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match "
            "with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net',"
            "'https://management.azure.com/','https://management.azure.com'.")
TENANT_MESSAGE = ("The access token is from the wrong issuer 'https://sts.windows.net/{token_tenant}/'. It must match the "
                  "tenant 'https://sts.windows.net/{sub_tenant}/' associated with this subscription. Please use the "
                  "authority (URL) 'https://login.windows.net/{sub_tenant}' to get the token. Note, if the subscription "
                  "is transferred to another tenant there is no impact to the services, but information about new "
                  "tenant could take time to propagate (up to an hour). If you just transferred your subscription and "
                  "see this error message, please try back later.")
AUTHORIZATION_FAILED = ("The client '{appid}' with object id '{oid}' does not have authorization to perform action "
                        "'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please "
                        "refresh your credentials.")
NOT_FOUND = ("The Resource 'Microsoft.MachineLearning/webServices/{name}' under resource group '{rg}' was not found. "
             "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
DOTNET_TIME = r"([1-9]\d?/[1-9]\d?/\d{4} [1-9]\d?:\d{2}:\d{2} [AP]M)"  # .NET general format: 5/14/2023 3:04:05 PM
EXPIRED = re.compile(rf"^The access token expiry UTC time '{DOTNET_TIME}' is earlier than current UTC time "
                     rf"'{DOTNET_TIME}'\.$")


def put_body(title: str = "written by test_arm_auth") -> dict:
    return {"location": "South Central US",
            "properties": {"packageType": "Graph", "title": title,
                           "assets": {"asset1": {"name": "Execute R Script", "type": "Module",
                                                 "locationInfo": {"uri": "aml://module/moduleId-1"}}}}}


def patch_body(title: str = "patched by test_arm_auth") -> dict:
    return {"properties": {"packageType": "Graph", "title": title}}


# what each request needs: method, path, body, the action ARM checks and the scope it names
ROUTES = {
    "get": ("GET", ws_id(), None, READ, ws_id()),
    "put": ("PUT", ws_id(), put_body(), WRITE, ws_id()),
    "patch": ("PATCH", ws_id(), patch_body(), WRITE, ws_id()),
    "delete": ("DELETE", ws_id(), None, DELETE, ws_id()),
    "listKeys": ("GET", ws_id() + "/listKeys", None, LIST_KEYS, ws_id()),
    "list-rg": ("GET", RG_LIST, None, READ, RG_LIST),
    "list-sub": ("GET", SUB_LIST, None, READ, SUB_LIST),
}
AUTHENTICATED = {**{k: v[:3] for k, v in ROUTES.items()}, "operation-status": ("GET", OPERATION, None)}


# --- helpers ----------------------------------------------------------------------------------------

def arm_error(r: requests.Response, status: int, code: str, message: str | None = None) -> str:
    """The ARM error envelope with this status and code (and message); returns the message."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert r.headers.get("x-ms-request-id"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if message is not None:
        assert error["message"] == message
    if status == 401:  # every 401 carries a Bearer challenge
        challenge = r.headers.get("WWW-Authenticate", "")
        assert challenge.startswith("Bearer "), r.headers
        assert 'authorization_uri="https://login.windows.net/' in challenge, challenge
        assert 'error="invalid_token"' in challenge, challenge
    return error["message"]


def forbidden(r: requests.Response, p: Principal, action: str, scope: str) -> None:
    arm_error(r, 403, "AuthorizationFailed",
              AUTHORIZATION_FAILED.format(appid=p.client_id, oid=p.object_id, action=action, scope=scope))


def ok(r: requests.Response, *statuses: int) -> requests.Response:
    assert r.status_code in (statuses or (200,)), (r.status_code, r.text)
    return r


def succeeded(arm: Arm, r: requests.Response, token: str) -> None:
    status = arm.wait(r, token)
    assert status["status"] == "Succeeded", status


def title_of(arm: Arm, name: str = ARM_WS, **kw) -> str:
    return ok(arm.request("GET", ws_id(name, **kw), arm.token(OWNER_SP))).json()["properties"]["title"]


def list_names(arm: Arm, path: str, token: str) -> set[str]:
    """The names of every item of a list, following nextLink (the test config pages by 2)."""
    names, r = set(), arm.request("GET", path, token)
    while True:
        page = ok(r).json()
        names |= {item["name"] for item in page["value"]}
        if not page.get("nextLink"):
            return names
        r = arm.request("GET", page["nextLink"], token, api_version=None)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dotnet(epoch: float) -> datetime:
    return datetime.fromtimestamp(int(epoch), timezone.utc).replace(tzinfo=None)


def parse_dotnet(text: str) -> datetime:
    return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")


# --- no header, not Bearer, garbage token -------------------------------------------------------------

@pytest.mark.parametrize("route", list(AUTHENTICATED))
def test_no_authorization_header_is_401_authentication_failed(arm, route):
    method, path, body = AUTHENTICATED[route]
    arm_error(arm.request(method, path, body=body), 401, "AuthenticationFailed", MISSING_HEADER)


@pytest.mark.parametrize("route", ["get", "patch", "list-rg"])
def test_missing_header_is_reported_before_the_api_version(arm, route):  # auth before api-version
    method, path, body = AUTHENTICATED[route]
    arm_error(arm.request(method, path, body=body, api_version=None), 401, "AuthenticationFailed", MISSING_HEADER)
    arm_error(arm.request(method, path, body=body, api_version="not-a-version"), 401, "AuthenticationFailed",
              MISSING_HEADER)


def test_operations_list_without_authorization_is_401(arm):  # ARM authenticates every request
    r = arm.request("GET", "/providers/Microsoft.MachineLearning/operations", api_version=V2017)
    arm_error(r, 401, "AuthenticationFailed", MISSING_HEADER)


NOT_BEARER = {
    "basic scheme": lambda t: f"Basic {t}",
    "token without a scheme": lambda t: t,
    "bearer without a token": lambda t: "Bearer",
    "bearer and blanks": lambda t: "Bearer    ",
    "digest scheme": lambda t: f'Digest username="x", response="{t[:20]}"',
    "scheme glued to the token": lambda t: f"Bearer{t}",
}


@pytest.mark.parametrize("how", list(NOT_BEARER))
@pytest.mark.parametrize("route", ["get", "patch", "listKeys"])
def test_non_bearer_authorization_header_is_401_authentication_failed(arm, route, how):
    method, path, body = AUTHENTICATED[route]
    header = NOT_BEARER[how](arm.token(OWNER_SP))  # a perfectly good token, wrongly presented
    message = arm_error(arm.request(method, path, body=body, headers={"Authorization": header}), 401,
                        "AuthenticationFailed")
    assert message.startswith("Authentication failed. The 'Authorization' header"), message
    assert message != MISSING_HEADER


def _foreign_signed(arm: Arm) -> str:
    """A token with exactly the claims of a real one, signed by a key the directory does not know."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    real = arm.token(OWNER_SP)
    return jwt.encode(claims(real), key, algorithm="RS256", headers={"kid": jwt.get_unverified_header(real)["kid"]})


def _unsigned(arm: Arm) -> str:
    real = arm.token(OWNER_SP)
    return ".".join([b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
                     b64url(json.dumps(claims(real)).encode()), ""])


def _altered(arm: Arm) -> str:
    header, payload, signature = arm.token(SEED_SP).split(".")
    body = claims(arm.token(SEED_SP))
    body["oid"] = OWNER_SP.object_id  # claim to be the Owner
    return ".".join([header, b64url(json.dumps(body).encode()), signature])


GARBAGE = {
    "a word": lambda arm: "garbage",
    "three dots": lambda arm: "a.b.c",
    "empty segments": lambda arm: "..",
    "truncated token": lambda arm: arm.token(OWNER_SP)[:-10],
    "base64 of nothing": lambda arm: base64.b64encode(b"not a token at all, just some bytes").decode(),
    "alg none": _unsigned,
    "signed by another key": _foreign_signed,
    "payload altered": _altered,
}


@pytest.mark.parametrize("how", list(GARBAGE))
def test_garbage_token_is_401_invalid_authentication_token(arm, how):
    token = GARBAGE[how](arm)
    for route in ("get", "patch"):
        method, path, body = AUTHENTICATED[route]
        arm_error(arm.request(method, path, token, body=body), 401, "InvalidAuthenticationToken",
                  "The access token is invalid.")
    assert title_of(arm) != patch_body()["properties"]["title"]  # nothing was written


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_good_token_passes_with_the_scheme_in_any_case(arm, scheme):  # the check is not over-eager
    r = arm.request("GET", ws_id(), headers={"Authorization": f"{scheme} {arm.token(OWNER_SP)}"})
    assert ok(r).json()["name"] == ARM_WS


# --- audience, expiry, tenant -------------------------------------------------------------------------

@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
@pytest.mark.parametrize("resource", ["https://graph.microsoft.com/", "https://storage.azure.com/",
                                      "https://vault.azure.net"])
def test_token_for_another_audience_is_401_invalid_audience(arm, resource, v2):
    token = arm.token(OWNER_SP, resource=resource, v2=v2)
    aud = claims(token)["aud"]
    assert aud.rstrip("/") == resource.rstrip("/")
    for route in ("get", "patch", "list-sub"):
        method, path, body = AUTHENTICATED[route]
        arm_error(arm.request(method, path, token, body=body), 401, "InvalidAuthenticationTokenAudience",
                  AUDIENCE.format(aud=aud))


@pytest.mark.parametrize("resource", ["https://management.azure.com/", "https://management.azure.com",
                                      "https://management.core.windows.net/", "https://management.core.windows.net"])
def test_every_allowed_arm_audience_is_accepted(arm, resource):  # exactly the four ARM's audience error names
    token = arm.token(OWNER_SP, resource=resource)
    assert claims(token)["aud"] == resource
    assert ok(arm.request("GET", ws_id(), token)).json()["name"] == ARM_WS


def test_expired_token_is_401_expired_authentication_token(arm):
    token = arm.token(SHORT_LIVED_SP)  # Contributor on RG, but its tokens expire when issued
    before = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    message = arm_error(arm.request("PATCH", ws_id(), token, body=patch_body()), 401, "ExpiredAuthenticationToken")
    after = datetime.now(timezone.utc).replace(tzinfo=None)
    match = EXPIRED.match(message)
    assert match, message
    expiry, now = (parse_dotnet(t) for t in match.groups())
    assert expiry == dotnet(claims(token)["exp"])  # the token's own exp, in .NET general format
    assert expiry <= now
    assert before - timedelta(seconds=1) <= now <= after + timedelta(seconds=1)
    assert title_of(arm) != patch_body()["properties"]["title"]


@pytest.mark.parametrize("route", ["get", "listKeys", "list-rg"])
def test_expired_token_is_401_on_reads_too_and_before_the_api_version(arm, route):
    method, path, body = AUTHENTICATED[route]
    token = arm.token(SHORT_LIVED_SP)
    arm_error(arm.request(method, path, token, body=body), 401, "ExpiredAuthenticationToken")
    arm_error(arm.request(method, path, token, body=body, api_version=None), 401, "ExpiredAuthenticationToken")


@pytest.mark.parametrize("route", list(ROUTES))
def test_token_from_another_tenant_is_401_invalid_tenant(arm, route):
    method, path, body, _, _ = ROUTES[route]
    token = arm.token(FOREIGN_SP)  # Owner on SUB by role assignment, but issued by another tenant
    assert claims(token)["iss"] == f"https://sts.windows.net/{OTHER_TENANT}/"
    arm_error(arm.request(method, path, token, body=body), 401, "InvalidAuthenticationTokenTenant",
              TENANT_MESSAGE.format(token_tenant=OTHER_TENANT, sub_tenant=TENANT))
    assert title_of(arm) != patch_body()["properties"]["title"]


def test_token_from_another_tenant_is_refused_on_the_second_subscription_too(arm):
    token = arm.token(FOREIGN_SP)
    r = arm.request("GET", ws_id(OTHER_SUB_WS, sub=SUB2, rg=RG2), token)
    arm_error(r, 401, "InvalidAuthenticationTokenTenant", TENANT_MESSAGE.format(token_tenant=OTHER_TENANT,
                                                                                 sub_tenant=TENANT))


def test_audience_is_checked_before_expiry(arm):  # the order adfemu infers for ARM's checks
    token = arm.token(SHORT_LIVED_SP, resource="https://graph.microsoft.com/")
    arm_error(arm.request("GET", ws_id(), token), 401, "InvalidAuthenticationTokenAudience")


# --- order: authentication, subscription, authorization, existence --------------------------------------

@pytest.mark.parametrize("principal", [SEED_SP, OWNER_SP], ids=["seed", "owner"])
@pytest.mark.parametrize("route", list(ROUTES))
def test_unknown_subscription_with_a_valid_token_is_404_subscription_not_found(arm, principal, route):
    method, path, body, _, _ = ROUTES[route]
    r = arm.request(method, path.replace(SUB, UNKNOWN_SUB), arm.token(principal), body=body)
    arm_error(r, 404, "SubscriptionNotFound", f"The subscription '{UNKNOWN_SUB}' could not be found.")


def test_unknown_subscription_without_a_token_is_401_not_404(arm):
    arm_error(arm.request("GET", ws_id(sub=UNKNOWN_SUB)), 401, "AuthenticationFailed", MISSING_HEADER)
    arm_error(arm.request("GET", ws_id(sub=UNKNOWN_SUB), "garbage"), 401, "InvalidAuthenticationToken")


# --- a principal without a role -------------------------------------------------------------------------

@pytest.mark.parametrize("route", list(ROUTES))
def test_principal_without_role_gets_403_naming_action_and_scope(arm, route):
    method, path, body, action, scope = ROUTES[route]
    forbidden(arm.request(method, path, arm.token(NO_ROLE_SP), body=body), NO_ROLE_SP, action, scope)


def test_principal_without_role_cannot_patch_and_nothing_changes(arm):  # the seed's PATCH
    before = title_of(arm)
    r = arm.request("PATCH", ws_id(), arm.token(NO_ROLE_SP), body=patch_body())
    forbidden(r, NO_ROLE_SP, "Microsoft.MachineLearning/webServices/write", ws_id())
    assert "Azure-AsyncOperation" not in r.headers
    assert title_of(arm) == before


MISSING = {
    "get": ("GET", ws_id(MISSING_WS), None, READ, ws_id(MISSING_WS)),
    "patch": ("PATCH", ws_id(MISSING_WS), patch_body(), WRITE, ws_id(MISSING_WS)),
    "put": ("PUT", ws_id(MISSING_WS), put_body(), WRITE, ws_id(MISSING_WS)),
    "delete": ("DELETE", ws_id(MISSING_WS), None, DELETE, ws_id(MISSING_WS)),
    "listKeys": ("GET", ws_id(MISSING_WS) + "/listKeys", None, LIST_KEYS, ws_id(MISSING_WS)),
    "missing group": ("GET", ws_id(rg="noSuchGroup"), None, READ, ws_id(rg="noSuchGroup")),
    "list of missing group": ("GET", RG_LIST.replace(RG, "noSuchGroup"), None, READ, RG_LIST.replace(RG, "noSuchGroup")),
}


@pytest.mark.parametrize("route", list(MISSING))
def test_authorization_comes_before_existence(arm, route):  # 403 even for a missing service (inferred)
    method, path, body, action, scope = MISSING[route]
    forbidden(arm.request(method, path, arm.token(NO_ROLE_SP), body=body), NO_ROLE_SP, action, scope)
    # an authorized caller learns that it does not exist
    r = arm.request(method, path, arm.token(OWNER_SP), body=body)
    if method == "PUT":
        ok(r, 201)  # and the unauthorized PUT above created nothing
    elif method == "DELETE":
        ok(r, 202)  # 202 whether or not it existed (the ARM spec's DELETE)
    else:
        assert r.status_code == 404, r.text


@pytest.mark.parametrize("payload", ['{"properties": ', "[]", '{"properties": {"packageType": "Code"}}'])
def test_authorization_comes_before_body_validation(arm, payload):
    r = requests.patch(arm.url + ws_id(), params={"api-version": V2016}, data=payload, verify=arm.ca_bundle,
                       headers={"Authorization": f"Bearer {arm.token(NO_ROLE_SP)}", "Content-Type": "application/json"},
                       timeout=30)
    forbidden(r, NO_ROLE_SP, WRITE, ws_id())


def test_forbidden_scope_keeps_the_casing_of_the_request(arm):  # '{scope}' is the request's target
    path = ws_id().replace("resourceGroups", "resourcegroups").replace(ARM_WS, ARM_WS.upper())
    forbidden(arm.request("GET", path, arm.token(NO_ROLE_SP)), NO_ROLE_SP, READ, path)


# --- scopes and roles -----------------------------------------------------------------------------------

def test_contributor_at_resource_group_can_patch(arm):  # the seed's principal
    token = arm.token(SEED_SP)
    r = ok(arm.request("PATCH", ws_id(), token, body=patch_body("by the contributor")))
    succeeded(arm, r, token)
    assert title_of(arm) == "by the contributor"


def test_contributor_at_resource_group_can_read_list_put_and_delete_there(arm):
    token = arm.token(SEED_SP)
    ok(arm.request("GET", ws_id(SECOND_WS), token))
    ok(arm.request("GET", ws_id() + "/listKeys", token))
    assert {ARM_WS, SECOND_WS} <= list_names(arm, RG_LIST, token)
    succeeded(arm, ok(arm.request("PUT", ws_id("createdByContributor"), token, body=put_body()), 201), token)
    ok(arm.request("DELETE", ws_id("createdByContributor"), token), 202)


def test_contributor_at_resource_group_has_nothing_above_or_beside_it(arm):  # no upward inheritance
    token = arm.token(SEED_SP)
    forbidden(arm.request("GET", SUB_LIST, token), SEED_SP, READ, SUB_LIST)
    path = ws_id(OTHER_SUB_WS, sub=SUB2, rg=RG2)
    forbidden(arm.request("PATCH", path, token, body=patch_body()), SEED_SP, WRITE, path)


@pytest.mark.parametrize("route", ["get", "listKeys", "list-rg", "list-sub"])
def test_reader_at_subscription_can_read(arm, route):  # listKeys is a read action (a GET)
    method, path, body, _, _ = ROUTES[route]
    r = ok(arm.request(method, path, arm.token(READER_SP), body=body))
    assert r.json()


@pytest.mark.parametrize("route", ["put", "patch", "delete"])
def test_reader_at_subscription_gets_403_on_writes(arm, route):
    method, path, body, action, scope = ROUTES[route]
    before = title_of(arm)
    forbidden(arm.request(method, path, arm.token(READER_SP), body=body), READER_SP, action, scope)
    assert title_of(arm) == before  # still there, unchanged


def test_reader_cannot_create_a_service(arm):
    path = ws_id("createdByReader")
    forbidden(arm.request("PUT", path, arm.token(READER_SP), body=put_body()), READER_SP, WRITE, path)
    assert arm.request("GET", path, arm.token(OWNER_SP)).status_code == 404


@pytest.mark.parametrize("sub, rg, name", [(SUB, RG, ARM_WS), (SUB2, RG2, OTHER_SUB_WS)], ids=["SUB", "SUB2"])
def test_owner_at_subscription_can_do_everything(arm, sub, rg, name):  # inheritance down to the resource
    token = arm.token(OWNER_SP)  # Owner on SUB by object id, on SUB2 by client id
    ok(arm.request("GET", ws_id(name, sub=sub, rg=rg), token))
    keys = ok(arm.request("GET", ws_id(name, sub=sub, rg=rg) + "/listKeys", token)).json()
    assert keys["primary"] and keys["secondary"]
    assert name in list_names(arm, f"/subscriptions/{sub}/providers/{TYPE}", token)
    assert name in list_names(arm, f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{TYPE}", token)
    succeeded(arm, ok(arm.request("PATCH", ws_id(name, sub=sub, rg=rg), token, body=patch_body("by the owner"))), token)
    assert title_of(arm, name, sub=sub, rg=rg) == "by the owner"
    created = ws_id("createdByOwner", sub=sub, rg=rg)
    succeeded(arm, ok(arm.request("PUT", created, token, body=put_body()), 201), token)
    succeeded(arm, ok(arm.request("DELETE", created, token), 202), token)
    assert arm.request("GET", created, token).status_code == 404


def test_contributor_on_one_resource_can_patch_it(arm):  # scope = the resource id
    token = arm.token(RESOURCE_SP)
    ok(arm.request("GET", ws_id(), token))
    ok(arm.request("GET", ws_id() + "/listKeys", token))
    succeeded(arm, ok(arm.request("PATCH", ws_id(), token, body=patch_body("by the resource contributor"))), token)
    assert title_of(arm) == "by the resource contributor"


@pytest.mark.parametrize("method, path, body, action, scope", [
    ("PATCH", ws_id(SECOND_WS), patch_body(), WRITE, ws_id(SECOND_WS)),
    ("GET", ws_id(SECOND_WS), None, READ, ws_id(SECOND_WS)),
    ("GET", RG_LIST, None, READ, RG_LIST),
    ("GET", SUB_LIST, None, READ, SUB_LIST),
    ("PUT", ws_id("createdByResourceContributor"), put_body(), WRITE, ws_id("createdByResourceContributor")),
], ids=["patch-second", "get-second", "list-rg", "list-sub", "put-new"])
def test_contributor_on_one_resource_gets_403_beside_and_above_it(arm, method, path, body, action, scope):
    forbidden(arm.request(method, path, arm.token(RESOURCE_SP), body=body), RESOURCE_SP, action, scope)


# --- the acceptance list, at HTTP level -------------------------------------------------------------------

def aad_error(r: requests.Response, status: int, error: str, code: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json")
    body = r.json()
    assert "access_token" not in body
    assert body["error"] == error, body
    assert body["error_codes"] == [code], body
    assert body["error_description"].startswith(f"AADSTS{code}: "), body
    return body


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_acceptance_wrong_secret_is_aad_401_invalid_client_7000215(arm, v2):
    r = arm.token_response(SEED_SP, v2=v2, secret="not-the-secret-of-this-app-0000000000")
    body = aad_error(r, 401, "invalid_client", 7000215)
    assert SEED_SP.client_id in body["error_description"]
    # the secret of another principal is just as wrong
    aad_error(arm.token_response(SEED_SP, v2=v2, secret=OWNER_SP.secret), 401, "invalid_client", 7000215)


@pytest.mark.parametrize("request_kind", ["v1 token", "v2 token", "openid configuration"])
def test_acceptance_unknown_tenant_is_aad_400_aadsts90002(arm, request_kind):
    tenant = "no-such-tenant.onmicrosoft.com"
    if request_kind == "openid configuration":
        r = requests.get(f"{arm.url}/{tenant}/v2.0/.well-known/openid-configuration", verify=arm.ca_bundle, timeout=30)
    else:
        r = arm.token_response(SEED_SP, v2=request_kind == "v2 token", tenant=tenant)
    body = aad_error(r, 400, "invalid_request", 90002)
    assert f"Tenant '{tenant}' not found." in body["error_description"]


def test_acceptance_principal_without_role_is_403_with_the_exact_message(arm):
    token = arm.token(NO_ROLE_SP)  # a real token of the right tenant and audience: authentication passes
    assert claims(token)["tid"] == TENANT
    r = arm.request("PATCH", ws_id(), token, body=patch_body())
    assert r.json()["error"]["message"] == (
        f"The client '{NO_ROLE_SP.client_id}' with object id '{NO_ROLE_SP.object_id}' does not have authorization to "
        f"perform action 'Microsoft.MachineLearning/webServices/write' over scope '/subscriptions/{SUB}/resourceGroups/"
        f"{RG}/providers/Microsoft.MachineLearning/webServices/{ARM_WS}' or the scope is invalid. If access was "
        f"recently granted, please refresh your credentials.")
    forbidden(r, NO_ROLE_SP, WRITE, ws_id())


def test_acceptance_reader_only_can_read_but_not_update(arm):
    token = arm.token(READER_SP)
    got = ok(arm.request("GET", ws_id(), token)).json()
    r = arm.request("PATCH", ws_id(), token, body=patch_body())
    forbidden(r, READER_SP, WRITE, ws_id())
    assert title_of(arm) == got["properties"]["title"]


def test_acceptance_expired_token_is_401(arm):
    r = arm.request("GET", ws_id(), arm.token(SHORT_LIVED_SP))
    assert EXPIRED.match(arm_error(r, 401, "ExpiredAuthenticationToken"))


def test_acceptance_wrong_audience_is_401(arm):
    token = arm.token(SEED_SP, resource="https://graph.microsoft.com/")
    arm_error(arm.request("PATCH", ws_id(), token, body=patch_body()), 401, "InvalidAuthenticationTokenAudience",
              AUDIENCE.format(aud="https://graph.microsoft.com/"))


@pytest.mark.parametrize("method, suffix, body", [("GET", "", None), ("PATCH", "", patch_body()),
                                                  ("GET", "/listKeys", None)], ids=["get", "patch", "listKeys"])
def test_acceptance_missing_web_service_is_404_resource_not_found(arm, method, suffix, body):
    r = arm.request(method, ws_id(MISSING_WS) + suffix, arm.token(SEED_SP), body=body)
    arm_error(r, 404, "ResourceNotFound", NOT_FOUND.format(name=MISSING_WS, rg=RG))
