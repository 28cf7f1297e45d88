"""Start-up benchmarks: cold starts of Azurite alone, ``adfemu serve`` and a zero-config ``adfemu run`` of the
seed, each a new process (the ``adfemu`` program of the checkout's environment, as a user runs it), alternating
so that load from elsewhere on the machine hits all three alike.

Targets (issue 16), each a ratio against its baseline in the same run:
- ``adfemu serve --config fixtures/seed-emulator.json`` answers its first request (``/_emulator/health``) within
  1.2x the time Azurite alone takes to answer its first request (the same ``azurite-blob``, the same arguments);
- ``adfemu run`` of the seed (zero-config, ``--data fixtures/seed-data``) ends within 1.3x Azurite's cold start
  plus the run itself (the pipeline run's ``durationInMs``).

The targets are ratios of medians, as the issue measured them. Beside them, the median of each round's own ratio
(no target): Azurite's start drifts by up to half a second over a run here, and that figure moves less with it.

adfemu starts Azurite with its Application Insights SDK loaded on first use (``emulator/azurite_preload.cjs``):
with ``--disableTelemetry`` it is never loaded, and Azurite starts in less than half its time alone. So a third
start is measured too, Azurite as adfemu starts it, and adfemu's figures are also given as ratios to it (no
target): what adfemu's own work adds to the Azurite it runs.

Every round starts each program once, in a fixed order; one round before them is not counted (it fills the page
cache). The programs measured run without ``PYTHONDONTWRITEBYTECODE``, as a user's do: with it, every module
edited since its bytecode was last written is compiled again at every start.

``python -X importtime`` of the same ``serve`` (up to its first answer) and ``run`` gives the import cost and the
heavy packages each imports. ``ADFEMU_BENCH_COMPARE=/path/to/other/checkout/.venv/bin/python`` adds the same
figures for another checkout (an older commit: the before/after of benchmarks/RESULTS.md), measured in the same
alternation. ``ADFEMU_BENCH_STARTS`` sets the number of rounds (default 11: with 5, the serve ratio moved between
1.05 and 1.31 from one run to the next on 2 shared cores, as Azurite's own start varies by half a second).
"""
from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from adfemu.emulator.azurite import find_azurite_blob, node_options

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("ADFEMU_BENCH_STARTS", "11"))
SERVE_TARGET, RUN_TARGET = 1.2, 1.3
HEAVY = ("numpy", "sklearn", "scipy", "sqlglot", "pyarrow", "azure.storage.blob", "azure.identity", "lxml",
         "elementpath", "rich", "flask", "cryptography")
TITLE = "Start-up (seconds, median of {n} alternating cold starts):"


@dataclass(frozen=True)
class Checkout:
    """A checkout to measure: its root and its Python (this one, or ADFEMU_BENCH_COMPARE's)."""
    label: str
    root: Path
    python: str


def checkouts() -> list[Checkout]:
    found = [Checkout("this checkout", ROOT, sys.executable)]
    other = os.environ.get("ADFEMU_BENCH_COMPARE")
    if other:
        found.append(Checkout("compared checkout", Path(other).absolute().parents[2], other))
    return found


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # Azurite answers an unsigned request with 4xx: it is up
    except OSError:
        return False
    return True


def _poll(check, timeout: float = 60.0):
    """Call ``check`` every 5 ms until it returns something truthy (a deadline, not a fixed wait)."""
    end = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > end:
            raise AssertionError(f"not ready within {timeout} s")
        time.sleep(0.005)
    return value


def _line(proc: subprocess.Popen, pattern: str) -> str:
    for line in proc.stdout:
        if m := re.search(pattern, line):
            return m.group(1)
    raise AssertionError(f"the process ended (status {proc.wait()}) without printing {pattern!r}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)


def azurite_alone(as_adfemu_starts_it: bool = False) -> float:
    """Seconds from spawning azurite-blob (adfemu's arguments) to its first answer; ``as_adfemu_starts_it``: with
    adfemu's NODE_OPTIONS too (its telemetry SDK loaded on first use)."""
    env = dict(os.environ)
    if as_adfemu_starts_it:
        env["NODE_OPTIONS"] = node_options(os.environ.get("NODE_OPTIONS", ""))
    with tempfile.TemporaryDirectory(prefix="adfemu-bench-") as folder:
        began = time.perf_counter()
        proc = subprocess.Popen([find_azurite_blob(), "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", folder,
                                 "--silent", "--disableTelemetry", "--skipApiVersionCheck"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                env=env)
        try:
            url = _line(proc, r"listens on (\S+)")
            _poll(lambda: _answers(f"{url}/devstoreaccount1?comp=list"))
            return time.perf_counter() - began
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.communicate(timeout=60)


def _program(checkout: Checkout, importtime: Path | None) -> tuple[list[str], dict[str, str]]:
    """The ``adfemu`` program as installed in the checkout's environment (what a user runs), and its environment
    (``python -X importtime`` through PYTHONPROFILEIMPORTTIME; bytecode written and read, as for a user)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if importtime:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    return [str(Path(checkout.python).parent / "adfemu")], env


def serve_first_answer(checkout: Checkout, importtime: Path | None = None) -> float:
    """Seconds from spawning ``adfemu serve`` to its first answer (Azurite included)."""
    program, env = _program(checkout, importtime)
    stderr = open(importtime, "w") if importtime else subprocess.DEVNULL
    began = time.perf_counter()
    proc = subprocess.Popen([*program, "serve", "--config", "fixtures/seed-emulator.json"], cwd=checkout.root,
                            stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
    try:
        url = _line(proc, r"listening on (\S+)")
        _poll(lambda: _answers(f"{url}/_emulator/health"))
        return time.perf_counter() - began
    finally:
        _stop(proc)
        if importtime:
            stderr.close()


def run_seed(checkout: Checkout, importtime: Path | None = None) -> tuple[float, float]:
    """(seconds of the whole ``adfemu run`` process, seconds of the pipeline run as its record gives them)."""
    program, env = _program(checkout, importtime)
    with tempfile.TemporaryDirectory(prefix="adfemu-bench-") as folder:
        out = Path(folder, "run.json")
        began = time.perf_counter()
        done = subprocess.run([*program, "run", "fixtures/seed-factory-corrected", "--pipeline", "LookupPipelineDemo",
                               "--data", "fixtures/seed-data", "--quiet", "--output", str(out)], cwd=checkout.root,
                              capture_output=True, text=True, timeout=300, env=env)
        wall = time.perf_counter() - began
        assert done.returncode == 0, done.stdout + done.stderr
        if importtime:
            importtime.write_text(done.stderr)
        return wall, json.loads(out.read_text())["pipelineRun"]["durationInMs"] / 1000


# --- python -X importtime ------------------------------------------------------------------------------------

def import_summary(path: Path) -> tuple[float, int, list[str]]:
    """(seconds importing, modules imported, the heavy packages among them) from ``-X importtime`` output."""
    total, names = 0, set()
    for line in path.read_text(errors="replace").splitlines():
        if m := re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line):
            total += int(m.group(1))
            names.add(m.group(2))
    return total / 1e6, len(names), [h for h in HEAVY if h in names]


def median(values: list[float]) -> float:
    return statistics.median(values)


def _met(held: bool) -> str:
    return "met" if held else "NOT MET"


def test_cold_starts_against_azurite_alone(benchmark, bench_report, tmp_path):
    benchmark.pedantic(_cold_starts, args=(bench_report, tmp_path), rounds=1, iterations=1)


def _round(marks: list[Checkout], azurite, adfemus_azurite, serve, run, duration) -> None:
    azurite.append(azurite_alone())
    adfemus_azurite.append(azurite_alone(as_adfemu_starts_it=True))
    for checkout in marks:
        serve[checkout].append(serve_first_answer(checkout))
        wall, inner = run_seed(checkout)
        run[checkout].append(wall)
        duration[checkout].append(inner)


def _cold_starts(bench_report, tmp_path) -> None:
    marks = checkouts()
    smoke = bool(os.environ.get("ADFEMU_BENCH_SMOKE"))
    rounds = 1 if smoke else ROUNDS
    if not smoke:  # not counted: it fills the page cache (and writes bytecode not written yet)
        _round(marks, [], [], *({c: [] for c in marks} for _ in range(3)))
    azurite, adfemus_azurite = [], []
    serve, run, duration = ({c: [] for c in marks} for _ in range(3))
    for _ in range(rounds):
        _round(marks, azurite, adfemus_azurite, serve, run, duration)
    title = TITLE.format(n=rounds)
    a, b = median(azurite), median(adfemus_azurite)
    bench_report.note(f"  Azurite alone, first answer            {a:6.2f}   (all: {_list(azurite)})", title)
    bench_report.note(f"  Azurite as adfemu starts it (no target){b:6.2f}   (all: {_list(adfemus_azurite)})", title)
    for checkout in marks:
        s, r, d = median(serve[checkout]), median(run[checkout]), median(duration[checkout])
        bench_report.note(f"  [{checkout.label}]", title)
        bench_report.note(f"  adfemu serve, first answer             {s:6.2f}   ratio to Azurite alone {s / a:4.2f} "
                          f"(target <= {SERVE_TARGET}: {_met(s / a <= SERVE_TARGET)}); to Azurite as adfemu starts it "
                          f"{s / b:4.2f}   (all: {_list(serve[checkout])})", title)
        bench_report.note(f"  adfemu run of the seed, whole process  {r:6.2f}   ratio to Azurite + run ({a:.2f} + "
                          f"{d:.2f}) {r / (a + d):4.2f} (target <= {RUN_TARGET}: {_met(r / (a + d) <= RUN_TARGET)}); "
                          f"to Azurite as adfemu starts it + run {r / (b + d):4.2f}   (all: {_list(run[checkout])})",
                          title)
        baseline = [x + y for x, y in zip(azurite, duration[checkout])]
        theirs = [x + y for x, y in zip(adfemus_azurite, duration[checkout])]
        bench_report.note(f"  median of each round's own ratio (no target; less moved by the machine's drift over the "
                          f"run): serve {_paired(serve[checkout], azurite):4.2f}, "
                          f"run {_paired(run[checkout], baseline):4.2f}; "
                          f"to Azurite as adfemu starts it: serve {_paired(serve[checkout], adfemus_azurite):4.2f}, "
                          f"run {_paired(run[checkout], theirs):4.2f}", title)
    for checkout in marks:
        for name, measure in (("serve", serve_first_answer), ("run", run_seed)):
            path = tmp_path / f"{name}-{marks.index(checkout)}.importtime"
            measure(checkout, importtime=path)
            seconds, modules, heavy = import_summary(path)
            bench_report.note(f"  [{checkout.label}] adfemu {name:<5} imports {modules:4d} modules in {seconds:5.2f} s; "
                              f"heavy: {', '.join(heavy) or 'none'}", "python -X importtime (one start each):")
    assert all(len(v) == rounds for v in (azurite, adfemus_azurite, *serve.values(), *run.values()))


def _paired(values: list[float], baselines: list[float]) -> float:
    """The median of each round's ratio to its own baseline: a machine that slows down or speeds up over the run
    moves it less than the ratio of the medians."""
    return median([value / base for value, base in zip(values, baselines)])


def _list(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)
