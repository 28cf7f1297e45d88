"""Benchmark fixtures: one Azurite and one emulator for the whole benchmark session.

Run with ``make benchmark`` (``python -m pytest benchmarks -p no:xdist --benchmark-only``).
The normal suite never collects this folder (``testpaths = ["tests"]``).

The emulator is built from the same config the tests use (``tests.conftest.test_document``),
with one change: the test-only "slow training" service runs for an hour instead of 30 s, so
that the job-status benchmark always has a job in the ``Running`` state. Both processes are
stopped at the end of the session (fixture finalizers, plus an ``atexit`` safety net for
Azurite, which runs in its own process group).

Every benchmark also records its own wall-clock samples (``BenchReport``); the derived
numbers (requests/s, emulator/bare ratio, p50/p95) are printed in the terminal summary.
"""
from __future__ import annotations

import atexit
import statistics
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from azure.storage.blob import BlobServiceClient
from flask import Flask, Response

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tests` is not an installed package
    sys.path.insert(0, str(ROOT))

from adfemu.emulator.app import Emulator, create_app  # noqa: E402
from adfemu.emulator.azurite import Azurite  # noqa: E402
from adfemu.emulator.config import from_document  # noqa: E402
from adfemu.emulator.server import EmulatorServer  # noqa: E402
from adfemu.emulator.storage import BlobStore  # noqa: E402
from tests.conftest import test_document as _test_document  # noqa: E402  (aliased: not a test here)
from tests.helpers import CUSTOM_ACCOUNT, CUSTOM_KEY, SLOW, WS  # noqa: E402

FIXTURES = ROOT / "fixtures"
RUNNING_JOB_SECONDS = 3600


def bench_document() -> dict:
    doc = _test_document()
    for svc in doc["workspaces"][0]["webServices"]:
        if svc["id"] == SLOW:
            svc["timing"] = {"runSeconds": RUNNING_JOB_SECONDS}
    return doc


# --- processes -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def azurite():
    running = Azurite(accounts={CUSTOM_ACCOUNT: CUSTOM_KEY})
    atexit.register(running.stop)  # safe to call twice; covers an interrupted session
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def emulator_server(azurite):
    config = from_document(bench_document(), "benchmarks/conftest.py", FIXTURES)
    emulator = Emulator(config, BlobStore(azurite.url))
    try:
        server = EmulatorServer(create_app(emulator)).start()
        try:
            yield emulator, server
        finally:
            server.stop()
    finally:
        emulator.close()


@pytest.fixture(scope="session")
def emulator_url(emulator_server) -> str:
    return emulator_server[1].url


@pytest.fixture(scope="session")
def blobs(azurite) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite.connection_string())


def bare_app(payload: bytes) -> Flask:
    """The baseline: a minimal Flask app with one JSON route, answering ``payload`` as is."""
    app = Flask("adfemu.bench.bare")

    @app.get("/workspaces/<ws>/services/<endpoint_id>/jobs/<job_id>")
    def job_status(ws, endpoint_id, job_id):
        return Response(payload, status=200, content_type="application/json; charset=utf-8")

    return app


@pytest.fixture(scope="session")
def bare_server_factory():
    """Starts bare servers (waitress via EmulatorServer, port 0) and stops them all at the end."""
    started: list[EmulatorServer] = []

    def start(payload: bytes) -> EmulatorServer:
        server = EmulatorServer(bare_app(payload)).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


# --- small helpers shared by the benchmark modules ---------------------------------------------

class Client:
    """Runtime-API calls on one keep-alive ``requests.Session``."""

    def __init__(self, base_url: str, connection_string: str):
        self.base_url = base_url
        self.connection_string = connection_string
        self.http = requests.Session()

    def runtime(self, endpoint_id: str, ws: str = WS) -> str:
        return f"{self.base_url}/workspaces/{ws}/services/{endpoint_id}"

    @staticmethod
    def auth(key: str) -> dict:
        return {"Authorization": f"Bearer {key}"}

    def job_body(self, inputs: dict[str, str], outputs: dict[str, str] | None = None) -> dict:
        cs = self.connection_string
        return {"Inputs": {n: {"ConnectionString": cs, "RelativeLocation": rel} for n, rel in inputs.items()},
                "Outputs": {n: {"ConnectionString": cs, "RelativeLocation": rel} for n, rel in (outputs or {}).items()},
                "GlobalParameters": {}}

    def submit_and_start(self, endpoint_id: str, key: str, body: dict) -> str:
        r = self.http.post(f"{self.runtime(endpoint_id)}/jobs?api-version=2.0", json=body, headers=self.auth(key))
        assert r.status_code == 200, r.text
        job_id = r.json()
        r = self.http.post(f"{self.runtime(endpoint_id)}/jobs/{job_id}/start?api-version=2.0", headers=self.auth(key))
        assert r.status_code == 200, r.text
        return job_id

    def status(self, endpoint_id: str, key: str, job_id: str) -> dict:
        r = self.http.get(f"{self.runtime(endpoint_id)}/jobs/{job_id}?api-version=2.0", headers=self.auth(key))
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="session")
def client(emulator_url, azurite) -> Client:
    """A client for the emulator (one session: use it from one thread at a time)."""
    return Client(emulator_url, azurite.connection_string())


def percentile(samples: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default 'linear' method)."""
    data = sorted(samples)
    if not data:
        return float("nan")
    rank = (len(data) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


# --- the report ------------------------------------------------------------------------------

@dataclass
class BenchReport:
    """Raw samples per benchmark name, and text lines for the terminal summary."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    meta: dict[str, dict] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)  # title -> lines (e.g. peak memory per request)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, line: str, title: str) -> None:
        with self.lock:
            self.notes.setdefault(title, []).append(line)

    def add(self, name: str, seconds: list[float], **meta) -> None:
        with self.lock:
            self.samples[name] = list(seconds)
            self.meta[name] = meta

    def lines(self) -> list[str]:
        out: list[str] = []
        polling = {n: s for n, s in self.samples.items() if self.meta[n].get("kind") == "polling"}
        if polling:
            out.append("Job status polling (requests/s from the median round; mean in brackets):")
            rps = {}
            for name, secs in polling.items():
                n = self.meta[name]["requests"]
                rps[name] = n / statistics.median(secs)
                out.append(f"  {name:<44} {rps[name]:8.0f} req/s  [{n / statistics.fmean(secs):6.0f}]  "
                           f"{1000 * statistics.median(secs) / n:6.3f} ms/req  ({len(secs)} rounds x {n} req)")
            for name, value in rps.items():
                meta = self.meta[name]
                base = meta.get("baseline")
                if base and base in rps:
                    paired = meta.get("paired_ratios") or []
                    ratio = statistics.median(paired) if paired else value / rps[base]
                    text = f"  {name}: emulator/bare throughput {ratio:.2f} (time per request x{1 / ratio:.2f})"
                    if paired:
                        text += (f"; median of {len(paired)} interleaved pairs, range {min(paired):.2f}-"
                                 f"{max(paired):.2f}; ratio of medians {value / rps[base]:.2f}")
                    out.append(text + target_text(ratio, 0.0, meta))
        latency = {n: s for n, s in self.samples.items() if self.meta[n].get("kind") == "latency"}
        if latency:
            out.append("Latency (ms):")
            for name, secs in latency.items():
                ms = [1000 * s for s in secs]
                extra = self.meta[name].get("note", "")
                out.append(f"  {name:<44} p50 {percentile(ms, 50):8.1f}  p95 {percentile(ms, 95):8.1f}  "
                           f"min {min(ms):8.1f}  max {max(ms):8.1f}  (n={len(ms)}) {extra}")
            out += [self._ratio(name) for name in latency if self.meta[name].get("baseline") in self.samples]
        for title, lines in self.notes.items():
            out += [title, *lines]
        return out

    def _ratio(self, name: str) -> str:
        """``name`` against its baseline: the figure (``stat``: p50 or p95), the baseline's and the ratio; with
        ``paired_ratios`` (samples taken in alternation), the ratio is their median and their range is shown.
        A target is either ``max_ratio`` (the ratio) or ``limit_ms`` (the figure itself); met or not is said."""
        meta = self.meta[name]
        base, stat = meta["baseline"], meta.get("stat", "p50")
        pct = float(stat[1:])
        value = percentile([1000 * s for s in self.samples[name]], pct)
        reference = percentile([1000 * s for s in self.samples[base]], pct)
        paired = meta.get("paired_ratios") or []
        ratio = statistics.median(paired) if paired else value / reference
        text = f"  {name}: {stat} {value:.1f} ms, baseline ({base}) {reference:.1f} ms: ratio {ratio:.2f}"
        if paired:
            text += f" (median of {len(paired)} pairs, range {min(paired):.2f}-{max(paired):.2f})"
        return text + target_text(ratio, value, meta)


def target_text(ratio: float, value_ms: float, meta: dict) -> str:
    """'; target ratio <= 2: met' or '; target p50 < 20 ms: NOT MET', from ``max_ratio`` / ``limit_ms``."""
    if "min_ratio" in meta:
        return f"; target ratio >= {meta['min_ratio']}: {'met' if ratio >= meta['min_ratio'] else 'NOT MET'}"
    if "max_ratio" in meta:
        return f"; target ratio <= {meta['max_ratio']}: {'met' if ratio <= meta['max_ratio'] else 'NOT MET'}"
    if "limit_ms" in meta:
        met = value_ms < meta["limit_ms"]
        return f"; target {meta.get('stat', 'p50')} < {meta['limit_ms']} ms: {'met' if met else 'NOT MET'}"
    return ""


_REPORT = BenchReport()


@pytest.fixture(scope="session")
def bench_report() -> BenchReport:
    return _REPORT


def pytest_terminal_summary(terminalreporter):
    lines = _REPORT.lines()
    if lines:
        terminalreporter.write_sep("=", "adfemu benchmark summary")
        for line in lines:
            terminalreporter.write_line(line)
