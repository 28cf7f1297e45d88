"""Load and soak: `adfemu serve` as its own process (with the Azurite it starts), driven over loopback HTTP.

- **BES crowd**: 500 jobs (submit, start, poll to a terminal state) from 32 threads; every acknowledged job id
  must be answered and Finished exactly once: lost and duplicated jobs are counted (zero).
- **RRS crowd**: 5,000 request-response calls from 16 threads; errors (zero), p50/p95 latency.
- **Soak**: 5,000 more jobs, each deleted when done as azmlclient does (a finished job's DELETE forgets it); the
  emulator's resident memory is sampled every 1,000 jobs. Growth after the first 1,000 must stay within the
  request journal's bound (2,000 entries of at most 64 KiB bodies; these bodies are ~300 bytes).
- **Peak RSS** (``VmHWM``) of both processes, the emulator and Azurite, at the end.

Run: ``.venv/bin/python -m pytest benchmarks/test_load.py -p no:xdist --benchmark-only -s``. The figures are
printed and kept in ``extra_info``. Every request goes to 127.0.0.1; the loops are bounded in count and time.
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from azure.storage.blob import BlobServiceClient

from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY
from tests.helpers import PREDICTIVE, PREDICTIVE_KEY, SCORE_CSV, TRAIN_CSV, TRAINING, TRAINING_KEY, WS, csv_rows, \
    memory, settled_memory

ROOT = Path(__file__).resolve().parent.parent
SMOKE = bool(os.environ.get("ADFEMU_BENCH_SMOKE"))  # the smoke run in `make test`: the same code, small counts
JOBS, JOB_THREADS = (20 if SMOKE else 500), 32
RRS_CALLS, RRS_THREADS = (100 if SMOKE else 5000), 16
SOAK_JOBS, SOAK_THREADS, SOAK_SAMPLE = (40 if SMOKE else 5000), 8, (10 if SMOKE else 1000)
DEADLINE = 900  # seconds: every loop stops by then
JOURNAL_BOUND_MIB = 2000 * 2 * 1024 / 2**20  # 2,000 entries of ~2 KiB each (these requests' entries), generous


class Served:
    """`adfemu serve --config fixtures/seed-emulator.json` on a free loopback port, and its Azurite."""

    def __init__(self):
        env = dict(os.environ)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "adfemu"), "serve", "--config", str(ROOT / "fixtures" / "seed-emulator.json"),
             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
        self.url = self._banner()
        self.storage = requests.get(f"{self.url}/_emulator/health", timeout=30).json()["storage"]["url"]

    def _banner(self) -> str:
        end = time.monotonic() + 120
        while time.monotonic() < end:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError("adfemu serve exited before it listened")
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                threading.Thread(target=self.process.stdout.read, daemon=True).start()  # keep the pipe drained
                return found.group(1)
        raise RuntimeError("adfemu serve did not print its URL within 120 s")

    def azurite_pid(self) -> int | None:
        """The node process among the server's descendants (Azurite runs under a small guard process)."""
        pending = [self.process.pid]
        while pending:
            pid = pending.pop()
            for task in Path(f"/proc/{pid}/task").iterdir():
                for child in (task / "children").read_text().split():
                    if Path(f"/proc/{child}/comm").read_text().strip() == "node":
                        return int(child)
                    pending.append(int(child))
        return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(scope="module")
def served():
    server = Served()
    try:
        blobs = BlobServiceClient(f"{server.storage}/{DEV_ACCOUNT}",
                                  credential={"account_name": DEV_ACCOUNT, "account_key": DEV_KEY})
        container = blobs.get_container_client("loadinput")
        container.create_container()
        container.upload_blob("train.csv", TRAIN_CSV)
        yield server
    finally:
        server.stop()


def _job_body(storage: str) -> dict:
    connection = (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
                  f"BlobEndpoint={storage}/{DEV_ACCOUNT};")
    return {"Inputs": {"input1": {"ConnectionString": connection, "RelativeLocation": "loadinput/train.csv"}},
            "Outputs": {}, "GlobalParameters": {}}


def _one_job(http: requests.Session, base: str, body: dict, delete: bool) -> tuple[str, str]:
    headers = {"Authorization": f"Bearer {TRAINING_KEY}"}
    submitted = http.post(f"{base}/jobs?api-version=2.0", json=body, headers=headers, timeout=60)
    submitted.raise_for_status()
    job = submitted.json()
    http.post(f"{base}/jobs/{job}/start?api-version=2.0", headers=headers, timeout=60).raise_for_status()
    end = time.monotonic() + 300
    status = "NotStarted"
    while time.monotonic() < end:
        response = http.get(f"{base}/jobs/{job}?api-version=2.0", headers=headers, timeout=60)
        if response.status_code == 404:
            return job, "Lost"
        status = response.json()["StatusCode"]
        if status in ("Finished", "Failed", "Cancelled"):
            break
        time.sleep(0.05)
    if delete:
        http.delete(f"{base}/jobs/{job}?api-version=2.0", headers=headers, timeout=60)
    return job, status


def _crowd(served: Served, count: int, threads: int, delete: bool, on_done=None) -> list[tuple[str, str]]:
    base = f"{served.url}/workspaces/{WS}/services/{TRAINING}"
    body = _job_body(served.storage)
    local = threading.local()
    done = []

    def task(_):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        result = _one_job(local.http, base, body, delete)
        done.append(result)
        if on_done:
            on_done(len(done))
        return result

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(task, range(count)))


def test_load_and_soak(benchmark, bench_report, served):
    figures: dict = {}

    def everything():
        figures["memoryMiB"] = {"idle": _rounded(settled_memory(served.process.pid))}
        started = time.monotonic()
        results = _crowd(served, JOBS, JOB_THREADS, delete=False)
        figures["memoryMiB"][f"after{JOBS}Jobs"] = _rounded(memory(served.process.pid))
        ids = Counter(job for job, _ in results)
        figures["bes"] = {"jobs": JOBS, "threads": JOB_THREADS, "seconds": round(time.monotonic() - started, 1),
                          "statuses": dict(Counter(status for _, status in results)),
                          "duplicated": sum(n - 1 for n in ids.values() if n > 1),
                          "lost": sum(1 for _, status in results if status == "Lost")}
        state = requests.get(f"{served.url}/_emulator/state", timeout=60).json()
        figures["bes"]["inState"] = len({j["id"] for j in state["jobs"]} & set(ids))
        figures["rrs"] = _rrs(served)
        figures["soak"] = _soak(served)
        figures["peakMiB"] = {"emulator": round(memory(served.process.pid)["peak"], 1),
                              "azurite": round(memory(served.azurite_pid())["peak"], 1)}

    benchmark.pedantic(everything, rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    print("\nload figures: " + json.dumps(figures, indent=2))
    _report(bench_report, figures)
    assert figures["bes"]["lost"] == 0 and figures["bes"]["duplicated"] == 0
    assert figures["bes"]["statuses"] == {"Finished": JOBS} and figures["bes"]["inState"] == JOBS
    assert figures["rrs"]["errors"] == 0
    assert figures["soak"]["growthMiB"] <= JOURNAL_BOUND_MIB + 16, figures["soak"]


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in values.items()}


def _report(bench_report, figures: dict) -> None:
    title = "adfemu serve --config fixtures/seed-emulator.json under load (its own process; MiB):"
    memory_ = figures["memoryMiB"]
    for when, values in memory_.items():
        bench_report.note(f"  {when:<16} RSS {values['rss']:7.1f}   peak RSS {values['peak']:7.1f}", title)
    soak, bes, rrs = figures["soak"], figures["bes"], figures["rrs"]
    bound = JOURNAL_BOUND_MIB + 16
    bench_report.note(f"  soak of {soak['jobs']:,} jobs: RSS every {SOAK_SAMPLE:,} jobs {soak['rssMiBSamples']}, "
                      f"growth {soak['growthMiB']} MiB; target <= {bound:.0f} (the journal's bound + 16): "
                      f"{'met' if soak['growthMiB'] is not None and soak['growthMiB'] <= bound else 'NOT MET'}", title)
    bench_report.note(f"  {bes['jobs']} BES jobs from {bes['threads']} threads in {bes['seconds']} s "
                      f"(lost {bes['lost']}, duplicated {bes['duplicated']}); {rrs['calls']:,} RRS calls from "
                      f"{rrs['threads']} threads: {rrs['perSecond']}/s, p50 {rrs['p50ms']} ms, p95 {rrs['p95ms']} ms; "
                      f"peak RSS at the end: emulator {figures['peakMiB']['emulator']}, "
                      f"Azurite {figures['peakMiB']['azurite']}", title)


def _rrs(served: Served) -> dict:
    columns, rows = csv_rows(SCORE_CSV)
    body = {"Inputs": {"input1": {"ColumnNames": columns, "Values": rows[:5]}}, "GlobalParameters": {}}
    url = f"{served.url}/workspaces/{WS}/services/{PREDICTIVE}/execute?api-version=2.0"
    headers = {"Authorization": f"Bearer {PREDICTIVE_KEY}"}
    local = threading.local()
    latencies, errors = [], Counter()
    lock = threading.Lock()

    def call(_):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        began = time.perf_counter()
        response = local.http.post(url, json=body, headers=headers, timeout=60)
        took = time.perf_counter() - began
        with lock:
            latencies.append(took)
            if response.status_code != 200:
                errors[response.status_code] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(RRS_THREADS) as pool:
        list(pool.map(call, range(RRS_CALLS)))
    elapsed = time.monotonic() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return {"calls": RRS_CALLS, "threads": RRS_THREADS, "errors": sum(errors.values()), "byStatus": dict(errors),
            "perSecond": round(RRS_CALLS / elapsed, 1), "p50ms": round(quantiles[49] * 1000, 1),
            "p95ms": round(quantiles[94] * 1000, 1)}


def _soak(served: Served) -> dict:
    samples = []

    def sample(done: int) -> None:
        if done % SOAK_SAMPLE == 0:
            samples.append(round(memory(served.process.pid)["rss"], 1))

    started = time.monotonic()
    results = _crowd(served, SOAK_JOBS, SOAK_THREADS, delete=True, on_done=sample)
    return {"jobs": SOAK_JOBS, "threads": SOAK_THREADS, "seconds": round(time.monotonic() - started, 1),
            "statuses": dict(Counter(status for _, status in results)), "rssMiBSamples": samples,
            "growthMiB": round(max(samples) - samples[0], 1) if samples else None}
