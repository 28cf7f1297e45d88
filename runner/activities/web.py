"""The Web and WebHook activities (Microsoft Learn, "Web activity in Azure Data Factory and Azure Synapse
Analytics", "Webhook activity in Azure Data Factory"), over real HTTP.

URLs go through the endpoint mapping: Azure hosts adfemu emulates (and a config's ``endpoints``) reach the
emulator; a local URL (``localhost``, ``127.*``) is called as it is, so a user's own service works; any other host
is refused (adfemu never calls the real Azure) with the documented 2108 error.

Web: ``method`` GET/POST/PUT/PATCH/DELETE, ``headers``, ``body`` (required for POST/PUT/PATCH; an object or array
is sent as JSON), ``datasets``/``linkedServices`` added to an object body, ``httpRequestTimeout`` (default
00:01:00, at most 00:10:00, real time: the network is not compressed), ``disableCertValidation``, the
asynchronous 202 + ``Location`` pattern unless ``turnOffAsync``. The output is the JSON object the endpoint
returned (other content as ``{"Response": text}``) plus ``ADFWebActivityResponseHeaders``,
``effectiveIntegrationRuntime``, ``executionDuration`` and ``durationInQueue``. A non-2xx answer, an unreachable
URL or a timeout fail with 2108; an output over 4 MB with 2001; a managed-identity token failure with 2403.

WebHook: POSTs the body with ``callBackUri`` added (a local endpoint adfemu serves for the activity) and waits
for that URI to be called until ``timeout`` (default 00:10:00, emulated: compressed by the time scale). With
``reportStatusOnCallBack`` a callback ``StatusCode`` >= 400 fails the activity with the callback's ``Error``
(``ErrorCode``, ``Message``) and ``Output`` is the output; otherwise the callback body is the output.

``authentication``: ``Basic`` (username/password), ``MSI`` (the factory's managed identity, a token for
``resource`` from the emulated Azure AD) and ``ServicePrincipal`` (``tenant``/``userTenant``,
``servicePrincipalId``/``username``, ``servicePrincipalKey``/``password``, ``resource``); ``ClientCertificate``
and user-assigned identities (``credential``) are not emulated. Secrets are masked in the run record.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

from ..datasets import resolve_dataset
from ..definitions import DefinitionsError
from ..endpoints import UnmappedHost
from ..engine import ActivityError, ActivityTimeout, Call, _seconds
from ..identity import TokenError, managed_identity, token
from ..secrets import SecretError, resolve
from .lookup import MAX_OUTPUT, OUTPUT_LIMIT
from .stores import EFFECTIVE_RUNTIME, NOT_SUPPORTED, check_options, flag

CALL_ERROR = "2108"
MSI_ERROR = "2403"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WITH_BODY = ("POST", "PUT", "PATCH")
MAX_REQUEST_TIMEOUT = 600
WEB_OPTIONS = frozenset({"method", "url", "headers", "body", "authentication", "disableCertValidation",
                         "httpRequestTimeout", "turnOffAsync", "datasets", "linkedServices", "connectVia"})
WEBHOOK_OPTIONS = frozenset({"method", "url", "headers", "body", "authentication", "timeout", "reportStatusOnCallBack"})
AUTH_OPTIONS = frozenset({"type", "username", "password", "resource", "tenant", "userTenant", "servicePrincipalId",
                          "servicePrincipalKey"})
SECRET_KEYS = ("password", "servicePrincipalKey", "pfx")


# --- requests ------------------------------------------------------------------------------------------------------

def _target(call: Call, url: str) -> str:
    """The URL to call: local ones as they are, Azure ones through the endpoint mapping, others refused."""
    endpoints = call.engine.settings.services.endpoints
    host = (urlsplit(url).hostname or "").lower()
    overridden = any(re.fullmatch(p, host) for p in endpoints.overrides)
    if not overridden and (host in ("localhost", "::1") or host.startswith("127.")):
        return url
    try:
        return endpoints.map(url)
    except UnmappedHost as exc:
        raise ActivityError(f"Error calling the endpoint '{url}'. Response status code: 'NA - Unknown'. More details: "
                            f"Exception message: 'NA - Unknown [ClientSideException] Invalid Url: {url}. adfemu calls "
                            f"local URLs and the Azure hosts it emulates only: {exc}'.", CALL_ERROR) from None


def _secret(call: Call, value: Any) -> str:
    try:
        return resolve(call.evaluate(value) if isinstance(value, str) else value, call.engine.definitions,
                       call.engine.settings.services.vaults) or ""
    except (SecretError, DefinitionsError) as exc:
        raise ActivityError(f"Activity '{call.name}': {exc}.") from None


def _authorization(call: Call, auth: Any) -> dict[str, str]:
    """The headers (or basic credentials marker) an ``authentication`` object gives."""
    if not auth:
        return {}
    auth = check_options(call, "authentication", auth, AUTH_OPTIONS | {"pfx", "credential"})
    kind = str(call.evaluate(auth.get("type")) or "")
    services = call.engine.settings.services
    if kind == "Basic":
        pair = f"{call.evaluate(auth.get('username')) or ''}:{_secret(call, auth.get('password'))}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    if kind in ("MSI", "ManagedServiceIdentity", "SystemAssignedManagedIdentity"):
        resource = str(call.evaluate(auth.get("resource")) or "")
        tenant, client, secret = managed_identity(call.engine.definitions.factory_name)
        try:
            return {"Authorization": f"Bearer {token(services, tenant, client, secret, resource)}"}
        except TokenError as exc:
            raise ActivityError(f"Get access token from MSI failed for Datafactory "
                                f"{call.engine.definitions.factory_name}, region East US. Please verify resource url "
                                f"is valid and retry. Details: {exc}", MSI_ERROR) from None
    if kind == "ServicePrincipal":
        tenant = str(call.evaluate(auth.get("tenant") or auth.get("userTenant")) or "")
        client = str(call.evaluate(auth.get("servicePrincipalId") or auth.get("username")) or "")
        secret = _secret(call, auth.get("servicePrincipalKey") or auth.get("password"))
        resource = str(call.evaluate(auth.get("resource")) or "")
        if not (tenant and client and secret and resource):
            raise ActivityError(f"Activity '{call.name}': ServicePrincipal authentication needs tenant, "
                                "servicePrincipalId, servicePrincipalKey and resource.")
        try:
            return {"Authorization": f"Bearer {token(services, tenant, client, secret, resource)}"}
        except TokenError as exc:
            raise ActivityError(f"Activity '{call.name}': Azure AD refused a token to service principal '{client}' "
                                f"in tenant '{tenant}' for '{resource}': {exc}", CALL_ERROR) from None
    raise ActivityError(f"Activity '{call.name}': authentication type '{kind}' is not emulated by adfemu (Basic, "
                        "MSI and ServicePrincipal are).", NOT_SUPPORTED)


def _redacted(value: Any) -> Any:
    """The activity input as the record shows it: secrets and Authorization headers masked."""
    if isinstance(value, dict):
        if value.get("type") in ("SecureString", "AzureKeyVaultSecret"):
            return {"type": value.get("type"), "value": "***"} if value.get("type") == "SecureString" else value
        return {k: "***" if (k in SECRET_KEYS or k.lower() == "authorization") and v else _redacted(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _timeout(call: Call, text: Any, default: str, maximum: float | None, what: str) -> tuple[float, str]:
    text = str(call.evaluate(text) or default)
    seconds = _seconds(text)
    if seconds is None or (maximum is not None and seconds > maximum):
        raise ActivityError(f"Activity '{call.name}': {what} '{text}' is not a timespan of at most "
                            f"{'00:10:00' if maximum else 'd.hh:mm:ss'}.")
    return seconds, text


def _send(call: Call, method: str, url: str, headers: dict, body: Any, timeout: float, verify: Any) -> requests.Response:
    services = call.engine.settings.services
    data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    if data is not None and not isinstance(body, (str, bytes)) and not any(k.lower() == "content-type" for k in headers):
        headers = {**headers, "Content-Type": "application/json"}
    try:
        return services.session.request(method, _target(call, url), headers=headers, data=data, timeout=timeout,
                                        verify=verify, allow_redirects=False)
    except requests.Timeout:
        raise ActivityError(f"Error calling the endpoint '{url}'. Response status code: 'NA - Unknown'. More details: "
                            f"Exception message: 'NA - Unknown [ClientSideException] The request did not get a "
                            f"response within the httpRequestTimeout of {timeout:g} seconds.'", CALL_ERROR) from None
    except requests.RequestException as exc:
        raise ActivityError(f"Error calling the endpoint '{url}'. Response status code: 'NA - Unknown'. More details: "
                            f"Exception message: 'NA - Unknown [ClientSideException] {type(exc).__name__}'. Request "
                            "didn't reach the server from the client.", CALL_ERROR) from None


def _check(url: str, response: requests.Response) -> None:
    if not 200 <= response.status_code < 300:
        raise ActivityError(f"Error calling the endpoint '{url}'. Response status code: '{response.status_code} "
                            f"({response.reason})'. More details: {response.text[:500]}", CALL_ERROR,
                            "UserError" if response.status_code < 500 else "SystemError")


def _headers(call: Call, value: Any) -> dict[str, str]:
    headers = call.evaluate(value) or {}
    if isinstance(headers, str):
        try:
            headers = json.loads(headers)
        except ValueError:
            raise ActivityError(f"Activity '{call.name}': headers must be an object of name -> value.") from None
    if not isinstance(headers, dict):
        raise ActivityError(f"Activity '{call.name}': headers must be an object of name -> value.")
    return {str(k): str(v) for k, v in headers.items()}


# --- Web -----------------------------------------------------------------------------------------------------------

def web(call: Call) -> dict:
    call.record.input = _redacted(call.record.input)  # first: a failure below must not show a secret either
    props = check_options(call, "typeProperties", call.props, WEB_OPTIONS)
    method = str(call.evaluate(props.get("method")) or "").upper()
    if method not in METHODS:
        raise ActivityError(f"Activity '{call.name}': method '{props.get('method')}' is not one of "
                            f"{', '.join(METHODS)}.")
    url = str(call.evaluate(props.get("url")) or "")
    body = call.evaluate(props.get("body"))
    if method in WITH_BODY and body is None:
        raise ActivityError(f"Activity '{call.name}': body is required for the {method} method.")
    body = _with_references(call, props, body)
    timeout, _ = _timeout(call, props.get("httpRequestTimeout"), "00:01:00", MAX_REQUEST_TIMEOUT,
                          "httpRequestTimeout")
    headers = {**_headers(call, props.get("headers")), **_authorization(call, call.props.get("authentication"))}
    verify = False if flag(props.get("disableCertValidation"), False) else call.engine.settings.services.verify
    started = time.monotonic()
    response = _send(call, method, url, headers, body, timeout, verify)
    _check(url, response)
    while response.status_code == 202 and response.headers.get("Location") \
            and not flag(props.get("turnOffAsync"), False):
        call.sleep(float(response.headers.get("Retry-After") or 1))
        location = response.headers["Location"]
        response = _send(call, "GET", location, headers, None, timeout, verify)
        _check(location, response)
    output = _response_output(response)
    output.update({"ADFWebActivityResponseHeaders": dict(response.headers),
                   "effectiveIntegrationRuntime": EFFECTIVE_RUNTIME,
                   "executionDuration": int(time.monotonic() - started),
                   "durationInQueue": {"integrationRuntimeQueue": 0}})
    if len(json.dumps(output, default=str)) > MAX_OUTPUT:
        raise ActivityError(OUTPUT_LIMIT[1], OUTPUT_LIMIT[0])
    return output


def _response_output(response: requests.Response) -> dict:
    try:
        value = response.json()
    except ValueError:
        return {"Response": response.text}
    return dict(value) if isinstance(value, dict) else {"Response": value}


def _with_references(call: Call, props: dict, body: Any) -> Any:
    """``datasets`` and ``linkedServices`` go into an object body as the request payload schema shows."""
    datasets = call.evaluate(props.get("datasets") or [])
    linked = call.evaluate(props.get("linkedServices") or [])
    if not datasets and not linked:
        return body
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            raise ActivityError(f"Activity '{call.name}': datasets/linkedServices need a JSON object body.") from None
    body = dict(body or {})
    if datasets:
        body["datasets"] = [{"name": d.name, "properties": {"type": d.type, "typeProperties": d.props}}
                            for d in (resolve_dataset(call, ref) for ref in datasets)]
    if linked:
        defs = call.engine.definitions
        body["linkedServices"] = [{"name": ref.get("referenceName"),
                                   "properties": (defs.linked_services.get(str(ref.get("referenceName")).lower())
                                                  or {}).get("properties", {})} for ref in linked]
    return body


# --- WebHook -------------------------------------------------------------------------------------------------------

class _Callback:
    """A local endpoint for one WebHook activity's callBackUri (stopped when the activity ends)."""

    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(16)
        self.event, self.body = threading.Event(), None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length) if length else b""
                if self.path.split("?")[0] != f"/webhook/callback/{owner.token}":
                    self.send_response(404)
                    self.end_headers()
                    return
                try:
                    owner.body = json.loads(payload or b"{}")
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(b'{"error": "the callback body must be valid JSON"}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")
                owner.event.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-callback", daemon=True)
        self.thread.start()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhook/callback/{self.token}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def webhook(call: Call) -> dict:
    call.record.input = _redacted(call.record.input)  # first: a failure below must not show a secret either
    props = check_options(call, "typeProperties", call.props, WEBHOOK_OPTIONS)
    method = str(call.evaluate(props.get("method")) or "").upper()
    if method != "POST":
        raise ActivityError(f"Activity '{call.name}': the WebHook method must be POST, not '{props.get('method')}'.")
    url = str(call.evaluate(props.get("url")) or "")
    body = call.evaluate(props.get("body"))
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            raise ActivityError(f"Activity '{call.name}': the WebHook body must be a JSON object.") from None
    if body is not None and not isinstance(body, dict):
        raise ActivityError(f"Activity '{call.name}': the WebHook body must be a JSON object.")
    timeout, timeout_text = _timeout(call, props.get("timeout"), "00:10:00", None, "timeout")
    headers = {**_headers(call, props.get("headers")), **_authorization(call, call.props.get("authentication"))}
    callback = _Callback()
    try:
        response = _send(call, "POST", url, headers, dict(body or {}, callBackUri=callback.uri), 60.0,
                         call.engine.settings.services.verify)
        _check(url, response)
        _wait(call, callback, timeout, timeout_text)
    finally:
        callback.close()
    result = callback.body if isinstance(callback.body, dict) else {"Response": callback.body}
    if flag(call.evaluate(props.get("reportStatusOnCallBack")), False):
        return _reported(call, result)
    return result


def _wait(call: Call, callback: _Callback, timeout: float, timeout_text: str) -> None:
    scale = call.engine.settings.time_scale
    deadline = time.monotonic() + timeout * scale if scale > 0 else None
    while not callback.event.wait(0.02):
        call.check_deadline()
        if call.execution.cancel.is_set():
            raise ActivityError("The pipeline run was cancelled.", "Cancelled")
        if deadline is not None and time.monotonic() >= deadline:
            raise ActivityTimeout(call.name, f"the WebHook timeout {timeout_text} (the callBackUri was not called)")


def _reported(call: Call, body: dict) -> dict:
    """``{"Output": {...}, "Error": {"ErrorCode", "Message"}, "StatusCode": "403"}`` (reportStatusOnCallBack)."""
    try:
        status = int(str(body.get("StatusCode") or "200"))
    except ValueError:
        status = 200
    if status >= 400:
        error = body.get("Error") if isinstance(body.get("Error"), dict) else {}
        raise ActivityError(str(error.get("Message") or f"The callback reported status {status}."),
                            str(error.get("ErrorCode") or status))
    output = body.get("Output")
    return dict(output) if isinstance(output, dict) else {}


HANDLERS = {"WebActivity": web, "WebHook": webhook}
