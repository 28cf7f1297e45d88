"""Runner benchmarks: the seed pipeline end to end (warm: Azurite and the emulator already up), and the
engine's own overhead per activity on a 500-activity pipeline of no-op activities (no HTTP, no storage).

    .venv/bin/python -m pytest benchmarks/test_runner_speed.py -p no:xdist --benchmark-only
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from adfemu.runner.definitions import Definitions
from adfemu.runner.endpoints import Endpoints
from adfemu.runner.engine import Engine, Settings
from adfemu.runner.factory import load_paths
from adfemu.runner.services import Services

CORRECTED = Path(__file__).resolve().parent.parent / "fixtures" / "seed-factory-corrected"
TRAIN = Path(__file__).resolve().parent.parent / "fixtures" / "data" / "train.csv"


def test_seed_pipeline_wall_time(benchmark, emulator_url, blobs):
    container = blobs.get_container_client("azuremltesting")
    if not container.exists():
        container.create_container()
    container.upload_blob("input/train.csv", TRAIN.read_bytes(), overwrite=True)
    defs = Definitions.from_factory(load_paths([str(CORRECTED)])[0])
    engine = Engine(defs, Settings(time_scale=0.0, poll_seconds=0, services=Services(Endpoints(emulator_url))))
    record = benchmark.pedantic(engine.run, args=("LookupPipelineDemo",), rounds=10, iterations=1)
    assert record.status == "Succeeded", [r.error for r in record.activity_runs]


def _noop(call):
    return {}


@pytest.mark.parametrize("shape", ["chain", "independent"])
def test_engine_overhead_per_activity(benchmark, bench_report, shape):
    n = 500
    activities = [{"name": f"a{i}", "type": "Noop",
                   "dependsOn": [{"activity": f"a{i - 1}", "dependencyConditions": ["Succeeded"]}]
                   if shape == "chain" and i else []} for i in range(n)]
    defs = Definitions(pipelines={"p": {"name": "p", "properties": {"activities": activities}}})
    engine = Engine(defs, Settings(time_scale=0.0, stubs={"Noop": _noop}))
    rounds: list[float] = []

    def timed():
        started = time.perf_counter()
        record = engine.run("p")
        rounds.append(time.perf_counter() - started)
        return record

    record = benchmark.pedantic(timed, rounds=5, iterations=1)
    assert record.status == "Succeeded" and len(record.activity_runs) == n
    per_activity_ms = statistics.median(rounds) * 1000 / n
    benchmark.extra_info["ms_per_activity"] = per_activity_ms
    bench_report.note(f"  {shape:<12} {per_activity_ms:.3f} ms per activity (median of {len(rounds)} runs of {n}); "
                      f"target <= 1 ms: {'met' if per_activity_ms <= 1 else 'NOT MET'}",
                      "Runner overhead per activity (500 no-op activities, stubs, time scale 0):")
