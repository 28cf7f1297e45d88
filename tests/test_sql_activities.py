"""SQL linked services on SQLite: T-SQL in the style of Microsoft's templates translated by sqlglot, Copy SQL -> blob
and blob -> SQL, Lookup, Script and the Stored procedure activity under adfemu's procedure convention."""
from __future__ import annotations

import pytest

from adfemu.runner.sql import SqlError, define_procedure, translate

from .datafactory import activity, blob_bytes, blob_dataset, blob_names, copy_activity, pipeline, put, query, run, \
    sql_dataset, sqlite_file, write_factory
from .helpers import unique

ORDERS = """
CREATE TABLE Orders (Id INT PRIMARY KEY, Customer NVARCHAR(50), Amount DECIMAL(10,2), Created DATETIME);
INSERT INTO Orders VALUES (1, 'ann', 10.5, '2024-06-01 09:59:59'), (2, 'bob', 20, '2024-06-01 10:00:00'),
  (3, 'cy', 30.25, '2024-06-01 10:30:00'), (4, 'dee', 40, '2024-06-01 11:00:00');
CREATE TABLE Watermark (TableName NVARCHAR(50), Value DATETIME);
INSERT INTO Watermark VALUES ('Orders', '2024-01-01 00:00:00');
"""
WINDOW_QUERY = ("SELECT TOP 100 [Id], [Customer], [Amount] FROM [dbo].[Orders] "
                "WHERE [Created] >= '@{pipeline().parameters.windowStart}' "
                "AND [Created] < '@{pipeline().parameters.windowEnd}' ORDER BY [Id]")
WINDOW = {"windowStart": {"type": "string"}, "windowEnd": {"type": "string"}}
HOUR = {"windowStart": "2024-06-01T10:00:00Z", "windowEnd": "2024-06-01T11:00:00.0000000Z"}
SQL_SOURCE = {"type": "AzureSqlSource", "partitionOption": "None", "queryTimeout": "02:00:00"}
TEXT_SINK = {"type": "DelimitedTextSink", "storeSettings": {"type": "AzureBlobStorageWriteSettings"},
             "formatSettings": {"type": "DelimitedTextWriteSettings", "fileExtension": ".csv"}}


@pytest.fixture
def db(tmp_path):
    path = sqlite_file(tmp_path / "sales.sqlite", ORDERS)
    define_procedure(str(path), "CREATE PROCEDURE [dbo].[usp_write_watermark] @LastModifiedtime datetime, "
                                "@TableName varchar(50) AS BEGIN SET NOCOUNT ON; UPDATE Watermark SET [Value] = "
                                "@LastModifiedtime WHERE [TableName] = @TableName; END")
    define_procedure(str(path), "CREATE PROCEDURE dbo.usp_orders_since @since datetime, @top int = 2 AS "
                                "SELECT TOP (@top) Id, Customer FROM dbo.Orders WHERE Created >= @since ORDER BY Id;")
    return path


def test_template_style_tsql_translates_to_sqlite():
    [stmt] = translate("SELECT TOP 10 [Id] FROM [dbo].[Orders] WHERE [Created] >= '2024-06-01T10:00:00.0000000Z' "
                       "AND [Created] < '2024-06-01T11:00:00Z' AND [Flag] = 1")
    assert stmt.sql == ('SELECT "Id" FROM "Orders" WHERE "Created" >= \'2024-06-01 10:00:00\' AND '
                        '"Created" < \'2024-06-01 11:00:00\' AND "Flag" = 1 LIMIT 10')
    assert translate("SELECT GETDATE()")[0].sql == "SELECT CURRENT_TIMESTAMP"
    assert translate("DELETE FROM t WHERE c < DATEADD(day, -7, GETDATE())")[0].sql == \
        "DELETE FROM t WHERE c < DATETIME(CURRENT_TIMESTAMP, '-7 DAY')"
    assert translate("TRUNCATE TABLE [dbo].[Staging]")[0].sql == 'DELETE FROM "Staging"'
    with pytest.raises(SqlError, match=r"cannot be translated.*FOR XML.*|cannot be translated.*Unsupported"):
        translate("SELECT a FROM t FOR XML PATH('')")


def test_copy_sql_window_query_to_a_blob_named_by_the_window(tmp_path, azurite, blobs, db):
    dst = unique("staging")
    datasets = [sql_dataset("Orders", "Orders"),
                blob_dataset("Out", "DelimitedText", dst, "@dataset().folder", file="orders.csv",
                             parameters={"folder": {"type": "string"}}, firstRowAsHeader=True)]
    outputs = {"referenceName": "Out", "type": "DatasetReference",
               "parameters": {"folder": "@formatDateTime(pipeline().parameters.windowStart, 'yyyy/MM/dd/HH')"}}
    source = dict(SQL_SOURCE, sqlReaderQuery=WINDOW_QUERY)
    root = write_factory(tmp_path / "f", [pipeline("P", copy_activity(source, TEXT_SINK, "Orders", outputs),
                                                   parameters=WINDOW)], datasets)
    record = run(root, "P", azurite, HOUR, sql={"sqldb": str(db)})
    act = activity(record, "CopyData")
    assert act.status == "Succeeded", act.error
    assert blob_names(blobs, dst) == ["2024/06/01/10/orders.csv"]
    assert blob_bytes(blobs, dst, "2024/06/01/10/orders.csv") == b"Id,Customer,Amount\r\n2,bob,20\r\n3,cy,30.25\r\n"
    out = act.output
    assert (out["rowsRead"], out["rowsCopied"], out["filesWritten"]) == (2, 2, 1) and "filesRead" not in out
    assert out["dataRead"] == len("2bob203cy30.25")  # the values' text
    assert act.input["source"]["sqlReaderQuery"].endswith("< '2024-06-01T11:00:00.0000000Z' ORDER BY [Id]")


def test_copy_table_by_name_names_the_file_after_it(tmp_path, azurite, blobs, db):
    dst = unique("t")
    datasets = [sql_dataset("Orders", "Orders"), blob_dataset("Out", "Parquet", dst, "tables")]
    sink = {"type": "ParquetSink", "storeSettings": {"type": "AzureBlobStorageWriteSettings"}}
    root = write_factory(tmp_path / "f", [pipeline("P", copy_activity(SQL_SOURCE, sink, "Orders", "Out"))], datasets)
    act = activity(run(root, "P", azurite, sql={"SqlDb": str(db)}), "CopyData")
    assert act.status == "Succeeded", act.error
    assert blob_names(blobs, dst) == ["tables/Orders.parquet"] and act.output["rowsCopied"] == 4


def test_copy_blob_to_sql_with_pre_copy_script_auto_create_and_skipped_duplicates(tmp_path, azurite, blobs, db):
    src = unique("src")
    put(blobs, src, {"new.csv": "Id,Customer,Amount,Created\r\n5,eve,50,2024-06-02T00:00:00Z\r\n"
                                "1,dup,1,2024-06-02T00:00:00Z\r\n6,fay,abc,2024-06-02T00:00:00Z\r\n"})
    datasets = [blob_dataset("In", "DelimitedText", src, file="new.csv", firstRowAsHeader=True),
                sql_dataset("Orders", "Orders"), sql_dataset("Copy", "OrdersCopy")]
    sink = {"type": "AzureSqlSink", "preCopyScript": "DELETE FROM [dbo].[Orders] WHERE [Id] = 4",
            "writeBatchSize": 1000}
    source = {"type": "DelimitedTextSource", "storeSettings": {"type": "AzureBlobStorageReadSettings"}}
    root = write_factory(tmp_path / "f", [pipeline("P", copy_activity(source, sink, "In", "Orders",
                                                                      enableSkipIncompatibleRow=True))], datasets)
    act = activity(run(root, "P", azurite, sql={"SqlDb": str(db)}), "CopyData")
    assert act.status == "Succeeded", act.error
    assert (act.output["rowsRead"], act.output["rowsCopied"], act.output["rowsSkipped"]) == (3, 1, 2)
    assert query(db, "SELECT Id, Customer, Amount, Created FROM Orders ORDER BY Id") == [
        (1, "ann", 10.5, "2024-06-01 09:59:59"), (2, "bob", 20, "2024-06-01 10:00:00"),
        (3, "cy", 30.25, "2024-06-01 10:30:00"), (5, "eve", 50, "2024-06-02 00:00:00")]
    sink = {"type": "AzureSqlSink", "tableOption": "autoCreate"}
    root = write_factory(tmp_path / "g", [pipeline("P", copy_activity(source, sink, "In", "Copy"))], datasets)
    act = activity(run(root, "P", azurite, sql={"SqlDb": str(db)}), "CopyData")
    assert act.status == "Succeeded", act.error
    assert query(db, "SELECT COUNT(*) FROM OrdersCopy") == [(3,)]


def test_untranslatable_or_unmapped_sql_fails_clearly(tmp_path, azurite, blobs, db):
    dst = unique("x")
    datasets = [sql_dataset("Orders", "Orders"), blob_dataset("Out", "DelimitedText", dst, file="a.csv")]
    source = dict(SQL_SOURCE, sqlReaderQuery="SELECT a FROM t FOR XML PATH('')")
    root = write_factory(tmp_path / "f", [pipeline("P", copy_activity(source, TEXT_SINK, "Orders", "Out"))], datasets)
    act = activity(run(root, "P", azurite, sql={"SqlDb": str(db)}), "CopyData")
    assert act.error["errorCode"] == "2200"
    assert "cannot be translated from T-SQL to SQLite" in act.error["message"]
    assert "Statement: SELECT a FROM t FOR XML PATH('')" in act.error["message"]
    act = activity(run(root, "P", azurite), "CopyData")  # no --sql for the linked service
    assert act.error["errorCode"] == "NotSupported" and "--sql SqlDb=path.db" in act.error["message"]
    assert "not-a-real-one" not in act.error["message"]  # the connection string stays secret


def test_lookup_over_sql_first_row_and_all_rows(tmp_path, azurite, db):
    first = {"name": "First", "type": "Lookup", "typeProperties": {
        "source": dict(SQL_SOURCE, sqlReaderQuery="SELECT MAX([Created]) AS NewWatermark FROM [dbo].[Orders]"),
        "dataset": {"referenceName": "Orders", "type": "DatasetReference"}}}
    every = {"name": "All", "type": "Lookup", "typeProperties": {
        "source": dict(SQL_SOURCE, sqlReaderStoredProcedureName="[dbo].[usp_orders_since]",
                       storedProcedureParameters={"since": {"value": "2024-06-01T10:00:00Z", "type": "DateTime"}}),
        "dataset": {"referenceName": "Orders", "type": "DatasetReference"}, "firstRowOnly": False}}
    table = {"name": "Table", "type": "Lookup", "typeProperties": {
        "source": SQL_SOURCE, "dataset": {"referenceName": "Orders", "type": "DatasetReference"},
        "firstRowOnly": False}}
    root = write_factory(tmp_path / "f", [pipeline("P", first, every, table)], [sql_dataset("Orders", "Orders")])
    record = run(root, "P", azurite, sql={"SqlDb": str(db)})
    assert activity(record, "First").output["firstRow"] == {"NewWatermark": "2024-06-01 11:00:00"}
    assert activity(record, "All").output["value"] == [{"Id": 2, "Customer": "bob"}, {"Id": 3, "Customer": "cy"}]
    assert activity(record, "All").output["count"] == 2
    assert activity(record, "Table").output["count"] == 4


def test_stored_procedure_activity_with_typed_parameters(tmp_path, azurite, db):
    proc = {"name": "Record", "type": "SqlServerStoredProcedure",
            "linkedServiceName": {"referenceName": "SqlDb", "type": "LinkedServiceReference"},
            "typeProperties": {"storedProcedureName": "[dbo].[usp_write_watermark]", "storedProcedureParameters": {
                "LastModifiedtime": {"value": "@pipeline().parameters.windowEnd", "type": "DateTime"},
                "TableName": {"value": "Orders", "type": "String"}}}}
    wrong = {"name": "Wrong", "type": "SqlServerStoredProcedure",
             "linkedServiceName": {"referenceName": "SqlDb", "type": "LinkedServiceReference"},
             "typeProperties": {"storedProcedureName": "usp_write_watermark",
                                "storedProcedureParameters": {"TableName": {"value": "Orders"}}}}
    missing = dict(wrong, name="Missing", typeProperties={"storedProcedureName": "usp_nope"})
    root = write_factory(tmp_path / "f", [pipeline("P", proc, wrong, missing, parameters=WINDOW)])
    record = run(root, "P", azurite, HOUR, sql={"SqlDb": str(db)})
    assert activity(record, "Record").status == "Succeeded", activity(record, "Record").error
    assert query(db, "SELECT Value FROM Watermark") == [("2024-06-01 11:00:00",)]
    error = activity(record, "Wrong").error
    assert error["errorCode"] == "2402" and "Sql error number: 201" in error["message"]
    assert "expects parameter '@LastModifiedtime', which was not supplied" in error["message"]
    assert "Could not find stored procedure 'usp_nope'" in activity(record, "Missing").error["message"]


def test_script_activity_queries_non_queries_and_exec(tmp_path, azurite, db):
    script = {"name": "Script", "type": "Script",
              "linkedServiceName": {"referenceName": "SqlDb", "type": "LinkedServiceReference"},
              "typeProperties": {"scripts": [
                  {"type": "NonQuery", "text": "UPDATE [dbo].[Orders] SET [Amount] = [Amount] * 2 WHERE [Id] <= @n",
                   "parameters": [{"name": "n", "type": "Int32", "value": "2", "direction": "Input"}]},
                  {"type": "Query", "text": "SELECT [Id], [Amount] FROM [dbo].[Orders] WHERE [Id] <= 2 ORDER BY [Id];"
                                            " SELECT COUNT(*) AS n FROM Orders"},
                  {"type": "Query", "text": "EXEC dbo.usp_orders_since @since = '2024-06-01 11:00', @top = 5"}]}}
    bad = {"name": "Bad", "type": "Script",
           "linkedServiceName": {"referenceName": "SqlDb", "type": "LinkedServiceReference"},
           "typeProperties": {"scripts": [{"type": "Query", "text": "SELECT * FROM [dbo].[Nope]"}]}}
    root = write_factory(tmp_path / "f", [pipeline("P", script, bad)])
    record = run(root, "P", azurite, sql={"SqlDb": str(db)})
    out = activity(record, "Script").output
    assert out["recordsAffected"] == 2 and out["resultSetCount"] == 3
    assert out["resultSets"][0] == {"rowCount": 2, "rows": [{"Id": 1, "Amount": 21}, {"Id": 2, "Amount": 40}]}
    assert out["resultSets"][1]["rows"] == [{"n": 4}]
    assert out["resultSets"][2]["rows"] == [{"Id": 4, "Customer": "dee"}]
    error = activity(record, "Bad").error
    assert error["errorCode"] == "2402" and "no such table: Nope" in error["message"]
    assert "Statement: SELECT * FROM [dbo].[Nope]" in error["message"]
