"""Storage outages: a call to a storage that cannot be reached fails within 5 s in the API's own envelope (no SDK
retries), jobs fail with Details naming storage, and an Azurite that adfemu started is restarted when it dies."""
from __future__ import annotations

import os
import signal
import time

import pytest
import requests
from azure.storage.blob import BlobServiceClient

from adfemu.emulator.app import Emulator, create_app
from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY, Azurite
from adfemu.emulator.config import from_document, load
from adfemu.emulator.server import EmulatorServer, start_stack
from adfemu.emulator.storage import BlobAddress, BlobStore

from . import conftest
from .arm_helpers import SEED_SP, ws_id
from .conftest import FIXTURES
from .helpers import RESOURCE, TRAIN_CSV, TRAINING, TRAINING_KEY, WS, deadline_poll

OUTAGE_SECONDS = 5.0


@pytest.fixture
def stopped_storage(tmp_path):
    """An emulator whose Azurite (not supervised) is stopped after one job was submitted."""
    azurite = Azurite(location=str(tmp_path / "blobs")).start()
    emulator = server = None
    try:
        BlobServiceClient.from_connection_string(azurite.connection_string()).create_container("outage") \
            .upload_blob("train.csv", TRAIN_CSV)
        emulator = Emulator(from_document(conftest.test_document(), "tests", FIXTURES), BlobStore(azurite.url))
        server = EmulatorServer(create_app(emulator)).start()
        body = {"Inputs": {"input1": {"ConnectionString": azurite.connection_string(),
                                      "RelativeLocation": "outage/train.csv"}}}
        submitted = _bes(server.url, "POST", "/jobs", json=body)
        assert submitted.status_code == 200, submitted.text
        azurite.stop()
        yield server, body, submitted.json()
    finally:
        if server is not None:
            server.stop()
        if emulator is not None:
            emulator.close()
        azurite.stop()


def _bes(url: str, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, f"{url}/workspaces/{WS}/services/{TRAINING}{path}", params={"api-version": "2.0"},
                            headers={"Authorization": f"Bearer {TRAINING_KEY}"}, timeout=60, **kw)


def _timed(call):
    began = time.monotonic()
    response = call()
    return response, time.monotonic() - began


def test_with_azurite_stopped_bes_submit_answers_503_in_under_5_s(stopped_storage):
    server, body, _ = stopped_storage
    r, took = _timed(lambda: _bes(server.url, "POST", "/jobs", json=body))
    print(f"BES submit with storage stopped: {r.status_code} in {took:.3f} s")
    assert r.status_code == 503 and took < OUTAGE_SECONDS
    error = r.json()["error"]
    assert error["code"] == "ServiceUnavailable"
    assert error["details"][0]["code"] == "StorageUnavailable" and "storage at http://127.0.0.1:" in \
        error["details"][0]["message"]
    health, took = _timed(lambda: requests.get(f"{server.url}/_emulator/health", timeout=30))
    assert health.status_code == 503 and health.json()["services"]["storage"] == "unreachable" and took < 1


def test_with_azurite_stopped_a_started_job_fails_at_once_naming_storage(stopped_storage):
    server, _, job = stopped_storage
    began = time.monotonic()
    assert _bes(server.url, "POST", f"/jobs/{job}/start").status_code == 200
    status = deadline_poll(lambda: (s := _bes(server.url, "GET", f"/jobs/{job}").json())["StatusCode"] != "Running"
                           and s, timeout=OUTAGE_SECONDS)
    assert time.monotonic() - began < OUTAGE_SECONDS
    assert status["StatusCode"] == "Failed" and "storage at http://127.0.0.1:" in status["Details"], status
    assert "sig=" not in status["Details"]  # the SDK's message (with signed URLs) is never quoted


def test_with_azurite_stopped_arm_answers_503_in_arm_envelope(stopped_storage):
    server, _, _ = stopped_storage
    token = requests.post(f"{server.url}/{SEED_SP.tenant}/oauth2/token", timeout=30, data={
        "grant_type": "client_credentials", "client_id": SEED_SP.client_id, "client_secret": SEED_SP.secret,
        "resource": "https://management.azure.com/"}).json()["access_token"]
    body = {"properties": {"packageType": "Graph", "assets": {"asset1": {
        "name": RESOURCE, "type": "Resource", "locationInfo": {
            "uri": f"https://{DEV_ACCOUNT}.blob.core.windows.net/outage/model.ilearner"}}}}}
    r, took = _timed(lambda: requests.patch(f"{server.url}{ws_id()}", params={"api-version": "2016-05-01-preview"},
                                            json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60))
    assert r.status_code == 503 and took < OUTAGE_SECONDS, r.text
    error = r.json()["error"]
    assert error["code"] == "ServiceUnavailable" and set(error) == {"code", "message", "target", "details",
                                                                    "additionalInfo"}
    assert "x-ms-request-id" in r.headers


def test_a_dead_azurite_is_restarted_with_its_blobs_and_health_says_so(tmp_path):
    stack = start_stack(load(FIXTURES / "seed-emulator.json"), state=str(tmp_path / "state"))
    try:
        store = stack.emulator.store
        address = BlobAddress(DEV_ACCOUNT, "kept", "model.ilearner", account_key=DEV_KEY)
        store.write(address, b"still here")
        written = time.time()
        index = tmp_path / "state" / "azurite" / "__azurite_db_blob__.json"  # Azurite saves it every 5 s
        deadline_poll(lambda: index.exists() and index.stat().st_mtime > written, timeout=30, interval=0.2)
        health = requests.get(f"{stack.url}/_emulator/health", timeout=10).json()["storage"]
        assert health["restarts"] == 0 and health["keptAfterStop"] is True
        os.killpg(health["pid"], signal.SIGKILL)

        def restarted():
            r = requests.get(f"{stack.url}/_emulator/health", timeout=10)
            return r.status_code == 200 and r.json()["storage"]["restarts"] == 1 and r.json()["storage"]
        after = deadline_poll(restarted, timeout=30, interval=0.1)
        assert after["lastExitStatus"] == -signal.SIGKILL and after["pid"] != health["pid"]
        assert after["url"] == health["url"]  # same port: addresses clients hold stay valid
        assert after["dataKept"] is True and after["blobsChecked"] == 1 and after["blobsMissing"] == 0
        assert store.read(address, "kept/model.ilearner") == b"still here"
    finally:
        stack.close()
