"""Update Resource: replace an endpoint's trained models from ``.ilearner`` blobs (classic PATCH).

The emulator downloads every named model through the SAS URL the client sent, checks that the
service can load it, and only then swaps them all at once, so a failed PATCH changes nothing.
"""
from __future__ import annotations

from typing import Any

from . import body_shapes, errors
from .backend import Backend
from .models import Endpoint, Resource, WebService
from .storage import BlobAddress, BlobStore, account_from_base_location, split_relative_location


def update_resources(backend: Backend, store: BlobStore, svc: WebService, ep: Endpoint, body: Any) -> None:
    if svc.is_default(ep):
        raise errors.UpdatingDefaultEndpoint()
    if not ep.resources:
        raise errors.NoUpdatableResources()
    if ep.prevent_update:
        raise errors.UpdatePrevented(ep.name)
    items = body.get("Resources") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise errors.RequestBodyInvalid()
    parsed = [_resource_item(item) for item in items]
    body_shapes.check(body, "aml-classic-patch")
    updates: dict[str, Resource] = {}
    for name, location in parsed:
        if name not in ep.resources:
            raise errors.UnknownResourceName(name, ", ".join(ep.resources), target=name)
        shown = location["BaseLocation"].rstrip("/") + "/" + location["RelativeLocation"].lstrip("/")
        data = store.read(_address(location, name), shown)
        try:
            svc.model_check(data)
        except ValueError as exc:
            raise errors.IncompatibleModel(location["RelativeLocation"], exc, target=name) from None
        updates[name] = Resource(name, data, dict(location), ep.resources[name].kind)
    backend.replace_resources(svc, ep, updates, "classic management API: PATCH")


def _resource_item(item: Any) -> tuple[str, dict[str, str]]:
    if not isinstance(item, dict):
        raise errors.RequestBodyInvalid()
    name = item.get("Name")
    if not isinstance(name, str):
        raise errors.RequestBodyInvalid()
    if not name.strip():
        raise errors.EmptyResourceName()
    location = item.get("Location")
    fields = ("BaseLocation", "RelativeLocation", "SasBlobToken")
    if not isinstance(location, dict) or not all(isinstance(location.get(f), str) for f in fields):
        raise errors.InvalidBlob(name, target=name)
    return name, {f: location[f] for f in fields}


def _address(location: dict[str, str], name: str) -> BlobAddress:
    try:
        account = account_from_base_location(location["BaseLocation"])
    except ValueError:
        raise errors.InvalidBlob(location["BaseLocation"], target=name) from None
    container, blob = split_relative_location(location["RelativeLocation"], name)
    return BlobAddress(account, container, blob, sas=location["SasBlobToken"].lstrip("?") or None)
