"""Runs whose records the report tests read: the seed (a success and the published failure) and a pipeline
with every shape the reports draw (containers, a retried activity, a child pipeline, a Skipped activity)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHAPES = ROOT / "tests" / "factories" / "shapes"


def flaky(call):
    """Fails its first attempt, succeeds on the retry."""
    from adfemu.runner.engine import ActivityError
    if not call.record.retry_attempt:
        raise ActivityError("The remote server answered 503 Service Unavailable.", "2108")
    return {"Response": "pong"}


def shapes_record(env) -> dict:
    result = env.run(SHAPES, "Shapes", stubs={"Flaky": flaky})
    assert result.status == "Succeeded", result.message
    return result.record


def seed_records(env) -> tuple[dict, dict]:
    import adfemu
    env.upload_folder(FIXTURES / "seed-data")
    ok = env.run(FIXTURES / "seed-factory-corrected", "LookupPipelineDemo")
    linked = sorted((FIXTURES / "seed-factory-corrected" / "linkedService").glob("*.json"))
    published = adfemu.load([*linked, FIXTURES / "seed-factory" / "pipeline" / "LookupPipelineDemo.json"])
    failed = env.run(published, "LookupPipelineDemo")
    assert ok.status == "Succeeded" and failed.status == "Failed"
    return ok.record, failed.record


def definition_count(record: dict) -> int:
    """Activities in the definitions of the run and its child runs, every scope included."""
    from adfemu.runner.definitions import scopes
    own = sum(len(level) for level in scopes((record.get("pipeline") or {}).get("properties", {}).get("activities")))
    return own + sum(definition_count(child) for child in record.get("childRuns") or [])


def run_count(record: dict) -> int:
    return len(record["activityRuns"]) + sum(run_count(child) for child in record.get("childRuns") or [])
