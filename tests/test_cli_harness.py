"""`adfemu run` and `adfemu serve` with test data in and out, a fixed clock and seed, zero-config."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from azure.storage.blob import BlobServiceClient

ROOT = Path(__file__).resolve().parent.parent
ADFEMU = [sys.executable, "-m", "adfemu"]  # the `adfemu` program
FACTORIES = ROOT / "tests" / "factories"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*ADFEMU, "run", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_readme_example_runs_the_seed_with_data_and_saves_the_trained_model(tmp_path):
    out = tmp_path / "storage"
    done = _run("fixtures/seed-factory-corrected", "--pipeline", "LookupPipelineDemo", "--data", "fixtures/seed-data",
                "--save-storage", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 file(s) from fixtures/seed-data uploaded to storage account devstoreaccount1" in " ".join(done.stdout.split())
    model = json.loads((out / "devstoreaccount1" / "azuremltesting" / "output" / "newModelForArm.ilearner").read_text())
    assert model["format"] == "adfemu.ilearner" and model["label"] == "target"
    assert (out / "devstoreaccount1" / "azuremltesting" / "input" / "train.csv").read_bytes() == \
        (ROOT / "fixtures" / "seed-data" / "azuremltesting" / "input" / "train.csv").read_bytes()


def test_without_data_the_run_fails_naming_the_missing_blob():
    done = _run("fixtures/seed-factory-corrected", "--pipeline", "LookupPipelineDemo")
    assert done.returncode == 1
    assert "azuremltesting/input/train.csv" in " ".join(done.stdout.split())


def _stable(document: dict) -> dict:
    """run.json without what the wall clock measures."""
    text = json.dumps(document)
    text = re.sub(r'"(durationInMs)": \d+', r'"\1": 0', text)
    text = re.sub(r'"(runStart|runEnd|lastUpdated|activityRunStart|activityRunEnd)": "[^"]+"', r'"\1": ""', text)
    return json.loads(text)


def test_same_now_and_seed_give_the_same_run_json(tmp_path):
    records = []
    for n in (1, 2):
        out = tmp_path / f"run{n}.json"
        done = _run(str(FACTORIES / "clock"), "--pipeline", "Stamps", "--now", "2024-06-01T00:00:00Z", "--seed", "42",
                    "--output", str(out))
        assert done.returncode == 0, done.stdout + done.stderr
        records.append(json.loads(out.read_text()))
    first, second = records
    assert first["pipelineRun"]["runStart"].startswith("2024-06-01T00:00:0")
    for record in records:  # parallel iterations append in any order
        for run in record["activityRuns"]:
            if run["activityName"] == "Report":
                run["output"]["value"]["ids"].sort()
                run["input"]["value"][1]["value"]["content"] = "@variables('ids')"
        record["activityRuns"].sort(key=lambda r: r["activityRunId"])
    assert _stable(first) == _stable(second)


def test_a_factory_without_azureml_runs_without_config():
    done = _run(str(FACTORIES / "plain"), "--pipeline", "NoAzureMl")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Succeeded" in done.stdout


def test_data_for_one_of_several_accounts_needs_its_name(tmp_path):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "a.csv").write_text("x\n1\n")
    done = _run(str(FACTORIES / "twoaccounts"), "--pipeline", "Nothing", "--data", str(tmp_path / "data"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "names several storage accounts" in done.stderr
    saved = tmp_path / "saved"
    done = _run(str(FACTORIES / "twoaccounts"), "--pipeline", "Nothing", "--data", f"adfemubeta={tmp_path / 'data'}",
                "--save-storage", str(saved))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (saved / "adfemubeta" / "raw" / "a.csv").read_text() == "x\n1\n"


def test_serve_with_data_prints_every_account_connection_string(tmp_path):
    proc = subprocess.Popen([*ADFEMU, "serve", "--factory", str(FACTORIES / "twoaccounts"), "--data",
                             f"adfemualpha={ROOT / 'fixtures' / 'seed-data'}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        strings = {}
        for line in proc.stdout:
            if m := re.match(r"storage connection string \((\w+)\): (\S+)", line):
                strings[m.group(1)] = m.group(2)
            if line.startswith("health:"):
                break
        assert strings.keys() == {"devstoreaccount1", "adfemualpha", "adfemubeta"}
        blobs = BlobServiceClient.from_connection_string(strings["adfemualpha"])
        assert [b.name for b in blobs.get_container_client("azuremltesting").list_blobs()] == ["input/train.csv"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


def test_the_help_examples_name_what_the_fixtures_have():
    """`adfemu run --help` examples on the repository's fixtures name its triggers, pipelines and linked services."""
    from click.testing import CliRunner

    from adfemu.cli import main

    text = CliRunner().invoke(main, ["run", "--help"]).output
    examples = re.findall(r"adfemu run (fixtures/\S+)((?:[^\n]|\\\n)*)", text)
    assert examples
    for factory, args in examples:
        for option, folder in (("--trigger", "trigger"), ("--pipeline", "pipeline"), ("--sql", "linkedService")):
            for name in re.findall(rf"{option} (\w+)", args):
                assert (ROOT / factory / folder / f"{name}.json").is_file(), f"{factory}: no {folder} {name}"
        for path in re.findall(r"(?:--data|=)(?: )?(fixtures/\S+)", args):
            assert (ROOT / path).exists(), path
