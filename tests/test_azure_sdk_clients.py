"""The real Azure SDK clients against the emulated Azure AD and Resource Manager over HTTPS: a token, GET and a
long-running PATCH through ARMPolling (to success and to failure), and the error mapping the clients apply
(401/403/404, AADSTS).

``azure-identity`` ``ClientSecretCredential`` (MSAL underneath) and ``azure-mgmt-resource``
``ResourceManagementClient`` talk real HTTPS to the shared emulator (``arm`` fixture, trustme CA).
"""
from __future__ import annotations

import re
from contextlib import ExitStack

import certifi
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from .arm_helpers import ARM_WS, NO_ROLE_SP, READER_SP, RG, SEED_SP, SUB, TENANT, TENANT_DOMAIN, ws_id
from .helpers import RESOURCE

API = "2016-05-01-preview"
SCOPE = "https://management.azure.com/.default"


@pytest.fixture(autouse=True)
def no_ca_environment(monkeypatch):
    """Start every test with the CA environment variables unset (a developer's shell may set them)."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AZURE_AUTHORITY_HOST"):
        monkeypatch.delenv(name, raising=False)


def clients(stack: ExitStack, arm, principal=SEED_SP, *, secret: str | None = None, tenant: str = TENANT_DOMAIN,
            verify: bool = True) -> tuple[ClientSecretCredential, ResourceManagementClient]:
    """The credential and the management client as a user would build them, closed by ``stack``."""
    tls = {"connection_verify": arm.ca_bundle} if verify else {}
    credential = stack.enter_context(ClientSecretCredential(
        tenant_id=tenant, client_id=principal.client_id, client_secret=principal.secret if secret is None else secret,
        authority=arm.url, disable_instance_discovery=True, **tls))
    client = stack.enter_context(ResourceManagementClient(credential, SUB, base_url=arm.url, polling_interval=0.01,
                                                          **tls))
    return credential, client


def update_body(**properties) -> dict:
    return {"properties": dict({"packageType": "Graph"}, **properties)}


def calls(arm) -> list[str]:
    """The journal as 'METHOD path' lines, operation-status paths shortened to 'status'."""
    out = []
    for e in arm.emulator.journal.entries():
        path = "status" if "/operationsStatus/" in e["path"] else e["path"]
        out.append(f"{e['method']} {path}")
    return out


# --- token, GET, PATCH to completion -----------------------------------------------------------------

@pytest.mark.parametrize("trust", ["connection_verify", "connection_verify+REQUESTS_CA_BUNDLE",
                                   "REQUESTS_CA_BUNDLE-only", "connection_verify+unrelated-REQUESTS_CA_BUNDLE"])
def test_credential_and_management_client_get_and_update_to_completion(arm, monkeypatch, trust):
    if trust in ("connection_verify+REQUESTS_CA_BUNDLE", "REQUESTS_CA_BUNDLE-only"):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", arm.ca_bundle)
    elif trust == "connection_verify+unrelated-REQUESTS_CA_BUNDLE":
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # a per-request path wins over it
    with ExitStack() as stack:
        credential, client = clients(stack, arm, verify=trust != "REQUESTS_CA_BUNDLE-only")
        token = credential.get_token(SCOPE)
        assert token.token.count(".") == 2 and token.expires_on > 0
        resource = client.resources.get_by_id(ws_id(), api_version=API)
        assert resource.id == ws_id() and resource.name == ARM_WS
        assert resource.type == "Microsoft.MachineLearning/webServices"
        assert resource.properties["packageType"] == "Graph"
        assert resource.properties["title"] != "new"
        poller = client.resources.begin_update_by_id(ws_id(), api_version=API,
                                                     parameters=update_body(title="new"))
        result = poller.result()
        assert poller.status() == "Succeeded"
        assert result.id == ws_id()
        assert result.properties["title"] == "new"
        assert result.properties["provisioningState"] == "Succeeded"
        again = client.resources.get_by_id(ws_id(), api_version=API)
        assert again.properties["title"] == "new" and again.properties["provisioningState"] == "Succeeded"
        assert again.properties["assets"] == resource.properties["assets"]  # untouched by a title PATCH
    # what went over the wire: discovery, token, GET, PATCH, status poll(s), final GET on the resource
    sequence = "\n".join(calls(arm))
    expected = (rf"GET /{TENANT_DOMAIN}/v2\.0/\.well-known/openid-configuration\n"
                rf"POST /{TENANT_DOMAIN}/oauth2/v2\.0/token\n"
                rf"GET {re.escape(ws_id())}\n"
                rf"PATCH {re.escape(ws_id())}\n"
                rf"(GET status\n)+"
                rf"GET {re.escape(ws_id())}\n"
                rf"GET {re.escape(ws_id())}")
    assert re.fullmatch(expected, sequence), sequence


def test_async_status_body_has_status_and_provisioning_state(arm):
    with ExitStack() as stack:
        _, client = clients(stack, arm)
        client.resources.begin_update_by_id(ws_id(), api_version=API, parameters=update_body(title="t2")).result()
    polls = [e for e in arm.emulator.journal.entries() if "/operationsStatus/" in e["path"]]
    assert polls, "the poller followed Azure-AsyncOperation"
    body = arm.request("GET", polls[-1]["path"] + "?" + polls[-1]["query"], arm.token(), api_version=None).json()
    assert body["status"] == body["provisioningState"] == "Succeeded"


def test_failing_model_update_raises_from_the_poller_and_marks_the_resource_failed(arm):
    missing = "https://devstoreaccount1.blob.core.windows.net/nope/missing.ilearner"
    with ExitStack() as stack:
        _, client = clients(stack, arm)
        before = client.resources.get_by_id(ws_id(), api_version=API)
        key = next(k for k, a in before.properties["assets"].items() if a["name"] == RESOURCE)
        asset = {"name": RESOURCE, "type": "Resource", "locationInfo": {"uri": missing}}
        poller = client.resources.begin_update_by_id(ws_id(), api_version=API,
                                                     parameters=update_body(title="never", assets={key: asset}))
        with pytest.raises(HttpResponseError) as raised:
            poller.result()
        assert poller.status() == "Failed"
        assert "missing.ilearner" in str(raised.value), raised.value  # the poller carries the operation's error
        after = client.resources.get_by_id(ws_id(), api_version=API)
    assert after.properties["provisioningState"] == "Failed"
    assert after.properties["title"] == before.properties["title"]  # nothing was written
    assert after.properties["assets"][key]["locationInfo"]["uri"] == before.properties["assets"][key]["locationInfo"]["uri"]
    status = [e for e in arm.emulator.journal.entries() if "/operationsStatus/" in e["path"]][-1]
    body = arm.request("GET", status["path"] + "?" + status["query"], arm.token(), api_version=None).json()
    assert body["status"] == body["provisioningState"] == "Failed"
    assert body["error"]["code"] == body["errorInfo"]["code"] == raised.value.error.code
    assert "missing.ilearner" in body["error"]["message"]


# --- error mapping --------------------------------------------------------------------------------------

def test_missing_service_is_resource_not_found(arm):
    with ExitStack() as stack:
        _, client = clients(stack, arm)
        with pytest.raises(ResourceNotFoundError) as raised:
            client.resources.get_by_id(ws_id("noSuchService"), api_version=API)
        assert raised.value.status_code == 404
        assert raised.value.error.code == "ResourceNotFound"
        assert f"'Microsoft.MachineLearning/webServices/noSuchService' under resource group '{RG}'" in str(raised.value)
        with pytest.raises(ResourceNotFoundError):
            client.resources.begin_update_by_id(ws_id("noSuchService"), api_version=API,
                                                parameters=update_body(title="x")).result()


@pytest.mark.parametrize("tenant", [TENANT_DOMAIN, TENANT])
def test_wrong_secret_is_client_authentication_error_with_aadsts7000215(arm, tenant):
    with ExitStack() as stack:
        credential, client = clients(stack, arm, secret="not-the-secret", tenant=tenant)
        with pytest.raises(ClientAuthenticationError) as raised:
            client.resources.get_by_id(ws_id(), api_version=API)
        assert "AADSTS7000215" in str(raised.value)
        with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
            credential.get_token(SCOPE)
    assert not any(e["path"].startswith("/subscriptions/") for e in arm.emulator.journal.entries())  # ARM never reached


def test_principal_without_role_gets_authorization_failed_on_update(arm):
    with ExitStack() as stack:
        _, client = clients(stack, arm, NO_ROLE_SP)
        with pytest.raises(HttpResponseError) as raised:
            client.resources.begin_update_by_id(ws_id(), api_version=API, parameters=update_body(title="x")).result()
        assert raised.value.status_code == 403
        assert raised.value.error.code == "AuthorizationFailed"
        message = str(raised.value)
        assert "AuthorizationFailed" in message
        assert "Microsoft.MachineLearning/webServices/write" in message and ws_id() in message
        assert NO_ROLE_SP.object_id in message


def test_reader_can_get_but_not_update(arm):
    with ExitStack() as stack:
        _, client = clients(stack, arm, READER_SP)
        before = client.resources.get_by_id(ws_id(), api_version=API)
        assert before.name == ARM_WS
        with pytest.raises(HttpResponseError) as raised:
            client.resources.begin_update_by_id(ws_id(), api_version=API, parameters=update_body(title="x")).result()
        assert raised.value.status_code == 403
        assert raised.value.error.code == "AuthorizationFailed"
        assert "Microsoft.MachineLearning/webServices/write" in str(raised.value)
        assert client.resources.get_by_id(ws_id(), api_version=API).properties["title"] == before.properties["title"]


def test_without_trusting_the_test_ca_the_credential_fails_on_tls(arm):  # the CA is what makes it work
    with ExitStack() as stack:
        _, client = clients(stack, arm, verify=False)
        with pytest.raises(ClientAuthenticationError, match="CERTIFICATE_VERIFY_FAILED"):
            client.resources.get_by_id(ws_id(), api_version=API)
    assert arm.emulator.journal.entries() == []  # no request got through


def test_token_from_the_credential_is_for_arm_in_the_tenant(arm):
    import jwt
    with ExitStack() as stack:
        credential, _ = clients(stack, arm, tenant=TENANT_DOMAIN)
        claims = jwt.decode(credential.get_token(SCOPE).token, options={"verify_signature": False})
    assert claims["aud"] == "https://management.azure.com/" and claims["tid"] == TENANT
    assert claims["appid"] == SEED_SP.client_id
    # the authority was the fake: discovery and token request both reached it, and nothing else was asked
    assert [e["path"] for e in arm.emulator.journal.entries()] == [
        f"/{TENANT_DOMAIN}/v2.0/.well-known/openid-configuration", f"/{TENANT_DOMAIN}/oauth2/v2.0/token"]


def test_msal_with_instance_discovery_at_the_fake_gets_a_token(arm):  # discovery documents, with the real MSAL
    import msal
    import requests
    with requests.Session() as http:
        http.verify = arm.ca_bundle
        app = msal.ConfidentialClientApplication(
            SEED_SP.client_id, client_credential=SEED_SP.secret, authority=f"{arm.url}/{TENANT_DOMAIN}",
            instance_discovery=f"{arm.url}/common/discovery/instance", http_client=http)
        result = app.acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in result, result
