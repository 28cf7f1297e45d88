"""The retraining round trip: train through BES, PATCH the non-default endpoint, score through RRS and BES."""
from __future__ import annotations

import numpy as np
import requests
from sklearn.linear_model import LinearRegression

from .helpers import (PREDICTIVE, PREDICTIVE_KEY, RESOURCE, SCORE_CSV, TRAIN_CSV, TRAINING, TRAINING_KEY, UPDATABLE,
                      UPDATABLE_KEY, UPDATABLE_NAME, csv_rows, upload)

ENDPOINT_PATH = f"/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}"


def _scores(aml, endpoint_id: str, key: str, columns, values) -> np.ndarray:
    r = aml.execute(endpoint_id, key, {"Inputs": {"input1": {"ColumnNames": columns, "Values": values}},
                                       "GlobalParameters": {}})
    assert r.status_code == 200, r.text
    return np.array([float(row[-1]) for row in r.json()["Results"]["output1"]["value"]["Values"]])


def _sklearn_scores(columns, values) -> np.ndarray:
    train_columns, train_rows = csv_rows(TRAIN_CSV)
    x = np.array([[float(v) for v in row[:-1]] for row in train_rows])
    y = np.array([float(row[-1]) for row in train_rows])
    model = LinearRegression().fit(x, y)
    assert train_columns[:-1] == columns
    return model.predict(np.array([[float(v) for v in row] for row in values]))


def test_retrain_update_and_score(aml, blobs):
    columns, values = csv_rows(SCORE_CSV)
    before = _scores(aml, UPDATABLE, UPDATABLE_KEY, columns, values)

    relative = upload(blobs, TRAIN_CSV)
    output = f"{relative.split('/')[0]}/output/newModelForArm.ilearner"
    _, final = aml.run_job(TRAINING, TRAINING_KEY, aml.train_body(relative, output))
    assert final["StatusCode"] == "Finished", final
    result = final["Results"]["output1"]

    patch = requests.patch(aml.mgmt(ENDPOINT_PATH), headers=aml.auth(UPDATABLE_KEY), json={
        "Resources": [{"Name": RESOURCE, "Location": {"BaseLocation": result["BaseLocation"],
                                                      "RelativeLocation": result["RelativeLocation"],
                                                      "SasBlobToken": result["SasBlobToken"]}}]})
    assert patch.status_code == 200, patch.text

    after = _scores(aml, UPDATABLE, UPDATABLE_KEY, columns, values)
    expected = _sklearn_scores(columns, values)
    np.testing.assert_allclose(after, expected, rtol=1e-12, atol=1e-9)
    assert not np.allclose(before, after), "the update must change the scores"
    # the default endpoint keeps its model
    np.testing.assert_allclose(_scores(aml, PREDICTIVE, PREDICTIVE_KEY, columns, values), before)

    # BES scoring on the updated endpoint uses the new model too
    score_relative = upload(blobs, SCORE_CSV, "score.csv")
    scored_out = f"{score_relative.split('/')[0]}/scored.csv"
    body = aml.train_body(score_relative)
    body["Outputs"] = {"output1": {"ConnectionString": aml.connection_string(), "RelativeLocation": scored_out}}
    _, scored = aml.run_job(UPDATABLE, UPDATABLE_KEY, body)
    assert scored["StatusCode"] == "Finished", scored
    container, blob = scored_out.split("/", 1)
    scored_columns, scored_rows = csv_rows(blobs.get_blob_client(container, blob).download_blob().readall())
    assert scored_columns == columns + ["Scored Labels"]
    np.testing.assert_allclose([float(r[-1]) for r in scored_rows], expected, rtol=1e-12, atol=1e-9)

    endpoint = requests.get(aml.mgmt(ENDPOINT_PATH), headers=aml.auth(UPDATABLE_KEY)).json()
    assert endpoint["Resources"][0]["Location"]["RelativeLocation"] == output
