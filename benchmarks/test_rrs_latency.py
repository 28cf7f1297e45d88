"""Benchmark 3: request-response (RRS) ``/execute`` latency for a 100-row request.

``POST /workspaces/{ws}/services/{updatable}/execute?api-version=2.0&details=true`` with the
100 rows of fixtures/data/score.csv in the default table form (``ColumnNames`` + ``Values``,
values as strings as ADF and the generated C# clients send them), sequential on one keep-alive
session. Each sample is one request, from send to the parsed 100-row response.
"""
from __future__ import annotations

import time

from tests.helpers import SCORE_CSV, UPDATABLE, UPDATABLE_KEY, csv_rows

RUNS = 100
WARMUP_RUNS = 5


def test_rrs_execute_100_rows(benchmark, bench_report, client):
    columns, rows = csv_rows(SCORE_CSV)
    assert len(rows) == 100
    body = {"Inputs": {"input1": {"ColumnNames": columns, "Values": rows}}, "GlobalParameters": {}}
    url = f"{client.runtime(UPDATABLE)}/execute?api-version=2.0&details=true"
    headers = client.auth(UPDATABLE_KEY)
    post = client.http.post
    samples: list[float] = []

    def one_request():
        started = time.perf_counter()
        r = post(url, json=body, headers=headers)
        result = r.json()
        samples.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text
        return result

    benchmark.group = "rrs-execute-100-rows"
    result = benchmark.pedantic(one_request, rounds=RUNS, warmup_rounds=WARMUP_RUNS, iterations=1)

    value = result["Results"]["output1"]["value"]
    assert len(value["Values"]) == 100 and value["ColumnNames"][-1] == "Scored Labels"
    benchmark.extra_info["rows"] = 100
    bench_report.add("rrs execute 100 rows", samples[-RUNS:], kind="latency")
