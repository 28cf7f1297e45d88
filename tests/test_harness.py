"""The harness as a user's own tests use it: the ``adfemu`` fixture of the pytest plugin (one environment per
session and xdist worker, reset before each test) and the public API of ``import adfemu``."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import adfemu as api

from .helpers import SCORE_CSV, TRAIN_CSV, csv_rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FACTORIES = FIXTURES.parent / "tests" / "factories"
CORRECTED = FIXTURES / "seed-factory-corrected"
SEED_DATA = FIXTURES / "seed-data"


def _rows(n: int = 5) -> list[dict]:
    columns, values = csv_rows(SCORE_CSV)
    return [dict(zip(columns, row)) for row in values[:n]]


def _expected(rows: list[dict]) -> np.ndarray:
    columns, values = csv_rows(TRAIN_CSV)
    x = np.array([[float(v) for v in row[:-1]] for row in values])
    model = LinearRegression().fit(x, np.array([float(row[-1]) for row in values]))
    return model.predict(np.array([[float(r[c]) for c in columns[:-1]] for r in rows]))


def test_the_public_api_is_curated():
    assert sorted(api.__all__) == ["ActivityResult", "AdfemuError", "Environment", "Factory", "FactoryError",
                                   "RunInputError", "RunResult", "Settings", "StartError", "StorageError", "TriggerResult",
                                   "__version__", "connect", "load", "start"]
    assert all(hasattr(api, name) for name in api.__all__)
    with pytest.raises(AttributeError):
        api.engine  # noqa: B018 - internals are not attributes of the package


def test_seed_retrains_and_the_endpoint_scores_with_the_new_model(adfemu):
    adfemu.upload_folder(SEED_DATA)
    with pytest.raises(api.AdfemuError, match="has no model yet"):  # zero-config: no model before the update
        adfemu.score(CORRECTED, "updatableScoringEndpoint2", _rows())
    result = adfemu.run(CORRECTED, "LookupPipelineDemo")
    assert result.status == "Succeeded", result.message
    assert [a.name for a in result.activities] == ["amlBEGetilearner", "amlUpdateResource"]
    assert result.activity("AMLBEGETILEARNER").output["status"] == "Finished"
    assert result.record["pipelineRun"]["runId"] == result.run_id
    scored = adfemu.score(CORRECTED, "updatableScoringEndpoint2", _rows())
    np.testing.assert_allclose([float(r["Scored Labels"]) for r in scored], _expected(_rows()), rtol=1e-9)
    patches = [e for e in adfemu.requests("management") if e["method"] == "PATCH"]
    assert len(patches) == 1 and patches[0]["headers"]["Authorization"] == "Bearer ***"
    assert {e["api"] for e in adfemu.requests("bes")} == {"bes"}
    assert "azuremltesting/output/newModelForArm.ilearner" in adfemu.list_blobs("azuremltesting/output")


def test_published_seed_fails_with_2600_and_skips_the_update(adfemu):
    adfemu.upload_folder(SEED_DATA)
    linked = sorted((CORRECTED / "linkedService").glob("*.json"))
    published = api.load([*linked, FIXTURES / "seed-factory" / "pipeline" / "LookupPipelineDemo.json"])
    result = adfemu.run(published, "LookupPipelineDemo")
    assert result.status == "Failed"
    bes = result.activity("amlBEGetilearner")
    assert bes.error["errorCode"] == "2600" and "has an invalid or missing file extension" in bes.error["message"]
    assert result.activity("amlUpdateResource").status == "Skipped"


def test_missing_training_data_names_the_blob(adfemu):
    result = adfemu.run(CORRECTED, "LookupPipelineDemo")
    assert result.status == "Failed"
    assert "azuremltesting/input/train.csv" in result.activity("amlBEGetilearner").error["message"]


def test_upload_takes_bytes_text_paths_and_files_and_creates_the_container(adfemu, tmp_path):
    source = tmp_path / "rows.csv"
    source.write_bytes(b"a,b\n1,2\n")
    adfemu.upload("first/bytes.bin", b"\x00\x01")
    adfemu.upload("/first/text.txt", "héllo")
    adfemu.upload("second/deep/path/rows.csv", source)
    with source.open("rb") as handle:
        adfemu.upload("second/file.csv", handle)
    adfemu.upload("second/stream.csv", io.BytesIO(b"x"))
    assert adfemu.download("first/text.txt") == "héllo".encode()
    assert adfemu.download("second/deep/path/rows.csv") == b"a,b\n1,2\n"
    assert adfemu.list_blobs() == ["first/bytes.bin", "first/text.txt", "second/deep/path/rows.csv",
                                   "second/file.csv", "second/stream.csv"]
    assert adfemu.list_blobs("second/deep") == ["second/deep/path/rows.csv"]
    assert adfemu.list_blobs("fir") == ["first/bytes.bin", "first/text.txt"]


def test_blob_mistakes_are_one_line_errors(adfemu):
    with pytest.raises(api.StorageError, match="is not container/blob/path"):
        adfemu.upload("nocontainer", b"x")
    with pytest.raises(api.StorageError, match="does not exist in account 'devstoreaccount1'"):
        adfemu.download("absent/blob.csv")
    with pytest.raises(api.StorageError, match="storage account 'nosuchaccount' is not known here"):
        adfemu.upload("c1c/x.csv", b"x", account="nosuchaccount")
    with pytest.raises(api.StorageError, match="upload x/y in account 'devstoreaccount1' failed"):
        adfemu.upload("x/y", b"x")  # container names have 3-63 characters (Azure's rule, kept by Azurite)


def test_reset_before_each_test_starts_from_empty_storage_and_journal(adfemu):
    assert adfemu.list_blobs() == [] and adfemu.requests() == []
    adfemu.upload("leftover/blob.txt", b"x")
    adfemu.reset()
    assert adfemu.list_blobs() == []


def test_a_factory_without_azureml_runs_zero_config(adfemu):
    result = adfemu.run(FACTORIES / "plain", "NoAzureMl", {"greeting": "hi"})
    assert result.status == "Succeeded"
    assert result.activity("Compose").output == {"name": "message", "value": "hi from adfemu"}


def test_accounts_of_a_factory_loaded_later_exist_and_earlier_blobs_stay(adfemu):
    adfemu.upload("kept/before.txt", b"still here")
    factory = adfemu.load(FACTORIES / "twoaccounts")
    assert factory.storage_accounts().keys() == {"adfemualpha", "adfemubeta"}
    adfemu.upload("data/x.csv", b"1", account="adfemualpha")
    adfemu.upload("data/y.csv", b"2", account="adfemubeta")
    assert adfemu.list_blobs(account="adfemualpha") == ["data/x.csv"]
    assert adfemu.download("kept/before.txt") == b"still here"
    with pytest.raises(api.FactoryError, match="names several storage accounts"):
        factory.storage_account()


def test_same_now_and_seed_give_the_same_values_and_ids(adfemu):
    def run(**settings) -> api.RunResult:
        return adfemu.run(FACTORIES / "clock", "Stamps", **settings)

    first, second = run(now="2024-06-01T00:00:00Z", seed=7), run(now="2024-06-01T00:00:00Z", seed=7)
    value, again = first.activity("Report").output["value"], second.activity("Report").output["value"]
    assert value["stamp"] == again["stamp"]
    assert value["stamp"].startswith("2024-06-01T00:00:00.0000000Z 2024-06-01T00:00:00.0000000Z ")
    # parallel iterations append in any order (as in ADF); each iteration's guid() and rand() are the same
    assert sorted(value["ids"]) == sorted(again["ids"]) and len(value["ids"]) == 6
    assert first.run_id == second.run_id
    assert [a.activity_run_id for a in first.activities] != [] and \
        sorted(a.activity_run_id for a in first.activities) == sorted(a.activity_run_id for a in second.activities)
    assert first.record["pipelineRun"]["runStart"].startswith("2024-06-01T00:00:00")
    other = run(now="2024-06-01T00:00:00Z", seed=8).activity("Report").output["value"]
    assert other["stamp"] != value["stamp"] and run().activity("Report").output["value"]["stamp"] != value["stamp"]


def test_the_record_input_shows_the_guid_the_activity_used(adfemu):
    result = adfemu.run(FACTORIES / "clock", "Stamps")
    now = result.activity("Now")
    assert now.input["value"].split(" ")[2:] == now.output["value"].split(" ")[2:]  # guid() and rand()


def test_unknown_settings_and_bad_now_are_refused(adfemu):
    with pytest.raises(api.RunInputError, match="unknown setting"):
        adfemu.run(FACTORIES / "plain", "NoAzureMl", time_sclae=1)
    with pytest.raises(api.RunInputError, match="is not an ISO 8601"):
        adfemu.run(FACTORIES / "plain", "NoAzureMl", now="yesterday")
    with pytest.raises(api.RunInputError, match="pipeline 'Nope' is not in the factory"):
        adfemu.run(FACTORIES / "plain", "Nope")


def test_a_broken_factory_is_one_error_naming_file_and_pointer(tmp_path):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "Bad.json").write_text(json.dumps(
        {"name": "Bad", "properties": {"activities": [{"name": "W", "type": "Wait"}]}}))
    with pytest.raises(api.FactoryError) as caught:
        api.load(tmp_path)
    assert "\n" not in str(caught.value) and "Bad.json" in str(caught.value)
    assert "/properties/activities/0" in str(caught.value)
