"""The emulated Resource Manager for ``Microsoft.MachineLearning/webServices``, after its ARM spec
(``vendor/arm-machinelearning/``, from Azure/azure-rest-api-specs) and ARM's conventions.

State and rules only (no Flask): subscriptions, resource groups, role assignments, the web-service
resources and their async operations. Every ARM web service is backed by an engine ``WebService`` of
``backend.Backend``; when a ``[trained model]`` asset gets a new location, the model is fetched from
storage and swapped into that service, so its BES and RRS runtime (``/subscriptions/{s}/services/{id}``)
score with it.
"""
from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

from adfemu import schemas

from . import arm_errors as errors, names
from .aad import ARM_AUDIENCES, Directory
from .backend import Backend
from .errors import AmlError
from .limits import short
from .models import Resource, WebService, iso, utcnow
from .persistence import NOWHERE, Persistence
from .storage import BlobAddress, BlobStore, parse_connection_string

PROVIDER, TYPE = "Microsoft.MachineLearning", "webServices"
RESOURCE_TYPE = f"{PROVIDER}/{TYPE}"
V2016, V2017 = errors.SUPPORTED_VERSIONS
API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-[A-Za-z]+)?$")
# Regions of Azure ML Studio (classic) web services: display name -> runtime host label ({label}.services.azureml.net)
REGIONS = {"southcentralus": "ussouthcentral", "westeurope": "europewest", "southeastasia": "asiasoutheast",
           "japaneast": "japaneast", "westcentralus": "uswestcentral", "eastus2": "useast2",
           "germanycentral": "germanycentral", "westus": "uswest"}
ROLE_IDS = {"Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
            "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7"}
MAX_OPERATIONS = 2000  # async operations remembered for their status URL
READ_ONLY_PROPERTIES = ("createdOn", "modifiedOn", "provisioningState", "swaggerLocation")


def compact(location: str) -> str:
    """'South Central US' -> 'southcentralus' (only letters and digits: it goes into URLs)."""
    return re.sub(r"[^a-z0-9]", "", location.lower())


# --- state ------------------------------------------------------------------------------------------

@dataclass
class ResourceGroup:
    name: str
    location: str


@dataclass
class Subscription:
    id: str
    tenant_id: str
    groups: dict[str, ResourceGroup] = field(default_factory=dict)  # by lower-case name


@dataclass
class RoleAssignment:
    principal: str  # lower-case client id or object id
    role: str
    scope: str  # lower case, no trailing '/'


@dataclass
class Operation:
    """An async operation: InProgress for ``delay`` seconds, then its outcome."""
    id: str
    location: str
    started: float
    delay: float
    outcome: str = "Succeeded"
    error: errors.ArmError | None = None
    start_time: datetime = field(default_factory=utcnow)

    def status(self) -> str:
        return "InProgress" if time.monotonic() - self.started < self.delay else self.outcome

    def body(self, subscription_id: str) -> dict:
        status = self.status()
        body = {"id": f"/subscriptions/{subscription_id}/providers/{PROVIDER}/locations/{self.location}"
                      f"/operationsStatus/{self.id}",
                "name": self.id, "status": status, "provisioningState": status, "startTime": iso(self.start_time),
                "percentComplete": 50 if status == "InProgress" else 100}
        if status != "InProgress":
            body["endTime"] = iso(self.start_time)
        if status == "Failed" and self.error is not None:
            body["error"] = {"code": self.error.code, "message": self.error.message}
            body["errorInfo"] = {"code": self.error.code, "message": self.error.message, "target": None, "details": []}
        return body


@dataclass
class ArmWebService:
    subscription: Subscription
    group: ResourceGroup
    name: str
    location: str
    tags: dict[str, str]
    properties: dict[str, Any]  # as stored: secrets included, read-only fields excluded
    service: WebService  # the engine that scores for it
    created: datetime = field(default_factory=utcnow)
    modified: datetime = field(default_factory=utcnow)
    operation: Operation | None = None

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription.id}/resourceGroups/{self.group.name}/providers/"
                f"{RESOURCE_TYPE}/{self.name}")

    @property
    def provisioning_state(self) -> str:
        status = self.operation.status() if self.operation else "Succeeded"
        return "Provisioning" if status == "InProgress" else status


@dataclass
class Caller:
    """The authenticated principal of a request."""
    app_id: str
    object_id: str
    tenant_id: str


# models fetched for a PUT/PATCH before taking the lock: ({asset name: (bytes, uri)}, the failure or None)
Downloaded = tuple[dict[str, tuple[bytes, str]], errors.ArmError | None]


# --- the resource manager -------------------------------------------------------------------------

class ResourceManager:
    def __init__(self, document: dict | None, directory: Directory, backend: Backend, store: BlobStore):
        self.document = document or {}
        self.directory, self.backend, self.store = directory, backend, store
        self.lock = threading.RLock()
        self.delay = float(self.document.get("asyncOperationSeconds", 0))
        self.page_size = int(self.document.get("pageSize", 100))
        self.subscriptions: dict[str, Subscription] = {}
        self.assignments: list[RoleAssignment] = []
        self.services: dict[tuple[str, str, str], ArmWebService] = {}
        self.operations: dict[str, Operation] = {}
        self.persistence: Persistence = NOWHERE  # told of each change, under the lock
        self.faults = None  # emulator/faults.py, set by the Emulator
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.subscriptions, self.assignments, self.services, self.operations = {}, [], {}, {}
            self._add_configured()
            self.persistence.arm_replaced(self)

    def extend(self, document: dict | None) -> None:
        """Adopt a larger config: what it adds is created; resources already here keep their state."""
        with self.lock:
            self.document = document or {}
            self._add_configured()
            self.persistence.arm_replaced(self)

    def restore(self, subscriptions: dict[str, Subscription], assignments: list[RoleAssignment],
                resources: list[ArmWebService], operations: dict[str, Operation]) -> None:
        """The state as saved (``restore.py``, before serving)."""
        with self.lock:
            self.subscriptions, self.assignments, self.operations = subscriptions, assignments, operations
            self.services = {_key(r.subscription.id, r.group.name, r.name): r for r in resources}

    def _add_configured(self) -> None:
        """Whatever the config names that is not here yet (idempotent)."""
        for sub in self.document.get("subscriptions", []):
            tenant = self.directory.find_tenant(sub["tenant"])
            self.add_subscription(sub["id"], tenant.id if tenant else sub["tenant"].lower())
            for group in sub.get("resourceGroups", []):
                self.add_group(sub["id"], group["name"], group.get("location", "South Central US"))
        known = {(a.principal, a.role, a.scope) for a in self.assignments}
        for a in self.document.get("roleAssignments", []):
            if (a["principal"].lower(), a["role"], a["scope"].rstrip("/").lower()) not in known:
                self.assign(a["principal"], a["role"], a["scope"])
        adopted = {id(r.service) for r in self.services.values()}
        for ws in self.backend.workspaces.values():
            for svc in ws.services.values():
                if svc.arm and id(svc) not in adopted:
                    self._adopt(svc, ws.id)

    # --- setup (config and provisioning) -------------------------------------------------------------

    def add_subscription(self, sub_id: str, tenant_id: str) -> Subscription:
        with self.lock:
            return self.subscriptions.setdefault(sub_id.lower(), Subscription(sub_id, tenant_id.lower()))

    def add_group(self, sub_id: str, name: str, location: str = "South Central US") -> ResourceGroup:
        with self.lock:
            return self.subscriptions[sub_id.lower()].groups.setdefault(name.lower(), ResourceGroup(name, location))

    def assign(self, principal: str, role: str, scope: str) -> None:
        with self.lock:
            self.assignments.append(RoleAssignment(principal.lower(), role, scope.rstrip("/").lower()))

    def _adopt(self, svc: WebService, workspace_id: str) -> None:
        """A config service with an ``arm`` block becomes a resource with assets from its resources."""
        arm = svc.arm
        sub = self.subscriptions[arm["subscriptionId"].lower()]
        group = sub.groups[arm["resourceGroup"].lower()]
        location = arm.get("location", "South Central US")
        ep = svc.endpoints[svc.default_endpoint_name]
        assets = {f"asset{i + 1}": {"name": r.name, "id": f"asset{i + 1}", "type": "Resource",
                                    "locationInfo": {"uri": f"aml://resource/{r.digest[:32]}", "credentials": ""},
                                    "outputPorts": {"Results dataset": {"type": "Dataset"}}}
                  for i, r in enumerate(ep.resources.values())}
        properties = {
            "title": arm.get("title", svc.name), "description": svc.description, "readOnly": arm.get("readOnly", False),
            "exposeSampleData": True, "realtimeConfiguration": {"maxConcurrentCalls": ep.max_concurrent_calls},
            "diagnostics": {"level": "None"}, "machineLearningWorkspace": {"id": workspace_id},
            "input": _port_spec(svc.input_names(), "input"), "output": _port_spec(list(svc.output_kinds()), "output"),
            "assets": assets, "parameters": {}, "packageType": "Graph",
            "package": {"nodes": {}, "edges": {}, "graphParameters": {}}}
        if arm.get("storageAccount"):
            properties["storageAccount"] = dict(arm["storageAccount"])
        resource = ArmWebService(sub, group, arm["name"], location, dict(arm.get("tags", {})), properties, svc)
        self.services[_key(sub.id, group.name, resource.name)] = resource

    # --- authentication and authorization ------------------------------------------------------------

    def authenticate(self, header: str | None) -> dict:
        """The verified claims of the request's bearer token, or the ARM 401 the ladder stops at."""
        if header is None:
            raise errors.AuthorizationHeaderMissing()
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.AuthorizationHeaderInvalid()
        claims = self.directory.verify(token.strip())
        if claims is None:
            raise errors.InvalidAuthenticationToken()
        if claims.get("aud") not in ARM_AUDIENCES:
            raise errors.InvalidAuthenticationTokenAudience(claims.get("aud"))
        now = time.time()
        if now >= float(claims["exp"]):
            raise errors.ExpiredAuthenticationToken(_dotnet(float(claims["exp"])), _dotnet(now))
        return claims

    def subscription(self, sub_id: str, claims: dict) -> Subscription:
        sub = self.subscriptions.get(sub_id.lower())
        if sub is None:
            raise errors.SubscriptionNotFound(sub_id)
        if str(claims.get("tid", "")).lower() != sub.tenant_id:
            raise errors.InvalidAuthenticationTokenTenant(claims.get("iss"), sub.tenant_id)
        return sub

    def authorize(self, claims: dict, action: str, scope: str) -> None:
        """403 unless a role assigned to the caller at the scope or above allows the action."""
        who = {str(claims.get("oid", "")).lower(), str(claims.get("appid", "")).lower()}
        target = scope.rstrip("/").lower()
        with self.lock:
            for a in self.assignments:
                if a.principal in who and (target == a.scope or target.startswith(a.scope + "/")) \
                        and _allows(a.role, action):
                    return
        raise errors.AuthorizationFailed(claims.get("appid"), claims.get("oid"), action, scope)

    # --- api-version --------------------------------------------------------------------------------

    @staticmethod
    def api_version(args: dict, location: str = "southcentralus") -> str:
        version = args.get("api-version")
        if version is None:
            raise errors.MissingApiVersionParameter()
        if not API_VERSION.match(version):
            raise errors.InvalidApiVersionParameter(version, ", ".join(errors.SUPPORTED_VERSIONS))
        for known in errors.SUPPORTED_VERSIONS:
            if version.lower() == known:
                return known
        raise errors.NoRegisteredProviderFound(compact(location), version, ", ".join(sorted(REGIONS)))

    # --- web services -------------------------------------------------------------------------------

    def group(self, sub: Subscription, name: str) -> ResourceGroup:
        group = sub.groups.get(name.lower())
        if group is None:
            raise errors.ResourceGroupNotFound(name)
        return group

    def get(self, sub: Subscription, group_name: str, name: str) -> ArmWebService:
        group = self.group(sub, group_name)
        with self.lock:
            resource = self.services.get(_key(sub.id, group.name, name))
        if resource is None:
            raise errors.ResourceNotFound(name, group_name)
        return resource

    def listing(self, sub: Subscription, group_name: str | None) -> list[ArmWebService]:
        group = self.group(sub, group_name) if group_name is not None else None
        with self.lock:
            return [r for r in self.services.values() if r.subscription is sub and (group is None or r.group is group)]

    def put(self, sub: Subscription, group_name: str, name: str, body: Any,
            version: str = V2017) -> tuple[ArmWebService, bool]:
        """Create or overwrite; returns (resource, created). The model is fetched before anything changes."""
        group = self.group(sub, group_name)
        body = _resource_body(body)
        properties = _properties(body.get("properties"))
        _check_schema(body, version)
        downloaded = self._download(properties.get("assets"))  # storage I/O: never under the lock
        with self.lock:
            existing = self.services.get(_key(sub.id, group.name, name))
            if existing is not None and existing.properties.get("readOnly"):
                raise errors.WebServiceReadOnly(existing.name)
            location = body.get("location") or (existing.location if existing else group.location)
            svc = existing.service if existing else self.backend.add_arm_service(sub.id, name, properties)
            resource = existing or ArmWebService(sub, group, name, location, {}, {}, svc)
            resource.location, resource.tags = location, dict(body.get("tags") or {})
            new_properties = {k: v for k, v in properties.items() if k not in READ_ONLY_PROPERTIES and k != "keys"}
            self._apply(resource, new_properties, properties.get("keys"), downloaded, created=existing is None,
                        operation="put")
            if existing is None:
                self.services[_key(sub.id, group.name, name)] = resource
            self.persistence.arm_resource(resource)
            return resource, existing is None

    def patch(self, sub: Subscription, group_name: str, name: str, body: Any, version: str = V2017) -> ArmWebService:
        """Merge: top-level fields replace, assets merge per key, absent fields stay (inferred: the spec is silent)."""
        resource = self.get(sub, group_name, name)
        body = _resource_body(body)
        patch = _properties(body.get("properties"))  # packageType on every PATCH too (the discriminator)
        _check_schema(patch, version, "WebServiceProperties", "properties")
        downloaded = self._download(patch.get("assets"))  # storage I/O: never under the lock
        with self.lock:
            if resource.properties.get("readOnly"):
                raise errors.WebServiceReadOnly(resource.name)
            merged = copy.deepcopy(resource.properties)
            for key, value in patch.items():
                if key in READ_ONLY_PROPERTIES or key == "keys":
                    continue
                if key == "assets" and isinstance(value, dict):
                    merged.setdefault("assets", {}).update(copy.deepcopy(value))
                else:
                    merged[key] = copy.deepcopy(value)
            if "tags" in body:
                resource.tags = dict(body.get("tags") or {})
            if body.get("location"):
                resource.location = body["location"]
            self._apply(resource, merged, patch.get("keys"), downloaded, created=False)
            self.persistence.arm_resource(resource)
            return resource

    def delete(self, sub: Subscription, group_name: str, name: str) -> Operation:
        """202 whether or not the service existed (spec)."""
        group = self.group(sub, group_name)
        with self.lock:
            resource = self.services.pop(_key(sub.id, group.name, name), None)
            if resource is not None:
                self.backend.remove_arm_service(resource.service)
                self.persistence.arm_resource_removed(resource)
            return self._operation(compact(resource.location if resource else group.location))

    def keys(self, resource: ArmWebService) -> dict:
        ep = resource.service.endpoints[resource.service.default_endpoint_name]
        return {"primary": ep.primary_key, "secondary": ep.secondary_key}

    def operation(self, op_id: str) -> Operation:
        with self.lock:
            op = self.operations.get(op_id)
        if op is None:
            raise errors.OperationNotFound(op_id)
        return op

    # --- the one engine: trained-model assets -------------------------------------------------------

    def _apply(self, resource: ArmWebService, properties: dict, keys: Any, downloaded: Downloaded, *,
               created: bool, operation: str = "patch") -> None:
        """Swap the models of changed ``Resource`` assets, then store. A model that cannot be fetched
        or loaded fails the async operation and leaves the service as it was (inferred)."""
        models, failure = downloaded
        updates: dict[str, Resource] = {}
        for name, (data, uri) in models.items() if failure is None else ():
            try:
                resource.service.model_check(data)
            except ValueError as exc:
                failure = errors.InvalidModel(name, uri, exc)
                break
            updates[name] = Resource(name, data, {"uri": uri})
        if failure is None and self.faults is not None:  # an injected fault (emulator/faults.py)
            message = self.faults.arm_failure(operation, (resource.name,))
            failure = errors.InternalServerError(message) if message else None
        op = self._operation(compact(resource.location), failure)
        resource.operation = op
        if failure is not None:
            return
        svc = resource.service
        ep = svc.endpoints[svc.default_endpoint_name]
        if updates:
            self.backend.replace_resources(svc, ep, updates, "Resource Manager: PUT/PATCH")
        if isinstance(keys, dict):
            self.backend.set_keys(svc, ep, keys.get("primary"), keys.get("secondary"))
        resource.properties = properties
        resource.modified = utcnow()
        if created:
            resource.created = resource.modified

    def _download(self, requested: Any) -> Downloaded:
        """The models of the ``Resource`` assets a request names with an http(s) uri, fetched again even when the
        uri is unchanged (retraining usually overwrites the same blob): ({name: (bytes, uri)}, None), or
        ({}, the ArmError that fails the async operation). Storage being down is raised (503)."""
        found: dict[str, tuple[bytes, str]] = {}
        for asset in requested.values() if isinstance(requested, dict) else ():
            if not isinstance(asset, dict) or asset.get("type") != "Resource":
                continue
            name, location = asset.get("name"), asset.get("locationInfo") or {}
            uri = location.get("uri", "")
            if not uri.lower().startswith(("http://", "https://")):
                continue
            try:
                found[name] = (self._fetch(name, uri, location.get("credentials")), _without_query(uri))
            except errors.ArmError as exc:
                return {}, exc
        return found, None

    def _fetch(self, name: str, uri: str, credentials: str | None) -> bytes:
        """The blob at ``uri``: by its SAS, by the connection string in ``credentials``, or by the key
        the emulator knows for the account (how ADF fills ``locationInfo`` is not public: all three work)."""
        try:
            split = urlsplit(uri)
            host = split.hostname or ""
        except ValueError:
            raise errors.InvalidModel(name, "the given uri", "it is not a URL") from None
        path = unquote(split.path).lstrip("/")
        if ".blob." in host:
            account = host.split(".", 1)[0]
        else:  # path-style (Azurite) URL
            account, _, path = path.partition("/")
        container, _, blob = path.partition("/")
        key = None
        if credentials:
            try:
                key = parse_connection_string(credentials).get("AccountKey")
            except ValueError:
                raise errors.InvalidModel(name, _without_query(uri), "credentials is not a connection string") from None
        if not split.query and key is None:
            key = self.store.key_of(account)
        if not container or not blob:
            raise errors.InvalidModel(name, _without_query(uri), "the uri names no blob")
        problem = names.container_problem(container) or names.blob_problem(blob)
        if problem:
            raise errors.InvalidModel(name, names.printable(_without_query(uri)), problem)
        address = BlobAddress(account, container, blob, account_key=key, sas=split.query or None)
        try:
            return self.store.read(address, _without_query(uri))
        except AmlError as exc:
            raise errors.InvalidModel(name, _without_query(uri), exc.detail_message) from None

    def _operation(self, location: str, failure: errors.ArmError | None = None) -> Operation:
        op = Operation(uuid.uuid4().hex, location, time.monotonic(), self.delay,
                       "Failed" if failure else "Succeeded", failure)
        with self.lock:
            self.operations[op.id] = op
            dropped = []
            while len(self.operations) > MAX_OPERATIONS:  # the oldest first (dicts keep insertion order)
                dropped.append(next(iter(self.operations)))
                del self.operations[dropped[-1]]
            self.persistence.arm_operation(op, dropped)
        return op

    # --- rendering ----------------------------------------------------------------------------------

    def render(self, resource: ArmWebService, version: str, host: str) -> dict:
        """The resource as GET shows it: no keys, no storage key, asset credentials blanked (the spec's GET)."""
        props = copy.deepcopy(resource.properties)
        props.pop("keys", None)
        if isinstance(props.get("storageAccount"), dict):
            props["storageAccount"].pop("key", None)
        for asset in (props.get("assets") or {}).values():
            if isinstance(asset, dict) and isinstance(asset.get("locationInfo"), dict) \
                    and "credentials" in asset["locationInfo"]:
                asset["locationInfo"]["credentials"] = ""
        # the runtime is served by the emulator itself (as the classic ApiLocation is): its own origin
        props.update(createdOn=iso(resource.created), modifiedOn=iso(resource.modified),
                     provisioningState=resource.provisioning_state, packageType="Graph",
                     swaggerLocation=f"{host}/subscriptions/{resource.subscription.id}/services/"
                                     f"{resource.service.id}/swagger.json")
        params = props.get("parameters")
        if isinstance(params, dict):
            props["parameters"] = {k: _parameter(v, version) for k, v in params.items()}
        if version == V2016:
            props.pop("payloadsInBlobStorage", None)
            props.pop("payloadsLocation", None)
        return {"id": resource.id, "name": resource.name, "type": RESOURCE_TYPE, "location": resource.location,
                "tags": resource.tags, "properties": props}


# --- helpers ----------------------------------------------------------------------------------------

def _key(sub: str, group: str, name: str) -> tuple[str, str, str]:
    return sub.lower(), group.lower(), name.lower()


def _allows(role: str, action: str) -> bool:
    if role in ("Owner", "Contributor"):  # Contributor's notActions are all Microsoft.Authorization writes
        return True
    return role == "Reader" and action.lower().endswith("/read")


def _resource_body(body: Any) -> dict:
    """The envelope: an object; ``tags`` a map of strings; ``location`` one of the provider's regions."""
    if not isinstance(body, dict):
        raise errors.InvalidRequestContent("the body must be a JSON object")
    tags = body.get("tags")
    if tags is not None and not (isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())):
        raise errors.BadRequest("'tags' must be an object of strings.", target="tags")
    location = body.get("location")
    if location is not None:
        if not isinstance(location, str):
            raise errors.BadRequest("'location' must be a string.", target="location")
        if compact(location) not in REGIONS:
            raise errors.LocationNotAvailableForResourceType(location, ", ".join(sorted(REGIONS)))
    return body


def _properties(props: Any) -> dict:
    """``properties`` of a PUT/PATCH body: an object whose ``packageType`` is ``Graph`` (the spec's discriminator)."""
    if not isinstance(props, dict):
        raise errors.BadRequest("The request must contain 'properties' with 'packageType': 'Graph'.",
                                target="properties")
    if props.get("packageType") != "Graph":
        raise errors.BadRequest(f"The packageType '{short(props.get('packageType'))}' is not supported; "
                                "the only package type is 'Graph'.", target="properties.packageType")
    assets = props.get("assets")
    if assets is not None and not isinstance(assets, dict):
        raise errors.BadRequest("'assets' must be an object of assets by id.", target="properties.assets")
    for key, asset in (assets or {}).items():
        if not isinstance(asset, dict) or not all(asset.get(f) for f in ("name", "type", "locationInfo")) \
                or not isinstance(asset["locationInfo"], dict) or not isinstance(asset["locationInfo"].get("uri"), str):
            raise errors.BadRequest(f"The asset '{short(key)}' must have 'name', 'type' and 'locationInfo.uri'.",
                                    target=f"properties.assets.{key}")
    return props


def _check_schema(document: dict, version: str, definition: str | None = None, prefix: str = "") -> None:
    """The body against the api-version's schema generated from the spec (schemas/arm-webservice-*.json).
    The message names the rule, never the value (a value may hold keys)."""
    try:
        problem = schemas.first_problem(document, f"arm-webservice-{version}", definition, echo_values=False)
    except RecursionError:
        raise errors.BadRequest("The request content is nested too deeply.", target=prefix or "/") from None
    if problem is not None:
        where = (f"/{prefix}" if prefix else "") + problem.pointer
        raise errors.BadRequest(f"The request content is invalid at '{short(where or '/')}': {problem.message}",
                                target=where or "/")


def _port_spec(names: list[str], title: str) -> dict:
    return {"title": title, "type": "object",
            "properties": {n: {"title": n, "type": "object", "properties": {}} for n in names}}


def _parameter(value: Any, version: str) -> Any:
    """2016-05-01-preview: plain values; 2017-01-01: ``{value, certificateThumbprint}`` objects."""
    is_object = isinstance(value, dict) and "value" in value
    if version == V2016:
        return value["value"] if is_object else value
    return value if is_object else {"value": value}


def _without_query(uri: str) -> str:
    return uri.split("?", 1)[0]


def _dotnet(epoch: float) -> str:
    """.NET general date format, as ARM's expiry message shows times: 5/14/2023 3:04:05 PM."""
    d = datetime.fromtimestamp(epoch, timezone.utc)
    return f"{d.month}/{d.day}/{d.year} {(d.hour % 12) or 12}:{d.minute:02d}:{d.second:02d} {'AM' if d.hour < 12 else 'PM'}"

