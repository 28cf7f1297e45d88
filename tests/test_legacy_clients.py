"""Real legacy AML clients against the emulator.

- azmlclient 2.6.0 and the classic ``azureml`` SDK 0.2.7 run unmodified in their own CPython 3.7 venv
  (``make legacy-clients`` builds ``.venv-azml``); the scripts in ``tests/clients`` get the emulator and
  Azurite addresses as arguments and print one JSON object, which these tests assert on.
- ``tests/clients/generated_consumer.py`` behaves like Microsoft's generated Python BES consumer and runs
  in-process.

Blob host mapping (see ``azmlclient_roundtrip.py``): azmlclient's ``BlockBlobService`` talks to
``https://{account}.blob.core.windows.net``; the scripts' requests session connects such requests to Azurite
but keeps the original ``Host`` header and path, which Azurite reads as a production-style URL, so the
client's SharedKey signature verifies. Rewriting to Azurite's path-style URL instead breaks every
SharedKey signature (Azurite signs ``/{account}/{account}/…``); ``test_blob_host_mapping_and_sharedkey``
pins both facts down.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from adfemu.emulator.experiments import ilearner

from .clients import generated_consumer
from .helpers import (CUSTOM_ACCOUNT, CUSTOM_KEY, PARAMS, PARAMS_KEY, SCORE_CSV, TRAIN_CSV, TRAINING, TRAINING_KEY,
                      UPDATABLE, UPDATABLE_KEY, csv_rows, unique)

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "tests" / "clients"
AZML_PYTHON = ROOT / ".venv-azml" / "bin" / "python"
TRAIN_FILE = ROOT / "fixtures" / "data" / "train.csv"
SCORE_FILE = ROOT / "fixtures" / "data" / "score.csv"
SCRIPT_TIMEOUT = 180  # seconds, per client script run


@pytest.fixture(scope="module")
def azml_python() -> str:
    if not AZML_PYTHON.exists():
        pytest.skip(f"{AZML_PYTHON} is missing: run `make legacy-clients` (needs CPython 3.7) to build the venv "
                    "with azmlclient 2.6.0 / azureml 0.2.7; the legacy-client tests are skipped")
    return str(AZML_PYTHON)


def run_client(python: str, script: str, *args: str) -> tuple[int, dict]:
    """Run one client script; returns (exit code, the JSON it printed)."""
    proc = subprocess.run([python, str(CLIENTS / script), *args], capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT, cwd=str(ROOT))
    lines = proc.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise AssertionError(f"{script} printed no JSON (exit {proc.returncode})\nstdout:\n{proc.stdout[-3000:]}\n"
                             f"stderr:\n{proc.stderr[-5000:]}") from None
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-5000:])
    return proc.returncode, result


def azmlclient(python: str, command: str, aml, *args: str) -> tuple[int, dict]:
    return run_client(python, "azmlclient_roundtrip.py", command, "--azurite-url", aml.azurite.url, *args)


def bes_args(aml, service: str, key: str, container: str, *extra: str) -> list[str]:
    return ["--base-url", aml.runtime(service), "--api-key", key, "--account", CUSTOM_ACCOUNT,
            "--account-key", CUSTOM_KEY, "--container", container, "--csv", str(TRAIN_FILE),
            "--poll-seconds", "0.05", *extra]


def job_calls(aml, service: str) -> list[dict]:
    """The journal's BES calls (submit, start, status, delete) for one endpoint, in order."""
    return aml.journal(f"/services/{service}/jobs")


# --- host mapping / SharedKey ----------------------------------------------------------------------

@pytest.mark.legacy_clients
@pytest.mark.parametrize("mapping", ["host", "path"])
def test_blob_host_mapping_and_sharedkey(azml_python, aml, mapping):
    code, result = azmlclient(azml_python, "storage-probe", aml, "--blob-mapping", mapping,
                              "--account", CUSTOM_ACCOUNT, "--account-key", CUSTOM_KEY)
    steps = result["steps"]
    if mapping == "host":  # Host: contosoml.blob.core.windows.net, path /container/blob -> signature verifies
        assert code == 0, result
        assert steps["get_blob"] == {"ok": True, "value": "x,y\n1,2\n"}
        assert all(e["status"] < 300 for e in result["traffic"])
    else:  # http://127.0.0.1:PORT/contosoml/container/blob -> Azurite signs /contosoml/contosoml/container
        assert code == 1
        assert result["traffic"][0]["sent_to"].startswith(f"{aml.azurite.url}/{CUSTOM_ACCOUNT}/probe")
        for step in ("create_container", "put_blob", "get_blob"):
            assert steps[step]["status"] == 403 and steps[step]["error_code"] == "AuthorizationFailure", steps


# --- azmlclient: BES -------------------------------------------------------------------------------

@pytest.mark.legacy_clients
def test_azmlclient_execute_bes_trains_and_deletes_the_finished_job(azml_python, aml):
    container = unique("azml")
    code, result = azmlclient(azml_python, "bes", aml, *bes_args(aml, TRAINING, TRAINING_KEY, container),
                              "--output-names", "")
    assert code == 0, result
    assert result["outputs"] == {}  # no output override requested: azmlclient reads nothing back

    # the service wrote output1 to its own storage; the last status azmlclient received points at it
    final = result["final_status"]
    assert final["StatusCode"] == "Finished" and final["Details"] is None
    download = result["result_downloads"]["output1"]
    assert download["status"] == 200
    model = ilearner.loads(json.dumps(download["json"]).encode())
    assert model.label == "target" and model.algorithm == "LinearRegression"

    # the input blob azmlclient uploaded is a .csv named {timestamp}-input-input1.csv
    [uploaded] = result["uploaded_blob_urls"]
    assert uploaded.startswith(f"https://{CUSTOM_ACCOUNT}.blob.core.windows.net/{container}/")
    assert uploaded.endswith("-input-input1.csv")

    job_id = result["job_id"]
    calls = [(e["method"], e["path"].rsplit(f"/services/{TRAINING}", 1)[1]) for e in job_calls(aml, TRAINING)]
    assert calls[0] == ("POST", "/jobs") and calls[1] == ("POST", f"/jobs/{job_id}/start")
    assert calls[-1] == ("DELETE", f"/jobs/{job_id}")  # azmlclient's unconditional delete, after success
    assert set(calls[2:-1]) == {("GET", f"/jobs/{job_id}")}
    entries = job_calls(aml, TRAINING)
    submit, start, delete = entries[0], entries[1], entries[-1]
    body = json.loads(submit["body"])
    assert body["Inputs"]["input1"]["RelativeLocation"] == uploaded.split(".windows.net/", 1)[1]
    assert body["Inputs"]["input1"]["ConnectionString"].startswith(
        f"DefaultEndpointsProtocol=https;AccountName={CUSTOM_ACCOUNT};AccountKey=")
    assert body["Outputs"] == {} and body["GlobalParameters"] == {}
    assert start["body"] == "" and "Content-Type" not in start["headers"]  # start without a body
    assert start["status"] == 200 and delete["status"] == 200
    assert all(e["query"] == "api-version=2.0" for e in entries)
    assert all(e["headers"]["Authorization"] == "Bearer ***" for e in entries)


@pytest.mark.legacy_clients
def test_azmlclient_cannot_override_an_ilearner_output(azml_python, aml):
    """azmlclient names every output blob ``….csv``; an .ilearner port rejects that, as the real service does."""
    code, result = azmlclient(azml_python, "bes", aml,
                              *bes_args(aml, TRAINING, TRAINING_KEY, unique("azml")), "--output-names", "output1")
    assert code == 1 and result["error_type"] == "AzmlException", result
    error = result["aml_error"]
    assert error["code"] == "BadArgument"
    [detail] = error["details"]
    assert detail["code"] == "InvalidBlobExtension" and detail["message"].endswith(
        'Supported file extensions for this output type are: ".ilearner".')
    assert "-output-output1.csv" in detail["message"]
    # the submit failed, so azmlclient had no job id: no start, no delete
    assert [e["method"] for e in job_calls(aml, TRAINING)] == ["POST"]


@pytest.mark.legacy_clients
def test_azmlclient_execute_bes_reads_a_dataset_output_back(azml_python, aml):
    """A training service with a dataset output: azmlclient reads its own output blob into a DataFrame."""
    code, result = azmlclient(azml_python, "bes", aml, *bes_args(aml, PARAMS, PARAMS_KEY, unique("azml")),
                              "--output-names", "evaluation", "--params", json.dumps({"Required one": "x"}))
    assert code == 0, result
    evaluation = result["outputs"]["evaluation"]
    assert evaluation["columns"] == ["Mean Absolute Error", "Root Mean Squared Error", "Coefficient of Determination"]
    assert evaluation["rows"] == 1
    assert 0.0 < float(evaluation["records"][0]["Coefficient of Determination"]) <= 1.0
    assert set(result["final_status"]["Results"]) == {"output1", "evaluation"}
    submit = json.loads(job_calls(aml, PARAMS)[0]["body"])
    assert submit["GlobalParameters"] == {"Required one": "x"}
    assert submit["Outputs"]["evaluation"]["RelativeLocation"].endswith("-output-evaluation.csv")
    assert [e["method"] for e in job_calls(aml, PARAMS)][-1] == "DELETE"


# --- azmlclient: RRS -------------------------------------------------------------------------------

@pytest.mark.legacy_clients
def test_azmlclient_execute_rr_on_the_updatable_endpoint(azml_python, aml):
    code, result = azmlclient(azml_python, "rr", aml, "--base-url", aml.runtime(UPDATABLE), "--api-key",
                              UPDATABLE_KEY, "--csv", str(SCORE_FILE))
    assert code == 0, result
    header, rows = csv_rows(SCORE_CSV)
    scored = result["outputs"]["output1"]
    assert "Scored Labels" in scored["columns"]
    assert scored["columns"][:len(header)] == header
    assert scored["rows"] == len(rows) == result["input_rows"]
    labels = [r["Scored Labels"] for r in scored["records"]]
    assert len(labels) == len(rows) and all(isinstance(float(v), float) for v in labels)
    [call] = aml.journal(f"/services/{UPDATABLE}/execute")
    assert call["query"] == "api-version=2.0&details=true" and call["status"] == 200
    assert call["headers"]["Content-Type"] == "application/json; charset=utf-8"


# --- classic azureml SDK ---------------------------------------------------------------------------

@pytest.mark.legacy_clients
def test_classic_azureml_sdk_published_service_call(azml_python, aml):
    api_location = aml.runtime(UPDATABLE)
    code, result = run_client(azml_python, "azureml_sdk_call.py", "--api-location", api_location,
                              "--api-key", UPDATABLE_KEY, "--csv", str(SCORE_FILE), "--rows", "3")
    assert code == 0, result
    assert result["service_class"] == "azureml.services.published"
    assert result["url"] == api_location + "/execute?api-version=2.0"
    header, rows = csv_rows(SCORE_CSV)
    single = result["single"]
    assert isinstance(single["Scored Labels"], float)
    assert single["age"] == pytest.approx(float(rows[0][0]))
    assert len(result["mapped"]) == 3 and all(isinstance(r["Scored Labels"], float) for r in result["mapped"])
    assert result["mapped"][0]["Scored Labels"] == pytest.approx(single["Scored Labels"])
    # Unauthorized -> the SDK raises RuntimeError(error.details[0].message)
    assert result["bad_key"] == {"raised": True, "error_type": "RuntimeError", "error": "Invalid credentials provided."}

    calls = [e for e in aml.journal(f"/services/{UPDATABLE}/execute")]
    assert calls and all(e["query"] == "api-version=2.0" for e in calls)  # the SDK never sends details=true
    assert calls[0]["headers"]["Authorization"] == "bearer ***"  # lower-case scheme accepted
    sent = json.loads(calls[0]["body"])
    assert sent["GlobalParameters"] == {} and sent["Inputs"]["input1"]["ColumnNames"] == header
    assert [e["status"] for e in calls].count(401) == 1


# --- Microsoft's generated Python BES consumer (in-process) ----------------------------------------

def test_generated_python_bes_consumer_downloads_the_ilearner(aml):
    container = unique("gen")
    run = generated_consumer.invoke_batch_execution_service(
        jobs_url=aml.runtime(TRAINING) + "/jobs", api_key=TRAINING_KEY,
        storage_account_name=CUSTOM_ACCOUNT, storage_account_key=CUSTOM_KEY,
        blob_endpoint=f"{aml.azurite.url}/{CUSTOM_ACCOUNT}", storage_container_name=container,
        input_data=TRAIN_CSV, input_blob_name="input1data.csv",
        outputs={"output1": "output1results.ilearner"}, poll_seconds=0.05, timeout=60)

    assert run.final_status["StatusCode"] == "Finished" and run.statuses[-1] == "Finished"
    model = ilearner.loads(run.outputs["output1"])
    assert model.label == "target" and model.algorithm == "LinearRegression"
    assert run.output_urls["output1"].split("?")[0].endswith(f"/{CUSTOM_ACCOUNT}/{container}/output1results.ilearner")
    assert run.final_status["Results"]["output1"]["RelativeLocation"] == f"{container}/output1results.ilearner"

    entries = job_calls(aml, TRAINING)
    assert [e["method"] for e in entries[:2]] == ["POST", "POST"] and {e["method"] for e in entries[2:]} == {"GET"}
    submit, start = entries[0], entries[1]
    body = json.loads(submit["body"])
    assert body["Inputs"]["input1"]["RelativeLocation"] == f"/{container}/input1data.csv"  # leading slash
    assert body["Outputs"]["output1"]["RelativeLocation"] == f"/{container}/output1results.ilearner"
    assert body["GlobalParameters"] == {}
    assert start["path"].endswith(f"/jobs/{run.job_id}/start") and start["body"] == "{}"
    assert start["headers"]["Content-Type"] == "application/json"
    assert all(e["status"] == 200 for e in entries)


def test_generated_python_bes_consumer_prints_failure_details(aml):
    """``"Error details: " + Details`` only works when Details is a string."""
    run = generated_consumer.invoke_batch_execution_service(
        jobs_url=aml.runtime(TRAINING) + "/jobs", api_key=TRAINING_KEY,
        storage_account_name=CUSTOM_ACCOUNT, storage_account_key=CUSTOM_KEY,
        blob_endpoint=f"{aml.azurite.url}/{CUSTOM_ACCOUNT}", storage_container_name=unique("gen"),
        input_data=SCORE_CSV, input_blob_name="nolabel.csv", poll_seconds=0.05, timeout=60)
    assert run.final_status["StatusCode"] == "Failed" and run.outputs == {}
    [line] = [p for p in run.printed if p.startswith("Error details: ")]
    assert "target" in line
