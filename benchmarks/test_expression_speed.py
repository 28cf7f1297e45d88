"""Expression speed: expressions per second for parsing (uncached) and evaluating (parse cached).

Four realistic expressions: a path built with concat(), an activity-output lookup, a nested
if/equals/json/createArray, and a date computation. pytest-benchmark's OPS column is the number of
expressions per second (one parse or one evaluation per call); ``extra_info`` records the same figure
as ``expressions_per_second``. Nothing here starts a process (no Azurite, no emulator).

    .venv/bin/python -m pytest benchmarks/test_expression_speed.py -p no:xdist --benchmark-only
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from adfemu.runner.expressions import Context, evaluate_value, parse

EXPRESSIONS = {
    "concat-path": ("concat('models/', item().name, '/', pipeline().RunId, '.ilearner')",
                    "models/model-7/7f1c2a3e-0000-4000-8000-000000000001.ilearner"),
    "activity-output": ("activity('Lookup').output.value[0].name", "model-0"),
    "nested-if-json": ("if(equals(json(pipeline().parameters.config).mode, 'retrain'), "
                       "createArray('train', 'score', 'update'), createArray('score'))",
                       ["train", "score", "update"]),
    "date": ("formatDateTime(addDays(utcnow(), -1), 'yyyy-MM-dd')", "2024-05-05"),
}

CONTEXT = Context(
    parameters={"config": '{"mode": "retrain", "threshold": 0.75}'},
    activities={"Lookup": {"output": {"count": 3, "value": [{"name": f"model-{i}"} for i in range(3)]}}},
    item={"name": "model-7"},
    data_factory="adf-demo", pipeline="retrain", run_id="7f1c2a3e-0000-4000-8000-000000000001",
    clock=lambda: datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
)

_parse_uncached = parse.__wrapped__  # parse() is an lru_cache; this is the same parse without the cache


def _record(benchmark, kind: str) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None and stats.stats.mean:
        benchmark.extra_info["expressions_per_second"] = round(1 / stats.stats.mean)
    benchmark.extra_info["kind"] = kind


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_parse_uncached(benchmark, name):
    text, _ = EXPRESSIONS[name]
    expression = benchmark(_parse_uncached, text)
    assert str(expression)
    _record(benchmark, "parse (uncached)")


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_evaluate_cached_parse(benchmark, name):
    text, expected = EXPRESSIONS[name]
    expression = parse(text)
    assert benchmark(expression.evaluate, CONTEXT) == expected
    _record(benchmark, "evaluate (cached parse)")


def test_evaluate_value_of_an_activity_body(benchmark):
    """A whole activity property the way the runner reads it: nested objects, '@' expressions and
    '@{...}' interpolation (all parses cached after the first round)."""
    body = {
        "webServiceInputs": {"input1": {
            "filePath": "@concat('data/', item().name, '.csv')",
            "linkedServiceName": {"referenceName": "storage", "type": "LinkedServiceReference"}}},
        "globalParameters": {"Run": "@{pipeline().RunId}", "Day": "@formatDateTime(utcnow(), 'yyyy-MM-dd')"},
        "note": "run @{pipeline().Pipeline} on @{pipeline().DataFactory}",
    }
    result = benchmark(evaluate_value, body, CONTEXT)
    assert result["webServiceInputs"]["input1"]["filePath"] == "data/model-7.csv"
    assert result["note"] == "run retrain on adf-demo"
    _record(benchmark, "evaluate_value (7 expressions)")
