"""Error envelope and authentication rules of the AML Studio (classic) runtime APIs."""
from __future__ import annotations

import pytest
import requests

from .helpers import (CRASHING, CRASHING_KEY, FAILING, FAILING_KEY, PREDICTIVE, SCORE_CSV, TRAIN_CSV, TRAINING,
                      TRAINING_KEY, UPDATABLE, UPDATABLE_KEY, WS_TOKEN, csv_rows, upload)


@pytest.mark.parametrize("scheme", ["bearer", "Bearer", "BEARER"])
def test_bearer_scheme_matches_in_any_case(aml, scheme):
    columns, values = csv_rows(SCORE_CSV)
    body = {"Inputs": {"input1": {"ColumnNames": columns, "Values": values[:1]}}}
    r = requests.post(f"{aml.runtime(UPDATABLE)}/execute?api-version=2.0", json=body,
                      headers={"authorization": f"{scheme} {UPDATABLE_KEY}"})
    assert r.status_code == 200, r.text
    mgmt = requests.get(aml.mgmt(f"/{PREDICTIVE}/endpoints"), headers={"authorization": f"{scheme} {WS_TOKEN}"})
    assert mgmt.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TRAINING_KEY}"},
                                     {"Authorization": f"Bearer {UPDATABLE_KEY}"}])
def test_runtime_rejects_missing_wrong_and_foreign_keys(aml, headers):
    r = requests.get(f"{aml.runtime(TRAINING)}/jobs/x?api-version=2.0", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"error": {"code": "Unauthorized", "message": "Request is unauthorized to access resource.",
                                  "details": [{"code": "ScoreRequestUnauthorized",
                                               "message": "Invalid credentials provided."}]}}


def test_secondary_key_is_accepted(aml, blobs):
    from .helpers import TRAINING_KEY2
    assert aml.submit(TRAINING, TRAINING_KEY2, aml.train_body(upload(blobs, TRAIN_CSV))).status_code == 200


def test_module_execution_error_has_details(aml):
    body = {"Inputs": {"input1": {"ColumnNames": ["age"], "Values": [["x"]]}}}
    r = aml.execute(FAILING, FAILING_KEY, body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "ModuleExecutionError" and error["message"] == "Module execution encountered an error."
    assert error["details"] and error["details"][0]["message"].startswith("Error 0018")
    assert r.headers["Content-Type"].startswith("application/json")


def test_empty_scoring_input_returns_an_empty_table(aml):
    columns, _ = csv_rows(SCORE_CSV)
    r = aml.execute(UPDATABLE, UPDATABLE_KEY, {"Inputs": {"input1": {"ColumnNames": columns, "Values": []}}})
    assert r.status_code == 200, r.text
    assert r.json()["Results"]["output1"]["value"] == {"ColumnNames": columns + ["Scored Labels"],
                                                        "ColumnTypes": ["String"] * (len(columns) + 1), "Values": []}


def test_a_crashing_plugin_fails_its_job_and_the_server_stays_up(aml, blobs):
    _, final = aml.run_job(CRASHING, CRASHING_KEY, aml.train_body(upload(blobs, TRAIN_CSV)))
    assert final["StatusCode"] == "Failed"
    assert "KeyError" in final["Details"]
    assert requests.get(f"{aml.url}/_emulator/health").status_code == 200


def test_every_error_has_a_details_list(aml):
    for r in (requests.get(f"{aml.url}/no/such/path"),
              requests.put(f"{aml.runtime(TRAINING)}/jobs", headers=aml.auth(TRAINING_KEY)),
              aml.submit(TRAINING, TRAINING_KEY, [])):
        error = r.json()["error"]
        assert isinstance(error["details"], list) and error["code"] and error["message"]
        assert 400 <= r.status_code < 500
