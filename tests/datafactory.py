"""Helpers for the data-activity tests: a factory written to tmp_path from dicts, run by the engine against the
session's Azurite (and emulator), and the blobs it reads and writes."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from azure.storage.blob import BlobServiceClient

from adfemu.runner.definitions import Definitions
from adfemu.runner.endpoints import Endpoints
from adfemu.runner.engine import Engine, Settings
from adfemu.runner.factory import load_paths
from adfemu.runner.records import PipelineRun
from adfemu.runner.services import Services

DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEV_CONNECTION = f"DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey={DEV_KEY};" \
                 "EndpointSuffix=core.windows.net"
BLOB = {"name": "Blob", "properties": {"type": "AzureBlobStorage",
                                       "typeProperties": {"connectionString": DEV_CONNECTION}}}
SQL = {"name": "SqlDb", "properties": {"type": "AzureSqlDatabase", "typeProperties": {
    "connectionString": {"type": "SecureString", "value": "Server=tcp:contoso.database.windows.net,1433;"
                                                          "Database=sales;User ID=adf;Password=not-a-real-one;"}}}}


def blob_dataset(name: str, kind: str, container: str, folder: Any = None, file: Any = None,
                 parameters: dict | None = None, **props: Any) -> dict:
    location = {"type": "AzureBlobStorageLocation", "container": container}
    if folder is not None:
        location["folderPath"] = folder
    if file is not None:
        location["fileName"] = file
    doc = {"name": name, "properties": {"type": kind, "linkedServiceName": {"referenceName": "Blob",
                                                                           "type": "LinkedServiceReference"},
                                        "typeProperties": {"location": location, **props}}}
    if parameters:
        doc["properties"]["parameters"] = parameters
    return doc


def sql_dataset(name: str, table: str, schema: str | None = "dbo") -> dict:
    props = {"table": table, **({"schema": schema} if schema else {})}
    return {"name": name, "properties": {"type": "AzureSqlTable", "typeProperties": props,
                                         "linkedServiceName": {"referenceName": "SqlDb",
                                                               "type": "LinkedServiceReference"}}}


def pipeline(name: str, *activities: dict, parameters: dict | None = None) -> dict:
    return {"name": name, "properties": {"activities": list(activities), "parameters": parameters or {}}}


def copy_activity(source: dict, sink: dict, inputs: str | dict, outputs: str | dict, name: str = "CopyData",
                  **props: Any) -> dict:
    def ref(value):
        return value if isinstance(value, dict) else {"referenceName": value, "type": "DatasetReference"}
    return {"name": name, "type": "Copy", "inputs": [ref(inputs)], "outputs": [ref(outputs)],
            "typeProperties": {"source": source, "sink": sink, **props}}


def write_factory(root: Path, pipelines: list[dict], datasets: list[dict] = (), linked: list[dict] = (BLOB, SQL)) \
        -> Path:
    for folder, docs in (("pipeline", pipelines), ("dataset", datasets), ("linkedService", linked)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for doc in docs:
            (root / folder / f"{doc['name']}.json").write_text(json.dumps(doc, indent=1))
    return root


def definitions(root: Path) -> Definitions:
    return Definitions.from_factory(load_paths([str(root)])[0])


def run(root: Path, name: str, azurite, parameters: dict | None = None, sql: dict | None = None,
        emulator_url: str = "http://127.0.0.1:9", **settings: Any) -> PipelineRun:
    services = Services(Endpoints(emulator_url), storage_url=azurite.url, sql=dict(sql or {}))
    settings = {"time_scale": 0.001, "poll_seconds": 1, **settings}
    return Engine(definitions(root), Settings(services=services, **settings)).run(name, parameters or {})


def activity(record: PipelineRun, name: str):
    return next(r for r in record.activity_runs if r.activity_name == name)


def blob_bytes(blobs: BlobServiceClient, container: str, name: str) -> bytes:
    return blobs.get_blob_client(container, name).download_blob().readall()


def blob_names(blobs: BlobServiceClient, container: str, prefix: str = "") -> list[str]:
    return sorted(b.name for b in blobs.get_container_client(container).list_blobs(name_starts_with=prefix or None))


def put(blobs: BlobServiceClient, container: str, files: dict[str, bytes | str]) -> None:
    client = blobs.get_container_client(container)
    if not client.exists():
        client.create_container()
    for name, data in files.items():
        client.upload_blob(name, data.encode() if isinstance(data, str) else data, overwrite=True)


def sqlite_file(path: Path, script: str) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(script)
    connection.commit()
    connection.close()
    return path


def query(path: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()
