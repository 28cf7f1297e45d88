"""The Delete activity (Microsoft Learn, "Delete Activity in Azure Data Factory") on blob datasets.

A dataset naming a file deletes that file (a missing one fails the activity); one naming a folder deletes its
files, and with ``recursive`` (default false) those of its subfolders too; ``wildcardFileName`` and
``modifiedDatetimeStart``/``End`` in ``storeSettings`` select files (a wildcard folder is not supported,
documented). ``enableLogging`` with ``logStorageSettings`` writes the documented log (``Name, Category, Status,
Error``) to ``{path}/{activity run id}/{activity run id}.csv`` (the file name is inferred) and the output's
``logPath`` names the folder. Output: ``datasetName``, ``type``, ``container``/``folderPath``/``fileName``,
``recursive``, ``isWildcardUsed``, ``maxConcurrentConnections``, ``filesDeleted``, ``logPath``,
``effectiveIntegrationRuntime``, ``executionDuration`` (the documented sample's fields, for a blob location).
"""
from __future__ import annotations

import time

from ..blobs import BlobStoreError
from ..datasets import linked_service, resolve_dataset
from ..engine import ActivityError, Call
from ..formats import delimited
from ..selection import MissingSource, select
from ..tabular import Table
from .stores import EFFECTIVE_RUNTIME, NOT_SUPPORTED, blob_store, check_options, dataset_store, flag, read_settings

DELETE_OPTIONS = frozenset({"dataset", "recursive", "maxConcurrentConnections", "enableLogging", "logStorageSettings",
                            "storeSettings"})
STORE_SETTINGS = frozenset({"type", "recursive", "wildcardFileName", "modifiedDatetimeStart", "modifiedDatetimeEnd"})
DEFAULT_LOG_CONTAINER = "adfemu-delete-logs"


def delete(call: Call) -> dict:
    props = check_options(call, "typeProperties", call.props, DELETE_OPTIONS)
    dataset = resolve_dataset(call, props.get("dataset"))
    store_settings = check_options(call, "storeSettings", call.evaluate(props.get("storeSettings")), STORE_SETTINGS)
    recursive = flag(call.evaluate(props.get("recursive")), flag(store_settings.get("recursive"), False))
    settings = read_settings(call, dict(store_settings, recursive=recursive), recursive_default=False)
    store = dataset_store(call, dataset)
    location = dataset.location()
    started = time.monotonic()
    try:
        selected = select(store, location, settings)
    except MissingSource as exc:
        raise ActivityError(f"Activity '{call.name}': the required Blob is missing: {exc}.") from None
    except BlobStoreError as exc:
        raise ActivityError(f"Activity '{call.name}': {exc}.") from None
    log = []
    for item in selected:
        try:
            store.delete(location.container, item.blob)
            log.append([item.blob, "File", "Deleted", None])
        except BlobStoreError as exc:
            log.append([item.blob, "File", "Failed", str(exc)])
            _write_log(call, props, log)
            raise ActivityError(f"Activity '{call.name}': {exc}.") from None
    output = {"datasetName": dataset.name, "type": (dataset.props.get("location") or {}).get("type"),
              "container": location.container, "folderPath": location.folder, "fileName": location.file or None,
              "recursive": recursive, "isWildcardUsed": settings.uses_wildcard,
              "maxConcurrentConnections": int(call.evaluate(props.get("maxConcurrentConnections")) or 1),
              "filesDeleted": len(selected)}
    log_path = _write_log(call, props, log)
    if log_path:
        output["logPath"] = log_path
    output.update({"effectiveIntegrationRuntime": EFFECTIVE_RUNTIME,
                   "executionDuration": int(time.monotonic() - started)})
    return output


def _write_log(call: Call, props: dict, log: list[list[str]]) -> str | None:
    if not flag(call.evaluate(props.get("enableLogging")), False):
        return None
    settings = check_options(call, "logStorageSettings", call.evaluate(props.get("logStorageSettings")),
                             {"linkedServiceName", "path", "logLevel", "enableReliableLogging"})
    ref = settings.get("linkedServiceName") or {}
    if not ref.get("referenceName"):
        raise ActivityError(f"Activity '{call.name}': enableLogging needs logStorageSettings.linkedServiceName.")
    store = blob_store(call, linked_service(call, ref.get("referenceName"), ref.get("parameters")))
    run = call.record.activity_run_id
    container, _, folder = f"{str(settings.get('path') or DEFAULT_LOG_CONTAINER).strip('/')}/{run}".partition("/")
    data = delimited.write(Table(["Name", "Category", "Status", "Error"], log), {"firstRowAsHeader": True})
    try:
        store.write(container, f"{folder}/{run}.csv", data)
    except BlobStoreError as exc:
        raise ActivityError(f"Activity '{call.name}': writing the delete log failed: {exc}.", NOT_SUPPORTED) from None
    return store.url(container, folder)


HANDLERS = {"Delete": delete}
