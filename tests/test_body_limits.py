"""Request bodies over the documented limit get 413 in each API's own envelope, unread; error messages quote at
most a short prefix of what they echo; finished jobs are bounded."""
from __future__ import annotations

import json

import pytest
import requests

from adfemu.emulator.limits import ECHO_CHARS, MAX_REQUEST_BYTES

from .arm_helpers import SEED_SP, ws_id
from .helpers import (PREDICTIVE, PREDICTIVE_KEY, TRAIN_CSV, TRAINING, TRAINING_KEY, UPDATABLE_KEY, UPDATABLE_NAME,
                      WS_TOKEN, upload)

TOO_MUCH = b"x" * (MAX_REQUEST_BYTES + 1)


def _families(aml, arm):
    return {
        "bes": ("POST", f"{aml.runtime(TRAINING)}/jobs?api-version=2.0", aml.auth(TRAINING_KEY), None),
        "rrs": ("POST", f"{aml.runtime(PREDICTIVE)}/execute?api-version=2.0", aml.auth(PREDICTIVE_KEY), None),
        "management": ("PATCH", aml.mgmt(f"/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}"), aml.auth(UPDATABLE_KEY), None),
        "arm": ("PUT", f"{arm.url}{ws_id('big')}?api-version=2016-05-01-preview", {"Authorization": "Bearer x"},
                arm.ca_bundle),
        "aad": ("POST", f"{aml.url}/{SEED_SP.tenant}/oauth2/token", {}, None),
        "control": ("POST", f"{aml.url}/_emulator/provision", {}, None),
    }


def _envelope(api: str, body: dict) -> str:
    """The error code, read the way each API shapes its errors."""
    if api == "aad":
        assert body["error"] == "invalid_request" and "error_description" in body
        return body["error_description"]
    if api == "arm":
        assert set(body["error"]) == {"code", "message", "target", "details", "additionalInfo"}
    if api in ("bes", "rrs", "management"):
        assert body["error"]["details"][0]["code"] == "RequestBodyTooLarge"
    return body["error"]["code"]


@pytest.mark.parametrize("api", ["bes", "rrs", "management", "arm", "aad", "control"])
def test_a_body_over_the_limit_gets_413_in_the_apis_envelope(aml, arm, api):
    method, url, headers, verify = _families(aml, arm)[api]
    r = requests.request(method, url, data=TOO_MUCH, headers={**headers, "Content-Type": "application/json"},
                         verify=verify or True, timeout=60)
    assert r.status_code == 413, r.text[:300]
    text = _envelope(api, r.json())
    assert text  # one clear line
    assert str(MAX_REQUEST_BYTES) in r.text


def test_a_chunked_body_over_the_limit_gets_413_too(aml):
    def chunks():
        for _ in range(MAX_REQUEST_BYTES // (1 << 16) + 1):
            yield b"y" * (1 << 16)
    r = requests.post(f"{aml.runtime(TRAINING)}/jobs?api-version=2.0", data=chunks(),
                      headers=aml.auth(TRAINING_KEY), timeout=60)
    assert r.status_code == 413 and r.json()["error"]["code"] == "RequestEntityTooLarge"


def test_the_journal_records_a_refused_body_as_unread(aml):
    requests.post(f"{aml.runtime(TRAINING)}/jobs?api-version=2.0", data=TOO_MUCH, headers=aml.auth(TRAINING_KEY),
                  timeout=60)
    entry = aml.journal(f"/services/{TRAINING}/jobs")[-1]
    assert entry["status"] == 413 and entry["body"] == "" and entry["bodyTruncated"] is True


def test_error_messages_quote_a_short_prefix_of_a_huge_value(aml, arm):
    name = "N" * 1_000_000  # a classic PATCH naming a 1 MB resource echoed it twice before
    r = requests.patch(aml.mgmt(f"/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}"), headers=aml.auth(WS_TOKEN),
                       json={"Resources": [{"Name": name, "Location": {
                           "BaseLocation": "http://127.0.0.1:1/devstoreaccount1/", "RelativeLocation": "c/m.ilearner",
                           "SasBlobToken": "?sv=x"}}]})
    assert r.status_code == 400 and len(r.content) < 4 * ECHO_CHARS + 2000, len(r.content)
    detail = r.json()["error"]["details"][0]
    assert detail["code"] == "InvalidResourceName" and "(1000000 characters)" in detail["message"]
    assert len(detail["target"]) < ECHO_CHARS + 40
    token = requests.post(f"{aml.url}/{SEED_SP.tenant}/oauth2/token", timeout=30,
                          data={"grant_type": "g" * 1_000_000, "client_id": SEED_SP.client_id}).json()
    assert len(json.dumps(token)) < 2000 and "(1000000 characters)" in token["error_description"]
    bad = requests.put(f"{arm.url}{ws_id('echo')}", params={"api-version": "2016-05-01-preview"},
                       json={"properties": {"packageType": "P" * 1_000_000}}, verify=arm.ca_bundle, timeout=60,
                       headers={"Authorization": f"Bearer {arm.token()}"})
    assert bad.status_code == 400 and len(bad.content) < 2000, len(bad.content)


def test_finished_jobs_are_bounded_oldest_ended_first(aml, blobs, monkeypatch):
    monkeypatch.setattr(aml.emulator.jobs, "max_finished", 3)  # limits.MAX_FINISHED_JOBS is 1000
    body = aml.train_body(upload(blobs, TRAIN_CSV))
    jobs = [aml.run_job(TRAINING, TRAINING_KEY, body)[0] for _ in range(5)]  # one after the other
    found = [requests.get(f"{aml.runtime(TRAINING)}/jobs/{job}?api-version=2.0", headers=aml.auth(TRAINING_KEY))
             for job in jobs]
    assert [r.status_code for r in found] == [404, 404, 200, 200, 200]
    assert found[0].json()["error"]["details"][0]["code"] == "JobNotFound"
