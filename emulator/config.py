"""Load the emulator's JSON config: schema check, then the checks a schema cannot express.

Every problem names the file, the JSON pointer and what is wrong (``ConfigError``). Values the
config leaves out (keys, endpoint ids) are generated here, once, so that ``reset`` restores
exactly the same services.
"""
from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adfemu import schemas

from .experiments import ilearner, resolve


class ConfigError(ValueError):
    """The config cannot be used; the message names file, pointer and problem."""


def new_key() -> str:
    """An endpoint key shaped like the real ones: 88 base64 characters ending in '=='."""
    return base64.b64encode(secrets.token_bytes(64)).decode()


def new_id() -> str:
    return secrets.token_hex(16)


@dataclass
class Config:
    document: dict[str, Any]
    source: str
    models: dict[str, bytes] = field(default_factory=dict)  # JSON pointer of a resource -> .ilearner bytes
    base_dir: Path = field(default_factory=Path.cwd)  # what relative model paths are read from

    @property
    def lenient_extensions(self) -> bool:
        return bool(self.document.get("lenientExtensions", False))

    @property
    def storage_accounts(self) -> dict[str, str]:
        return {a["name"]: a["key"] for a in self.document.get("storage", {}).get("accounts", [])}


def load(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    return from_document(document, str(path), path.parent)


def from_document(document: Any, source: str = "<config>", base_dir: Path | None = None) -> Config:
    try:
        schemas.check(document, "emulator-config", source)
    except schemas.DefinitionError as exc:
        raise ConfigError(str(exc)) from None
    config = Config(document, source, base_dir=base_dir or Path.cwd())
    _fill_defaults(document)
    _check_semantics(config, config.base_dir)
    return config


def merged(config: Config, extra: Any, source: str) -> Config:
    """``config`` plus what ``extra`` (another config document, e.g. provisioned from a factory) adds: items
    are matched by id or name (case-insensitively where Azure ignores case) and kept as they are when known,
    new ones are appended, so the JSON pointers of ``config`` (its loaded models) stay valid."""
    try:
        schemas.check(extra, "emulator-config", source)
    except schemas.DefinitionError as exc:
        raise ConfigError(str(exc)) from None
    document = json.loads(json.dumps(config.document))
    extra = json.loads(json.dumps(extra))
    _fill_defaults(extra)
    for key, value in extra.items():
        if key not in ("workspaces", "storage", "azureAd", "resourceManager"):
            document.setdefault(key, value)
    _union(document.setdefault("workspaces", []), extra.get("workspaces", []), "id", {
        "webServices": ("id", {"endpoints": ("name", {}), "resources": ("name", {})})})
    _union(document.setdefault("storage", {}).setdefault("accounts", []),
           extra.get("storage", {}).get("accounts", []), "name", {})
    _union(document.setdefault("azureAd", {}).setdefault("tenants", []),
           extra.get("azureAd", {}).get("tenants", []), "id", {"servicePrincipals": ("clientId", {}),
                                                                "resources": ("uri", {})})
    rm, extra_rm = document.setdefault("resourceManager", {}), extra.get("resourceManager", {})
    _union(rm.setdefault("subscriptions", []), extra_rm.get("subscriptions", []), "id",
           {"resourceGroups": ("name", {})})
    known = {json.dumps(a, sort_keys=True).lower() for a in rm.setdefault("roleAssignments", [])}
    rm["roleAssignments"] += [a for a in extra_rm.get("roleAssignments", [])
                              if json.dumps(a, sort_keys=True).lower() not in known]
    result = Config(document, config.source, dict(config.models), config.base_dir)
    _check_semantics(result, config.base_dir)
    return result


def _union(items: list[dict], more: list[dict], key: str, nested: dict) -> None:
    """Append the items of ``more`` whose ``key`` is new; for known ones, merge the ``nested`` lists."""
    by_key = {str(item.get(key)).lower(): item for item in items}
    for item in more:
        known = by_key.get(str(item.get(key)).lower())
        if known is None:
            items.append(item)
            by_key[str(item.get(key)).lower()] = item
            continue
        for child, (child_key, grandchildren) in nested.items():
            if item.get(child):
                _union(known.setdefault(child, []), item[child], child_key, grandchildren)


def _fill_defaults(document: dict) -> None:
    for ws in document.setdefault("workspaces", []):
        tokens = ws.setdefault("authorizationToken", {})
        tokens.setdefault("primary", new_key())
        tokens.setdefault("secondary", new_key())
        for svc in ws["webServices"]:
            svc.setdefault("experiment", {"builtin": "train" if svc["kind"] == "training" else "score"})
            svc.setdefault("inputs", [{"name": "input1"}])
            default_output = "ilearner" if svc["kind"] == "training" else "dataset"
            svc.setdefault("outputs", [{"name": "output1", "type": default_output}])
            endpoints = svc.setdefault("endpoints", [{"name": "default"}])
            for index, ep in enumerate(endpoints):
                ep.setdefault("id", svc["id"] if index == 0 else new_id())
                ep.setdefault("primaryKey", new_key())
                ep.setdefault("secondaryKey", new_key())


def _check_semantics(config: Config, base_dir: Path) -> None:
    problems: list[str] = []
    seen_ws: set[str] = set()
    runtime_ids: dict[str, str] = {}

    def problem(pointer: str, message: str) -> None:
        problems.append(f"{config.source}: {pointer}: {message}")

    for w, ws in enumerate(config.document["workspaces"]):
        wp = f"/workspaces/{w}"
        if ws["id"].lower() in seen_ws:
            problem(f"{wp}/id", f"duplicate workspace id {ws['id']}")
        seen_ws.add(ws["id"].lower())
        service_ids: set[str] = set()
        for s, svc in enumerate(ws["webServices"]):
            sp = f"{wp}/webServices/{s}"
            if svc["id"].lower() in service_ids:
                problem(f"{sp}/id", f"duplicate web service id {svc['id']}")
            service_ids.add(svc["id"].lower())
            _check_unique([p["name"] for p in svc["inputs"]], f"{sp}/inputs", "input", problem)
            _check_unique([p["name"] for p in svc["outputs"]], f"{sp}/outputs", "output", problem)
            _check_unique([e["name"] for e in svc["endpoints"]], f"{sp}/endpoints", "endpoint", problem)
            for e, ep in enumerate(svc["endpoints"]):
                other = runtime_ids.setdefault(ep["id"].lower(), f"{sp}/endpoints/{e}")
                if other != f"{sp}/endpoints/{e}":
                    problem(f"{sp}/endpoints/{e}/id", f"endpoint id {ep['id']} is already used at {other}")
            try:
                _, model_check = resolve(svc["experiment"])
            except ValueError as exc:
                problem(f"{sp}/experiment", str(exc))
                continue
            if svc["kind"] == "training" and svc.get("resources"):
                problem(f"{sp}/resources", "a training web service has no trained-model resources")
            for r, res in enumerate(svc.get("resources", [])):
                if "model" in res:
                    _load_model(config, base_dir, res["model"], f"{sp}/resources/{r}", model_check, problem)
    _check_azure(config.document, problem)
    _check_faults(config.document, problem)
    if problems:
        raise ConfigError("\n".join(problems))


def _check_azure(document: dict, problem) -> None:
    """References between azureAd, resourceManager and the services' ``arm`` blocks resolve."""
    tenants = document.get("azureAd", {}).get("tenants", [])
    tenant_names = {t["id"].lower() for t in tenants} | {d.lower() for t in tenants for d in t.get("domains", [])}
    principals: dict[str, str] = {}
    for t, tenant in enumerate(tenants):
        for p, sp in enumerate(tenant.get("servicePrincipals", [])):
            for key in ("clientId", "objectId"):
                if key in sp:
                    where = f"/azureAd/tenants/{t}/servicePrincipals/{p}/{key}"
                    other = principals.setdefault(sp[key].lower(), where)
                    if other != where:
                        problem(where, f"{sp[key]} is already used at {other}")
    rm = document.get("resourceManager", {})
    groups: dict[str, set[str]] = {}
    for i, sub in enumerate(rm.get("subscriptions", [])):
        if sub["tenant"].lower() not in tenant_names:
            problem(f"/resourceManager/subscriptions/{i}/tenant",
                    f"tenant '{sub['tenant']}' is not a tenant id or domain of azureAd.tenants")
        if sub["id"].lower() in groups:
            problem(f"/resourceManager/subscriptions/{i}/id", f"duplicate subscription id {sub['id']}")
        groups[sub["id"].lower()] = {g["name"].lower() for g in sub.get("resourceGroups", [])}
    for i, assignment in enumerate(rm.get("roleAssignments", [])):
        if assignment["principal"].lower() not in principals:
            problem(f"/resourceManager/roleAssignments/{i}/principal",
                    f"'{assignment['principal']}' is not the clientId or objectId of a service principal in azureAd")
    names: dict[tuple[str, str, str], str] = {}
    for w, ws in enumerate(document["workspaces"]):
        for s, svc in enumerate(ws["webServices"]):
            arm = svc.get("arm")
            if arm is None:
                continue
            where = f"/workspaces/{w}/webServices/{s}/arm"
            if svc["kind"] != "predictive":
                problem(where, "only a predictive web service can be an ARM web service")
            sub = arm["subscriptionId"].lower()
            if sub not in groups:
                problem(f"{where}/subscriptionId",
                        f"subscription '{arm['subscriptionId']}' is not in resourceManager.subscriptions")
            elif arm["resourceGroup"].lower() not in groups[sub]:
                problem(f"{where}/resourceGroup",
                        f"resource group '{arm['resourceGroup']}' is not in subscription '{arm['subscriptionId']}'")
            key = (sub, arm["resourceGroup"].lower(), arm["name"].lower())
            other = names.setdefault(key, where)
            if other != where:
                problem(f"{where}/name", f"the ARM web service '{arm['name']}' is already defined at {other}")


def _check_faults(document: dict, problem) -> None:
    """The fault rules' own rules (which effect goes with which API and operation): emulator/faults.py."""
    from .faults import FaultError, parse
    try:
        parse(document.get("faults", {}).get("rules", []), "/faults/rules")
    except FaultError as exc:
        pointer, _, message = str(exc).partition(": ")
        problem(pointer, message)


def _check_unique(names: list[str], pointer: str, what: str, problem) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            problem(f"{pointer}/{i}/name", f"duplicate {what} name '{name}'")
        seen.add(name)


def _load_model(config: Config, base_dir: Path, relative: str, pointer: str, model_check, problem) -> None:
    path = (base_dir / relative).resolve()
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem(f"{pointer}/model", f"cannot read {path}: {exc.strerror}")
        return
    try:
        model_check(data)
    except (ilearner.IlearnerError, ValueError) as exc:
        problem(f"{pointer}/model", f"{path} is not a usable model: {exc}")
        return
    config.models[pointer] = data
