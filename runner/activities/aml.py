"""The AzureML Studio (classic) activities, calling the services over HTTP as ADF does (its calls are
inferred from the BES jobs API and the classic management API's PATCH, which ADF's activities map onto).

Failures become ADF's error shape (as reported in MicrosoftDocs/azure-docs#32354 and #36574): ``errorCode``
"2600", ``failureType`` UserError for 4xx answers (SystemError for 5xx and unreachable services), ``target``
the activity, and the message template
``Batch Execution failed. The response from the Machine Learning service at endpoint {url} was '{msg}'.``
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from azure.storage.blob import BlobSasPermissions, generate_blob_sas

from ..blobs import parse_connection_string
from ..definitions import DefinitionsError
from ..endpoints import UnmappedHost
from ..engine import ActivityError, ActivityTimeout, Call
from ..secrets import SecretError, resolve
from .aml_arm import is_arm_endpoint, update_resource_arm
from .masking import masked

AML_ERROR = "2600"
TERMINAL = ("Finished", "Failed", "Cancelled")
SAS_LIFETIME = timedelta(hours=2)


def batch_execution(call: Call) -> dict:
    ml_endpoint, api_key = _aml_linked_service(call)
    jobs_url = _with_api_version(ml_endpoint)
    shown = urlunsplit(urlsplit(ml_endpoint)._replace(query="", fragment=""))
    body = {"Inputs": _ports(call, "webServiceInputs"), "Outputs": _ports(call, "webServiceOutputs"),
            "GlobalParameters": {k: _text(call.evaluate(v))
                                 for k, v in (call.props.get("globalParameters") or {}).items()}}
    call.record.input = masked(body)
    base, query = jobs_url.split("?", 1)
    http = _Http(call, shown, api_key, "Batch Execution")
    job_id = http.json("POST", jobs_url, body)
    job = f"{base}/{job_id}"
    http.call("POST", f"{job}/start?{query}", {})
    try:
        while True:
            status = http.json("GET", f"{job}?{query}")
            code = status.get("StatusCode") if isinstance(status, dict) else None
            if code in TERMINAL:
                break
            call.sleep(call.engine.settings.poll_seconds, _timeout_label(call))
    except ActivityTimeout:
        http.call("DELETE", f"{job}?{query}", None, check=False)  # ADF cancels the job on timeout (inferred)
        raise
    if code == "Failed":
        raise _aml_error("Batch Execution", shown, str(status.get("Details") or "The job failed."))
    if code == "Cancelled":
        raise _aml_error("Batch Execution", shown, "The job was cancelled.")
    return {"effectiveIntegrationRuntime": _runtime(ml_endpoint), "jobId": job_id, "status": code}


def update_resource(call: Call) -> dict:
    ls_name = (call.activity.get("linkedServiceName") or {}).get("referenceName")
    props = _linked_service_props(call, ls_name)
    endpoint = call.evaluate(props.get("updateResourceEndpoint"))
    if not endpoint:
        raise ActivityError(f"Linked service '{ls_name}' has no updateResourceEndpoint, which Update Resource "
                            "needs.", AML_ERROR)
    name = call.evaluate(call.props.get("trainedModelName"))
    path = call.evaluate(call.props.get("trainedModelFilePath"))
    storage = (call.props.get("trainedModelLinkedServiceName") or {}).get("referenceName")
    location = _read_location(call, storage, str(path))
    if is_arm_endpoint(str(endpoint)):
        secret = _secret(call, props.get("servicePrincipalKey"))
        update_resource_arm(call, str(endpoint), props, secret, location)
    else:
        api_key = _secret(call, props.get("apiKey"))
        body = {"Resources": [{"Name": name, "Location": location}]}
        call.record.input = masked(body)
        _Http(call, endpoint, api_key, "Update Resource").call("PATCH", endpoint, body)
    return {"effectiveIntegrationRuntime": _runtime(endpoint), "status": "Succeeded"}


# --- helpers ------------------------------------------------------------------------------------------

class _Http:
    """One service's calls: mapped URL, Bearer key, failures as ADF's 2600 error."""

    def __init__(self, call: Call, shown: str, key: str, operation: str):
        self.call_, self.shown, self.key, self.operation = call, shown, key, operation

    def call(self, method: str, url: str, body: Any = None, check: bool = True) -> requests.Response | None:
        services = self.call_.engine.settings.services
        try:
            target = services.endpoints.map(url)
        except UnmappedHost as exc:
            raise ActivityError(f"{self.operation} failed: {exc}", AML_ERROR, "UserError") from None
        headers = {"Authorization": f"Bearer {self.key}"}
        try:
            response = services.session.request(method, target, json=body, headers=headers, verify=services.verify,
                                                timeout=services.request_timeout)
        except requests.RequestException as exc:
            if not check:
                return None
            raise ActivityError(f"{self.operation} failed. The Machine Learning service at endpoint {self.shown} "
                                f"could not be reached: {type(exc).__name__}.", AML_ERROR, "SystemError") from None
        if check and not response.ok:
            raise _aml_error(self.operation, self.shown, _aml_message(response),
                             "UserError" if response.status_code < 500 else "SystemError")
        return response

    def json(self, method: str, url: str, body: Any = None) -> Any:
        response = self.call(method, url, body)
        try:
            return response.json()
        except ValueError:
            raise _aml_error(self.operation, self.shown, f"Unreadable response: {response.text[:200]}",
                             "SystemError") from None


def _aml_error(operation: str, shown: str, message: str, failure: str = "UserError") -> ActivityError:
    return ActivityError(f"{operation} failed. The response from the Machine Learning service at endpoint {shown} "
                         f"was '{message}'.", AML_ERROR, failure)


def _aml_message(response: requests.Response) -> str:
    """``error.message`` followed by the detail messages, as ADF quotes them."""
    try:
        error = response.json()["error"]
        details = [d.get("message", "") for d in error.get("details") or [] if isinstance(d, dict)]
        return " ".join(m for m in [error.get("message", "")] + details if m)
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"


def _aml_linked_service(call: Call) -> tuple[str, str]:
    name = (call.activity.get("linkedServiceName") or {}).get("referenceName")
    props = _linked_service_props(call, name)
    endpoint = call.evaluate(props.get("mlEndpoint"))
    if not endpoint:
        raise ActivityError(f"Linked service '{name}' has no mlEndpoint.", AML_ERROR)
    return str(endpoint), _secret(call, props.get("apiKey"))


def _linked_service_props(call: Call, name: str) -> dict:
    try:
        doc = call.engine.definitions.linked_service(name)
    except DefinitionsError as exc:
        raise ActivityError(str(exc)) from None
    return (doc.get("properties") or {}).get("typeProperties") or {}


def _secret(call: Call, value: Any) -> str:
    try:
        return resolve(value, call.engine.definitions, call.engine.settings.services.vaults) or ""
    except (SecretError, DefinitionsError) as exc:
        raise ActivityError(str(exc)) from None


def _ports(call: Call, side: str) -> dict:
    ports = {}
    for port, spec in (call.props.get(side) or {}).items():
        storage = (spec.get("linkedServiceName") or {}).get("referenceName")
        path = str(call.evaluate(spec.get("filePath")))  # verbatim, as ADF passes it (issue #32354)
        connection, sas_uri = _storage(call, storage)
        if connection:
            ports[port] = {"ConnectionString": connection, "RelativeLocation": path}
        else:
            parts = urlsplit(sas_uri)
            ports[port] = {"BaseLocation": f"{parts.scheme}://{parts.netloc}/", "RelativeLocation": path,
                           "SasBlobToken": f"?{parts.query}"}
    return ports


def _storage(call: Call, name: str) -> tuple[str | None, str | None]:
    props = _linked_service_props(call, name)
    connection = props.get("connectionString")
    connection = _secret(call, connection) if connection is not None else None
    sas_uri = _secret(call, props.get("sasUri")) if props.get("sasUri") is not None else None
    if not connection and not sas_uri:
        raise ActivityError(f"Storage linked service '{name}' has neither connectionString nor sasUri.")
    return connection, sas_uri


def _read_location(call: Call, storage: str, path: str) -> dict:
    """BaseLocation + RelativeLocation + a read SAS for the .ilearner, minted from the account key."""
    connection, sas_uri = _storage(call, storage)
    if connection:
        try:
            parts = parse_connection_string(connection)
        except ValueError as exc:
            raise ActivityError(f"Storage linked service '{storage}': its connectionString is not valid ({exc}).") \
                from None
        account, key = parts.get("AccountName"), parts.get("AccountKey")
        if not account or not key:
            raise ActivityError(f"Storage linked service '{storage}' needs AccountName and AccountKey to share the "
                                "model with a SAS.")
        container, _, blob = path.lstrip("/").partition("/")
        try:
            sas = generate_blob_sas(account, container, blob, account_key=key, permission=BlobSasPermissions(read=True),
                                    expiry=datetime.now(timezone.utc) + SAS_LIFETIME)
        except (ValueError, TypeError) as exc:
            raise ActivityError(f"Cannot sign a SAS for '{path}' with the key of '{storage}': {type(exc).__name__}.") \
                from None
        return {"BaseLocation": f"https://{account}.blob.core.windows.net/", "RelativeLocation": path,
                "SasBlobToken": f"?{sas}"}
    parts = urlsplit(sas_uri)
    return {"BaseLocation": f"{parts.scheme}://{parts.netloc}/", "RelativeLocation": path,
            "SasBlobToken": f"?{parts.query}"}


def _with_api_version(url: str) -> str:
    parts = urlsplit(url.strip())
    query = dict(parse_qsl(parts.query))
    query.setdefault("api-version", "2.0")
    return urlunsplit(parts._replace(query=urlencode(query)))


def _runtime(url: str) -> str:
    """ADF's Azure integration runtime, named after the service's region (inferred: the output is undocumented)."""
    host = (urlsplit(url).hostname or "").split(".")[0]
    region = host if host not in ("management", "") else "ussouthcentral"
    return f"DefaultIntegrationRuntime ({region})"


def _timeout_label(call: Call) -> str:
    return str((call.activity.get("policy") or {}).get("timeout") or "12:00:00")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return value if isinstance(value, str) else str(value)


HANDLERS = {"AzureMLBatchExecution": batch_execution, "AzureMLUpdateResource": update_resource}
