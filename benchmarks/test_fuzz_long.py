"""The longer schemathesis run: every operation of ``/_emulator/openapi.json``, positive and negative data,
100 seeded examples each (``make test`` runs 6; see tests/test_openapi_fuzz.py). Prints requests sent, server
errors and failed checks; asserts zero of both.

Run: ``.venv/bin/python -m pytest benchmarks/test_fuzz_long.py -p no:xdist --benchmark-only -s``.
"""
from __future__ import annotations

import os

import pytest

from tests import fuzzing

EXAMPLES = 100


@pytest.mark.skipif(bool(os.environ.get("ADFEMU_BENCH_SMOKE")),
                    reason="smoke run: tests/test_openapi_fuzz.py runs the same fuzzing with 6 examples")
def test_schemathesis_long_run(benchmark, azurite):
    emulator = fuzzing.make_emulator(azurite.url)
    tallies = []
    try:
        benchmark.pedantic(lambda: tallies.append(fuzzing.run(emulator, max_examples=EXAMPLES, seed=2)),
                           rounds=1, iterations=1)
    finally:
        emulator.close()
    tally = tallies[0]
    benchmark.extra_info.update(operations=tally.operations, requests=tally.requests,
                                statefulRequests=tally.stateful_requests,
                                serverErrors=len(tally.server_errors), failedChecks=len(tally.failures),
                                statuses={str(k): v for k, v in sorted(tally.statuses.items())})
    print(f"\nschemathesis long run: {tally.operations} operations, {tally.requests} requests ({tally.stateful_requests} in linked sequences), "
          f"{len(tally.server_errors)} server errors, {len(tally.failures)} failed checks; "
          f"statuses {dict(sorted(tally.statuses.items()))}")
    assert tally.server_errors == []
    assert tally.failures == [], "\n\n".join(tally.failures[:5])
