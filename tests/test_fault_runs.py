"""Each fault effect end to end: a pipeline run of the seed factory (classic, and the ARM flavour) against an
emulator with a fault rule, through the pytest plugin's ``adfemu`` fixture and its ``fault`` helper. The runner
reacts as ADF does: the activity's retry policy re-runs it, its timeout cancels the BES job, failures are ADF's
2600 errors (docs/emulator.md, "Fault injection")."""
from __future__ import annotations

import copy

import pytest

import adfemu as api

from .helpers import deadline_poll

FIXTURES = __import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures"
CORRECTED = FIXTURES / "seed-factory-corrected"
ARM_FACTORY = FIXTURES / "seed-factory-arm"
SEED_DATA = FIXTURES / "seed-data"
PIPELINE = "LookupPipelineDemo"
TRAINING = "7c2d4e3f1a9b4c8d9e0f1a2b3c4d5e6f"  # the seed's training web service (trainingEndpoint's mlEndpoint)


def _factory(path=CORRECTED, **policies) -> api.Factory:
    """The factory with ``policy`` set on activities by name (a fresh copy each time)."""
    factory = copy.copy(api.load(path))
    factory.definitions = copy.deepcopy(factory.definitions)
    for activity in factory.definitions.pipelines[PIPELINE.lower()]["properties"]["activities"]:
        if activity["name"] in policies:
            activity["policy"] = policies[activity["name"]]
    return factory


@pytest.fixture
def seed(adfemu):
    adfemu.upload_folder(SEED_DATA)
    return adfemu


def _attempts(result, name):
    return [(r.retry_attempt, r.status) for r in result.activity_runs(name)]


def test_a_503_on_submit_fails_the_attempt_and_the_retry_policy_succeeds(seed):
    factory = _factory(amlBEGetilearner={"retry": 1, "retryIntervalInSeconds": 30})
    with seed.fault("error", api="bes", operation="submit", count=1, status=503, retry_after=5) as fault:
        result = seed.run(factory, PIPELINE)
        assert fault.rule["fired"] == 1
    assert result.status == "Succeeded", result.message
    assert _attempts(result, "amlBEGetilearner") == [(None, "Failed"), (1, "Succeeded")]
    error = result.activity_runs("amlBEGetilearner")[0].error
    assert error["errorCode"] == "2600" and error["failureType"] == "SystemError"
    assert "was 'Service is temporarily unavailable. The service is temporarily unavailable; retry later.'" \
        in error["message"]
    submits = [e for e in seed.requests("bes") if e["method"] == "POST" and e["path"].endswith("/jobs")]
    assert [e["status"] for e in submits] == [503, 200]  # no hidden retry inside the attempt
    assert seed.faults() == []  # the block removed its rule


def test_a_429_on_status_fails_the_activity_without_a_policy_and_skips_the_update(seed):
    with seed.fault("error", api="bes", operation="status", count=1, status=429, retry_after=30):
        result = seed.run(_factory(), PIPELINE)
    assert result.status == "Failed"
    error = result.activity("amlBEGetilearner").error
    assert error["errorCode"] == "2600" and error["failureType"] == "UserError"
    assert "was 'Too many requests. The request was throttled" in error["message"]
    assert result.activity("amlUpdateResource").status == "Skipped"
    statuses = [e["status"] for e in seed.requests("bes") if e["method"] == "GET"]
    assert statuses == [429]  # Retry-After is not honoured by a retry inside the activity (as ADF)


def test_a_500_on_the_classic_patch_fails_update_resource_with_a_system_error(seed):
    with seed.fault("error", api="management", operation="patchEndpoint", status=500):
        result = seed.run(_factory(), PIPELINE)
    assert result.activity("amlBEGetilearner").status == "Succeeded"
    error = result.activity("amlUpdateResource").error
    assert error["errorCode"] == "2600" and error["failureType"] == "SystemError"
    assert error["message"].startswith("Update Resource failed. The response from the Machine Learning service")
    assert "Execution encountered an internal error." in error["message"]


def test_latency_slows_the_calls_and_the_run_still_succeeds(seed):
    with seed.fault("latency", api="bes", operation="submit", ms=400):
        result = seed.run(_factory(), PIPELINE)
    assert result.status == "Succeeded", result.message
    submit = next(e for e in seed.requests("bes") if e["method"] == "POST" and e["path"].endswith("/jobs"))
    assert submit["durationMs"] >= 400 and result.activity("amlBEGetilearner").duration_ms >= 400


def test_a_job_that_ends_failed_quotes_its_details_and_the_retry_runs_a_new_job(seed):
    factory = _factory(amlBEGetilearner={"retry": 2, "retryIntervalInSeconds": 10})
    with seed.fault("jobFailed", service=TRAINING, count=1,
                    details="Error 0018: Training dataset of TrainModel is invalid."):
        result = seed.run(factory, PIPELINE)
    assert result.status == "Succeeded", result.message
    assert _attempts(result, "amlBEGetilearner") == [(None, "Failed"), (1, "Succeeded")]
    error = result.activity_runs("amlBEGetilearner")[0].error
    assert error["errorCode"] == "2600" and error["failureType"] == "UserError"
    assert "was 'Error 0018: Training dataset of TrainModel is invalid.'" in error["message"]
    jobs = {r.output["jobId"] if r.output else None for r in result.activity_runs("amlBEGetilearner")}
    assert len([e for e in seed.requests("bes") if e["method"] == "POST" and e["path"].endswith("/jobs")]) == 2
    assert None in jobs  # the failed attempt has no output; the second one ran its own job


def test_a_job_that_stays_running_is_cancelled_when_the_activity_times_out(seed):
    factory = _factory(amlBEGetilearner={"timeout": "0.00:05:00", "retry": 0})
    with seed.fault("jobRunning", api="bes"):
        result = seed.run(factory, PIPELINE)
    assert result.status == "Failed"
    bes = result.activity("amlBEGetilearner")
    assert "timed out" in bes.error["message"]
    deletes = [e for e in seed.requests("bes") if e["method"] == "DELETE"]
    assert len(deletes) == 1 and deletes[0]["status"] == 200
    state = seed._call("GET", "/_emulator/state").json()
    assert [j["status"] for j in state["jobs"]] == ["Cancelled"]
    assert result.activity("amlUpdateResource").status == "Skipped"


def test_a_storage_outage_fails_the_submit_with_503_and_the_activity_with_2600(seed):
    with seed.fault("storageOutage", api="storage", operation="exists", message="the storage account is offline"):
        result = seed.run(_factory(), PIPELINE)
    assert result.status == "Failed"
    error = result.activity("amlBEGetilearner").error
    assert error["errorCode"] == "2600" and error["failureType"] == "SystemError"
    assert "Service is temporarily unavailable. The storage service did not answer: the storage account is offline" \
        in error["message"]
    submit = next(e for e in seed.requests("bes") if e["method"] == "POST")
    assert submit["status"] == 503


def test_a_storage_outage_while_the_job_runs_fails_the_job(seed):
    with seed.fault("storageOutage", api="storage", operation="write"):
        result = seed.run(_factory(), PIPELINE)
    error = result.activity("amlBEGetilearner").error
    assert error["errorCode"] == "2600" and "Error 0000: storage is unavailable (fault rule" in error["message"]


# --- the ARM flavour: Update Resource through Azure AD and Resource Manager ----------------------------

def test_a_failed_arm_operation_fails_update_resource_and_keeps_the_model(seed):
    with seed.fault("armOperationFailed", operation="patch", message="The trained model could not be deployed."):
        result = seed.run(_factory(ARM_FACTORY), PIPELINE)
    assert result.activity("amlBEGetilearner").status == "Succeeded"
    error = result.activity("amlUpdateResource").error
    assert error["errorCode"] == "2600"
    assert "ended Failed: (InternalServerError) The trained model could not be deployed." in error["message"]
    with pytest.raises(api.AdfemuError, match="has no model yet"):  # the swap did not happen
        seed.score(ARM_FACTORY, "updatableScoringEndpoint2", [{"age": "0.01"}])


def test_a_token_that_expires_early_is_refused_by_arm_and_the_retry_gets_a_new_one(seed):
    factory = _factory(ARM_FACTORY, amlUpdateResource={"retry": 1, "retryIntervalInSeconds": 5})
    with seed.fault("tokenExpiresEarly", count=1, lifetime_seconds=0) as fault:
        result = seed.run(factory, PIPELINE)
        assert fault.rule["fired"] == 1
    assert result.status == "Succeeded", result.message
    first = result.activity_runs("amlUpdateResource")[0]
    assert first.status == "Failed" and "(ExpiredAuthenticationToken)" in first.error["message"]
    assert [e["status"] for e in seed.requests("aad")] == [200, 200]


def test_a_throttled_token_request_fails_update_resource(seed):
    with seed.fault("error", api="aad", status=429, retry_after=60):
        result = seed.run(_factory(ARM_FACTORY), PIPELINE)
    error = result.activity("amlUpdateResource").error
    assert error["errorCode"] == "2600" and "Azure AD refused a token" in error["message"]
    assert "HTTP 429" in error["message"]


def test_rules_from_python_are_seeded_and_reset_clears_them(seed):
    rules = seed.set_faults([{"api": "rrs", "probability": 0.5, "effect": {"type": "error", "status": 503}}], seed=7)
    assert rules[0]["probability"] == 0.5 and rules[0]["fired"] == 0
    with pytest.raises(api.RunInputError, match="/rules/0/effect: the effect 'error' needs 'status'"):
        seed.fault("error", api="bes")
    seed.reset()
    assert seed.faults() == []
    deadline_poll(lambda: seed.health()["status"] in ("ok", "degraded"), 5)
