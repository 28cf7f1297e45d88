"""Benchmark 1: job status polling throughput, emulator versus a bare Flask route.

``GET /workspaces/{ws}/services/{id}/jobs/{jobId}?api-version=2.0`` with the endpoint's Bearer
key, on a finished job (its status carries a freshly minted read SAS per output) and on a
running one, against the emulator served the normal way (``EmulatorServer``: waitress on port 0,
8 threads). The baseline is a minimal Flask app with one route that answers the very bytes the
emulator answered for the same job, served by an ``EmulatorServer`` too; the difference is
the emulator's own per-request work (routing, lookups, key check, status, journal).

A round is a fixed number of requests on keep-alive ``requests.Session``s: sequential on one
session, or split across 4 client threads (one session each). Bare and emulator rounds
alternate (bare, emulator, bare, ...) so that load from elsewhere on the machine hits both
alike; the ratio is the median over the pairs of (emulator req/s) / (bare req/s). The client
runs in the same process as the servers (as in the test suite), so all share one GIL; see
README.md.
"""
from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import (SCORE_CSV, SLOW, SLOW_KEY, TRAIN_CSV, UPDATABLE, UPDATABLE_KEY, WS, deadline_poll,
                           unique, upload)

REQUESTS_PER_ROUND = 300
ROUNDS = 15
WARMUP_ROUNDS = 1


@pytest.fixture(scope="module")
def jobs(client, blobs):
    """{"finished": (endpoint, key, job id, status bytes), "running": (...)}."""
    score_in = upload(blobs, SCORE_CSV, "score.csv")
    finished = client.submit_and_start(UPDATABLE, UPDATABLE_KEY, client.job_body(
        {"input1": score_in}, {"output1": f"{unique('benchout')}/scored.csv"}))
    deadline_poll(lambda: client.status(UPDATABLE, UPDATABLE_KEY, finished)["StatusCode"] == "Finished", 60)

    running = client.submit_and_start(SLOW, SLOW_KEY, client.job_body({"input1": upload(blobs, TRAIN_CSV)}))
    assert client.status(SLOW, SLOW_KEY, running)["StatusCode"] == "Running"

    found = {}
    for name, (endpoint, key, job_id) in {"finished": (UPDATABLE, UPDATABLE_KEY, finished),
                                          "running": (SLOW, SLOW_KEY, running)}.items():
        r = client.http.get(f"{client.runtime(endpoint)}/jobs/{job_id}?api-version=2.0", headers=client.auth(key))
        assert r.status_code == 200
        found[name] = (endpoint, key, job_id, r.content)
    return found


def _round_runner(url: str, headers: dict, threads: int, samples: list[float]):
    """A callable doing REQUESTS_PER_ROUND GETs per call (recording its wall time), and its cleanup."""
    if threads == 1:
        session = requests.Session()

        def one_round():
            get = session.get
            started = time.perf_counter()
            for _ in range(REQUESTS_PER_ROUND):
                r = get(url, headers=headers)
                if r.status_code != 200:
                    raise AssertionError(f"{r.status_code}: {r.text[:300]}")
            samples.append(time.perf_counter() - started)

        return one_round, session.close

    local = threading.local()
    sessions: list[requests.Session] = []
    per_thread = REQUESTS_PER_ROUND // threads
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-client")

    def work():
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            sessions.append(session)
        for _ in range(per_thread):
            r = session.get(url, headers=headers)
            if r.status_code != 200:
                raise AssertionError(f"{r.status_code}: {r.text[:300]}")

    def one_round():
        started = time.perf_counter()
        futures = [pool.submit(work) for _ in range(threads)]
        for f in futures:
            f.result()
        samples.append(time.perf_counter() - started)

    def close():
        pool.shutdown(wait=True)
        for s in sessions:
            s.close()

    return one_round, close


@pytest.mark.parametrize("threads", [1, 8], ids=["sequential", "8-threads"])
@pytest.mark.parametrize("job", ["finished", "running"])
def test_job_status_polling(benchmark, bench_report, jobs, emulator_url, bare_server_factory, job, threads):
    """pytest-benchmark times the emulator rounds; a bare round runs (untimed by it) before each one."""
    endpoint, key, job_id, payload = jobs[job]
    path = f"/workspaces/{WS}/services/{endpoint}/jobs/{job_id}?api-version=2.0"
    headers = {"Authorization": f"Bearer {key}"}
    emulator_samples: list[float] = []
    bare_samples: list[float] = []
    emulator_round, close_emulator = _round_runner(emulator_url + path, headers, threads, emulator_samples)
    bare_round, close_bare = _round_runner(bare_server_factory(payload).url + path, headers, threads, bare_samples)

    benchmark.group = "status-polling"
    benchmark.extra_info.update(requests_per_round=REQUESTS_PER_ROUND, client_threads=threads)
    try:
        benchmark.pedantic(emulator_round, setup=bare_round, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS,
                           iterations=1)
    finally:
        close_emulator()
        close_bare()

    emulator_s, bare_s = emulator_samples[-ROUNDS:], bare_samples[-ROUNDS:]
    paired = [b / e for e, b in zip(emulator_s, bare_s)]  # emulator throughput / bare throughput, per pair
    label = f"status {job:<8} {'sequential' if threads == 1 else f'{threads} threads':<10}"
    bench_report.add(f"{label} bare", bare_s, kind="polling", requests=REQUESTS_PER_ROUND)
    bench_report.add(f"{label} emulator", emulator_s, kind="polling", requests=REQUESTS_PER_ROUND,
                     baseline=f"{label} bare", paired_ratios=paired, min_ratio=0.9)
    benchmark.extra_info.update(
        emulator_rps_median=round(REQUESTS_PER_ROUND / statistics.median(emulator_s)),
        bare_rps_median=round(REQUESTS_PER_ROUND / statistics.median(bare_s)),
        ratio_emulator_over_bare_throughput=round(statistics.median(paired), 3))
    if job == "running":
        r = requests.get(emulator_url + path, headers=headers)
        assert r.json()["StatusCode"] == "Running"  # the job really was running throughout
