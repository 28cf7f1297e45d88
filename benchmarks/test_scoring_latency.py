"""Benchmark 2: submit-to-Finished latency of a 10,000-row BES scoring job.

The predictive service's ``updatable`` endpoint scores a 10,000-row CSV (fixtures/data/score.csv,
rows repeated 100 times) uploaded once to Azurite. One run is: submit (``POST .../jobs``, which
also checks the input blob exists), start, then poll ``GET .../jobs/{id}`` until Finished, the
output (``output1``) written as ``scored.csv``.

Variants:
  * ``tight`` (the headline number): polls back to back, no sleep; output under a fresh
    container per run (the emulator creates it).
  * ``tight-existing-container``: same, but the output container exists already, to show what
    creating the container costs.
  * ``poll-50ms``: sleeps 50 ms between polls, to show what tight polling (which shares the
    emulator's GIL in this in-process setup) costs the job itself.

p50/p95 are computed from each run's own wall time (linear interpolation) and printed in the
summary; pytest-benchmark keeps its usual stats as well.
"""
from __future__ import annotations

import time

import pytest

from tests.helpers import SCORE_CSV, UPDATABLE, UPDATABLE_KEY, csv_rows, unique, upload

ROWS = 10_000
RUNS = 20
WARMUP_RUNS = 1
JOB_TIMEOUT = 120.0


def big_score_csv(rows: int = ROWS) -> bytes:
    lines = SCORE_CSV.decode().splitlines()
    header, body = lines[0], [line for line in lines[1:] if line.strip()]
    repeated = [body[i % len(body)] for i in range(rows)]
    return ("\n".join([header, *repeated]) + "\n").encode()


@pytest.fixture(scope="module")
def scoring_input(blobs) -> str:
    data = big_score_csv()
    assert len(csv_rows(data)[1]) == ROWS
    return upload(blobs, data, "score10k.csv")


VARIANTS = {
    "tight": dict(interval=0.0, existing_container=False, runs=RUNS),
    "tight-existing-container": dict(interval=0.0, existing_container=True, runs=RUNS),
    "poll-50ms": dict(interval=0.05, existing_container=False, runs=RUNS),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_scoring_job_latency(benchmark, bench_report, client, blobs, scoring_input, variant):
    interval, existing, runs = (VARIANTS[variant][k] for k in ("interval", "existing_container", "runs"))
    shared_container = None
    if existing:
        shared_container = unique("benchout")
        blobs.create_container(shared_container)

    samples: list[float] = []
    polls: list[int] = []
    outputs: list[str] = []
    status_url = f"{client.runtime(UPDATABLE)}/jobs/{{}}?api-version=2.0"
    headers = client.auth(UPDATABLE_KEY)

    def one_run():
        container = shared_container or unique("benchout")
        output = f"{container}/scored-{unique('r')}.csv"
        body = client.job_body({"input1": scoring_input}, {"output1": output})
        get = client.http.get
        started = time.perf_counter()
        job_id = client.submit_and_start(UPDATABLE, UPDATABLE_KEY, body)
        url = status_url.format(job_id)
        count = 0
        while True:
            r = get(url, headers=headers)
            count += 1
            state = r.json()["StatusCode"]
            if state in ("Finished", "Failed", "Cancelled"):
                break
            if time.perf_counter() - started > JOB_TIMEOUT:
                raise AssertionError(f"job {job_id} still {state} after {JOB_TIMEOUT}s")
            if interval:
                time.sleep(interval)
        elapsed = time.perf_counter() - started
        assert state == "Finished", r.text
        samples.append(elapsed)
        polls.append(count)
        outputs.append(output)

    benchmark.group = "scoring-10k-rows"
    benchmark.pedantic(one_run, rounds=runs, warmup_rounds=WARMUP_RUNS, iterations=1)

    # the last run's output really is the 10,000 scored rows (checked outside the timing)
    container, blob = outputs[-1].split("/", 1)
    header, rows = csv_rows(blobs.get_blob_client(container, blob).download_blob().readall())
    assert len(rows) == ROWS and header[-1] == "Scored Labels"

    measured, measured_polls = samples[-runs:], polls[-runs:]
    mean_polls = sum(measured_polls) / len(measured_polls)
    benchmark.extra_info.update(rows=ROWS, poll_interval_s=interval, output_container_exists=existing,
                                mean_status_polls=round(mean_polls, 1))
    bench_report.add(f"scoring 10k rows {variant}", measured, kind="latency",
                     note=f"~{mean_polls:.0f} polls/run")
