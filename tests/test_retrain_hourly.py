"""The hourly retraining example (fixtures/retrain-hourly): three tumbling windows, zero-config, with the landed
files from --data and the telemetry database from a SQLite script."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOURLY = ROOT / "fixtures" / "retrain-hourly"
DATA = ROOT / "fixtures" / "retrain-hourly-data"
WINDOWS = ["2024060100", "2024060101", "2024060102"]


def test_three_windows_from_the_command_line_leave_each_windows_files(tmp_path):
    out, runs = tmp_path / "storage", tmp_path / "runs.json"
    done = subprocess.run([sys.executable, "-m", "adfemu.cli", "run", "fixtures/retrain-hourly", "--trigger",
                           "HourlyRetrainWindow", "--start", "2024-06-01T00:00:00Z", "--end", "2024-06-01T03:00:00Z",
                           "--data", "fixtures/retrain-hourly-data", "--sql",
                           "TelemetryDatabase=fixtures/retrain-hourly/telemetry.sql", "--save-storage", str(out),
                           "--output", str(runs), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(runs.read_text())
    assert [t["status"] for t in document["triggerRuns"]] == ["Succeeded"] * 3
    container = out / "retrainstore" / "retraining"
    for window in WINDOWS:
        model = json.loads((container / "models" / window / "model.ilearner").read_text())
        assert model["format"] == "adfemu.ilearner"
        assert (container / "training" / window / "train.csv").read_text().startswith("age,sex,bmi")
        assert not (container / "staging" / window).exists()  # CleanStaging deleted it
    lines = [len((container / "training" / w / "train.csv").read_text().splitlines()) - 1 for w in WINDOWS]
    assert lines == [110, 110, 80]  # 80 SQL rows + the landed files of each hour, one header


def test_the_endpoint_model_changes_with_every_window_and_versions_are_recorded(adfemu, tmp_path):
    database = tmp_path / "telemetry.sqlite"
    with sqlite3.connect(database) as connection:
        connection.executescript((HOURLY / "telemetry.sql").read_text())
    connection.close()
    factory = adfemu.load(HOURLY)  # its storage account exists from now on
    adfemu.upload_folder(DATA, factory.storage_account())
    rows = [{"age": "0.04", "sex": "0.05", "bmi": "0.06", "bp": "0.02", "s1": "-0.04", "s2": "-0.03", "s3": "-0.04",
             "s4": "-0.002", "s5": "0.02", "s6": "-0.02"}]
    scores = []
    for start, end in [("00", "01"), ("01", "02"), ("02", "03")]:
        result = adfemu.run_trigger(factory, "HourlyRetrainWindow", f"2024-06-01T{start}:00:00Z",
                                    f"2024-06-01T{end}:00:00Z", sql={"TelemetryDatabase": database})
        assert result.status == "Succeeded", result.trigger_runs
        scores.append(adfemu.score(factory, "ScoringService", rows)[0]["Scored Labels"])
    assert len(set(scores)) == 3
    patches = [e for e in adfemu.requests("management") if e["method"] == "PATCH"]
    assert len(patches) == 3 and all("/endpoints/hourly" in e["path"] for e in patches)
    with sqlite3.connect(database) as connection:
        versions = connection.execute("SELECT WindowStart, ModelPath, TrainingRows FROM ModelVersions").fetchall()
    connection.close()
    assert [(v[0][:13], v[1], v[2]) for v in versions] == [
        ("2024-06-01 00", "retraining/models/2024060100/model.ilearner", 110),
        ("2024-06-01 01", "retraining/models/2024060101/model.ilearner", 110),
        ("2024-06-01 02", "retraining/models/2024060102/model.ilearner", 80)]
