"""The Get Metadata activity (Microsoft Learn, "Get Metadata activity") on blob datasets and SQL tables.

Fields: ``itemName``, ``itemType`` (File/Folder), ``size`` (files), ``lastModified`` (files and containers, not
virtual folders), ``childItems`` (folders: ``[{"name", "type"}]`` of the first level), ``contentMD5`` (files),
``structure``/``columnCount`` (DelimitedText and Parquet files, SQL tables; not Binary or Json, as documented),
``exists``. ``created`` is not available on Azure Blob storage (documented). A missing file, folder or table
fails the activity unless ``exists`` is asked for, which then returns ``exists: false``. Wildcards are not
supported (documented); ``modifiedDatetimeStart``/``End`` filter ``childItems`` to files modified in the range.
The output may not exceed 4 MB.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..blobs import BlobStore, BlobStoreError
from ..datasets import Dataset, Location, resolve_dataset
from ..engine import ActivityError, Call
from ..formats import TABULAR, FormatError, file_codec
from ..formats.codecs import decompress
from ..selection import has_wildcard
from ..sql import SqlError, interim_of
from .lookup import MAX_OUTPUT, OUTPUT_LIMIT
from .stores import EFFECTIVE_RUNTIME, check_options, database, dataset_store, read_settings

FIELDS = ("itemName", "itemType", "size", "created", "lastModified", "childItems", "contentMD5", "structure",
          "columnCount", "exists")
SQL_FIELDS = ("structure", "columnCount", "exists")
STORE_SETTINGS = frozenset({"type", "modifiedDatetimeStart", "modifiedDatetimeEnd", "recursive"})


@dataclass
class Item:
    """A file or a folder as Get Metadata and Validation see it."""
    location: Location
    exists: bool
    is_file: bool
    size: int | None = None
    last_modified: datetime | None = None
    content_md5: str | None = None
    children: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        if self.is_file:
            return self.location.file
        return self.location.folder.rsplit("/", 1)[-1] if self.location.folder else self.location.container


def describe(store: BlobStore, location: Location, start: datetime | None = None,
             end: datetime | None = None) -> Item:
    """The file the location names, or its folder (with the first-level children)."""
    if location.file:
        info = store.properties(location.container, location.path)
        if info is None:
            return Item(location, False, True)
        return Item(location, True, True, info.size, info.last_modified, info.content_md5)
    if not store.container_exists(location.container):
        return Item(location, False, False)
    prefix = f"{location.folder}/" if location.folder else ""
    files, folders, seen = [], set(), False
    for info in store.list(location.container, prefix):
        seen = True
        rest = info.name[len(prefix):]
        if "/" in rest:
            folders.add(rest.split("/", 1)[0])
        elif rest and (start is None or info.last_modified >= start) and (end is None or info.last_modified < end):
            files.append(rest)
    if location.folder and not seen:
        return Item(location, False, False)
    children = [{"name": n, "type": "File"} for n in files]
    if start is None and end is None:  # with a modified filter, childItems holds files only (documented)
        children += [{"name": n, "type": "Folder"} for n in sorted(folders)]
    children.sort(key=lambda c: c["name"])
    modified = store.container_modified(location.container) if not location.folder else None
    return Item(location, True, False, last_modified=modified, children=children)


def get_metadata(call: Call) -> dict:
    props = check_options(call, "typeProperties", call.props, {"dataset", "fieldList", "storeSettings",
                                                               "formatSettings"})
    fields = _fields(call, call.evaluate(props.get("fieldList")))
    dataset = resolve_dataset(call, props.get("dataset"))
    started = time.monotonic()
    output = _sql(call, dataset, fields) if dataset.is_sql else _file(call, dataset, fields, props)
    output.update({"effectiveIntegrationRuntime": EFFECTIVE_RUNTIME,
                   "executionDuration": int(time.monotonic() - started),
                   "durationInQueue": {"integrationRuntimeQueue": 0}})
    if len(json.dumps(output, default=str)) > MAX_OUTPUT:
        raise ActivityError(OUTPUT_LIMIT[1], OUTPUT_LIMIT[0])
    return output


def _fields(call: Call, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ActivityError(f"Activity '{call.name}': fieldList must list the metadata to get ({', '.join(FIELDS)}).")
    fields = [str(f) for f in value]
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise ActivityError(f"Activity '{call.name}': fieldList has {', '.join(map(repr, unknown))}, which "
                            f"Get Metadata does not know (fields: {', '.join(FIELDS)}).")
    return fields


def _file(call: Call, dataset: Dataset, fields: list[str], props: dict) -> dict:
    store_settings = check_options(call, "storeSettings", call.evaluate(props.get("storeSettings")), STORE_SETTINGS)
    check_options(call, "formatSettings", call.evaluate(props.get("formatSettings")), {"type"})
    window = read_settings(call, store_settings)
    location = dataset.location()
    if has_wildcard(location.path):
        raise ActivityError(f"Activity '{call.name}': Get Metadata does not support wildcards ('{location}').")
    if "created" in fields:
        raise ActivityError(f"Activity '{call.name}': the 'created' metadata is not available for Azure Blob "
                            "storage (Get Metadata activity, supported connectors).")
    store = dataset_store(call, dataset)
    try:
        item = describe(store, location, window.modified_start, window.modified_end)
    except BlobStoreError as exc:
        raise ActivityError(f"Activity '{call.name}': {exc}.") from None
    if not item.exists:
        if "exists" in fields:
            return {"exists": False}
        what = "Blob" if item.is_file else "folder"
        raise ActivityError(f"The required {what} is missing: '{location}' does not exist in storage account "
                            f"'{store.account.name}'. (Add 'exists' to fieldList to get exists: false instead.)")
    output: dict[str, Any] = {}
    for name in fields:
        output[name] = _file_field(call, dataset, store, item, name)
    return {k: v for k, v in output.items() if v is not _ABSENT}


_ABSENT = object()


def _file_field(call: Call, dataset: Dataset, store: BlobStore, item: Item, name: str) -> Any:
    if name == "exists":
        return True
    if name == "itemName":
        return item.name
    if name == "itemType":
        return "File" if item.is_file else "Folder"
    if name == "lastModified":
        return item.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ") if item.last_modified else _ABSENT
    if name in ("size", "contentMD5"):
        if not item.is_file:
            raise ActivityError(f"Activity '{call.name}': '{name}' applies to files; '{item.location}' is a folder.")
        return item.size if name == "size" else item.content_md5
    if name == "childItems":
        if item.is_file:
            raise ActivityError(f"Activity '{call.name}': 'childItems' applies to folders; '{item.location}' is a "
                                "file.")
        return item.children
    structure = _structure(call, dataset, store, item)
    return structure if name == "structure" else len(structure)


def _structure(call: Call, dataset: Dataset, store: BlobStore, item: Item) -> list[dict]:
    if not item.is_file or dataset.type not in ("DelimitedText", "Parquet"):
        raise ActivityError(f"Activity '{call.name}': 'structure' and 'columnCount' are available for DelimitedText "
                            f"and Parquet files and SQL tables (dataset '{dataset.name}' is {dataset.type}"
                            f"{'' if item.is_file else ', a folder'}).")
    try:
        data = store.read(item.location.container, item.location.path)
        codec = file_codec(dataset.type, dataset.props)
        if codec is not None:
            data = decompress(codec, data, f"'{item.location}'")[0][1]
        table = TABULAR[dataset.type].read(data, dataset.props, {}, f"'{item.location}'")
    except (BlobStoreError, *FormatError) as exc:
        raise ActivityError(f"Activity '{call.name}': {exc}.") from None
    return [{"name": c, "type": table.type_of(i) or "String"} for i, c in enumerate(table.columns)]


def _sql(call: Call, dataset: Dataset, fields: list[str]) -> dict:
    others = [f for f in fields if f not in SQL_FIELDS]
    if others:
        raise ActivityError(f"Activity '{call.name}': for a SQL table Get Metadata returns {', '.join(SQL_FIELDS)}, "
                            f"not {', '.join(others)}.")
    _, table = dataset.table()
    with database(call, dataset.linked_service) as db:
        columns = db.columns(table)
    if not columns:
        if "exists" in fields:
            return {"exists": False}
        raise ActivityError(f"Activity '{call.name}': {SqlError(f'Invalid object name {table!r}.')}")
    structure = [{"name": c, "type": interim_of(t)} for c, t in columns]
    values = {"structure": structure, "columnCount": len(structure), "exists": True}
    return {f: values[f] for f in fields}


HANDLERS = {"GetMetadata": get_metadata}
