"""Benchmark: what a test pays to start clean (targets: reset < 20 ms, the pytest fixture < 30 ms per test).

- **reset**: ``POST /_emulator/reset`` on an environment serving the seed config (``fixtures/seed-emulator.json``),
  after a round that changed something (a job submitted, a fault rule added). Baseline: ``GET /_emulator/health``
  on the same keep-alive session, in alternation.
- **fixture**: a pytest session in a child process runs ``TESTS`` tests that each upload one blob; half of them
  take the ``adfemu`` fixture (reset of the emulator and of every container), half take none and clear nothing.
  A ``conftest.py`` there records each test's setup + teardown time; the first test with the fixture (which starts
  the session's environment) is left out. The per-test overhead is the fixture test's setup + teardown.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

import adfemu
from tests.helpers import PREDICTIVE, PREDICTIVE_KEY, WS

ROOT = Path(__file__).resolve().parent.parent
SEED_CONFIG = ROOT / "fixtures" / "seed-emulator.json"
SMOKE = bool(os.environ.get("ADFEMU_BENCH_SMOKE"))
ROUNDS = 3 if SMOKE else 60
TESTS = 4 if SMOKE else 60


@pytest.fixture(scope="module")
def seed_environment():
    env = adfemu.start(config=SEED_CONFIG)
    try:
        yield env
    finally:
        env.close()


def _dirty(env) -> None:
    """Leave something for reset to undo: a submitted BES job and a fault rule."""
    body = {"Inputs": {}, "Outputs": {}, "GlobalParameters": {}}
    response = env._http.post(f"{env.url}/workspaces/{WS}/services/{PREDICTIVE}/jobs?api-version=2.0", json=body,
                              headers={"Authorization": f"Bearer {PREDICTIVE_KEY}"})
    assert response.status_code in (200, 400), response.text[:300]
    env.fault("latency", api="rrs", ms=1, count=1)


def test_reset_with_the_seed_config(benchmark, bench_report, seed_environment):
    env = seed_environment
    reset_s: list[float] = []
    health_s: list[float] = []

    def one_health():
        _dirty(env)
        started = time.perf_counter()
        assert env._http.get(f"{env.url}/_emulator/health").status_code == 200
        health_s.append(time.perf_counter() - started)

    def one_reset():
        started = time.perf_counter()
        response = env._http.post(f"{env.url}/_emulator/reset")
        reset_s.append(time.perf_counter() - started)
        assert response.status_code in (200, 204), response.text[:300]

    benchmark.group = "reset"
    benchmark.pedantic(one_reset, setup=one_health, rounds=ROUNDS, warmup_rounds=2, iterations=1)
    assert env.faults() == [], "reset left a fault rule behind"
    bench_report.add("GET /_emulator/health (bare route)", health_s[-ROUNDS:], kind="latency")
    bench_report.add("POST /_emulator/reset (seed config)", reset_s[-ROUNDS:], kind="latency",
                     baseline="GET /_emulator/health (bare route)", limit_ms=20)


CONFTEST = '''
import json, os
durations = {}

def pytest_runtest_logreport(report):
    if report.when in ("setup", "teardown"):
        durations[report.nodeid] = durations.get(report.nodeid, 0.0) + report.duration

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_DURATIONS"], "w") as out:
        json.dump(durations, out)
'''


def _tests(count: int) -> str:
    """``count`` pairs in alternation: one with the fixture, one without; each uploads one blob."""
    lines: list[str] = []
    for i in range(count):
        lines += [f"def test_with_fixture_{i:03}(adfemu):",
                  f"    adfemu.upload('bench/{i}.csv', b'a,b\\n1,2\\n')", "",
                  f"def test_without_fixture_{i:03}(adfemu_environment):",
                  f"    adfemu_environment.upload('bench/{i}.csv', b'a,b\\n1,2\\n')", ""]
    return "\n".join(lines)


def test_pytest_fixture_overhead(benchmark, bench_report, tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_many.py").write_text(_tests(TESTS))
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nadfemu_config = {SEED_CONFIG}\n")
    durations_file = tmp_path / "durations.json"
    env = {**os.environ, "BENCH_DURATIONS": str(durations_file), "TMPDIR": str(tmp_path)}

    def session():
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                               "-p", "no:randomly", str(tmp_path)], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    benchmark.group = "reset"
    benchmark.pedantic(session, rounds=1, iterations=1)
    durations = json.loads(durations_file.read_text())
    with_fixture = [s for name, s in sorted(durations.items()) if "test_with_fixture_" in name][1:]
    without = [s for name, s in sorted(durations.items()) if "test_without_fixture_" in name][1:]
    assert with_fixture and without
    bench_report.add("pytest test without the adfemu fixture (setup+teardown)", without, kind="latency")
    bench_report.add("pytest adfemu fixture per test (setup+teardown)", with_fixture, kind="latency",
                     baseline="pytest test without the adfemu fixture (setup+teardown)", limit_ms=30,
                     note=f"{len(with_fixture)} tests, median {1000 * statistics.median(with_fixture):.1f} ms")
