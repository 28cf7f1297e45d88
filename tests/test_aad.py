"""Azure AD (client-credentials) as the emulator serves it over HTTPS: token responses, tenants, claims,
errors and discovery documents (the real Azure SDK clients are in test_azure_sdk_clients.py).

Every request goes over real HTTPS to the shared emulator (``arm`` fixture, trustme CA).
"""
from __future__ import annotations

import base64
import json
import re
import time
import uuid
from urllib.parse import quote, quote_plus, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from .arm_helpers import (EXPIRED_SECRET_SP, FOREIGN_SP, NO_ROLE_SP, OWNER_SP, READER_SP, SEED_SP, SHORT_LIVED_SP,
                          TENANT, TENANT_DOMAIN, ws_id)

ARM = "https://management.azure.com/"
ERROR_FIELDS = {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$")


# --- helpers --------------------------------------------------------------------------------------

def post_token(arm, tenant: str, fields: dict, *, v2: bool) -> requests.Response:
    """A token request with exactly these form fields (nothing added)."""
    path = "oauth2/v2.0/token" if v2 else "oauth2/token"
    return requests.post(f"{arm.url}/{tenant}/{path}", data=fields, verify=arm.ca_bundle, timeout=30)


def form(p=SEED_SP, *, v2: bool, resource: str = ARM, **changes) -> dict:
    fields = {"grant_type": "client_credentials", "client_id": p.client_id, "client_secret": p.secret}
    if v2:
        fields["scope"] = resource.rstrip("/") + "/.default"
    else:
        fields["resource"] = resource
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


def unverified(token: str) -> tuple[dict, dict]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_aad_error(response: requests.Response, status: int, error: str, code: int) -> dict:
    """The AAD error body, complete and self-consistent."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= ERROR_FIELDS, body
    assert "access_token" not in body
    assert body["error"] == error
    assert body["error_codes"] == [code]
    description = body["error_description"]
    assert description.startswith(f"AADSTS{code}: "), description
    assert GUID.match(body["trace_id"]) and GUID.match(body["correlation_id"]), body
    assert STAMP.match(body["timestamp"]), body["timestamp"]
    assert f"Trace ID: {body['trace_id']}" in description
    assert f"Correlation ID: {body['correlation_id']}" in description
    assert f"Timestamp: {body['timestamp']}" in description
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    return body


# --- v1 and v2 token responses ------------------------------------------------------------------------

@pytest.mark.parametrize("resource", ["https://management.azure.com/", "https://management.core.windows.net/"])
def test_v1_token_response_has_string_numbers_and_the_resource(arm, resource):
    before = int(time.time())
    r = post_token(arm, TENANT_DOMAIN, form(v2=False, resource=resource), v2=False)
    after = int(time.time())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["resource"] == resource
    for name in ("expires_in", "ext_expires_in", "expires_on", "not_before"):
        assert isinstance(body[name], str) and body[name].isdigit(), (name, body[name])
    assert 3000 <= int(body["expires_in"]) <= 5400  # about an hour (60-90 min)
    assert body["ext_expires_in"] == body["expires_in"]
    assert before <= int(body["not_before"]) <= after
    assert int(body["expires_on"]) - int(body["not_before"]) == int(body["expires_in"])
    assert "refresh_token" not in body and "id_token" not in body
    _, claims = unverified(body["access_token"])
    assert claims["aud"] == resource
    assert claims["exp"] == int(body["expires_on"]) and claims["nbf"] == int(body["not_before"])


def test_v2_token_response_has_integer_lifetimes_and_no_resource(arm):
    r = post_token(arm, TENANT_DOMAIN, form(v2=True), v2=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    for name in ("expires_in", "ext_expires_in"):
        assert type(body[name]) is int, (name, body[name])
    assert 3000 <= body["expires_in"] <= 5400 and body["ext_expires_in"] == body["expires_in"]
    for absent in ("resource", "expires_on", "not_before", "refresh_token", "id_token"):
        assert absent not in body, absent
    header, claims = unverified(body["access_token"])
    assert claims["aud"] == ARM  # the scope's resource (https://management.azure.com/.default)
    assert claims["exp"] - claims["iat"] == body["expires_in"]


# --- the tenant segment, by GUID or by domain ------------------------------------------------------------

@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
@pytest.mark.parametrize("tenant", [TENANT, TENANT_DOMAIN, "MyCompany.COM", TENANT.upper()])
def test_tenant_by_guid_or_domain_gives_the_tenant_guid_in_tid_and_iss(arm, tenant, v2):
    r = post_token(arm, tenant, form(v2=v2), v2=v2)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    _, claims = unverified(token)
    assert claims["tid"] == TENANT
    assert claims["iss"] == f"https://sts.windows.net/{TENANT}/"
    # and the token verifies with the keys the tenant publishes (jwks_uri of its discovery document)
    config = requests.get(f"{arm.url}/{tenant}/v2.0/.well-known/openid-configuration", verify=arm.ca_bundle,
                          timeout=30).json()
    jwks = requests.get(config["jwks_uri"], verify=arm.ca_bundle, timeout=30).json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    verified = jwt.decode(token, key.key, algorithms=["RS256"], audience=ARM,
                          issuer=f"https://sts.windows.net/{TENANT}/")
    assert verified == claims


# --- the claims, and ARM's validation of them ----------------------------------------------------------

@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_token_is_an_rs256_jwt_with_the_app_only_claims(arm, v2):
    before = int(time.time())
    token = arm.token(READER_SP, v2=v2)
    header, claims = unverified(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT" and header["kid"]
    jwks = requests.get(f"{arm.url}/{TENANT}/discovery/v2.0/keys", verify=arm.ca_bundle, timeout=30).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert claims["aud"] == ARM
    assert claims["iss"] == f"https://sts.windows.net/{TENANT}/"
    assert claims["tid"] == TENANT
    assert before <= claims["iat"] <= time.time() and claims["nbf"] == claims["iat"]
    assert 3000 <= claims["exp"] - claims["iat"] <= 5400
    assert claims["oid"] == claims["sub"] == READER_SP.object_id
    assert claims["appid"] == READER_SP.client_id
    assert claims["appidacr"] == "1"
    assert claims["idtyp"] == "app"
    assert claims["ver"] == "1.0"
    for absent in ("scp", "upn", "name"):
        assert absent not in claims


def test_arm_refuses_a_token_whose_payload_was_altered(arm):
    token = arm.token(NO_ROLE_SP)
    intact = arm.request("GET", ws_id(), token)
    assert intact.status_code == 403 and intact.json()["error"]["code"] == "AuthorizationFailed"  # authenticated
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["oid"] = claims["sub"] = OWNER_SP.object_id  # try to pass for the Owner
    forged = ".".join([header, b64url(json.dumps(claims).encode()), signature])
    r = arm.request("GET", ws_id(), forged)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize("how", ["other-key", "alg-none"])
def test_arm_refuses_a_token_not_signed_by_the_directory(arm, how):
    _, claims = unverified(arm.token(OWNER_SP))
    kid = jwt.get_unverified_header(arm.token(OWNER_SP))["kid"]
    if how == "other-key":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
    else:
        forged = jwt.encode(claims, None, algorithm="none")
    r = arm.request("GET", ws_id(), forged)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert arm.request("GET", ws_id(), arm.token(OWNER_SP)).status_code == 200  # the genuine token works


@pytest.mark.parametrize("principal, resource, code", [
    (SEED_SP, "https://storage.azure.com/", "InvalidAuthenticationTokenAudience"),
    (SHORT_LIVED_SP, ARM, "ExpiredAuthenticationToken"),
    (FOREIGN_SP, ARM, "InvalidAuthenticationTokenTenant"),
], ids=["aud", "exp", "tenant"])
def test_arm_checks_audience_expiry_and_tenant_of_issued_tokens(arm, principal, resource, code):
    token = arm.token(principal, resource=resource)
    r = arm.request("GET", ws_id(), token)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == code
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")


# --- wrong secret -----------------------------------------------------------------------------------

@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_wrong_secret_is_401_invalid_client_aadsts7000215(arm, v2):
    r = post_token(arm, TENANT_DOMAIN, form(v2=v2, client_secret="not-the-secret"), v2=v2)
    body = assert_aad_error(r, 401, "invalid_client", 7000215)
    assert "Invalid client secret provided" in body["error_description"]
    assert SEED_SP.client_id in body["error_description"]


def test_error_ids_are_new_for_every_failure(arm):
    bodies = [post_token(arm, TENANT_DOMAIN, form(v2=True, client_secret="wrong"), v2=True).json() for _ in range(2)]
    assert bodies[0]["trace_id"] != bodies[1]["trace_id"]
    assert bodies[0]["correlation_id"] != bodies[1]["correlation_id"]


# --- the other token errors ---------------------------------------------------------------------------

UNKNOWN_CLIENT = "99999999-0000-4000-8000-000000000099"


@pytest.mark.parametrize("v2, tenant, fields, status, error, code, mentions", [
    (False, TENANT_DOMAIN, form(v2=False, client_id=UNKNOWN_CLIENT), 400, "unauthorized_client", 700016,
     [UNKNOWN_CLIENT, TENANT_DOMAIN]),
    (True, TENANT_DOMAIN, form(v2=True, client_id=UNKNOWN_CLIENT), 400, "unauthorized_client", 700016,
     [UNKNOWN_CLIENT]),
    (True, TENANT, form(FOREIGN_SP, v2=True), 400, "unauthorized_client", 700016,  # an app of another tenant
     [FOREIGN_SP.client_id]),
    (False, "nosuchtenant.onmicrosoft.com", form(v2=False), 400, "invalid_request", 90002,
     ["nosuchtenant.onmicrosoft.com"]),
    (True, "00000000-dead-4000-8000-000000000000", form(v2=True), 400, "invalid_request", 90002,
     ["00000000-dead-4000-8000-000000000000"]),
    (False, TENANT_DOMAIN, form(v2=False, resource="https://nosuch.example.com/"), 400, "invalid_resource", 500011,
     ["https://nosuch.example.com/"]),
    (True, TENANT_DOMAIN, form(v2=True, resource="https://nosuch.example.com/"), 400, "invalid_resource", 500011,
     ["nosuch.example.com"]),
    (True, TENANT_DOMAIN, form(v2=True, scope="https://management.azure.com/user_impersonation"), 400,
     "invalid_scope", 1002012, ["https://management.azure.com/user_impersonation", "/.default"]),
    (True, TENANT_DOMAIN, form(v2=True, scope="https://management.azure.com/"), 400, "invalid_scope", 1002012, []),
    (False, TENANT_DOMAIN, form(EXPIRED_SECRET_SP, v2=False), 401, "invalid_client", 7000222,
     [EXPIRED_SECRET_SP.client_id, "expired"]),
    (True, TENANT_DOMAIN, form(EXPIRED_SECRET_SP, v2=True), 401, "invalid_client", 7000222, []),
    (False, TENANT_DOMAIN, form(v2=False, client_secret=None), 401, "invalid_client", 7000216, ["client_secret"]),
    (True, TENANT_DOMAIN, form(v2=True, client_secret=""), 401, "invalid_client", 7000216, []),
    (False, TENANT_DOMAIN, form(v2=False, grant_type="password"), 400, "unsupported_grant_type", 70003, ["password"]),
    (True, TENANT_DOMAIN, form(v2=True, grant_type="authorization_code"), 400, "unsupported_grant_type", 70003, []),
    (False, TENANT_DOMAIN, form(v2=False, client_id=None), 400, "invalid_request", 900144, ["'client_id'"]),
    (True, TENANT_DOMAIN, form(v2=True, grant_type=None), 400, "invalid_request", 900144, ["'grant_type'"]),
], ids=["unknown-client-v1", "unknown-client-v2", "client-of-other-tenant", "unknown-tenant-domain",
        "unknown-tenant-guid", "unknown-resource-v1", "unknown-resource-v2", "scope-without-default",
        "scope-bare-resource", "expired-secret-v1", "expired-secret-v2", "missing-secret", "empty-secret",
        "grant-password", "grant-code", "missing-client-id", "missing-grant-type"])
def test_token_errors(arm, v2, tenant, fields, status, error, code, mentions):
    r = post_token(arm, tenant, fields, v2=v2)
    body = assert_aad_error(r, status, error, code)
    for text in mentions:
        assert text in body["error_description"], (text, body["error_description"])


@pytest.mark.parametrize("path", ["v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"])
def test_unknown_tenant_on_openid_discovery_is_aadsts90002(arm, path):
    r = requests.get(f"{arm.url}/nosuchtenant.onmicrosoft.com/{path}", verify=arm.ca_bundle, timeout=30)
    body = assert_aad_error(r, 400, "invalid_request", 90002)
    assert "nosuchtenant.onmicrosoft.com" in body["error_description"]


# --- discovery documents ------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("tenant", [TENANT_DOMAIN, TENANT])
def test_openid_configuration_points_at_the_fakes_own_https_origin(arm, tenant, host):
    port = urlsplit(arm.url).port
    origin = f"https://{host}:{port}"
    r = requests.get(f"{origin}/{tenant}/v2.0/.well-known/openid-configuration", verify=arm.ca_bundle, timeout=30)
    assert r.status_code == 200, r.text
    config = r.json()
    assert config["issuer"] == f"https://login.microsoftonline.com/{TENANT}/v2.0"
    for name in ("token_endpoint", "authorization_endpoint", "jwks_uri"):
        url = urlsplit(config[name])
        assert (url.scheme, url.netloc) == ("https", f"{host}:{port}"), (name, config[name])
        assert len(url.path.strip("/").split("/")) >= 2, config[name]  # MSAL takes the tenant from the path
    assert config["token_endpoint"].endswith("/oauth2/v2.0/token")
    # the token endpoint it names is the one that issues tokens (MSAL posts there)
    token = requests.post(config["token_endpoint"], data=form(v2=True, client_info="1"), verify=arm.ca_bundle,
                          timeout=30)
    assert token.status_code == 200, token.text
    assert unverified(token.json()["access_token"])[1]["tid"] == TENANT


def test_v1_openid_configuration_has_the_sts_issuer(arm):
    r = requests.get(f"{arm.url}/{TENANT_DOMAIN}/.well-known/openid-configuration", verify=arm.ca_bundle, timeout=30)
    assert r.status_code == 200, r.text
    config = r.json()
    assert config["issuer"] == f"https://sts.windows.net/{TENANT}/"
    assert config["token_endpoint"] == f"{arm.url}/{TENANT_DOMAIN}/oauth2/token"
    assert config["authorization_endpoint"].startswith(f"{arm.url}/")


def test_instance_discovery_returns_a_tenant_discovery_endpoint(arm):
    authorize = f"{arm.url}/{TENANT_DOMAIN}/oauth2/v2.0/authorize"
    r = requests.get(f"{arm.url}/common/discovery/instance", params={"api-version": "1.1",
                     "authorization_endpoint": authorize}, verify=arm.ca_bundle, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    endpoint = body["tenant_discovery_endpoint"]
    assert endpoint.startswith(f"{arm.url}/") and endpoint.endswith("/v2.0/.well-known/openid-configuration")
    assert body["api-version"] == "1.1"
    host = urlsplit(arm.url).netloc
    assert any(host in m["aliases"] for m in body["metadata"])


def test_instance_discovery_names_a_tenant_discovery_endpoint_that_works(arm):  # as MSAL uses it
    authorize = f"{arm.url}/{TENANT_DOMAIN}/oauth2/v2.0/authorize"
    body = requests.get(f"{arm.url}/common/discovery/instance", params={"api-version": "1.1",
                        "authorization_endpoint": authorize}, verify=arm.ca_bundle, timeout=30).json()
    # MSAL (instance discovery on) reads the OpenID configuration from exactly this URL, then posts to its token_endpoint
    config = requests.get(body["tenant_discovery_endpoint"], verify=arm.ca_bundle, timeout=30)
    assert config.status_code == 200, config.text
    token = requests.post(config.json()["token_endpoint"], data=form(v2=True), verify=arm.ca_bundle, timeout=30)
    assert token.status_code == 200, token.text


# --- what the real credential sends ---------------------------------------------------------------------

def test_msal_style_form_with_client_info_and_unknown_fields_is_accepted(arm):
    fields = {"client_id": SEED_SP.client_id, "grant_type": "client_credentials", "client_info": "1",
              "client_secret": SEED_SP.secret, "scope": "https://management.azure.com/.default",
              "x-client-SKU": "MSAL.Python", "x-client-VER": "1.39.0", "claims": "", "unknown_field": "whatever"}
    r = requests.post(f"{arm.url}/{TENANT_DOMAIN}/oauth2/v2.0/token", data=fields,
                      headers={"client-request-id": str(uuid.uuid4()), "x-client-sku": "MSAL.Python",
                               "x-client-current-telemetry": "4|730,2|"}, verify=arm.ca_bundle, timeout=30)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert arm.request("GET", ws_id(), token).status_code == 200  # and ARM accepts what it issued
    v1 = post_token(arm, TENANT_DOMAIN, form(v2=False, client_info="1", foo="bar"), v2=False)
    assert v1.status_code == 200, v1.text


# --- secrets: never in the journal, never in an error body ------------------------------------------

WRONG_SECRET = "wr0ng/Secret+Value=="


def test_client_secrets_never_reach_the_journal_or_an_error_body(arm):
    requests_made = [
        (TENANT_DOMAIN, form(v2=True), True),
        (TENANT_DOMAIN, form(v2=False), False),
        (TENANT_DOMAIN, form(v2=True, client_secret=WRONG_SECRET), True),
        (TENANT_DOMAIN, form(v2=False, client_secret=WRONG_SECRET), False),
        (TENANT_DOMAIN, form(EXPIRED_SECRET_SP, v2=True), True),
        (TENANT_DOMAIN, form(v2=True, client_id=UNKNOWN_CLIENT), True),
        (TENANT_DOMAIN, form(v2=True, scope="https://management.azure.com/x"), True),
        (TENANT_DOMAIN, form(v2=False, resource="https://nosuch.example.com/"), False),
        (TENANT_DOMAIN, form(v2=False, grant_type="password"), False),
        ("nosuchtenant.onmicrosoft.com", form(v2=True), True),
        (TENANT, form(FOREIGN_SP, v2=True), True),
    ]
    secrets = [SEED_SP.secret, EXPIRED_SECRET_SP.secret, FOREIGN_SP.secret, WRONG_SECRET]
    forms = [s for secret in secrets for s in {secret, quote_plus(secret), quote(secret, safe="")}]
    errors = 0
    for tenant, fields, v2 in requests_made:
        r = post_token(arm, tenant, fields, v2=v2)
        if r.status_code != 200:
            errors += 1
            for secret in forms:
                assert secret not in r.text, (secret, r.text)
    assert errors == len(requests_made) - 2
    # a client that puts the secret in the query string: refused (AAD reads the form), and not journaled either
    r = requests.post(f"{arm.url}/{TENANT_DOMAIN}/oauth2/v2.0/token", params={"client_secret": SEED_SP.secret},
                      data=form(v2=True, client_secret=None), verify=arm.ca_bundle, timeout=30)
    assert_aad_error(r, 401, "invalid_client", 7000216)
    entries = arm.emulator.journal.entries()
    token_entries = [e for e in entries if "/oauth2/" in e["path"]]
    assert len(token_entries) == len(requests_made) + 1
    assert "client_secret=" in token_entries[-1]["query"]  # the field is recorded, its value is not
    text = json.dumps(entries)
    for secret in forms:
        assert secret not in text, secret


def test_journal_records_the_token_form_with_the_secret_masked(arm):
    post_token(arm, TENANT_DOMAIN, form(v2=True, client_info="1"), v2=True)
    post_token(arm, TENANT_DOMAIN, form(v2=False, client_secret=WRONG_SECRET), v2=False)
    ok, wrong = [e for e in arm.emulator.journal.entries() if "/oauth2/" in e["path"]]
    assert "grant_type=client_credentials" in ok["body"] and "client_info=1" in ok["body"], ok
    assert "scope=https%3A%2F%2Fmanagement.azure.com%2F.default" in ok["body"], ok
    for entry in (ok, wrong):
        assert "client_secret=***" in entry["body"], entry
        for secret in (SEED_SP.secret, quote_plus(SEED_SP.secret), WRONG_SECRET, quote_plus(WRONG_SECRET)):
            assert secret not in entry["body"]


def test_a_secret_sent_in_the_wrong_field_is_not_echoed_by_the_error(arm):
    # a classic mix-up: the secret value pasted as servicePrincipalId
    r = post_token(arm, TENANT_DOMAIN, form(v2=True, client_id=SEED_SP.secret), v2=True)
    assert_aad_error(r, 400, "unauthorized_client", 700016)
    assert SEED_SP.secret not in r.text
    assert SEED_SP.secret not in json.dumps(arm.emulator.journal.entries())
