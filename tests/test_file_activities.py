"""Lookup, Get Metadata, Delete and Validation on blob datasets in the real Azurite."""
from __future__ import annotations

import base64
import hashlib
import json

from .datafactory import activity, blob_bytes, blob_dataset, blob_names, pipeline, put, run, write_factory
from .helpers import unique

DS = {"referenceName": "Data", "type": "DatasetReference"}


def _run(tmp_path, azurite, activities, datasets, **settings):
    root = write_factory(tmp_path / "f", [pipeline("P", *activities)], datasets)
    return run(root, "P", azurite, **settings)


def _lookup(name, first_row_only=True, source=None):
    return {"name": name, "type": "Lookup", "typeProperties": {
        "source": source or {"type": "DelimitedTextSource", "storeSettings": {"type": "AzureBlobStorageReadSettings"}},
        "dataset": DS, "firstRowOnly": first_row_only}}


def test_lookup_first_row_all_rows_and_json(tmp_path, azurite, blobs):
    c = unique("look")
    put(blobs, c, {"t.csv": "schema,table\r\ndbo,Table1\r\ndbo,Table2\r\n",
                   "t.json": '{"Id": "1", "table": "Table1"}\n{"Id": "2", "table": "Table2"}'})
    record = _run(tmp_path, azurite, [_lookup("First"), _lookup("All", False)],
                  [blob_dataset("Data", "DelimitedText", c, file="t.csv", firstRowAsHeader=True)])
    assert activity(record, "First").output["firstRow"] == {"schema": "dbo", "table": "Table1"}
    out = activity(record, "All").output
    assert out["count"] == 2 and out["value"][1] == {"schema": "dbo", "table": "Table2"}
    record = _run(tmp_path / "j", azurite, [_lookup("Json", False, {"type": "JsonSource"})],
                  [blob_dataset("Data", "Json", c, file="t.json")])
    assert activity(record, "Json").output["value"] == [{"Id": "1", "table": "Table1"}, {"Id": "2", "table": "Table2"}]


def test_lookup_returns_the_first_5000_rows_and_fails_over_4_mb(tmp_path, azurite, blobs):
    c = unique("big")
    put(blobs, c, {"rows.csv": "n\r\n" + "".join(f"{i}\r\n" for i in range(6000)),
                   "wide.csv": "v\r\n" + "".join(("x" * 1000) + "\r\n" for _ in range(4500))})
    record = _run(tmp_path, azurite, [_lookup("Rows", False)],
                  [blob_dataset("Data", "DelimitedText", c, file="rows.csv", firstRowAsHeader=True)])
    out = activity(record, "Rows").output
    assert out["count"] == 5000 and out["value"][-1] == {"n": "4999"}  # documented: the first 5000 rows
    record = _run(tmp_path / "w", azurite, [_lookup("Wide", False)],
                  [blob_dataset("Data", "DelimitedText", c, file="wide.csv", firstRowAsHeader=True)])
    error = activity(record, "Wide").error
    assert error["errorCode"] == "2001" and "over limit (around 4MB currently)" in error["message"]


def _metadata(name, fields, **props):
    return {"name": name, "type": "GetMetadata", "typeProperties": {"dataset": DS, "fieldList": fields, **props}}


def test_get_metadata_of_a_file(tmp_path, azurite, blobs):
    c = unique("meta")
    data = b"id,name\r\n1,ann\r\n"
    put(blobs, c, {"in/test.csv": data})
    fields = ["exists", "itemName", "itemType", "size", "lastModified", "contentMD5", "structure", "columnCount"]
    record = _run(tmp_path, azurite, [_metadata("Meta", fields)],
                  [blob_dataset("Data", "DelimitedText", c, "in", file="test.csv", firstRowAsHeader=True)])
    out = activity(record, "Meta").output
    modified = blobs.get_blob_client(c, "in/test.csv").get_blob_properties().last_modified
    assert {k: out[k] for k in fields} == {
        "exists": True, "itemName": "test.csv", "itemType": "File", "size": len(data),
        "lastModified": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "contentMD5": base64.b64encode(hashlib.md5(data).digest()).decode(),
        "structure": [{"name": "id", "type": "String"}, {"name": "name", "type": "String"}], "columnCount": 2}


def test_get_metadata_of_a_folder_and_missing_objects(tmp_path, azurite, blobs):
    c = unique("meta")
    put(blobs, c, {"f/a.csv": "x", "f/b.csv": "y", "f/sub/c.csv": "z"})
    datasets = [blob_dataset("Data", "Binary", c, "f"), blob_dataset("Gone", "Binary", c, "f", file="nope.bin")]
    gone = {"referenceName": "Gone", "type": "DatasetReference"}
    record = _run(tmp_path, azurite, [
        _metadata("Folder", ["itemName", "itemType", "childItems", "exists"]),
        _metadata("Window", ["childItems"], storeSettings={"type": "AzureBlobStorageReadSettings",
                                                           "modifiedDatetimeEnd": "2000-01-01T00:00:00Z"}),
        dict(_metadata("Exists", ["exists", "size"]), typeProperties={"dataset": gone, "fieldList": ["exists"]}),
        dict(_metadata("Missing", ["size"]), typeProperties={"dataset": gone, "fieldList": ["size"]})], datasets)
    out = activity(record, "Folder").output
    assert (out["itemName"], out["itemType"], out["exists"]) == ("f", "Folder", True)
    assert out["childItems"] == [{"name": "a.csv", "type": "File"}, {"name": "b.csv", "type": "File"},
                                 {"name": "sub", "type": "Folder"}]
    assert activity(record, "Window").output["childItems"] == []  # files only, none in the range
    assert activity(record, "Exists").output["exists"] is False
    missing = activity(record, "Missing")
    assert missing.status == "Failed" and f"'{c}/f/nope.bin' does not exist" in missing.error["message"]


def test_delete_a_folder_recursively_with_logging(tmp_path, azurite, blobs):
    c = unique("del")
    put(blobs, c, {"stage/a.csv": "1", "stage/sub/b.csv": "2", "keep/c.csv": "3"})
    delete = {"name": "Clean", "type": "Delete", "typeProperties": {
        "dataset": DS, "enableLogging": True, "storeSettings": {"type": "AzureBlobStorageReadSettings",
                                                               "recursive": True},
        "logStorageSettings": {"linkedServiceName": {"referenceName": "Blob", "type": "LinkedServiceReference"},
                               "path": f"{c}/logs"}}}
    record = _run(tmp_path, azurite, [delete], [blob_dataset("Data", "Binary", c, "stage")])
    act = activity(record, "Clean")
    assert act.status == "Succeeded", act.error
    assert act.output["filesDeleted"] == 2 and act.output["recursive"] is True
    run_id = act.activity_run_id
    assert blob_names(blobs, c) == ["keep/c.csv", f"logs/{run_id}/{run_id}.csv"]
    assert act.output["logPath"] == f"https://devstoreaccount1.blob.core.windows.net/{c}/logs/{run_id}"
    assert blob_bytes(blobs, c, f"logs/{run_id}/{run_id}.csv") == \
        b"Name,Category,Status,Error\r\nstage/a.csv,File,Deleted,\r\nstage/sub/b.csv,File,Deleted,\r\n"


def test_delete_non_recursive_wildcard_and_a_missing_file(tmp_path, azurite, blobs):
    c = unique("del")
    put(blobs, c, {"d/1.txt": "1", "d/2.csv": "2", "d/sub/3.txt": "3"})
    wild = {"name": "Wild", "type": "Delete", "typeProperties": {
        "dataset": DS, "storeSettings": {"type": "AzureBlobStorageReadSettings", "wildcardFileName": "*.txt"}}}
    missing = {"name": "Missing", "type": "Delete", "typeProperties": {
        "dataset": {"referenceName": "One", "type": "DatasetReference"}}}
    record = _run(tmp_path, azurite, [wild, missing], [blob_dataset("Data", "Binary", c, "d"),
                                                       blob_dataset("One", "Binary", c, "d", file="nope.txt")])
    assert activity(record, "Wild").output["filesDeleted"] == 1
    assert blob_names(blobs, c) == ["d/2.csv", "d/sub/3.txt"]
    assert "nope.txt" in activity(record, "Missing").error["message"]


def _validation(name, dataset="Data", **props):
    return {"name": name, "type": "Validation", "typeProperties": {
        "dataset": {"referenceName": dataset, "type": "DatasetReference"}, "timeout": "0.00:01:00", "sleep": 10,
        **props}}


def test_validation_waits_for_size_and_child_items_and_times_out(tmp_path, azurite, blobs):
    c = unique("val")
    put(blobs, c, {"ready/data.csv": "0123456789", "empty/.keep": ""})
    datasets = [blob_dataset("Data", "DelimitedText", c, "ready", file="data.csv"),
                blob_dataset("Folder", "Binary", c, "ready"), blob_dataset("Absent", "Binary", c, "later")]
    record = _run(tmp_path, azurite, [
        _validation("File", minimumSize=10), _validation("TooSmall", minimumSize=11),
        _validation("HasItems", "Folder", childItems=True), _validation("NotEmpty", "Folder", childItems=False),
        _validation("Never", "Absent")], datasets, time_scale=0.0005)
    assert activity(record, "File").output["exists"] is True and activity(record, "File").output["size"] == 10
    assert activity(record, "HasItems").output["childItems"] == [{"name": "data.csv", "type": "File"}]
    for name in ("TooSmall", "NotEmpty", "Never"):
        error = activity(record, name).error
        assert activity(record, name).status == "Failed" and "Validation timeout 0.00:01:00" in error["message"]


def test_validation_sees_a_file_that_arrives_while_it_waits(tmp_path, azurite, blobs):
    import threading
    c = unique("val")
    put(blobs, c, {"other.txt": "x"})
    arrived = threading.Event()

    def upload(call):  # a parallel activity drops the file 30 emulated seconds in: Validation has polled by then
        call.sleep(30)
        put(blobs, c, {"in/late.csv": "late"})
        arrived.set()
        return {}
    wait_then_drop = {"name": "Drop", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 30}}
    record = _run(tmp_path, azurite, [_validation("Late", timeout="0.01:00:00"), wait_then_drop],
                  [blob_dataset("Data", "DelimitedText", c, "in", file="late.csv")], time_scale=0.002,
                  stubs={"Drop": upload})
    assert arrived.is_set()
    late = activity(record, "Late")
    assert late.status == "Succeeded", late.error
    assert json.loads(json.dumps(late.output))["size"] == 4
