"""What the data activities (Copy, Lookup, GetMetadata, Delete, Validation, Script, Stored procedure) share:
the store behind a dataset or linked service (a blob account on Azurite, a SQLite file), option checking
(an option adfemu does not emulate fails naming it, never silently), and file read settings."""
from __future__ import annotations

from typing import Any, Iterable

from ..blobs import BlobStore, BlobStoreError, account_of
from ..datasets import SQL_LINKED_SERVICES, Dataset, LinkedService
from ..engine import ActivityError, Call
from ..selection import ReadSettings, parse_instant
from ..sql import Database, SqlError

NOT_SUPPORTED = "NotSupported"
# ADF names the integration runtime and its region; offline there is none, so the value of the documentation's
# example ("Copy activity monitoring") is used.
EFFECTIVE_RUNTIME = "DefaultIntegrationRuntime (East US)"
# Options that tune performance or connections only: accepted, without effect on what is read or written.
PERFORMANCE = frozenset({"maxConcurrentConnections", "disableMetricsCollection", "sourceRetryCount", "sourceRetryWait",
                         "sinkRetryCount", "sinkRetryWait", "writeBatchSize", "writeBatchTimeout", "queryTimeout",
                         "blockSizeInMB", "sqlWriterUseTableLock", "isolationLevel"})


def check_options(call: Call, where: str, given: Any, allowed: Iterable[str]) -> dict:
    """``given`` (an object of options) must only use ``allowed`` keys (plus the performance ones)."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise ActivityError(f"Activity '{call.name}': {where} must be an object.")
    unknown = sorted(set(given) - set(allowed) - PERFORMANCE)
    if unknown:
        raise ActivityError(f"Activity '{call.name}': {where} has option(s) {', '.join(unknown)} that adfemu does not "
                            f"emulate (supported: {', '.join(sorted(set(allowed) - {'type'})) or 'none'}); remove "
                            "them or give the activity a stub (--stubs).", NOT_SUPPORTED)
    return given


def flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def blob_store(call: Call, linked: LinkedService) -> BlobStore:
    try:
        account = account_of(linked.doc, linked.secret, linked.evaluate)
        return BlobStore(call.engine.settings.services.storage_url or "", account)
    except BlobStoreError as exc:
        raise ActivityError(f"Activity '{call.name}': {exc}.", NOT_SUPPORTED) from None


def dataset_store(call: Call, dataset: Dataset) -> BlobStore:
    if not dataset.is_file:
        raise ActivityError(f"Activity '{call.name}': dataset '{dataset.name}' ({dataset.type}) is not a file "
                            "dataset adfemu serves (DelimitedText, Json, Parquet, Binary).", NOT_SUPPORTED)
    return blob_store(call, dataset.linked_service)


def database(call: Call, linked: LinkedService) -> Database:
    """The SQLite file that stands in for a SQL linked service (``--sql NAME=path.db``)."""
    if linked.type not in SQL_LINKED_SERVICES:
        raise ActivityError(f"Activity '{call.name}': linked service '{linked.name}' is {linked.type}, which adfemu "
                            f"does not serve (SQL linked services: {', '.join(SQL_LINKED_SERVICES)}).", NOT_SUPPORTED)
    path = call.engine.settings.services.sql_database(linked.name)
    if not path:
        raise ActivityError(f"Activity '{call.name}': linked service '{linked.name}' ({linked.type}) has no local "
                            f"database: map it to a SQLite file with --sql {linked.name}=path.db (or the 'sql' "
                            "setting / config section).", NOT_SUPPORTED)
    try:
        return Database(path, f"linked service '{linked.name}'")
    except SqlError as exc:
        raise ActivityError(f"Activity '{call.name}': {exc}.", NOT_SUPPORTED) from None


def read_settings(call: Call, store_settings: dict, recursive_default: bool = True) -> ReadSettings:
    try:
        return ReadSettings(
            recursive=flag(store_settings.get("recursive"), recursive_default),
            wildcard_folder=store_settings.get("wildcardFolderPath") or None,
            wildcard_file=store_settings.get("wildcardFileName") or None,
            modified_start=parse_instant(store_settings.get("modifiedDatetimeStart"), "modifiedDatetimeStart"),
            modified_end=parse_instant(store_settings.get("modifiedDatetimeEnd"), "modifiedDatetimeEnd"))
    except ValueError as exc:
        raise ActivityError(f"Activity '{call.name}': storeSettings: {exc}.") from None


STORE_READ_SETTINGS = frozenset({"type", "recursive", "wildcardFolderPath", "wildcardFileName", "modifiedDatetimeStart",
                                 "modifiedDatetimeEnd", "deleteFilesAfterCompletion", "enablePartitionDiscovery"})
STORE_WRITE_SETTINGS = frozenset({"type", "copyBehavior"})
