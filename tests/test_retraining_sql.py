"""A retraining factory in the shape of Microsoft's templates, zero-config: stage a SQL table's window to blob
storage with Copy, check it with Get Metadata, train with BES, update the scoring endpoint, record the model
version with a stored procedure and delete the staging folder; from the command line and the Python API."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from adfemu.runner.sql import define_procedure

from .datafactory import query, sqlite_file
from .helpers import SCORE_CSV, csv_rows

ROOT = Path(__file__).resolve().parent.parent
FACTORY = ROOT / "tests" / "factories" / "retrain-sql"
WINDOW = {"windowStart": "2024-06-01T10:00:00Z", "windowEnd": "2024-06-01T11:00:00Z"}
IN_WINDOW = 200
RECORD_MODEL = ("CREATE PROCEDURE [dbo].[usp_record_model] @Window datetime, @Rows bigint, @Model nvarchar(400) AS "
                "BEGIN SET NOCOUNT ON; INSERT INTO [dbo].[model_versions] ([window_start], [row_count], [model_path], "
                "[recorded_at]) VALUES (@Window, @Rows, @Model, GETDATE()); END")


def training_database(path: Path) -> Path:
    """training_rows from fixtures/data/train.csv: the first 200 rows loaded between 10:00 and 11:00, the others
    before; model_versions; usp_record_model."""
    with open(ROOT / "fixtures" / "data" / "train.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    header, values = rows[0], rows[1:]
    columns = ", ".join(f"{c} REAL" for c in header)
    inserts = []
    for i, row in enumerate(values):
        loaded = f"2024-06-01 10:{i // 60 % 60:02d}:{i % 60:02d}" if i < IN_WINDOW else f"2024-06-01 09:{i % 60:02d}:00"
        inserts.append(f"INSERT INTO training_rows VALUES ({', '.join(row)}, '{loaded}');")
    sqlite_file(path, f"CREATE TABLE training_rows ({columns}, loaded_at DATETIME);\n" + "\n".join(inserts) +
                "\nCREATE TABLE model_versions (window_start DATETIME, row_count BIGINT, model_path NVARCHAR(400), "
                "recorded_at DATETIME);")
    define_procedure(str(path), RECORD_MODEL)
    return path


def _statuses(record: dict) -> dict:
    return {r["activityName"]: r["status"] for r in record["activityRuns"]}


def test_the_pipeline_retrains_from_a_sql_window_with_the_python_api(adfemu, tmp_path):
    db = training_database(tmp_path / "training.sqlite")
    result = adfemu.run(FACTORY, "RetrainFromSql", WINDOW, sql={"TrainingDatabase": db})
    assert result.status == "Succeeded", result.message
    assert _statuses(result.record) == dict.fromkeys(
        ["StageTrainingData", "CheckStaged", "Train", "UpdateModel", "RecordModelVersion", "CleanStaging"],
        "Succeeded")
    copied = result.activity("StageTrainingData").output
    assert (copied["rowsRead"], copied["rowsCopied"], copied["filesWritten"]) == (IN_WINDOW, IN_WINDOW, 1)
    assert result.activity("CheckStaged").output["childItems"] == [{"name": "train.csv", "type": "File"}]
    assert result.activity("Train").output["status"] == "Finished"
    assert query(db, "SELECT window_start, row_count, model_path FROM model_versions") == [
        ("2024-06-01 10:00:00", IN_WINDOW, "azuremltesting/models/2024060110/model.ilearner")]
    assert adfemu.list_blobs("azuremltesting/staging") == []  # the Delete removed the staging folder
    assert result.activity("CleanStaging").output["filesDeleted"] == 1
    assert adfemu.list_blobs("azuremltesting/models") == ["azuremltesting/models/2024060110/model.ilearner"]
    assert [e["method"] for e in adfemu.requests("management")].count("PATCH") == 1
    columns, values = csv_rows(SCORE_CSV)
    scored = adfemu.score(FACTORY, "ScoringEndpoint", [dict(zip(columns, row)) for row in values[:3]])
    assert len(scored) == 3 and all("Scored Labels" in row for row in scored)


def test_the_pipeline_runs_zero_config_from_the_command_line(tmp_path):
    db = training_database(tmp_path / "training.sqlite")
    data = tmp_path / "data" / "azuremltesting" / "input"
    data.mkdir(parents=True)
    (data / "README.txt").write_text("test data for the retraining factory\n")
    out, saved = tmp_path / "run.json", tmp_path / "saved"
    done = subprocess.run([sys.executable, "-m", "adfemu.cli", "run", str(FACTORY), "--pipeline", "RetrainFromSql",
                           "--data", str(tmp_path / "data"), "--sql", f"TrainingDatabase={db}",
                           "--param", f"windowStart={WINDOW['windowStart']}", "--param",
                           f"windowEnd={WINDOW['windowEnd']}", "--output", str(out), "--save-storage", str(saved)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(out.read_text())
    assert set(_statuses(record).values()) == {"Succeeded"}
    assert (saved / "devstoreaccount1" / "azuremltesting" / "models" / "2024060110" / "model.ilearner").is_file()
    assert not (saved / "devstoreaccount1" / "azuremltesting" / "staging").exists()
    assert query(db, "SELECT row_count FROM model_versions") == [(IN_WINDOW,)]
    assert "not-a-real-password" not in done.stdout + done.stderr + out.read_text()


def test_a_config_file_maps_sql_linked_services_relative_to_itself(tmp_path):
    training_database(tmp_path / "training.sqlite")
    (tmp_path / "emulator.json").write_text(json.dumps({"sql": {"TrainingDatabase": "training.sqlite"}}))
    factory = tmp_path / "factory"
    for folder in ("linkedService", "dataset", "pipeline"):
        (factory / folder).mkdir(parents=True)
    for name in ("TrainingDatabase", "StagingStorage"):
        (factory / "linkedService" / f"{name}.json").write_text((FACTORY / "linkedService" / f"{name}.json").read_text())
    (factory / "dataset" / "TrainingRows.json").write_text((FACTORY / "dataset" / "TrainingRows.json").read_text())
    lookup = {"name": "Count", "type": "Lookup", "typeProperties": {
        "dataset": {"referenceName": "TrainingRows", "type": "DatasetReference"},
        "source": {"type": "AzureSqlSource", "sqlReaderQuery": "SELECT COUNT(*) AS n FROM [dbo].[training_rows]"}}}
    (factory / "pipeline" / "Count.json").write_text(json.dumps({"name": "Count", "properties": {"activities": [lookup]}}))
    out = tmp_path / "run.json"
    done = subprocess.run([sys.executable, "-m", "adfemu.cli", "run", str(factory), "--pipeline", "Count", "--config",
                           str(tmp_path / "emulator.json"), "--output", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    [run] = json.loads(out.read_text())["activityRuns"]
    assert run["output"]["firstRow"] == {"n": 342}
    missing = subprocess.run([sys.executable, "-m", "adfemu.cli", "run", str(factory), "--pipeline", "Count", "--sql",
                              f"TrainingDatabase={tmp_path / 'nope.sqlite'}"], cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "nope.sqlite for linked service 'TrainingDatabase' does not exist" in missing.stderr
