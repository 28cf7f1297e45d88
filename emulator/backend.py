"""All emulator state behind one lock: the service model built from the config, and its changes.

Routes call these methods and render what they return; every lookup failure or rule
violation raises the AML error the real service would answer with. Each change is handed to
``persistence`` (in memory by default: nothing) under the lock, so a saved state sees changes in order.
"""
from __future__ import annotations

import threading
from typing import Any, Iterator

from . import errors
from .config import Config, new_id, new_key
from .experiments import resolve
from .models import Endpoint, Resource, WebService, Workspace, utcnow
from .persistence import NOWHERE, Persistence

FREE_TIER_ENDPOINTS = 3


class Backend:
    def __init__(self, config: Config):
        self.config = config
        self.lock = threading.RLock()
        self.workspaces: dict[str, Workspace] = {}
        self._secrets: list[str] | None = None  # cached; dropped whenever keys may change
        self.persistence: Persistence = NOWHERE
        self.reset()

    # --- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the services exactly as the config describes them."""
        with self.lock:
            self.workspaces = {ws["id"].lower(): _build_workspace(ws, w, self.config)
                               for w, ws in enumerate(self.config.document["workspaces"])}
            self._secrets = None
            self.persistence.workspaces(self.workspaces.values())

    def restore(self, workspaces: dict[str, Workspace]) -> None:
        """The workspaces as saved (``restore.py``, before serving)."""
        with self.lock:
            self.workspaces = dict(workspaces)
            self._secrets = None

    def _changed(self, svc: WebService) -> None:
        """Hand the workspace of ``svc`` to persistence (call under the lock)."""
        ws = self.workspaces.get(svc.workspace_id.lower())
        if ws is not None:
            self.persistence.workspace(ws)

    def extend(self, config: Config) -> list[str]:
        """Adopt a larger config (``config.merged``): workspaces, services and endpoints it adds are built,
        the ones already here keep their state. Returns the ids of the services added."""
        added = []
        with self.lock:
            self.config = config
            for w, ws_doc in enumerate(config.document["workspaces"]):
                ws = self.workspaces.get(ws_doc["id"].lower())
                if ws is None:
                    ws = self.workspaces[ws_doc["id"].lower()] = _build_workspace(ws_doc, w, config)
                    added += [svc.id for svc in ws.services.values()]
                    continue
                for s, svc_doc in enumerate(ws_doc["webServices"]):
                    pointer = f"/workspaces/{w}/webServices/{s}"
                    svc = ws.services.get(svc_doc["id"].lower())
                    if svc is None:
                        ws.services[svc_doc["id"].lower()] = _build_service(svc_doc, ws.id, pointer, config)
                        added.append(svc_doc["id"])
                        continue
                    models = _models(svc_doc, pointer, config)
                    for ep_doc in svc_doc["endpoints"]:
                        if ep_doc["name"] not in svc.endpoints:
                            svc.endpoints[ep_doc["name"]] = _build_endpoint(ep_doc, models)
            self._secrets = None
            self.persistence.workspaces(self.workspaces.values())
        return added

    def secrets(self) -> list[str]:
        """Every key and token the emulator knows, for redaction."""
        with self.lock:
            if self._secrets is None:
                found = [t for ws in self.workspaces.values() for t in ws.tokens]
                for svc in self.services():
                    for ep in svc.endpoints.values():
                        found += [ep.primary_key, ep.secondary_key]
                self._secrets = found + list(self.config.storage_accounts.values())
            return self._secrets

    # --- lookups ----------------------------------------------------------------------------------

    def services(self) -> Iterator[WebService]:
        for ws in self.workspaces.values():
            yield from ws.services.values()

    def workspace(self, ws_id: str) -> Workspace:
        ws = self.workspaces.get(ws_id.lower())
        if ws is None:
            raise errors.WorkspaceNotFound(ws_id)
        return ws

    def service(self, ws_id: str, service_id: str) -> tuple[Workspace, WebService]:
        ws = self.workspace(ws_id)
        svc = ws.services.get(service_id.lower())
        if svc is None:
            raise errors.WebServiceIdNotFoundInWorkspace(service_id, ws_id)
        return ws, svc

    def endpoint(self, ws_id: str, service_id: str, name: str) -> tuple[Workspace, WebService, Endpoint]:
        ws, svc = self.service(ws_id, service_id)
        ep = svc.endpoints.get(name)
        if ep is None:
            raise errors.EndpointNotFound(name, service_id)
        return ws, svc, ep

    def runtime_endpoint(self, endpoint_id: str, ws_id: str | None = None,
                         subscription_id: str | None = None) -> tuple[Workspace, WebService, Endpoint]:
        """The endpoint behind a runtime URL (``/workspaces/{ws}/services/{id}`` or the subscription form)."""
        wanted = endpoint_id.lower()
        with self.lock:
            if ws_id is not None:
                candidates = [self.workspace(ws_id)]
            else:
                candidates = [ws for ws in self.workspaces.values()
                              if ws.subscription_id is None or ws.subscription_id.lower() == str(subscription_id).lower()
                              or any(_arm_subscription(s) == str(subscription_id).lower() for s in ws.services.values())]
            for ws in candidates:
                for svc in ws.services.values():
                    arm_sub = _arm_subscription(svc)
                    if ws_id is None and arm_sub is not None and arm_sub != str(subscription_id).lower():
                        continue
                    for ep in svc.endpoints.values():
                        if ep.id.lower() == wanted:
                            return ws, svc, ep
        raise errors.WebServiceNotFound(endpoint_id)

    # --- management changes -------------------------------------------------------------------------

    def put_endpoint(self, ws_id: str, service_id: str, name: str, settings: dict) -> tuple[WebService, Endpoint, bool]:
        """Create a non-default endpoint, or update the settings of an existing one. Returns (svc, ep, created)."""
        with self.lock:
            ws, svc = self.service(ws_id, service_id)
            throttle, max_calls = _throttle(settings, ws.tier)
            existing = svc.endpoints.get(name)
            if existing is None:
                if ws.tier == "Free" and len(svc.endpoints) >= FREE_TIER_ENDPOINTS:
                    raise errors.EndpointLimitReached("Free", FREE_TIER_ENDPOINTS)
                default = svc.endpoints[svc.default_endpoint_name]
                existing = Endpoint(name=name, id=new_id(), primary_key=new_key(), secondary_key=new_key(),
                                    resources={n: Resource(r.name, r.model, r.location, r.kind)
                                               for n, r in default.resources.items()})
                svc.endpoints[name] = existing
                self._secrets = None
                created = True
            else:
                created = False
            existing.description = str(settings.get("Description") or existing.description)
            existing.throttle_level, existing.max_concurrent_calls = throttle, max_calls
            if "PreventUpdate" in settings:
                existing.prevent_update = _as_bool(settings["PreventUpdate"])
            self._changed(svc)
            return svc, existing, created

    def delete_endpoint(self, ws_id: str, service_id: str, name: str) -> None:
        with self.lock:
            _, svc, ep = self.endpoint(ws_id, service_id, name)
            if svc.is_default(ep):
                raise errors.DefaultEndpointOperation("delete")
            del svc.endpoints[name]
            self._changed(svc)

    def replace_resources(self, svc: WebService, ep: Endpoint, updates: dict[str, Resource], by: str) -> None:
        """Swap trained models at once (the caller has downloaded and checked them); ``by`` names the API."""
        with self.lock:
            moment = utcnow()
            for name, resource in updates.items():
                resource.updated, resource.updated_by = moment, by
                ep.resources[name] = resource
            ep.version += 1
            self._changed(svc)

    def set_keys(self, svc: WebService, ep: Endpoint, primary: Any, secondary: Any) -> None:
        """New keys (ARM PUT/PATCH ``properties.keys``); a missing one is kept."""
        with self.lock:
            ep.primary_key = primary if isinstance(primary, str) and primary else ep.primary_key
            ep.secondary_key = secondary if isinstance(secondary, str) and secondary else ep.secondary_key
            self._secrets = None
            self._changed(svc)

    # --- services created through ARM ---------------------------------------------------------------

    def add_arm_service(self, subscription_id: str, name: str, properties: dict) -> WebService:
        """A predictive service for an ARM PUT of a new name: built-in scoring, ports from the body's
        input/output specifications, a trained-model resource per ``Resource`` asset (no model yet)."""
        with self.lock:
            ws_id = f"arm-{subscription_id.lower()}"
            ws = self.workspaces.get(ws_id)
            if ws is None:
                ws = self.workspaces[ws_id] = Workspace(ws_id, ws_id, "ussouthcentral", "Standard", subscription_id,
                                                        (new_key(), new_key()))
            experiment, check = resolve({"builtin": "score"})
            ports = {k: list(((properties.get(k) or {}).get("properties") or {}) or [f"{k}1"])
                     for k in ("input", "output")}
            resources = {a["name"]: Resource(a["name"], b"") for a in (properties.get("assets") or {}).values()
                         if isinstance(a, dict) and a.get("type") == "Resource" and isinstance(a.get("name"), str)}
            svc_id = new_id()
            keys = properties.get("keys") if isinstance(properties.get("keys"), dict) else {}
            svc = WebService(id=svc_id, name=name, kind="predictive", workspace_id=ws_id, experiment=experiment,
                             model_check=check, inputs=[{"name": n} for n in ports["input"]],
                             outputs=[{"name": n, "type": "dataset"} for n in ports["output"]],
                             global_parameters=[], settings={}, endpoints={}, arm={"subscriptionId": subscription_id},
                             experiment_spec={"builtin": "score"})
            svc.endpoints["default"] = Endpoint("default", svc_id, keys.get("primary") or new_key(),
                                                keys.get("secondary") or new_key(), resources=resources)
            ws.services[svc_id] = svc
            self._secrets = None
            self._changed(svc)
            return svc

    def remove_arm_service(self, svc: WebService) -> None:
        with self.lock:
            ws = self.workspaces.get(svc.workspace_id.lower())
            if ws is not None and ws.services.get(svc.id.lower()) is svc:
                del ws.services[svc.id.lower()]
                self.persistence.workspace(ws)

    def refresh(self, ws_id: str, service_id: str, name: str) -> bool:
        """Re-sync a non-default endpoint's resources with the default's. True when something changed."""
        with self.lock:
            _, svc, ep = self.endpoint(ws_id, service_id, name)
            if svc.is_default(ep):
                raise errors.DefaultEndpointOperation("refresh")
            default = svc.endpoints[svc.default_endpoint_name]
            wanted = {n: r.digest for n, r in default.resources.items()}
            if {n: r.digest for n, r in ep.resources.items()} == wanted:
                return False
            ep.resources = {n: Resource(r.name, r.model, r.location, r.kind, utcnow(), "classic management API: refresh")
                            for n, r in default.resources.items()}
            ep.version += 1
            self._changed(svc)
            return True


def _build_workspace(doc: dict, index: int, config: Config) -> Workspace:
    tokens = doc["authorizationToken"]
    ws = Workspace(id=doc["id"], name=doc.get("name", doc["id"]), region=doc.get("region", "ussouthcentral"),
                   tier=doc.get("tier", "Standard"), subscription_id=doc.get("subscriptionId"),
                   tokens=(tokens["primary"], tokens["secondary"]))
    for s, svc_doc in enumerate(doc["webServices"]):
        svc = _build_service(svc_doc, ws.id, f"/workspaces/{index}/webServices/{s}", config)
        ws.services[svc.id.lower()] = svc
    return ws


def _models(doc: dict, pointer: str, config: Config) -> dict[str, bytes]:
    """Trained-model resource name -> its initial model (b"": no model until the first update)."""
    return {r["name"]: config.models.get(f"{pointer}/resources/{i}", b"") for i, r in enumerate(doc.get("resources", []))}


def _build_endpoint(doc: dict, models: dict[str, bytes]) -> Endpoint:
    throttle = doc.get("throttleLevel", "Low")
    return Endpoint(name=doc["name"], id=doc["id"], primary_key=doc["primaryKey"], secondary_key=doc["secondaryKey"],
                    description=doc.get("description", ""), throttle_level=throttle,
                    max_concurrent_calls=4 if throttle == "Low" else doc.get("maxConcurrentCalls", 20),
                    prevent_update=doc.get("preventUpdate", False),
                    resources={name: Resource(name, model) for name, model in models.items()})


def _build_service(doc: dict, ws_id: str, pointer: str, config: Config) -> WebService:
    experiment, check = resolve(doc["experiment"])
    timing = doc.get("timing", {})
    resources = _models(doc, pointer, config)
    svc = WebService(id=doc["id"], name=doc["name"], kind=doc["kind"], workspace_id=ws_id, experiment=experiment,
                     model_check=check, inputs=doc["inputs"], outputs=doc["outputs"],
                     global_parameters=doc.get("globalParameters", []), settings=doc.get("settings", {}),
                     endpoints={}, description=doc.get("description", ""),
                     queue_seconds=float(timing.get("queueSeconds", 0)), run_seconds=float(timing.get("runSeconds", 0)),
                     arm=doc.get("arm"), experiment_spec=doc["experiment"])
    for ep_doc in doc["endpoints"]:
        svc.endpoints[ep_doc["name"]] = _build_endpoint(ep_doc, resources)
    return svc


def _arm_subscription(svc: WebService) -> str | None:
    return svc.arm["subscriptionId"].lower() if svc.arm else None


def _throttle(settings: dict, tier: str) -> tuple[str, int]:
    """ThrottleLevel Low pins MaxConcurrentCalls to 4; High takes 1-200; a Free workspace allows only Low."""
    level = settings.get("ThrottleLevel") or "Low"
    if level not in ("Low", "High"):
        raise errors.InvalidEndpointSettings(f"ThrottleLevel must be 'Low' or 'High', not '{level}'.")
    if level == "Low":
        return "Low", 4
    if tier == "Free":
        raise errors.InvalidEndpointSettings("A Free workspace allows only ThrottleLevel 'Low'.")
    calls = settings.get("MaxConcurrentCalls", 20)
    if isinstance(calls, bool) or not isinstance(calls, int) or not 1 <= calls <= 200:
        raise errors.InvalidEndpointSettings("MaxConcurrentCalls must be an integer from 1 to 200 with ThrottleLevel 'High'.")
    return "High", calls


def _as_bool(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
