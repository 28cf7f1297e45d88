"""Runner memory: a ForEach over N items with ``batchCount`` 50 (inner activity: a no-op stub, so that only the
engine is measured), each N in a new Python process, reporting its peak RSS (``VmHWM``; not ``ru_maxrss``, which
on Linux keeps the forked parent's high-water mark across ``exec``) and time per item.

The baseline is the same process running the same pipeline over 0 items (imports, definitions, the engine): the
target is flat memory, i.e. the peak at 10,000 items close to the peak at 1,000. What still grows with N is the
run record itself: one activity-run record per inner run, as ADF keeps them (queryable after the run).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (0, 1_000, 10_000)
SMOKE_SIZES = (0, 100)
TITLE = "Runner: ForEach (batchCount 50, no-op inner activity), one process per size:"

CHILD = r"""
import json, os, re, sys, time
from adfemu.runner.definitions import Definitions
from adfemu.runner.engine import Engine, Settings
n = int(sys.argv[1])
each = {"name": "Each", "type": "ForEach", "typeProperties": {
    "items": {"value": f"@range(0, {n})", "type": "Expression"}, "batchCount": 50,
    "activities": [{"name": "Inner", "type": "Noop"}]}}
engine = Engine(Definitions(pipelines={"p": {"name": "p", "properties": {"activities": [each]}}}),
                Settings(time_scale=0.0, stubs={"Noop": lambda call: {}}))
began = time.perf_counter()
record = engine.run("p")
seconds = time.perf_counter() - began
inner = sum(1 for r in record.activity_runs if r.activity_name == "Inner")
status = open("/proc/self/status").read()
kib = {k: int(re.search(k + r":\s+(\d+) kB", status).group(1)) for k in ("VmHWM", "VmRSS")}
print(json.dumps({"status": record.status, "inner": inner, "seconds": seconds, "rss_mib": kib["VmRSS"] / 1024,
                  "peak_mib": kib["VmHWM"] / 1024}))
"""


def foreach_run(n: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(n)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_foreach_memory_is_flat(benchmark, bench_report):
    benchmark.pedantic(_measure, args=(bench_report,), rounds=1, iterations=1)


def _measure(bench_report) -> None:
    sizes = SMOKE_SIZES if os.environ.get("ADFEMU_BENCH_SMOKE") else SIZES
    results = {n: foreach_run(n) for n in sizes}
    for n, result in results.items():
        assert result["status"] == "Succeeded" and result["inner"] == n, result
    base = results[0]["peak_mib"]
    for n, result in results.items():
        per_item = f"{1000 * result['seconds'] / n:6.3f} ms per item" if n else " " * 18
        bench_report.note(f"  {n:>6} items: peak RSS {result['peak_mib']:6.1f} MiB (x{result['peak_mib'] / base:4.2f} "
                          f"the 0-item baseline), RSS after the run {result['rss_mib']:6.1f} MiB  "
                          f"{result['seconds']:6.2f} s  {per_item}", TITLE)
    if len(sizes) == 3:
        small, large = (results[n]["peak_mib"] for n in sizes[1:])
        kept = results[sizes[2]]["rss_mib"] - results[sizes[1]]["rss_mib"]
        bench_report.note(f"  peak at {sizes[2]:,} / peak at {sizes[1]:,} items: {large / small:.2f}; RSS after the run "
                          f"+{kept:.1f} MiB ({1024 * kept / (sizes[2] - sizes[1]):.1f} KiB per inner run: its "
                          f"activity-run record, kept as ADF keeps it)", TITLE)
