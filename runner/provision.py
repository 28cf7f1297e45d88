"""Zero-config provisioning: the emulated web services a factory expects, derived from its definitions.

Rules (issue "Runner", item 3), applied to every AzureML linked service the AML activities use:
- ``mlEndpoint`` (``…/workspaces/{ws}/services/{id}/jobs``) names the workspace and the endpoint's runtime
  id, and ``apiKey`` is that endpoint's key; ids are kept exactly as written;
- a linked service used by an ``AzureMLBatchExecution`` activity with an ``.ilearner`` output (a literal
  or an expression ending in ``.ilearner``) is a training service, otherwise a predictive one;
- its inputs and outputs are the port names the activities use in ``webServiceInputs``/``Outputs``, and
  the global parameters they send are declared optional;
- a classic ``updateResourceEndpoint`` (``…/workspaces/{ws}/webservices/{svc}/endpoints/{name}``) makes
  ``svc`` a predictive service whose non-default endpoint ``name`` has the runtime id and key above and a
  trained-model resource for each ``trainedModelName`` (no model until the first update);
- storage accounts that blob linked services name (connection strings, service endpoints, ADLS Gen2 URLs, SAS
  URIs) become Azurite accounts; one named without a key gets the key the runner derives for it (``blobs``);
- Web and WebHook activities authenticating with ``MSI`` make the factory's managed identity a service principal
  of the emulated Azure AD (``identity``), those with ``ServicePrincipal`` register theirs, and the ``resource``
  they ask tokens for is declared in its tenant.

The result is a document for ``schemas/emulator-config.schema.json`` plus a list of what was assumed.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

from .blobs import BLOB_TYPES, BlobStoreError, account_of, derived_key
from .definitions import Definitions, DefinitionsError, scopes
from .identity import MANAGED_IDENTITY_TENANT, managed_identity
from .secrets import SecretError, resolve

ML_ENDPOINT = re.compile(r"/(workspaces|subscriptions)/([^/]+)/services/([^/?]+)", re.I)
ARM_UPDATE = re.compile(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.MachineLearning/"
                        r"webServices/([^/?]+)", re.I)
CLASSIC_UPDATE = re.compile(r"/workspaces/([^/]+)/webservices/([^/]+)/endpoints/([^/?]+)", re.I)


@dataclass
class _Service:
    kind: str
    workspace: str
    id: str
    inputs: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: list[str] = field(default_factory=list)
    endpoints: list[dict] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    arm: dict | None = None  # subscriptionId, resourceGroup, name of the ARM resource
    principals: list[tuple[str, str, str]] = field(default_factory=list)  # (tenant, client id, secret) updating it


def emulator_config(defs: Definitions, vaults: dict | None = None, lenient: bool = False) -> tuple[dict, list[str]]:
    services: dict[tuple[str, str], _Service] = {}
    notes: list[str] = []
    for act in _aml_activities(defs):
        ls_name = (act.get("linkedServiceName") or {}).get("referenceName")
        props = ((defs.linked_services.get(str(ls_name).lower()) or {}).get("properties") or {}).get("typeProperties") or {}
        key = _key(props.get("apiKey"), defs, vaults or {})
        match = ML_ENDPOINT.search(str(props.get("mlEndpoint") or ""))
        if not match:
            notes.append(f"linked service '{ls_name}': mlEndpoint is not a BES URL; not provisioned")
            continue
        ws, endpoint_id = match.group(2), match.group(3)
        type_props = act.get("typeProperties") or {}
        if act["type"] == "AzureMLBatchExecution":
            outputs = {port: _output_kind(spec) for port, spec in (type_props.get("webServiceOutputs") or {}).items()}
            kind = "training" if "ilearner" in outputs.values() else "predictive"
            svc = services.setdefault((ws, endpoint_id), _Service(kind, ws, endpoint_id))
            if not svc.endpoints:
                svc.endpoints.append({"name": "default", "id": endpoint_id, "primaryKey": key})
                notes.append(f"'{ls_name}': {kind} web service {endpoint_id} in workspace {ws} "
                             f"(used by activity '{act['name']}')")
            _merge(svc.inputs, list((type_props.get("webServiceInputs") or {})))
            svc.outputs.update(outputs)
            _merge(svc.parameters, list((type_props.get("globalParameters") or {})))
        else:
            arm = ARM_UPDATE.search(str(props.get("updateResourceEndpoint") or ""))
            if arm:
                svc = services.setdefault((ws, endpoint_id), _Service("predictive", ws, endpoint_id))
                if not svc.endpoints:
                    svc.endpoints.append({"name": "default", "id": endpoint_id, "primaryKey": key})
                principal = _principal(props, defs, vaults or {})
                if principal and principal not in svc.principals:
                    svc.principals.append(principal)
                if svc.arm is None:
                    svc.arm = {"subscriptionId": arm.group(1), "resourceGroup": arm.group(2), "name": arm.group(3)}
                    notes.append(f"'{ls_name}': ARM web service {arm.group(3)} (subscription {arm.group(1)}, resource "
                                 f"group {arm.group(2)}), runtime id {endpoint_id}; service principal "
                                 f"'{principal[1] if principal else '?'}' is Contributor on the resource group")
                _merge(svc.resources, [str(type_props.get("trainedModelName"))])
                continue
            update = CLASSIC_UPDATE.search(str(props.get("updateResourceEndpoint") or ""))
            if not update:
                notes.append(f"'{ls_name}': updateResourceEndpoint is neither a classic management URL nor an "
                             "ARM webServices URL; not provisioned")
                continue
            ws2, svc_id, endpoint_name = update.groups()
            svc = services.setdefault((ws2, svc_id), _Service("predictive", ws2, svc_id))
            if not svc.endpoints:
                svc.endpoints.append({"name": "default", "id": svc_id})
            if not any(e["name"] == endpoint_name for e in svc.endpoints):
                svc.endpoints.append({"name": endpoint_name, "id": endpoint_id, "primaryKey": key})
                notes.append(f"'{ls_name}': predictive web service {svc_id}, updatable endpoint '{endpoint_name}' "
                             f"(runtime id {endpoint_id})")
            _merge(svc.resources, [str(type_props.get("trainedModelName"))])
    document = _document(services, storage_accounts(defs, vaults or {}), lenient)
    _add_azure(document, services)
    _add_web_identities(document, defs, vaults or {}, notes)
    return document, notes


def _document(services: dict, accounts: dict[str, str], lenient: bool) -> dict:
    workspaces: dict[str, list] = {}
    for svc in services.values():
        doc: dict[str, Any] = {"id": svc.id, "name": f"provisioned {svc.kind} service {svc.id}", "kind": svc.kind,
                               "inputs": [{"name": n, "required": False} for n in svc.inputs] or [{"name": "input1"}],
                               "outputs": [{"name": n, "type": k} for n, k in svc.outputs.items()]
                               or [{"name": "output1", "type": "ilearner" if svc.kind == "training" else "dataset"}],
                               "globalParameters": [{"name": n} for n in svc.parameters],
                               "endpoints": svc.endpoints}
        if svc.kind == "predictive":
            doc["resources"] = [{"name": r} for r in svc.resources]
        if svc.arm:
            doc["arm"] = svc.arm
        workspaces.setdefault(svc.workspace, []).append(doc)
    document: dict[str, Any] = {"workspaces": [{"id": ws, "webServices": svcs} for ws, svcs in workspaces.items()],
                                "lenientExtensions": lenient}
    if accounts:
        document["storage"] = {"accounts": [{"name": n, "key": k} for n, k in accounts.items()]}
    return document


def _aml_activities(defs: Definitions) -> Iterator[dict]:
    for pipeline in defs.pipelines.values():
        for level in scopes((pipeline.get("properties") or {}).get("activities")):
            yield from (act for act in level if act.get("type") in ("AzureMLBatchExecution", "AzureMLUpdateResource"))


def _output_kind(spec: Any) -> str:
    path = spec.get("filePath") if isinstance(spec, dict) else None
    if isinstance(path, dict):
        path = path.get("value")
    return "ilearner" if isinstance(path, str) and path.rstrip("'}) ").lower().endswith(".ilearner") else "dataset"


def _key(value: Any, defs: Definitions, vaults: dict) -> str:
    try:
        return resolve(value, defs, vaults) or "adfemu-provisioned-key"
    except SecretError:
        return "adfemu-provisioned-key"


def storage_accounts(defs: Definitions, vaults: dict) -> dict[str, str]:
    """Account name -> key of every storage linked service's connection string (not the dev account)."""
    return {name: key for name, key in _connection_accounts(defs, vaults) if key and name != "devstoreaccount1"}


def storage_account_names(defs: Definitions, vaults: dict) -> list[str]:
    """Every account the storage linked services name in their connection strings (the dev account included)."""
    return sorted({name for name, _ in _connection_accounts(defs, vaults)})


def _connection_accounts(defs: Definitions, vaults: dict) -> Iterator[tuple[str, str | None]]:
    """(name, key) of the account of every blob linked service whose account is written out (a parameterised one
    is skipped); an account named without a key gets the derived key the runner uses too."""
    for ls in defs.linked_services.values():
        if (ls.get("properties") or {}).get("type") not in BLOB_TYPES:
            continue
        try:
            account = account_of(ls, lambda value: resolve(value, defs, vaults), lambda value: value)
        except (SecretError, BlobStoreError, DefinitionsError):
            continue
        if re.search(r"[@{}]", account.name):
            continue
        yield account.name, account.key or derived_key(account.name)


def _principal(props: dict, defs: Definitions, vaults: dict) -> tuple[str, str, str] | None:
    tenant, client = props.get("tenant"), props.get("servicePrincipalId")
    if not isinstance(tenant, str) or not isinstance(client, str):
        return None
    try:
        secret = resolve(props.get("servicePrincipalKey"), defs, vaults) or ""
    except SecretError:
        secret = ""
    return tenant, client, secret or "adfemu-provisioned-secret"


def _add_azure(document: dict, services: dict) -> None:
    """Azure AD tenants and principals, subscriptions and resource groups, and Contributor on each ARM web
    service's resource group for the principals of the linked services that update it."""
    arm_services = [s for s in services.values() if s.arm]
    if not arm_services:
        return
    tenants: dict[str, dict] = {}
    subscriptions: dict[str, dict] = {}
    assignments: list[dict] = []
    for svc in arm_services:
        principals = svc.principals or [("adfemu.onmicrosoft.com", "adfemu-provisioned-client", "adfemu-provisioned")]
        for tenant, client, secret in principals:
            entry = tenants.setdefault(tenant.lower(), _tenant(tenant))
            if not any(p["clientId"].lower() == client.lower() for p in entry["servicePrincipals"]):
                entry["servicePrincipals"].append({"clientId": client, "secret": secret})
        sub = subscriptions.setdefault(svc.arm["subscriptionId"].lower(), {
            "id": svc.arm["subscriptionId"], "tenant": principals[0][0], "resourceGroups": []})
        if not any(g["name"].lower() == svc.arm["resourceGroup"].lower() for g in sub["resourceGroups"]):
            sub["resourceGroups"].append({"name": svc.arm["resourceGroup"]})
        scope = f"/subscriptions/{svc.arm['subscriptionId']}/resourceGroups/{svc.arm['resourceGroup']}"
        assignments += [{"principal": client, "role": "Contributor", "scope": scope} for _, client, _ in principals]
    document["azureAd"] = {"tenants": list(tenants.values())}
    document["resourceManager"] = {"subscriptions": list(subscriptions.values()), "roleAssignments": assignments}


def _tenant(name: str) -> dict:
    """A tenant named by GUID keeps it; a domain gets a GUID derived from it (stable across runs)."""
    try:
        tenant_id = str(uuid.UUID(name))
        domains: list[str] = []
    except ValueError:
        tenant_id, domains = str(uuid.uuid5(uuid.NAMESPACE_DNS, name.lower())), [name]
    return {"id": tenant_id, "domains": domains, "servicePrincipals": []}


def _merge(target: list[str], names: list[str]) -> None:
    target += [n for n in names if n not in target]


def _add_web_identities(document: dict, defs: Definitions, vaults: dict, notes: list[str]) -> None:
    """The principals and resources that Web/WebHook activities' MSI or ServicePrincipal authentication needs."""
    for pipeline in defs.pipelines.values():
        for level in scopes((pipeline.get("properties") or {}).get("activities")):
            for act in level:
                if act.get("type") not in ("WebActivity", "WebHook"):
                    continue
                auth = (act.get("typeProperties") or {}).get("authentication")
                if isinstance(auth, dict):
                    _web_principal(document, defs, vaults, act["name"], auth, notes)


def _web_principal(document: dict, defs: Definitions, vaults: dict, activity: str, auth: dict,
                   notes: list[str]) -> None:
    kind, resource = auth.get("type"), auth.get("resource")
    if kind in ("MSI", "ManagedServiceIdentity", "SystemAssignedManagedIdentity"):
        tenant, client, secret = managed_identity(defs.factory_name)
        label = f"managed identity of factory '{defs.factory_name}' (client id {client}, tenant {MANAGED_IDENTITY_TENANT})"
    elif kind == "ServicePrincipal":
        tenant = auth.get("tenant") or auth.get("userTenant")
        client = auth.get("servicePrincipalId") or auth.get("username")
        try:
            secret = resolve(auth.get("servicePrincipalKey") or auth.get("password"), defs, vaults)
        except (SecretError, DefinitionsError):
            secret = None
        if not all(isinstance(v, str) and v and "@" not in v for v in (tenant, client, secret)):
            notes.append(f"activity '{activity}': its service principal is not written out; not provisioned")
            return
        label = f"service principal '{client}' in tenant '{tenant}'"
    else:
        return
    tenants = document.setdefault("azureAd", {}).setdefault("tenants", [])
    entry = next((t for t in tenants if tenant.lower() in [t["id"].lower(), *[d.lower() for d in t["domains"]]]),
                 None)
    if entry is None:
        entry = _tenant(tenant)
        tenants.append(entry)
    if not any(p["clientId"].lower() == client.lower() for p in entry["servicePrincipals"]):
        entry["servicePrincipals"].append({"clientId": client, "secret": secret})
    if isinstance(resource, str) and resource and not resource.startswith("@"):
        resources = entry.setdefault("resources", [])
        if not any(r["uri"].lower() == resource.lower() for r in resources):
            resources.append({"uri": resource})
    notes.append(f"activity '{activity}': {label} may get tokens for '{resource}'")
