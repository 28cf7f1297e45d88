"""Bad input to the data-moving activities: one line naming what and where, never a traceback or a secret."""
from __future__ import annotations

import pytest

from .datafactory import activity, blob_dataset, copy_activity, pipeline, run, sql_dataset, write_factory

TEXT_SOURCE = {"type": "DelimitedTextSource", "storeSettings": {"type": "AzureBlobStorageReadSettings"}}
TEXT_SINK = {"type": "DelimitedTextSink", "storeSettings": {"type": "AzureBlobStorageWriteSettings"},
             "formatSettings": {"type": "DelimitedTextWriteSettings", "fileExtension": ".csv"}}
DATASETS = [blob_dataset("Text", "DelimitedText", "c", file="a.csv"), blob_dataset("Bin", "Binary", "c", "f"),
            sql_dataset("Table", "T")]
SQL = {"referenceName": "SqlDb", "type": "LinkedServiceReference"}
CASES = [
    ("translator", copy_activity(TEXT_SOURCE, TEXT_SINK, "Text", "Text", translator={
        "type": "TabularTranslator", "collectionReference": "$['orders']"}), "NotSupported", "collectionReference"),
    ("prefix", copy_activity(dict(TEXT_SOURCE, storeSettings={"type": "AzureBlobStorageReadSettings", "prefix": "x"}),
                             TEXT_SINK, "Text", "Text"), "NotSupported", "prefix"),
    ("binary-to-text", copy_activity({"type": "BinarySource"}, TEXT_SINK, "Bin", "Text"), "2200",
     "Binary dataset can only be copied"),
    ("mismatch", copy_activity({"type": "JsonSource"}, TEXT_SINK, "Text", "Text"), "2200",
     "'JsonSource' does not read dataset 'Text'"),
    ("upsert", copy_activity(TEXT_SOURCE, {"type": "AzureSqlSink", "writeBehavior": "upsert"}, "Text", "Table"),
     None, "upsert"),
    ("fields", {"name": "X", "type": "GetMetadata", "typeProperties": {
        "dataset": {"referenceName": "Text", "type": "DatasetReference"}, "fieldList": ["colour"]}}, None,
     "'colour'"),
    ("lookup-binary", {"name": "X", "type": "Lookup", "typeProperties": {
        "dataset": {"referenceName": "Bin", "type": "DatasetReference"}, "source": {"type": "BinarySource"}}},
     "NotSupported", "Bin' is Binary"),
    ("certificate", {"name": "X", "type": "WebActivity", "typeProperties": {
        "method": "GET", "url": "http://127.0.0.1:9/x", "authentication": {
            "type": "ClientCertificate", "pfx": {"type": "SecureString", "value": "cGZ4LXNlY3JldA=="},
            "password": {"type": "SecureString", "value": "pfx-password"}}}}, "NotSupported", "ClientCertificate"),
    ("output-parameter", {"name": "X", "type": "Script", "linkedServiceName": SQL, "typeProperties": {"scripts": [
        {"type": "Query", "text": "SELECT 1", "parameters": [{"name": "o", "type": "Int32", "direction": "Output"}]}]}},
     "NotSupported", "direction 'Output'"),
    ("dataset-params", {"name": "X", "type": "Delete", "typeProperties": {
        "dataset": {"referenceName": "Text", "type": "DatasetReference", "parameters": {"nope": "1"}}}}, None,
     "has no parameter 'nope'"),
]


@pytest.mark.parametrize("name,act,code,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(tmp_path, azurite, name, act, code, words):
    act = dict(act, name="X")
    root = write_factory(tmp_path / "f", [pipeline("P", act)], DATASETS)
    (tmp_path / "db.sqlite").touch()
    result = activity(run(root, "P", azurite, sql={"SqlDb": str(tmp_path / "db.sqlite")}), "X")
    error = result.error
    assert result.status == "Failed" and words in error["message"], error
    assert code is None or error["errorCode"] == code
    assert "\n" not in error["message"] and "Traceback" not in error["message"]
    assert error["errorCode"] != "InternalError"
    for secret in ("pfx-password", "cGZ4LXNlY3JldA==", "not-a-real-one"):
        assert secret not in str(result.as_dict())
