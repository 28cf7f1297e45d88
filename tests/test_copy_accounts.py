"""Storage linked services of every form reach Azurite under their own account names: a service endpoint reached
with a managed identity (the key adfemu derives), ADLS Gen2 (``AzureBlobFS``: the file system is a container),
and the legacy ``AzureStorage``; zero-config provisioning creates the accounts."""
from __future__ import annotations

import json

from adfemu.runner.blobs import derived_key

from .datafactory import pipeline

GEN2_KEY = "YWRmZW11LWdlbjItdGVzdC1rZXktbm90LWEtcmVhbC1zZWNyZXQtMDAwMDAwMDA="
LINKED = [
    {"name": "Lake", "properties": {"type": "AzureBlobFS", "typeProperties": {
        "url": "https://adfemulake.dfs.core.windows.net", "accountKey": GEN2_KEY}}},
    {"name": "Managed", "properties": {"type": "AzureBlobStorage", "typeProperties": {
        "serviceEndpoint": "https://adfemumsi.blob.core.windows.net/", "accountKind": "StorageV2"}}},
    {"name": "Legacy", "properties": {"type": "AzureStorage", "typeProperties": {"connectionString": {
        "type": "SecureString", "value": "DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey="
                                         "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
                                         "KBHBeksoGMGw==;EndpointSuffix=core.windows.net"}}}},
]


def _dataset(name, linked, location):
    return {"name": name, "properties": {"type": "DelimitedText", "typeProperties": {
        "location": location, "firstRowAsHeader": True},
        "linkedServiceName": {"referenceName": linked, "type": "LinkedServiceReference"}}}


def test_gen2_and_managed_identity_accounts_are_azurite_accounts(adfemu, tmp_path):
    factory = tmp_path / "factory"
    datasets = [_dataset("LakeFile", "Lake", {"type": "AzureBlobFSLocation", "fileSystem": "raw",
                                              "folderPath": "events", "fileName": "day.csv"}),
                _dataset("Staged", "Managed", {"type": "AzureBlobStorageLocation", "container": "staged",
                                               "fileName": "day.csv"}),
                _dataset("Archive", "Legacy", {"type": "AzureBlobStorageLocation", "container": "archive",
                                               "fileName": "day.csv"})]
    copy = {"name": "Move", "type": "Copy", "inputs": [{"referenceName": "LakeFile", "type": "DatasetReference"}],
            "outputs": [{"referenceName": "Staged", "type": "DatasetReference"}],
            "typeProperties": {"source": {"type": "DelimitedTextSource",
                                          "storeSettings": {"type": "AzureBlobFSReadSettings"}},
                               "sink": {"type": "DelimitedTextSink",
                                        "storeSettings": {"type": "AzureBlobStorageWriteSettings"},
                                        "formatSettings": {"type": "DelimitedTextWriteSettings",
                                                           "fileExtension": ".csv"}}}}
    archive = dict(copy, name="Archive", inputs=[{"referenceName": "Staged", "type": "DatasetReference"}],
                   outputs=[{"referenceName": "Archive", "type": "DatasetReference"}],
                   dependsOn=[{"activity": "Move", "dependencyConditions": ["Succeeded"]}])
    for folder, docs in (("linkedService", LINKED), ("dataset", datasets), ("pipeline", [pipeline("P", copy, archive)])):
        (factory / folder).mkdir(parents=True)
        for doc in docs:
            (factory / folder / f"{doc['name']}.json").write_text(json.dumps(doc))
    loaded = adfemu.load(factory)
    assert loaded.storage_accounts() == {"adfemulake": GEN2_KEY, "adfemumsi": derived_key("adfemumsi")}
    adfemu.upload("raw/events/day.csv", "a,b\r\n1,2\r\n", account="adfemulake")
    result = adfemu.run(factory, "P")
    assert result.status == "Succeeded", result.message
    assert adfemu.download("staged/day.csv", account="adfemumsi") == b"a,b\r\n1,2\r\n"
    assert result.activity("Move").output["executionDetails"][0]["source"]["type"] == "AzureBlobFS"
    assert adfemu.download("archive/day.csv") == b"a,b\r\n1,2\r\n"  # legacy AzureStorage, the dev account
    assert result.activity("Archive").output["executionDetails"][0]["sink"]["type"] == "AzureStorage"
