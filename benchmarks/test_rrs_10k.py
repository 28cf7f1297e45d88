"""Benchmark: request-response scoring of 10,000 rows against scikit-learn's ``predict`` in process.

- **RRS**: ``POST .../services/{updatable}/execute?api-version=2.0[&details=true]`` with 10,000 rows (the 100 rows
  of fixtures/data/score.csv repeated; values as strings, as clients send them) in the default table form, the
  body encoded once; one sample is from sending it to having the response's bytes.
- **Baseline**: the same request bytes handled in this process by the least any server must do: parse the JSON,
  turn the rows into a float matrix (numpy), ``predict`` with the same scikit-learn model (the endpoint's
  ``.ilearner``), render the rows with their scored label as strings and encode the JSON answer.

Baseline and RRS samples alternate, so load from elsewhere hits both alike; the ratio is the median over the
pairs of RRS time / baseline time. The body must fit the request limit (``limits.MAX_REQUEST_BYTES``); its size is
printed.
"""
from __future__ import annotations

import json
import statistics
import time

import numpy as np
import pytest

from adfemu.emulator.experiments import ilearner
from adfemu.emulator.limits import MAX_REQUEST_BYTES
from tests.helpers import PREDICTIVE, RESOURCE, SCORE_CSV, UPDATABLE, UPDATABLE_KEY, UPDATABLE_NAME, WS, csv_rows

ROWS = 10_000
RUNS = 20  # pairs: the median of their ratios moves by ±0.2 between runs with 12
WARMUP = 2


def request_body(rows: int = ROWS) -> tuple[list[str], bytes]:
    columns, values = csv_rows(SCORE_CSV)
    repeated = (values * (rows // len(values) + 1))[:rows]
    body = {"Inputs": {"input1": {"ColumnNames": columns, "Values": repeated}}, "GlobalParameters": {}}
    return columns, json.dumps(body).encode()


def baseline(body: bytes, estimator) -> bytes:
    """Parse, predict and render in process: the floor for any server."""
    table = json.loads(body)["Inputs"]["input1"]
    rows = table["Values"]
    labels = estimator.predict(np.asarray(rows, dtype=float))
    values = [row + [repr(label)] for row, label in zip(rows, labels.tolist())]
    answer = {"Results": {"output1": {"type": "table", "value": {"ColumnNames": table["ColumnNames"] + ["Scored Labels"],
                                                                 "Values": values}}}}
    return json.dumps(answer).encode()


@pytest.mark.parametrize("details", [True, False], ids=["details", "no-details"])
def test_rrs_10k_rows_against_predict(benchmark, bench_report, client, emulator_server, details):
    emulator, _ = emulator_server
    _, _, endpoint = emulator.backend.endpoint(WS, PREDICTIVE, UPDATABLE_NAME)
    estimator = ilearner.loads(endpoint.resources[RESOURCE].model).estimator()
    columns, body = request_body()
    assert len(body) <= MAX_REQUEST_BYTES, f"{ROWS} rows are {len(body)} bytes, over the limit"
    url = f"{client.runtime(UPDATABLE)}/execute?api-version=2.0" + ("&details=true" if details else "")
    headers = {**client.auth(UPDATABLE_KEY), "Content-Type": "application/json"}
    post = client.http.post
    rrs_s: list[float] = []
    base_s: list[float] = []
    answers: list[bytes] = []

    def one_baseline():
        started = time.perf_counter()
        baseline(body, estimator)
        base_s.append(time.perf_counter() - started)

    def one_request():
        started = time.perf_counter()
        response = post(url, data=body, headers=headers)
        content = response.content
        rrs_s.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text[:500]
        answers[:] = [content]

    benchmark.group = "rrs-10k-rows"
    benchmark.pedantic(one_request, setup=one_baseline, rounds=RUNS, warmup_rounds=WARMUP, iterations=1)

    value = json.loads(answers[0])["Results"]["output1"]["value"]
    assert len(value["Values"]) == ROWS and value["ColumnNames"] == columns + ["Scored Labels"]
    expected = estimator.predict(np.asarray(json.loads(body)["Inputs"]["input1"]["Values"], dtype=float))
    assert [float(row[-1]) for row in value["Values"][:100]] == expected[:100].tolist()
    rrs, base = rrs_s[-RUNS:], base_s[-RUNS:]
    paired = [r / b for r, b in zip(rrs, base)]
    name = f"rrs 10k rows {'details' if details else 'no details'}"
    bench_report.add(f"{name} (predict in process)", base, kind="latency", note=f"body {len(body):,} bytes")
    bench_report.add(name, rrs, kind="latency", baseline=f"{name} (predict in process)", paired_ratios=paired,
                     max_ratio=2, note=f"body {len(body):,} bytes (limit {MAX_REQUEST_BYTES:,})")
    benchmark.extra_info.update(rows=ROWS, body_bytes=len(body), rrs_ms_median=round(1000 * statistics.median(rrs), 1),
                                baseline_ms_median=round(1000 * statistics.median(base), 1),
                                ratio_median_of_pairs=round(statistics.median(paired), 2))
