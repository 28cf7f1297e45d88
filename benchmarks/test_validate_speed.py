"""Validation speed: definitions per second over the real corpus, and how the time grows with its size.

Run with ``.venv/bin/python -m pytest benchmarks/test_validate_speed.py -p no:xdist --benchmark-only``.

Needs no Azurite and no emulator: these benchmarks use none of ``benchmarks/conftest.py``'s session
fixtures (none of them is autouse), only pytest-benchmark's ``benchmark`` and pytest's tmp folders.

What one round does is what ``adfemu validate PATH...`` does minus printing: ``load_paths`` (find the roots,
read and parse every file with positions), ``validate_factory`` on every factory (lenient mode: schema,
leniency, semantic checks) and ``locate`` for every finding.

* ``test_corpus``: the corpus as it is (vendor/real-adf-definitions, 159 files in 4 factory
  roots). Headline number: definitions per second (median round).
* ``test_scaling_copies[N]``: the corpus copied N times (1, 2, 5, 10) into a tmp folder, each copy under its
  own renamed root, all given on one command line: N x 159 definitions in N x 4 factories.
* ``test_scaling_one_factory[N]``: validation only (no files), the corpus replicated N times inside ONE factory
  (names and references suffixed per copy, so that every reference still resolves): this is where checks
  across entities (name index, duplicate names, references) would show if they grew faster than linearly.

Each scaling series prints seconds and definitions/s per size and the ratio time(10x) / time(1x) (10 for
linear growth) and fails if the time per definition at 10x is more than twice that at 1x.

* ``test_cli_wall_time``: ``adfemu validate`` on the corpus in a new process, next to ``adfemu --version`` (the
  interpreter and import cost every command pays), median of 3 each.

Wall-clock rates move with whatever else the (shared, 2-core) machine runs; ``test_corpus`` also prints the rate
per CPU second of this process, which does not.

The in-process rounds after the first reuse what a long-lived process keeps (compiled jsonschema-rs validators,
parsed expressions): ``test_corpus`` also prints its first, cold round.
"""
from __future__ import annotations

import copy
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adfemu.runner.factory import load_paths
from adfemu.runner.validation import validate_factory
from adfemu.schemas.entities import Entity, Factory

CORPUS = Path(__file__).resolve().parent.parent / "vendor" / "real-adf-definitions"
CORPUS_FILES = 159
SCALES = (1, 2) if os.environ.get("ADFEMU_BENCH_SMOKE") else (1, 2, 5, 10)  # smoke: `make test`
ROUNDS = {1: 5, 2: 3, 5: 1, 10: 1}   # about 1.6 s per corpus copy per round on the 2-core test machine
REFERENCE_TYPES = {"LinkedServiceReference", "DatasetReference", "PipelineReference", "DataFlowReference"}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} not present")

_results: dict[str, dict[int, dict]] = {}   # series -> scale -> numbers, for the summary printed at 10x


def load_and_validate(paths: list[str]) -> tuple[int, int]:
    """(definitions, findings), as ``adfemu validate`` computes them."""
    factories = load_paths(paths)
    definitions = findings = 0
    for factory in factories:
        definitions += len(factory.entities)
        for finding in validate_factory(factory):
            finding.line, finding.column = factory.locate(finding.source, finding.pointer) or (None, None)
            findings += 1
    return definitions, findings


def timed(fn, samples: list[float]):
    def run():
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
        return result
    return run


def record(benchmark, series: str, scale: int, definitions: int, samples: list[float]) -> dict:
    seconds = statistics.median(samples)
    numbers = {"definitions": definitions, "seconds": seconds, "definitions_per_second": definitions / seconds,
               "rounds": len(samples), "min_seconds": min(samples), "max_seconds": max(samples)}
    benchmark.extra_info.update(numbers)
    _results.setdefault(series, {})[scale] = numbers
    return numbers


def summary(series: str, capsys) -> float | None:
    rows = _results.get(series, {})
    lines = [f"validate speed, {series}:"]
    for scale, n in sorted(rows.items()):
        lines.append(f"  {scale:>2}x  {n['definitions']:>5} definitions  {n['seconds']:8.2f} s (median of "
                     f"{n['rounds']}, min {n['min_seconds']:.2f})  {n['definitions_per_second']:7.1f} definitions/s")
    ratio = None
    if 1 in rows and 10 in rows:
        ratio = rows[10]["seconds"] / rows[1]["seconds"]
        lines.append(f"  time(10x) / time(1x) = {ratio:.2f} (linear: 10)")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    return ratio


# ------------------------------------------------------------------------------------------------ the corpus

def test_corpus(benchmark, capsys):
    start = time.perf_counter()
    load_and_validate([str(CORPUS)])  # warm the schema and validator caches
    cold = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nvalidate speed, corpus, first round in this process (cold): {cold:.2f} s, "
              f"{CORPUS_FILES / cold:.1f} definitions/s")
    samples: list[float] = []
    definitions, findings = benchmark.pedantic(timed(lambda: load_and_validate([str(CORPUS)]), samples),
                                               rounds=5, iterations=1, warmup_rounds=0)
    assert definitions == CORPUS_FILES
    assert findings > 0
    n = record(benchmark, "corpus", 1, definitions, samples)
    cpu = min(_cpu_seconds(lambda: load_and_validate([str(CORPUS)])) for _ in range(5))
    benchmark.extra_info["definitions_per_cpu_second"] = definitions / cpu
    with capsys.disabled():
        print(f"\nvalidate speed, corpus ({CORPUS}): {definitions} definitions, {findings} findings, "
              f"{n['seconds']:.2f} s per round (median of {n['rounds']}, min {n['min_seconds']:.2f}, max "
              f"{n['max_seconds']:.2f}): {n['definitions_per_second']:.1f} definitions/s wall, "
              f"{definitions / cpu:.1f} definitions per CPU second (best of 5; the target is 5,000/s)")


def _cpu_seconds(fn) -> float:
    """This process's CPU time for ``fn``: what the validator costs, whatever else the shared machine runs."""
    start = time.process_time()
    fn()
    return time.process_time() - start


# ------------------------------------------------------------------------------------------------ copies on disk

@pytest.fixture(scope="module")
def corpus_copies(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("validate-speed")
    copies = []
    for i in range(max(SCALES)):
        target = root / f"corpus-copy-{i:02d}"
        shutil.copytree(CORPUS, target)
        copies.append(str(target))
    return copies


@pytest.mark.parametrize("scale", SCALES)
def test_scaling_copies(benchmark, capsys, corpus_copies, scale):
    paths = corpus_copies[:scale]
    load_and_validate(paths[:1])  # warm-up, as for test_corpus
    samples: list[float] = []
    definitions, _ = benchmark.pedantic(timed(lambda: load_and_validate(paths), samples),
                                        rounds=ROUNDS[scale], iterations=1, warmup_rounds=0)
    assert definitions == CORPUS_FILES * scale
    record(benchmark, "corpus copies on disk, load + validate", scale, definitions, samples)
    if scale == max(SCALES):
        ratio = summary("corpus copies on disk, load + validate", capsys)
        if ratio is not None:
            assert ratio < 20, f"time grows faster than linearly: time(10x) / time(1x) = {ratio:.1f}"


# ------------------------------------------------------------------------------------------------ one big factory

def _suffixed(value, suffix: str):
    if isinstance(value, dict):
        out = {k: _suffixed(v, suffix) for k, v in value.items()}
        if out.get("type") in REFERENCE_TYPES and isinstance(out.get("referenceName"), str):
            out["referenceName"] += suffix
        return out
    if isinstance(value, list):
        return [_suffixed(v, suffix) for v in value]
    return value


@pytest.fixture(scope="module")
def corpus_entities() -> list[tuple[int, Entity]]:
    """(index of its factory root, entity): names are unique per root only."""
    return [(j, e) for j, f in enumerate(load_paths([str(CORPUS)])) for e in f.entities]


def one_factory(entities: list[tuple[int, Entity]], scale: int) -> Factory:
    out = []
    for i in range(scale):
        for j, e in entities:
            suffix = f"_{j}x{i}"
            doc = _suffixed(copy.deepcopy(e.document), suffix)
            if isinstance(doc, dict) and isinstance(doc.get("name"), str) and not doc["name"].startswith("["):
                doc["name"] += suffix
            out.append(Entity(e.kind, e.name + suffix, doc, f"{e.source}#{i}", e.pointer_prefix))
    return Factory(root="replicated", entities=out)


@pytest.mark.parametrize("scale", SCALES)
def test_scaling_one_factory(benchmark, capsys, corpus_entities, scale):
    factory = one_factory(corpus_entities, scale)
    samples: list[float] = []
    findings = benchmark.pedantic(timed(lambda: validate_factory(factory), samples),
                                  rounds=ROUNDS[scale] if scale > 1 else 3, iterations=1, warmup_rounds=0)
    assert len(factory.entities) == CORPUS_FILES * scale
    assert not [f for f in findings if f.code == "ADF-E-DUPLICATE-NAME"]   # the copies really are distinct
    record(benchmark, "corpus replicated in one factory, validate only", scale, len(factory.entities), samples)
    if scale == max(SCALES):
        ratio = summary("corpus replicated in one factory, validate only", capsys)
        if ratio is not None:
            assert ratio < 20, f"time grows faster than linearly: time(10x) / time(1x) = {ratio:.1f}"


# ------------------------------------------------------------------------------------------------ the command

def _wall(args: list[str]) -> float:
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "adfemu.cli", *args], capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def test_cli_wall_time(benchmark, capsys):
    version = _wall(["--version"])
    validate = benchmark.pedantic(lambda: _wall(["validate", str(CORPUS)]), rounds=1, iterations=1)
    benchmark.extra_info.update({"version_seconds": version, "validate_seconds": validate})
    with capsys.disabled():
        print(f"\nCLI wall time (median of 3): adfemu --version {version:.2f} s; adfemu validate <corpus> "
              f"{validate:.2f} s ({CORPUS_FILES} definitions, {CORPUS_FILES / (validate - version):.0f} definitions/s "
              f"beyond start-up)")
    assert validate > version
