"""The ARM and Azure AD side of the test config: principals, roles, web services, and a small client.

The seed config (fixtures/seed-emulator.json) already has tenant ``mycompany.com``, the seed's service
principal (Contributor on the resource group) and the ARM web service ``myWebService``. ``arm_extras``
adds what only tests need; conftest.py merges it into the test config and serves the same emulator over
HTTPS (``arm`` fixture).
"""
from __future__ import annotations

from dataclasses import dataclass

import requests

from .helpers import RESOURCE

TENANT = "72f988bf-0000-4000-8000-00000000c0de"
TENANT_DOMAIN = "mycompany.com"
OTHER_TENANT = "5e5e5e5e-0000-4000-8000-000000000002"
OTHER_DOMAIN = "othercorp.onmicrosoft.com"
SUB = "00000000-0000-0000-0000-000000000000"
RG = "Default-MachineLearning-SouthCentralUS"
SUB2 = "11111111-2222-3333-4444-555555555555"
RG2 = "rg-two"

ARM_WS = "myWebService"                          # the seed's ARM web service
ARM_SVC = "5d1e0a7b3c9f4e2a8b6d0c1f2e3a4b5c"     # its runtime id: /subscriptions/{SUB}/services/{ARM_SVC}
ARM_KEY = "YXJtLXdlYnNlcnZpY2UtcHJpbWFyeS1rZXktZm9yLWFkZmVtdS10ZXN0cy1ub3QtYS1yZWFsLXNlY3JldDAwMDA="
ARM_KEY2 = "YXJtLXdlYnNlcnZpY2Utc2Vjb25kYXJ5LWtleS1mb3ItYWRmZW11LXRlc3RzLW5vdC1hLXJlYWwtc2VjcmV0MDA="
READONLY_WS = "readOnlyService"
READONLY_SVC = "6e2f1b8c4d0a5f3b9c7e1d2f3a4b5c6d"
SECOND_WS = "secondService"
SECOND_SVC = "7f3a2c9d5e1b6a4c0d8f2e3a4b5c6d7e"
OTHER_SUB_WS = "serviceInSub2"
OTHER_SUB_SVC = "8a4b3d0e6f2c7b5d1e9a3f4b5c6d7e8f"


@dataclass(frozen=True)
class Principal:
    client_id: str
    object_id: str
    secret: str
    tenant: str = TENANT_DOMAIN


# The seed's principal (servicePrincipalId / servicePrincipalKey of updatableScoringEndpoint2): Contributor on RG
SEED_SP = Principal("fe200044-c008-4008-a005-94000000731", "3b4c5d6e-7f80-4192-a3b4-c5d6e7f80912",
                    "zWa0000000000Tp6FjtZOspK/WMA2tQ08c8U+gZRBlw=")
READER_SP = Principal("a1a1a1a1-0000-4000-8000-0000000000a1", "a1a1a1a1-1111-4000-8000-0000000000a1",
                      "cmVhZGVyLXNlY3JldC1ub3QtcmVhbC0wMDAwMDAwMDAw")        # Reader on SUB
OWNER_SP = Principal("b2b2b2b2-0000-4000-8000-0000000000b2", "b2b2b2b2-1111-4000-8000-0000000000b2",
                     "b3duZXItc2VjcmV0LW5vdC1yZWFsLTAwMDAwMDAwMDAwMA==")     # Owner on SUB and SUB2
NO_ROLE_SP = Principal("c3c3c3c3-0000-4000-8000-0000000000c3", "c3c3c3c3-1111-4000-8000-0000000000c3",
                       "bm8tcm9sZS1zZWNyZXQtbm90LXJlYWwtMDAwMDAwMDAw")       # no role anywhere
RESOURCE_SP = Principal("d4d4d4d4-0000-4000-8000-0000000000d4", "d4d4d4d4-1111-4000-8000-0000000000d4",
                        "cmVzb3VyY2Utc2NvcGUtc2VjcmV0LW5vdC1yZWFsLTAw")      # Contributor on myWebService only
SHORT_LIVED_SP = Principal("e5e5e5e5-0000-4000-8000-0000000000e5", "e5e5e5e5-1111-4000-8000-0000000000e5",
                           "c2hvcnQtbGl2ZWQtc2VjcmV0LW5vdC1yZWFsLTAwMDAw")   # tokens expire when issued
EXPIRED_SECRET_SP = Principal("f6f6f6f6-0000-4000-8000-0000000000f6", "f6f6f6f6-1111-4000-8000-0000000000f6",
                              "ZXhwaXJlZC1zZWNyZXQtbm90LXJlYWwtMDAwMDAwMDA=")  # AADSTS7000222
FOREIGN_SP = Principal("0a0a0a0a-0000-4000-8000-00000000000a", "0a0a0a0a-1111-4000-8000-00000000000a",
                       "Zm9yZWlnbi1zZWNyZXQtbm90LXJlYWwtMDAwMDAwMDAw", OTHER_DOMAIN)  # other tenant, Owner on SUB

ALL_SECRETS = [p.secret for p in (SEED_SP, READER_SP, OWNER_SP, NO_ROLE_SP, RESOURCE_SP, SHORT_LIVED_SP,
                                  EXPIRED_SECRET_SP, FOREIGN_SP)] + [ARM_KEY, ARM_KEY2]


def ws_id(name: str = ARM_WS, sub: str = SUB, rg: str = RG) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearning/webServices/{name}"


def _sp(p: Principal, **extra) -> dict:
    return dict({"clientId": p.client_id, "objectId": p.object_id, "secret": p.secret}, **extra)


def arm_extras(doc: dict) -> None:
    """Add the test principals, roles, a second subscription and more ARM web services to ``doc``."""
    tenants = doc["azureAd"]["tenants"]
    tenants[0]["servicePrincipals"] += [_sp(READER_SP), _sp(OWNER_SP), _sp(NO_ROLE_SP), _sp(RESOURCE_SP),
                                        _sp(SHORT_LIVED_SP, tokenLifetimeSeconds=0),
                                        _sp(EXPIRED_SECRET_SP, secretExpired=True)]
    tenants.append({"id": OTHER_TENANT, "domains": [OTHER_DOMAIN], "servicePrincipals": [_sp(FOREIGN_SP)]})
    rm = doc["resourceManager"]
    rm["pageSize"] = 2
    rm["subscriptions"].append({"id": SUB2, "tenant": TENANT, "resourceGroups": [{"name": RG2, "location": "West Europe"}]})
    rm["roleAssignments"] += [
        {"principal": READER_SP.client_id, "role": "Reader", "scope": f"/subscriptions/{SUB}"},
        {"principal": OWNER_SP.object_id, "role": "Owner", "scope": f"/subscriptions/{SUB}"},
        {"principal": OWNER_SP.client_id, "role": "Owner", "scope": f"/subscriptions/{SUB2}"},
        {"principal": RESOURCE_SP.client_id, "role": "Contributor", "scope": ws_id()},
        {"principal": SHORT_LIVED_SP.client_id, "role": "Contributor", "scope": f"/subscriptions/{SUB}/resourceGroups/{RG}"},
        {"principal": FOREIGN_SP.client_id, "role": "Owner", "scope": f"/subscriptions/{SUB}"},
    ]
    services = doc["workspaces"][0]["webServices"]
    for svc_id, name, sub, rg, extra in ((READONLY_SVC, READONLY_WS, SUB, RG, {"readOnly": True}),
                                         (SECOND_SVC, SECOND_WS, SUB, RG, {}),
                                         (OTHER_SUB_SVC, OTHER_SUB_WS, SUB2, RG2, {"location": "West Europe"})):
        services.append({"id": svc_id, "name": f"ARM test service {name}", "kind": "predictive",
                         "arm": dict({"subscriptionId": sub, "resourceGroup": rg, "name": name}, **extra),
                         "resources": [{"name": RESOURCE, "model": "models/initial.ilearner"}]})


@dataclass
class Arm:
    """A plain ``requests`` client for the emulated Azure AD and Resource Manager (HTTPS, test CA)."""
    url: str
    ca_bundle: str
    emulator: object  # emulator.app.Emulator, for the journal

    def token_response(self, p: Principal, *, v2: bool = False, resource: str = "https://management.azure.com/",
                       tenant: str | None = None, secret: str | None = None, **form) -> requests.Response:
        fields = {"grant_type": "client_credentials", "client_id": p.client_id,
                  "client_secret": p.secret if secret is None else secret}
        if v2:
            fields["scope"] = resource.rstrip("/") + "/.default"
        else:
            fields["resource"] = resource
        fields.update(form)
        path = "oauth2/v2.0/token" if v2 else "oauth2/token"
        return requests.post(f"{self.url}/{tenant or p.tenant}/{path}", data=fields, verify=self.ca_bundle, timeout=30)

    def token(self, p: Principal = SEED_SP, **kw) -> str:
        response = self.token_response(p, **kw)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def request(self, method: str, path: str, token: str | None = None, *, api_version: str | None = "2016-05-01-preview",
                body=None, headers: dict | None = None) -> requests.Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        url = path if path.startswith("https://") else self.url + path
        params = {"api-version": api_version} if api_version is not None and "api-version=" not in url else None
        return requests.request(method, url, params=params, json=body, headers=all_headers,
                                verify=self.ca_bundle, timeout=30)

    def wait(self, response: requests.Response, token: str, timeout: float = 30.0) -> dict:
        """Follow Azure-AsyncOperation to a terminal status (polling with a deadline); the last status body."""
        from .helpers import deadline_poll
        url = response.headers["Azure-AsyncOperation"]

        def terminal():
            body = self.request("GET", url, token, api_version=None).json()
            return body if body["status"] in ("Succeeded", "Failed", "Canceled") else None
        return deadline_poll(terminal, timeout=timeout)

    def score(self, rows: list[dict], svc: str = ARM_SVC, key: str = ARM_KEY, sub: str = SUB) -> requests.Response:
        return requests.post(f"{self.url}/subscriptions/{sub}/services/{svc}/execute",
                             params={"api-version": "2.0", "format": "swagger"},
                             json={"Inputs": {"input1": rows}, "GlobalParameters": {}},
                             headers={"Authorization": f"Bearer {key}"}, verify=self.ca_bundle, timeout=30)
