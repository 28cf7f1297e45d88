"""Plain state objects: workspaces, web services, endpoints, trained-model resources.

No I/O and no locking here: ``backend.Backend`` owns every instance and guards them.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .experiments import Experiment, ModelCheck


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """``2024-06-01T10:00:00.123Z`` (isoformat is C code; strftime costs more on every journal entry)."""
    return moment.isoformat(timespec="milliseconds")[:23] + "Z" if moment else None


@dataclass
class Resource:
    """A trained-model resource (e.g. ``ADFV2Sample Model [trained model]``) of one endpoint."""

    name: str
    model: bytes
    location: dict[str, str] | None = None  # BaseLocation / RelativeLocation / SasBlobToken of the last PATCH
    kind: str = "Resource"  # (inferred) the ARM asset type of [trained model] assets
    updated: datetime | None = None  # when the model last changed (None: as configured)
    updated_by: str = "the configuration"  # which API changed it

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.model).hexdigest()


@dataclass
class Endpoint:
    name: str
    id: str
    primary_key: str
    secondary_key: str
    description: str = ""
    created: datetime = field(default_factory=utcnow)
    throttle_level: str = "Low"
    max_concurrent_calls: int = 4
    prevent_update: bool = False
    resources: dict[str, Resource] = field(default_factory=dict)
    version: int = 1

    def accepts_key(self, key: str) -> bool:
        return any(hmac.compare_digest(key.encode(), k.encode()) for k in (self.primary_key, self.secondary_key))


@dataclass
class WebService:
    id: str
    name: str
    kind: str  # "training" | "predictive"
    workspace_id: str
    experiment: Experiment
    model_check: ModelCheck
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    global_parameters: list[dict[str, Any]]
    settings: dict[str, Any]
    endpoints: dict[str, Endpoint]  # by name; insertion order, the first is the default
    description: str = ""
    queue_seconds: float = 0.0
    run_seconds: float = 0.0
    created: datetime = field(default_factory=utcnow)
    arm: dict[str, Any] | None = None  # the config's ``arm`` block: also an ARM webServices resource
    experiment_spec: dict[str, Any] | None = None  # the config's ``experiment`` (to rebuild it from saved state)

    @property
    def default_endpoint_name(self) -> str:
        return next(iter(self.endpoints))

    def is_default(self, endpoint: Endpoint) -> bool:
        return endpoint.name == self.default_endpoint_name

    def input_names(self) -> list[str]:
        return [p["name"] for p in self.inputs]

    def output_kinds(self) -> dict[str, str]:
        return {p["name"]: p.get("type", "dataset") for p in self.outputs}


@dataclass
class Workspace:
    id: str
    name: str
    region: str
    tier: str
    subscription_id: str | None
    tokens: tuple[str, str]
    services: dict[str, WebService] = field(default_factory=dict)  # by lower-case id

    def accepts_token(self, token: str) -> bool:
        return any(hmac.compare_digest(token.encode(), t.encode()) for t in self.tokens)
