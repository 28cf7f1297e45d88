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
- storage accounts named in connection strings become Azurite accounts.

The result is a document for ``schemas/emulator-config.schema.json`` plus a list of what was assumed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from .definitions import Definitions, scopes
from .secrets import SecretError, resolve

ML_ENDPOINT = re.compile(r"/(workspaces|subscriptions)/([^/]+)/services/([^/?]+)", re.I)
CLASSIC_UPDATE = re.compile(r"/workspaces/([^/]+)/webservices/([^/]+)/endpoints/([^/?]+)", re.I)
ACCOUNT = re.compile(r"AccountName=([^;]+)", re.I)
KEY = re.compile(r"AccountKey=([^;]+)", re.I)


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
            update = CLASSIC_UPDATE.search(str(props.get("updateResourceEndpoint") or ""))
            if not update:
                notes.append(f"'{ls_name}': updateResourceEndpoint is not a classic management URL; the ARM "
                             "flavour is not provisioned")
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
    return _document(services, storage_accounts(defs, vaults or {}), lenient), notes


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
    accounts = {}
    for ls in defs.linked_services.values():
        props = ls.get("properties") or {}
        if props.get("type") not in ("AzureStorage", "AzureBlobStorage"):
            continue
        try:
            text = resolve((props.get("typeProperties") or {}).get("connectionString"), defs, vaults) or ""
        except SecretError:
            continue
        name, key = ACCOUNT.search(text), KEY.search(text)
        if name and key and name.group(1) != "devstoreaccount1":
            accounts[name.group(1)] = key.group(1)
    return accounts


def _merge(target: list[str], names: list[str]) -> None:
    target += [n for n in names if n not in target]
