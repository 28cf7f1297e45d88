"""Update Resource through Azure Resource Manager, as ADF does it for a "new" web service (ADF documents
only the service principal it uses; the calls are inferred from the ARM spec): a client-credentials token
for the linked service's service principal, GET the ``Microsoft.MachineLearning/webServices`` resource,
PATCH the asset named ``trainedModelName`` with the new ``.ilearner`` (blob URL plus a read SAS), then
follow ``Azure-AsyncOperation`` to a terminal state.

Every failure names its cause and quotes the upstream code: the AADSTS error, ARM's ``error.code``, the
missing asset, or the operation's terminal ``Failed``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from ..endpoints import UnmappedHost
from ..engine import ActivityError, Call
from ..identity import token_or_reason
from ..masking import masked

AML_ERROR = "2600"
AUTHORITY = "https://login.microsoftonline.com"
ARM_RESOURCE = "https://management.azure.com/"
TERMINAL = ("succeeded", "failed", "canceled")


def is_arm_endpoint(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() == "management.azure.com"


def update_resource_arm(call: Call, endpoint: str, props: dict, secret: str, location: dict) -> None:
    """``props``: the AzureML linked service's typeProperties (``secret`` its servicePrincipalKey resolved);
    ``location``: BaseLocation / RelativeLocation / SasBlobToken of the new model."""
    client = _Arm(call, endpoint)
    token = client.token(str(call.evaluate(props.get("tenant")) or ""),
                         str(call.evaluate(props.get("servicePrincipalId")) or ""), secret)
    resource = client.json("GET", endpoint, token)
    name = call.evaluate(call.props.get("trainedModelName"))
    assets = ((resource.get("properties") or {}).get("assets") or {}) if isinstance(resource, dict) else {}
    key = next((k for k, a in assets.items() if isinstance(a, dict) and a.get("name") == name), None)
    if key is None:
        known = ", ".join(f"'{a.get('name')}'" for a in assets.values() if isinstance(a, dict)) or "none"
        raise ActivityError(f"Update Resource failed: the web service {client.shown} has no asset named '{name}' "
                            f"(its assets: {known}).", AML_ERROR, "UserError")
    uri = location["BaseLocation"].rstrip("/") + "/" + location["RelativeLocation"].lstrip("/") \
        + location["SasBlobToken"]
    asset = dict(assets[key], locationInfo={"uri": uri})
    body = {"properties": {"packageType": "Graph", "assets": {key: asset}}}
    call.record.input = masked(body)
    response = client.call("PATCH", endpoint, token, body)
    client.follow(response, token)


class _Arm:
    def __init__(self, call: Call, endpoint: str):
        self.call_ = call
        self.services = call.engine.settings.services
        self.shown = endpoint.split("?", 1)[0]

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            target = self.services.endpoints.map(url)
        except UnmappedHost as exc:
            raise ActivityError(f"Update Resource failed: {exc}", AML_ERROR, "UserError") from None
        try:
            return self.services.session.request(method, target, timeout=self.services.request_timeout,
                                                 verify=self.services.verify, **kwargs)
        except requests.RequestException as exc:
            host = urlsplit(url).hostname
            raise ActivityError(f"Update Resource failed: {host} could not be reached: {type(exc).__name__}.",
                                AML_ERROR, "SystemError") from None

    def token(self, tenant: str, client_id: str, secret: str) -> str:
        """An ARM token from the v1 endpoint (``resource=``), as ADF asks for one (inferred)."""
        if not (tenant and client_id and secret):
            raise ActivityError("Update Resource through Azure Resource Manager needs servicePrincipalId, "
                                "servicePrincipalKey and tenant in the AzureML linked service.", AML_ERROR)
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
                "resource": ARM_RESOURCE}
        response = self._send("POST", f"{AUTHORITY}/{tenant}/oauth2/token", data=form)
        access, reason = token_or_reason(response)
        if access is not None:
            return access
        raise ActivityError(f"Update Resource failed: Azure AD refused a token to service principal '{client_id}' "
                            f"in tenant '{tenant}': {reason}", AML_ERROR, "UserError")

    def call(self, method: str, url: str, token: str, body: Any = None) -> requests.Response:
        response = self._send(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
        if not response.ok:
            raise ActivityError(f"Update Resource failed. The response from Azure Resource Manager at endpoint "
                                f"{self.shown} was '{_arm_message(response)}'.", AML_ERROR,
                                "UserError" if response.status_code < 500 else "SystemError")
        return response

    def json(self, method: str, url: str, token: str) -> Any:
        response = self.call(method, url, token)
        try:
            return response.json()
        except ValueError:
            raise ActivityError(f"Update Resource failed: unreadable answer from {self.shown}.", AML_ERROR,
                                "SystemError") from None

    def follow(self, response: requests.Response, token: str) -> None:
        """Poll ``Azure-AsyncOperation`` until terminal, waiting ``Retry-After`` (scaled) between polls."""
        status_url = response.headers.get("Azure-AsyncOperation")
        while status_url:
            wait = _retry_after(response)
            response = self.call("GET", status_url, token)
            try:
                body = response.json()
            except ValueError:
                body = None
            status = str((body or {}).get("status", "")).lower() if isinstance(body, dict) else ""
            if status == "succeeded":
                return
            if status in TERMINAL:
                error = body.get("error") or body.get("errorInfo") or {}
                raise ActivityError(f"Update Resource failed: the update of {self.shown} ended {body.get('status')}: "
                                    f"({error.get('code')}) {error.get('message')}", AML_ERROR, "UserError")
            self.call_.sleep(_retry_after(response) or wait or self.call_.engine.settings.poll_seconds)


def _retry_after(response: requests.Response) -> float:
    try:
        return float(response.headers.get("Retry-After", "0"))
    except ValueError:
        return 0.0


def _arm_message(response: requests.Response) -> str:
    """``(code) message`` of ARM's error envelope."""
    try:
        error = response.json()["error"]
        return f"({error['code']}) {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"

