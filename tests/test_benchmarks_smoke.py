"""The benchmarks, smoke-run: every file in benchmarks/ runs once with small counts (``ADFEMU_BENCH_SMOKE=1``,
pytest-benchmark disabled), so a change that breaks one is caught by ``make test``. No timing is asserted here:
the figures live in ``make benchmark`` (benchmarks/RESULTS.md)."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT

# what the summary must show: one line per target of benchmarks/README.md, whatever the numbers
SUMMARY_LINES = (
    "Job status polling",
    "emulator/bare throughput",
    "rrs 10k rows details: p50",
    "POST /_emulator/reset (seed config): p50",
    "pytest adfemu fixture per test (setup+teardown): p50",
    "arm GET x32 concurrent, during a model swap: p95",
    "Runner overhead per activity",
    "ForEach",
    "adfemu serve --config fixtures/seed-emulator.json under load",
    "Start-up (seconds, median of",
)


def test_every_benchmark_runs_and_reports(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(ADFEMU_BENCH_SMOKE="1", TMPDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "pytest", "benchmarks", "-p", "no:xdist", "-p", "no:cacheprovider",
                           "--benchmark-disable", "-q", "-rs"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=540)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "adfemu benchmark summary" in output, output[-4000:]
    missing = [line for line in SUMMARY_LINES if line not in output]
    assert not missing, f"the summary lacks {missing}:\n{output[-4000:]}"
