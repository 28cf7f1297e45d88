"""Copy between blob datasets on the real Azurite: every format and option checked on the bytes written and the
output's counts."""
from __future__ import annotations

import bz2
import gzip
import io
import zipfile
import zlib
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .datafactory import activity, blob_bytes, blob_dataset, blob_names, copy_activity, pipeline, put, run, \
    write_factory
from .helpers import unique

CSV = "id,name,score\r\n1,ann,3.5\r\n2,bob,\r\n3,\"c,d\",7\r\n"
TEXT_SOURCE = {"type": "DelimitedTextSource", "storeSettings": {"type": "AzureBlobStorageReadSettings"},
               "formatSettings": {"type": "DelimitedTextReadSettings"}}
TEXT_SINK = {"type": "DelimitedTextSink", "storeSettings": {"type": "AzureBlobStorageWriteSettings"},
             "formatSettings": {"type": "DelimitedTextWriteSettings", "fileExtension": ".csv"}}


def _copy(tmp_path, azurite, datasets, source=TEXT_SOURCE, sink=TEXT_SINK, parameters=None, run_parameters=None,
          inputs="In", outputs="Out", **props):
    root = write_factory(tmp_path / "factory", [pipeline("P", copy_activity(source, sink, inputs, outputs, **props),
                                                         parameters=parameters)], datasets)
    record = run(root, "P", azurite, run_parameters)
    return record, activity(record, "CopyData")


def _ok(result):
    record, act = result
    assert act.status == "Succeeded", act.error
    return act.output


def test_csv_to_csv_preserves_the_hierarchy_and_counts_rows_and_bytes(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"in/a.csv": CSV, "in/sub/b.csv": "id,name,score\r\n9,zed,1\r\n"})
    datasets = [blob_dataset("In", "DelimitedText", src, "in", firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, "out", firstRowAsHeader=True)]
    out = _ok(_copy(tmp_path, azurite, datasets))
    assert blob_names(blobs, dst) == ["out/a.csv", "out/sub/b.csv"]
    assert blob_bytes(blobs, dst, "out/a.csv") == CSV.encode()  # re-written with the same rules
    assert (out["filesRead"], out["filesWritten"], out["rowsRead"], out["rowsCopied"]) == (2, 2, 4, 4)
    assert out["dataRead"] == len(CSV) + len("id,name,score\r\n9,zed,1\r\n")
    assert out["dataWritten"] == out["dataRead"]
    assert {"copyDuration", "throughput", "effectiveIntegrationRuntime", "executionDetails", "errors"} <= set(out)
    assert out["errors"] == [] and out["executionDetails"][0]["source"]["type"] == "AzureBlobStorage"


def test_delimited_text_options_are_written_as_configured(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"a.csv": CSV})
    sink_props = dict(columnDelimiter=";", quoteChar="'", escapeChar="\\", nullValue="NULL", firstRowAsHeader=True)
    datasets = [blob_dataset("In", "DelimitedText", src, file="a.csv", firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, "o", **sink_props)]
    sink = dict(TEXT_SINK, formatSettings={"type": "DelimitedTextWriteSettings", "fileExtension": ".txt",
                                           "quoteAllText": True})
    _ok(_copy(tmp_path, azurite, datasets, sink=sink))
    assert blob_bytes(blobs, dst, "o/a.csv") == (
        "'id';'name';'score'\r\n'1';'ann';'3.5'\r\n'2';'bob';NULL\r\n'3';'c,d';'7'\r\n").encode()


def test_merged_files_without_a_file_name_take_the_sink_file_extension(tmp_path, azurite, blobs):
    """MergeFiles into a folder: ``Data.[activity run id].[fileExtension]`` (Microsoft Learn, Azure Blob storage
    connector, copyBehavior examples); ``fileExtension`` given without its dot gains one."""
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"in/a.csv": "id\r\n1\r\n", "in/b.csv": "id\r\n2\r\n"})
    datasets = [blob_dataset("In", "DelimitedText", src, "in", firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, "o", firstRowAsHeader=True)]
    sink = dict(TEXT_SINK, storeSettings={"type": "AzureBlobStorageWriteSettings", "copyBehavior": "MergeFiles"},
                formatSettings={"type": "DelimitedTextWriteSettings", "fileExtension": "txt"})
    record, act = _copy(tmp_path, azurite, datasets, sink=sink)
    assert act.status == "Succeeded", act.error
    assert blob_names(blobs, dst) == [f"o/Data.{act.activity_run_id}.txt"]
    assert blob_bytes(blobs, dst, f"o/Data.{act.activity_run_id}.txt") == b"id\r\n1\r\n2\r\n"


def test_skip_line_count_encoding_and_escape_char(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    text = "exported by tool\r\nname|note\r\nzoë|say \\|hi\\|\r\n"
    put(blobs, src, {"a.txt": text.encode("utf-16")})
    datasets = [blob_dataset("In", "DelimitedText", src, file="a.txt", columnDelimiter="|", quoteChar="",
                             escapeChar="\\", firstRowAsHeader=True, encodingName="UTF-16"),
                blob_dataset("Out", "DelimitedText", dst, file="b.csv", firstRowAsHeader=True,
                             encodingName="ISO-8859-1")]
    source = dict(TEXT_SOURCE, formatSettings={"type": "DelimitedTextReadSettings", "skipLineCount": 1})
    out = _ok(_copy(tmp_path, azurite, datasets, source=source))
    assert blob_bytes(blobs, dst, "b.csv") == "name,note\r\nzoë,say |hi|\r\n".encode("latin-1")
    assert out["rowsCopied"] == 1


@pytest.mark.parametrize("codec,unpack,ext", [("gzip", gzip.decompress, ".gz"), ("bzip2", bz2.decompress, ".bz2"),
                                              ("deflate", lambda d: zlib.decompress(d, -15), ".deflate")])
def test_compressed_output_decompresses_to_the_rows(tmp_path, azurite, blobs, codec, unpack, ext):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"a.csv": CSV})
    datasets = [blob_dataset("In", "DelimitedText", src, file="a.csv", firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, "z", firstRowAsHeader=True, compressionCodec=codec)]
    out = _ok(_copy(tmp_path, azurite, datasets))
    assert blob_names(blobs, dst) == [f"z/a.csv{ext}"]
    data = blob_bytes(blobs, dst, f"z/a.csv{ext}")
    assert unpack(data) == CSV.encode() and out["dataWritten"] == len(data)
    # and back: the compressed file is a source too
    datasets2 = [blob_dataset("In", "DelimitedText", dst, "z", file=f"a.csv{ext}", firstRowAsHeader=True,
                              compressionCodec=codec),
                 blob_dataset("Out", "DelimitedText", dst, "plain", firstRowAsHeader=True)]
    out2 = _ok(_copy(tmp_path / "back", azurite, datasets2))
    assert blob_bytes(blobs, dst, "plain/a.csv") == CSV.encode() and out2["rowsRead"] == 3


def test_zip_deflate_entries_become_files_under_the_archive_name(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("one.csv", "a,b\r\n1,2\r\n")
        archive.writestr("two.csv", "a,b\r\n3,4\r\n")
    put(blobs, src, {"batch.zip": buffer.getvalue()})
    datasets = [blob_dataset("In", "DelimitedText", src, file="batch.zip", compressionCodec="ZipDeflate",
                             firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, "x", firstRowAsHeader=True)]
    out = _ok(_copy(tmp_path, azurite, datasets))
    assert blob_names(blobs, dst) == ["x/batch/one.csv", "x/batch/two.csv"]
    assert blob_bytes(blobs, dst, "x/batch/two.csv") == b"a,b\r\n3,4\r\n"
    assert (out["filesRead"], out["filesWritten"], out["rowsCopied"]) == (1, 2, 2)


def test_zip_deflate_output_holds_one_entry_named_after_the_file(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"a.csv": CSV})
    datasets = [blob_dataset("In", "DelimitedText", src, file="a.csv", firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, "z", firstRowAsHeader=True, compressionCodec="ZipDeflate",
                             compressionLevel="Fastest")]
    out = _ok(_copy(tmp_path, azurite, datasets))
    data = blob_bytes(blobs, dst, "z/a.csv.zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["a.csv"] and archive.read("a.csv") == CSV.encode()
    assert out["dataWritten"] == len(data)


def test_json_set_and_array_of_objects(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"a.json": '[{"id": 1, "tags": ["x"]}, {"id": 2, "extra": null}]'})
    datasets = [blob_dataset("In", "Json", src, file="a.json"), blob_dataset("Out", "Json", dst, "j")]
    sink = {"type": "JsonSink", "storeSettings": {"type": "AzureBlobStorageWriteSettings"},
            "formatSettings": {"type": "JsonWriteSettings", "filePattern": "setOfObjects"}}
    source = {"type": "JsonSource", "storeSettings": {"type": "AzureBlobStorageReadSettings"}}
    out = _ok(_copy(tmp_path, azurite, datasets, source=source, sink=sink))
    assert blob_bytes(blobs, dst, "j/a.json") == \
        b'{"id":1,"tags":["x"],"extra":null}\r\n{"id":2,"tags":null,"extra":null}\r\n'
    assert out["rowsCopied"] == 2
    sink["formatSettings"]["filePattern"] = "arrayOfObjects"
    _ok(_copy(tmp_path / "2", azurite, datasets, source=source, sink=sink))
    assert blob_bytes(blobs, dst, "j/a.json") == \
        b'[{"id":1,"tags":["x"],"extra":null},{"id":2,"tags":null,"extra":null}]'


def test_csv_to_parquet_with_mapping_and_type_conversion(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"a.csv": CSV})
    datasets = [blob_dataset("In", "DelimitedText", src, file="a.csv", firstRowAsHeader=True),
                blob_dataset("Out", "Parquet", dst, file="a.parquet", compressionCodec="gzip")]
    translator = {"type": "TabularTranslator", "typeConversion": True, "mappings": [
        {"source": {"name": "id"}, "sink": {"name": "Id", "type": "Int64"}},
        {"source": {"name": "score"}, "sink": {"name": "Score", "type": "Double"}}]}
    sink = {"type": "ParquetSink", "storeSettings": {"type": "AzureBlobStorageWriteSettings"}}
    out = _ok(_copy(tmp_path, azurite, datasets, sink=sink, translator=translator))
    table = pq.read_table(io.BytesIO(blob_bytes(blobs, dst, "a.parquet")))
    assert table.schema.types == [pa.int64(), pa.float64()] and table.column_names == ["Id", "Score"]
    assert table.to_pylist() == [{"Id": 1, "Score": 3.5}, {"Id": 2, "Score": None}, {"Id": 3, "Score": 7.0}]
    assert pq.ParquetFile(io.BytesIO(blob_bytes(blobs, dst, "a.parquet"))).metadata.row_group(0).column(0) \
        .compression == "GZIP"
    assert out["rowsCopied"] == 3 and out["filesWritten"] == 1


def test_incompatible_rows_are_skipped_counted_and_logged(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"a.csv": "id,when\r\n1,2024-06-01\r\nx,2024-06-02\r\n3,not a date\r\n4,2024-06-04,extra\r\n"})
    datasets = [blob_dataset("In", "DelimitedText", src, file="a.csv", firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, file="ok.csv", firstRowAsHeader=True)]
    translator = {"type": "TabularTranslator", "typeConversion": True, "mappings": [
        {"source": {"name": "id"}, "sink": {"name": "id", "type": "Int32"}},
        {"source": {"name": "when"}, "sink": {"name": "when", "type": "DateTime"}}]}
    log = {"enableCopyActivityLog": True, "copyActivityLogSettings": {"logLevel": "Warning"},
           "logLocationSettings": {"linkedServiceName": {"referenceName": "Blob", "type": "LinkedServiceReference"},
                                   "path": f"{dst}/logs"}}
    record, act = _copy(tmp_path, azurite, datasets, translator=translator, enableSkipIncompatibleRow=True,
                        logSettings=log)
    out = _ok((record, act))
    assert (out["rowsRead"], out["rowsCopied"], out["rowsSkipped"]) == (4, 1, 3)
    assert blob_bytes(blobs, dst, "ok.csv") == b"id,when\r\n1,2024-06-01 00:00:00.0000000\r\n"
    logs = [n for n in blob_names(blobs, dst, "logs/") if n.endswith(".csv")]
    assert out["logFilePath"] == f"{dst}/logs/copyactivity-logs/CopyData/{act.activity_run_id}/"
    text = blob_bytes(blobs, dst, logs[0]).decode()
    assert "TabularRowSkip" in text and "Cannot convert 'x' to type 'Int32'" in text
    # without fault tolerance the first incompatible row fails the copy with the Copy error code
    put(blobs, src, {"b.csv": "id,when\r\nx,2024-06-02\r\n"})
    datasets[0] = blob_dataset("In", "DelimitedText", src, file="b.csv", firstRowAsHeader=True)
    _, failed = _copy(tmp_path / "strict", azurite, datasets, translator=translator)
    assert failed.status == "Failed" and failed.error["errorCode"] == "2200"
    assert "Cannot convert 'x' to type 'Int32'" in failed.error["message"]


def test_binary_copy_behaviors(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    files = {"f/1.bin": b"\x00one", "f/2.bin": b"two", "f/sub/3.bin": b"three"}
    put(blobs, src, files)
    source = {"type": "BinarySource", "storeSettings": {"type": "AzureBlobStorageReadSettings", "recursive": True}}

    def copy(behavior, folder, **sink_ds):
        sink = {"type": "BinarySink", "storeSettings": {"type": "AzureBlobStorageWriteSettings",
                                                        "copyBehavior": behavior}}
        datasets = [blob_dataset("In", "Binary", src, "f"), blob_dataset("Out", "Binary", dst, folder, **sink_ds)]
        return _copy(tmp_path / behavior / folder, azurite, datasets, source=source, sink=sink)

    out = _ok(copy("PreserveHierarchy", "p"))
    assert blob_names(blobs, dst, "p/") == ["p/1.bin", "p/2.bin", "p/sub/3.bin"]
    assert blob_bytes(blobs, dst, "p/sub/3.bin") == b"three"
    assert (out["filesRead"], out["filesWritten"], out["dataRead"], out["dataWritten"]) == (3, 3, 12, 12)
    assert "rowsRead" not in out and "rowsCopied" not in out  # not applicable to binary copies
    record, act = copy("FlattenHierarchy", "flat")
    flat = blob_names(blobs, dst, "flat/")
    assert len(flat) == 3 and all(n.startswith(f"flat/Data.{act.activity_run_id}.") and n.endswith(".bin")
                                  and n.count("/") == 1 for n in flat)
    assert sorted(blob_bytes(blobs, dst, n) for n in flat) == sorted(files.values())
    _, act = copy("MergeFiles", "m", file="all.bin")
    assert blob_names(blobs, dst, "m/") == ["m/all.bin"] and act.output["filesWritten"] == 1
    assert blob_bytes(blobs, dst, "m/all.bin") == b"\x00onetwothree"


def test_wildcards_recursion_and_modified_window(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"FolderA/File1.csv": "a\r\n1\r\n", "FolderA/File2.json": "{}", "FolderA/Sub/File3.csv": "a\r\n3\r\n",
                     "AnotherFolderB/File6.csv": "a\r\n6\r\n"})
    datasets = [blob_dataset("In", "DelimitedText", src, firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, "w", firstRowAsHeader=True)]

    def copy(name, **settings):
        source = dict(TEXT_SOURCE, storeSettings={"type": "AzureBlobStorageReadSettings", **settings})
        sink = dict(TEXT_SINK, storeSettings={"type": "AzureBlobStorageWriteSettings", "copyBehavior": "MergeFiles"})
        ds = [datasets[0], blob_dataset("Out", "DelimitedText", dst, name, file="m.csv", firstRowAsHeader=True)]
        out = _ok(_copy(tmp_path / name, azurite, ds, source=source, sink=sink))
        return out, blob_bytes(blobs, dst, f"{name}/m.csv") if out["filesWritten"] else b""

    out, data = copy("flat", wildcardFolderPath="Folder*", wildcardFileName="*.csv", recursive=False)
    assert out["filesRead"] == 1 and data == b"a\r\n1\r\n"
    out, data = copy("deep", wildcardFolderPath="Folder*", wildcardFileName="*.csv", recursive=True)
    assert out["filesRead"] == 2 and data == b"a\r\n1\r\n3\r\n"
    modified = blobs.get_blob_client(src, "FolderA/File1.csv").get_blob_properties().last_modified
    out, _ = copy("old", wildcardFileName="*.csv", modifiedDatetimeEnd="2000-01-01T00:00:00Z")
    assert out["filesRead"] == 0 and out["filesWritten"] == 0
    window = {"modifiedDatetimeStart": (modified - timedelta(hours=1)).isoformat(),
              "modifiedDatetimeEnd": (modified + timedelta(hours=1)).isoformat()}
    out, _ = copy("window", wildcardFileName="*.csv", **window)
    assert out["filesRead"] == 3


def test_dataset_parameters_and_expressions_in_the_location_and_delete_after(tmp_path, azurite, blobs):
    src, dst = unique("src"), unique("dst")
    put(blobs, src, {"2024/06/01/10/part.csv": CSV})
    params = {"container": {"type": "string"}, "window": {"type": "string"}}
    datasets = [blob_dataset("In", "DelimitedText", "@dataset().container",
                             "@formatDateTime(dataset().window, 'yyyy/MM/dd/HH')", parameters=params,
                             firstRowAsHeader=True),
                blob_dataset("Out", "DelimitedText", dst, "@{dataset().prefix}/run", file="@{dataset().prefix}.csv",
                             parameters={"prefix": {"type": "string"}}, firstRowAsHeader=True)]
    inputs = {"referenceName": "In", "type": "DatasetReference",
              "parameters": {"container": src, "window": "@pipeline().parameters.window"}}
    outputs = {"referenceName": "Out", "type": "DatasetReference",
               "parameters": {"prefix": "@formatDateTime(pipeline().parameters.window, 'yyyyMMddHH')"}}
    source = dict(TEXT_SOURCE, storeSettings={"type": "AzureBlobStorageReadSettings",
                                              "deleteFilesAfterCompletion": True})
    out = _ok(_copy(tmp_path, azurite, datasets, source=source, inputs=inputs, outputs=outputs,
                    parameters={"window": {"type": "string"}}, run_parameters={"window": "2024-06-01T10:00:00Z"}))
    assert blob_names(blobs, dst) == ["2024060110/run/2024060110.csv"] and out["rowsCopied"] == 3
    assert blob_names(blobs, src) == []  # deleteFilesAfterCompletion


def test_unsupported_options_and_stores_fail_naming_them(tmp_path, azurite, blobs):
    src = unique("src")
    put(blobs, src, {"a.csv": CSV})
    datasets = [blob_dataset("In", "DelimitedText", src, file="a.csv"), blob_dataset("Out", "DelimitedText", src, "o")]
    _, act = _copy(tmp_path / "a", azurite, datasets, source=dict(TEXT_SOURCE, additionalColumns=[{"name": "x"}]))
    assert act.error["errorCode"] == "NotSupported" and "additionalColumns" in act.error["message"]
    _, act = _copy(tmp_path / "b", azurite, datasets, source={"type": "SalesforceSource"})
    assert act.error["errorCode"] == "NotSupported" and "SalesforceSource" in act.error["message"]
    assert "--stubs" in act.error["message"]
    _, act = _copy(tmp_path / "c", azurite, datasets, enableStaging=True)
    assert act.error["errorCode"] == "NotSupported" and "enableStaging" in act.error["message"]
    missing = [blob_dataset("In", "DelimitedText", src, file="nope.csv"), datasets[1]]
    _, act = _copy(tmp_path / "e", azurite, missing)
    assert act.error["errorCode"] == "2200" and "UserErrorSourceBlobNotExists" in act.error["message"]
    assert f"{src}/nope.csv" in act.error["message"]
    record = run(write_factory(tmp_path / "f", [pipeline("P", copy_activity({"type": "SalesforceSource"}, TEXT_SINK,
                                                                             "In", "Out"))], datasets), "P", azurite,
                 stubs={"Copy": lambda call: {"rowsCopied": 0}})
    assert record.status == "Succeeded"  # --stubs still gives any activity an outcome
