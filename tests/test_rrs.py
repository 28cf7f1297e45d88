"""Request-response scoring (table and swagger formats) and swagger.json."""
from __future__ import annotations

import requests

from .helpers import PREDICTIVE, PREDICTIVE_KEY, SCORE_CSV, TRAINING, TRAINING_KEY, UPDATABLE, UPDATABLE_KEY, csv_rows


def _score_table(rows: int = 3) -> tuple[list[str], list[list[str]]]:
    columns, values = csv_rows(SCORE_CSV)
    return columns, values[:rows]


def test_table_response_is_typed_strings_with_scored_labels(aml):
    columns, values = _score_table()
    numbers = [[float(v) for v in row] for row in values]  # requests may carry numbers
    r = aml.execute(UPDATABLE, UPDATABLE_KEY, {"Inputs": {"input1": {"ColumnNames": columns, "Values": numbers}},
                                               "GlobalParameters": {}})
    assert r.status_code == 200, r.text
    output = r.json()["Results"]["output1"]
    assert output["type"] == "table"
    value = output["value"]
    assert value["ColumnNames"] == columns + ["Scored Labels"]
    assert value["ColumnTypes"][-1] == "Double" and value["ColumnTypes"][0] == "Double"
    assert len(value["Values"]) == 3
    assert all(isinstance(v, str) for row in value["Values"] for v in row)
    float(value["Values"][0][-1])


def test_without_details_the_response_still_has_values(aml):
    columns, values = _score_table()
    r = aml.execute(UPDATABLE, UPDATABLE_KEY, {"Inputs": {"input1": {"ColumnNames": columns, "Values": values}}},
                    query="api-version=2.0")
    assert r.status_code == 200
    assert r.json()["Results"]["output1"]["value"]["Values"][0][-1]


def test_swagger_format_rows_have_identical_keys(aml):
    columns, values = _score_table(5)
    rows = [dict(zip(columns, map(float, row))) for row in values]
    r = aml.execute(UPDATABLE, UPDATABLE_KEY, {"Inputs": {"input1": rows}, "GlobalParameters": {}},
                    query="api-version=2.0&format=swagger&details=true")
    assert r.status_code == 200, r.text
    out = r.json()["Results"]["output1"]
    assert isinstance(out, list) and len(out) == 5
    keys = set(out[0])
    assert keys == set(columns) | {"Scored Labels"}
    assert all(set(row) == keys for row in out)
    assert all(isinstance(v, str) for row in out for v in row.values())


def test_binary_classifier_adds_scored_probabilities(aml, blobs):
    from sklearn.datasets import load_breast_cancer
    from .helpers import upload
    data = load_breast_cancer()
    header = ",".join(f"f{i}" for i in range(5)) + ",target\n"
    csv_text = header + "".join(",".join(repr(float(v)) for v in x[:5]) + f",{int(y)}\n"
                                for x, y in zip(data.data, data.target))
    relative = upload(blobs, csv_text.encode())
    out = f"{relative.split('/')[0]}/clf.ilearner"
    _, final = aml.run_job(TRAINING, TRAINING_KEY, aml.train_body(relative, out))
    assert final["StatusCode"] == "Finished", final
    result = final["Results"]["output1"]
    patch = requests.patch(
        f"{aml.mgmt('/0e8f0c3d5a6b47c1a2b3c4d5e6f70812/endpoints/updatable')}",
        json={"Resources": [{"Name": "ADFV2Sample Model [trained model]",
                             "Location": {k: result[k] for k in ("BaseLocation", "RelativeLocation", "SasBlobToken")}}]},
        headers=aml.auth(UPDATABLE_KEY))
    assert patch.status_code == 200, patch.text
    rows = [[repr(float(v)) for v in x[:5]] for x in data.data[:4]]
    r = aml.execute(UPDATABLE, UPDATABLE_KEY, {"Inputs": {"input1": {"ColumnNames": [f"f{i}" for i in range(5)],
                                                                     "Values": rows}}})
    value = r.json()["Results"]["output1"]["value"]
    assert value["ColumnNames"][-2:] == ["Scored Labels", "Scored Probabilities"]
    assert {row[-2] for row in value["Values"]} <= {"0", "1"}
    assert all(0.0 <= float(row[-1]) <= 1.0 for row in value["Values"])


def test_missing_feature_columns_are_an_input_mismatch(aml):
    r = aml.execute(UPDATABLE, UPDATABLE_KEY, {"Inputs": {"input1": {"ColumnNames": ["age"], "Values": [["1"]]}}})
    assert r.status_code == 400
    error = r.json()["error"]
    assert (error["code"], error["details"][0]["code"]) == ("BadUserArgument", "InputMismatchError")


def test_swagger_json_is_served_without_a_key(aml):
    r = requests.get(f"{aml.runtime(PREDICTIVE)}/swagger.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["swagger"] == "2.0"
    assert doc["info"]["title"] == "ADFV2Sample [predictive exp.]"
    assert "/execute" in doc["paths"] and "/jobs" in doc["paths"]
    assert set(doc["definitions"]["InputRow"]["properties"]) >= {"age", "bmi", "s6"}


def test_rrs_on_default_endpoint_uses_its_own_key(aml):
    columns, values = _score_table(1)
    body = {"Inputs": {"input1": {"ColumnNames": columns, "Values": values}}}
    assert aml.execute(PREDICTIVE, PREDICTIVE_KEY, body).status_code == 200
    other = aml.execute(PREDICTIVE, UPDATABLE_KEY, body)  # a key of another endpoint
    assert other.status_code == 401
    assert other.json()["error"]["details"][0]["code"] == "ScoreRequestUnauthorized"
