"""Fault injection at the HTTP level: the control API (/_emulator/faults), rule matching, counts and seeded
probabilities, and each injected error in its API's own envelope. End-to-end runs: tests/test_fault_runs.py."""
from __future__ import annotations

import pytest
import requests

from adfemu.emulator.config import ConfigError, from_document
from adfemu.emulator.faults import Faults

from .conftest import FIXTURES, seed_document
from .arm_helpers import SEED_SP, ws_id
from .helpers import PREDICTIVE, PREDICTIVE_KEY, TRAINING, TRAINING_KEY, WS


def _faults(aml, body, status=200):
    response = requests.post(f"{aml.url}/_emulator/faults", json=body)
    assert response.status_code == status, response.text
    return response.json()


def _rrs(aml):
    return aml.execute(PREDICTIVE, PREDICTIVE_KEY, {"Inputs": {"input1": {"ColumnNames": ["age"], "Values": [["1"]]}}})


def test_rules_are_listed_counted_removed_and_reset(aml):
    listed = _faults(aml, {"rules": [{"id": "two-503", "api": "rrs", "count": 2,
                                      "effect": {"type": "error", "status": 503, "retryAfter": 7}}]})
    assert listed["rules"][0] | {} == {"id": "two-503", "api": "rrs", "count": 2, "matched": 0, "fired": 0,
                                      "remaining": 2, "effect": {"type": "error", "status": 503, "retryAfter": 7}}
    first, second, third = _rrs(aml), _rrs(aml), _rrs(aml)
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 400)
    assert first.headers["Retry-After"] == "7" and "Retry-After" not in third.headers
    assert first.json() == {"error": {"code": "ServiceUnavailable", "message": "Service is temporarily unavailable.",
                                      "details": [{"code": "RequestThrottled",
                                                   "message": "The service is temporarily unavailable; retry later."}]}}
    rule = requests.get(f"{aml.url}/_emulator/faults").json()["rules"][0]
    assert (rule["matched"], rule["fired"], rule["remaining"]) == (3, 2, 0)
    assert [e["status"] for e in aml.journal() if "/execute" in e["path"]] == [503, 503, third.status_code]
    _faults(aml, {"rules": [{"api": "bes", "effect": {"type": "error", "status": 500}}]})
    assert [r["id"] for r in requests.get(f"{aml.url}/_emulator/faults").json()["rules"]][0] == "two-503"
    assert requests.delete(f"{aml.url}/_emulator/faults/two-503").status_code == 200
    assert requests.delete(f"{aml.url}/_emulator/faults/two-503").status_code == 404
    assert requests.post(f"{aml.url}/_emulator/reset").status_code == 200
    assert requests.get(f"{aml.url}/_emulator/faults").json()["rules"] == []


def test_a_rule_with_a_known_id_replaces_it_in_place_and_replace_true_replaces_all(aml):
    _faults(aml, {"rules": [{"id": "a", "effect": {"type": "latency", "ms": 1}},
                            {"id": "b", "effect": {"type": "latency", "ms": 2}}]})
    rules = _faults(aml, {"rules": [{"id": "a", "effect": {"type": "latency", "ms": 3}}]})["rules"]
    assert [(r["id"], r["effect"]["ms"]) for r in rules] == [("a", 3), ("b", 2)]
    rules = _faults(aml, {"rules": [{"id": "c", "effect": {"type": "jobRunning"}}], "replace": True})["rules"]
    assert [r["id"] for r in rules] == ["c"]
    assert requests.delete(f"{aml.url}/_emulator/faults").json() == {"status": "ok"}
    assert requests.get(f"{aml.url}/_emulator/faults").json()["rules"] == []


@pytest.mark.parametrize("body, message", [
    ("not json", "/: the body must be JSON"),
    ({"rules": [{"effect": {"type": "error"}}]}, "/rules/0/effect: the effect 'error' needs 'status'"),
    ({"rules": [{"effect": {"type": "error", "status": 404}}]}, "/rules/0/effect/status: 404 is not one of"),
    ({"rules": [{"api": "rrs", "effect": {"type": "jobFailed"}}]}, "/rules/0/api: the effect 'jobFailed' does not apply"),
    ({"rules": [{"api": "bes", "operation": "nope", "effect": {"type": "latency", "ms": 1}}]},
     "/rules/0/operation: unknown operation 'nope'"),
    ({"rules": [{"effect": {"type": "latency", "ms": 1}, "colour": "red"}]}, "/rules/0: unknown property"),
    ({"rules": [{"effect": {"type": "error", "status": 500, "retryAfter": 1}}]}, "/rules/0/effect/retryAfter"),
    ({"rules": [{"probability": 2, "effect": {"type": "jobRunning"}}]}, "/rules/0/probability"),
    ([], "/: [] is not of type 'object'"),
])
def test_bad_rules_get_one_line_naming_the_pointer(aml, body, message):
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}
    response = requests.post(f"{aml.url}/_emulator/faults", **kwargs)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["message"].startswith(message) and "\n" not in error["message"]


def test_matching_on_operation_service_and_endpoint(aml):
    _faults(aml, {"rules": [{"api": "bes", "operation": "status", "service": TRAINING,
                             "effect": {"type": "error", "status": 500}}]})
    assert _rrs(aml).status_code == 400  # another API: the emulator's own answer (an input it refuses)
    headers = aml.auth(TRAINING_KEY)
    listing = requests.get(f"{aml.runtime(TRAINING)}/jobs?api-version=2.0", headers=headers)
    assert listing.status_code == 200  # another operation
    missing = requests.get(f"{aml.runtime(TRAINING)}/jobs/nope?api-version=2.0", headers=headers)
    assert missing.status_code == 500 and missing.json()["error"]["code"] == "InternalError"
    other = requests.get(f"{aml.runtime(PREDICTIVE)}/jobs/nope?api-version=2.0", headers=aml.auth(PREDICTIVE_KEY))
    assert other.status_code == 404  # another service


def test_probability_is_seeded_and_reproducible(aml):
    def pattern():
        _faults(aml, {"seed": 42, "replace": True,
                      "rules": [{"api": "rrs", "probability": 0.5, "effect": {"type": "error", "status": 503}}]})
        return [_rrs(aml).status_code == 503 for _ in range(12)]
    first, second = pattern(), pattern()
    assert first == second and 0 < sum(first) < 12


@pytest.mark.parametrize("status, code", [(429, "TooManyRequests"), (503, "ServiceUnavailable"),
                                          (500, "InternalServerError")])
def test_arm_errors_come_in_arm_s_envelope(arm, status, code):
    requests.post(f"{arm.url}/_emulator/faults", json={"rules": [
        {"api": "arm", "operation": "get", "count": 1, "effect": {"type": "error", "status": status, "retryAfter": 3}
         if status != 500 else {"type": "error", "status": 500}}]}, verify=arm.ca_bundle)
    response = arm.request("GET", ws_id(), arm.token())
    assert response.status_code == status
    assert response.json()["error"]["code"] == code and "additionalInfo" in response.json()["error"]
    assert "x-ms-request-id" in response.headers
    assert (response.headers.get("Retry-After") == "3") == (status != 500)
    assert arm.request("GET", ws_id(), arm.token()).status_code == 200


def test_aad_errors_come_as_azure_ad_answers_them(arm):
    requests.post(f"{arm.url}/_emulator/faults", verify=arm.ca_bundle, json={"rules": [
        {"api": "aad", "operation": "token", "count": 1, "effect": {"type": "error", "status": 429, "retryAfter": 60}},
        {"api": "aad", "operation": "token", "count": 1, "effect": {"type": "error", "status": 503}}]})
    throttled = arm.token_response(SEED_SP)
    assert throttled.status_code == 429 and throttled.text == "Too Many Requests"
    assert throttled.headers["Retry-After"] == "60"
    unavailable = arm.token_response(SEED_SP)
    assert unavailable.status_code == 503 and unavailable.json()["error"] == "temporarily_unavailable"
    assert arm.token_response(SEED_SP).status_code == 200


def test_config_rules_are_checked_and_come_back_on_reset(tmp_path):
    doc = seed_document()
    doc["faults"] = {"seed": 1, "rules": [{"api": "storage", "effect": {"type": "jobFailed"}}]}
    with pytest.raises(ConfigError, match="/faults/rules/0/api: the effect 'jobFailed' does not apply"):
        Faults(from_document(doc, "x.json", FIXTURES).document.get("faults"))
    doc["faults"]["rules"][0] = {"id": "x", "api": "storage", "effect": {"type": "colour"}}
    with pytest.raises(ConfigError, match="/faults/rules/0/effect/type"):
        from_document(doc, "x.json", FIXTURES)
    faults = Faults({"rules": [{"id": "kept", "effect": {"type": "jobRunning"}}]})
    faults.clear()
    faults.reset()
    assert [r["id"] for r in faults.listing()["rules"]] == ["kept"]


def test_control_routes_and_unrouted_paths_are_never_faulted(aml):
    _faults(aml, {"rules": [{"effect": {"type": "error", "status": 503}}]})  # every HTTP API
    assert requests.get(f"{aml.url}/_emulator/health").status_code in (200, 503)
    assert requests.get(f"{aml.url}/nothing/here").status_code == 404
    assert requests.get(f"{aml.mgmt()}", headers=aml.auth("x")).status_code == 503
    assert _rrs(aml).status_code == 503
    assert WS  # the seed workspace is the one the management URL names


def test_latency_acts_where_its_api_and_operation_say():
    faults = Faults({"rules": [{"api": "bes", "operation": "run", "effect": {"type": "latency", "ms": 5}},
                               {"api": "storage", "effect": {"type": "latency", "ms": 7}},
                               {"api": "bes", "effect": {"type": "latency", "ms": 11}}]})
    assert faults.decide("job", "bes", "run").delay == 0.005
    assert faults.decide("storage", "storage", "read").delay == 0.007
    assert faults.decide("request", "bes", "submit").delay == 0.011
    assert [r["fired"] for r in faults.listing()["rules"]] == [1, 1, 1]
