"""Control plane under /_emulator/: health, reset, state, request journal."""
from __future__ import annotations

import socket

import requests

from adfemu.emulator.app import Emulator, create_app
from adfemu.emulator.config import load
from adfemu.emulator.storage import BlobStore

from .conftest import FIXTURES
from .helpers import PREDICTIVE, TRAIN_CSV, TRAINING, TRAINING_KEY, WS_TOKEN, upload


def test_health_is_200_when_storage_answers(aml):
    r = requests.get(f"{aml.url}/_emulator/health")
    assert r.status_code == 200 and r.json()["services"] == {"aml": "running", "storage": "running"}


def test_health_is_503_when_storage_does_not_answer():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    emulator = Emulator(load(FIXTURES / "seed-emulator.json"), BlobStore(dead))
    try:
        r = create_app(emulator).test_client().get("/_emulator/health")
        assert r.status_code == 503 and r.json["services"]["storage"] == "unreachable"
    finally:
        emulator.close()


def test_reset_restores_the_configured_services_and_forgets_jobs(aml, blobs):
    created = requests.put(aml.mgmt(f"/{PREDICTIVE}/endpoints/temp"), headers=aml.auth(WS_TOKEN), json={})
    assert created.ok
    job_id = aml.submit(TRAINING, TRAINING_KEY, aml.train_body(upload(blobs, TRAIN_CSV))).json()
    assert requests.post(f"{aml.url}/_emulator/reset").json() == {"status": "ok"}
    assert requests.get(aml.mgmt(f"/{PREDICTIVE}/endpoints/temp"), headers=aml.auth(WS_TOKEN)).status_code == 404
    r = requests.get(f"{aml.runtime(TRAINING)}/jobs/{job_id}?api-version=2.0", headers=aml.auth(TRAINING_KEY))
    assert r.status_code == 404
    assert [e["method"] for e in aml.journal()] == ["GET", "GET"], "the journal restarts at reset"


def test_journal_records_what_the_client_sent_with_secrets_masked(aml, blobs):
    body = aml.train_body(upload(blobs, TRAIN_CSV))
    job_id = aml.submit(TRAINING, TRAINING_KEY, body).json()
    requests.post(f"{aml.runtime(TRAINING)}/jobs/{job_id}/start?api-version=2.0", headers=aml.auth(TRAINING_KEY))
    entries = aml.journal(path="/jobs")
    submit, start = entries[0], entries[1]
    assert (submit["method"], submit["status"]) == ("POST", 200) and submit["durationMs"] >= 0
    assert submit["query"] == "api-version=2.0"
    assert submit["headers"]["Authorization"] == "Bearer ***"
    assert "AccountKey=***" in submit["body"] and TRAINING_KEY not in str(entries)
    assert start["path"].endswith("/start") and start["body"] == "" and "Content-Type" not in start["headers"]


def test_state_lists_services_with_secrets_masked(aml):
    state = requests.get(f"{aml.url}/_emulator/state").json()
    services = state["workspaces"][0]["webServices"]
    assert {s["id"] for s in services} >= {TRAINING, PREDICTIVE}
    assert all(e["primaryKey"] == "***" for s in services for e in s["endpoints"])
