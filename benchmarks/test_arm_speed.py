"""Benchmark: the Azure AD and Resource Manager side, sequential on one keep-alive session (HTTP).

- token: ``POST /{tenant}/oauth2/token`` (client credentials; an RS256 signature per token);
- ARM GET of the web service (token verification, role check, rendering);
- model swap: ``PATCH`` of the trained-model asset with a new ``.ilearner`` (read from Azurite through a
  SAS, loaded, swapped) plus one status poll — what the runner's Update Resource costs the emulator.
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests
from azure.storage.blob import BlobSasPermissions, generate_blob_sas

from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY
from tests.arm_helpers import SEED_SP, ws_id
from tests.helpers import ROOT

SMOKE = bool(os.environ.get("ADFEMU_BENCH_SMOKE"))
RUNS = 3 if SMOKE else 50


def _token(client) -> str:
    form = {"grant_type": "client_credentials", "client_id": SEED_SP.client_id, "client_secret": SEED_SP.secret,
            "resource": "https://management.azure.com/"}
    return client.http.post(f"{client.base_url}/mycompany.com/oauth2/token", data=form).json()["access_token"]


def _timed(samples: list[float], action):
    started = time.perf_counter()
    result = action()
    samples.append(time.perf_counter() - started)
    return result


def test_token_issuance(benchmark, bench_report, client):
    samples: list[float] = []
    benchmark.group = "arm"
    benchmark.pedantic(lambda: _timed(samples, lambda: _token(client)), rounds=RUNS, warmup_rounds=3, iterations=1)
    bench_report.add("aad token (v1)", samples[-RUNS:], kind="latency")


def test_arm_get_web_service(benchmark, bench_report, client):
    headers = {"Authorization": f"Bearer {_token(client)}"}
    url = f"{client.base_url}{ws_id()}?api-version=2016-05-01-preview"
    samples: list[float] = []

    def get():
        response = client.http.get(url, headers=headers)
        assert response.status_code == 200, response.text

    benchmark.group = "arm"
    benchmark.pedantic(lambda: _timed(samples, get), rounds=RUNS, warmup_rounds=3, iterations=1)
    bench_report.add("arm GET webService", samples[-RUNS:], kind="latency")


def test_arm_model_swap(benchmark, bench_report, client, blobs):
    model = _model_uri(blobs)
    headers = {"Authorization": f"Bearer {_token(client)}"}
    url = f"{client.base_url}{ws_id()}?api-version=2016-05-01-preview"
    samples: list[float] = []
    counter = iter(range(10**6))

    def swap():
        uri = f"{model}&n={next(counter)}"
        body = {"properties": {"packageType": "Graph", "assets": {"asset1": {
            "name": "ADFV2Sample Model [trained model]", "type": "Resource", "locationInfo": {"uri": uri}}}}}
        response = client.http.patch(url, json=body, headers=headers)
        assert response.status_code == 200, response.text
        status = client.http.get(response.headers["Azure-AsyncOperation"], headers=headers).json()
        assert status["status"] == "Succeeded", status

    benchmark.group = "arm"
    benchmark.pedantic(lambda: _timed(samples, swap), rounds=RUNS, warmup_rounds=3, iterations=1)
    bench_report.add("arm PATCH model swap + status", samples[-RUNS:], kind="latency")


GETTERS, GET_ROUNDS, SWAP_READ_MS = 32, (2 if SMOKE else 8), 400


def test_arm_gets_during_a_model_swap(benchmark, bench_report, client, blobs):
    """32 concurrent GETs of the web service while a PATCH swaps its model, against the same 32 GETs idle.

    The model read is held up by an injected storage latency of 400 ms (a slow Blob storage), so the swap is
    under way for the whole burst; were the download done under the resource manager's lock, every GET would
    wait for it and the p95 would be ~400 ms above idle. Idle and swap rounds alternate."""
    uri = _model_uri(blobs)
    token = _token(client)
    url = f"{client.base_url}{ws_id()}?api-version=2016-05-01-preview"
    sessions = [requests.Session() for _ in range(GETTERS)]
    idle: list[float] = []
    busy: list[float] = []

    def burst(into: list[float]) -> None:
        start = threading.Barrier(GETTERS)

        def get(session):
            start.wait()
            began = time.perf_counter()
            response = session.get(url, headers={"Authorization": f"Bearer {token}"})
            into.append(time.perf_counter() - began)
            assert response.status_code == 200, response.text[:300]

        with ThreadPoolExecutor(GETTERS) as pool:
            list(pool.map(get, sessions))

    faults = f"{client.base_url}/_emulator/faults"
    rule = {"api": "storage", "operation": "read", "effect": {"type": "latency", "ms": SWAP_READ_MS}}
    def rounds():
        for n in range(GET_ROUNDS):
            burst(idle)
            assert client.http.post(faults, json={"rules": [rule], "replace": True}).status_code == 200
            swap = threading.Thread(target=_swap, args=(url, token, f"{uri}&n={n}"))
            swap.start()
            _wait_for_model_read(client, faults)
            burst(busy)
            swap.join()

    benchmark.group = "arm"
    try:
        benchmark.pedantic(rounds, rounds=1, iterations=1)
    finally:
        client.http.delete(faults)
        for session in sessions:
            session.close()
    bench_report.add("arm GET x32 concurrent, idle", idle, kind="latency", stat="p95")
    bench_report.add("arm GET x32 concurrent, during a model swap", busy, kind="latency", stat="p95",
                     baseline="arm GET x32 concurrent, idle", max_ratio=2,
                     note=f"model read delayed {SWAP_READ_MS} ms")


def _model_uri(blobs) -> str:
    container = blobs.get_container_client("benchmodels")
    if not container.exists():
        container.create_container()
    container.upload_blob("model.ilearner", (ROOT / "fixtures" / "models" / "initial.ilearner").read_bytes(),
                          overwrite=True)
    sas = generate_blob_sas(DEV_ACCOUNT, "benchmodels", "model.ilearner", account_key=DEV_KEY,
                            permission=BlobSasPermissions(read=True),
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    return f"https://{DEV_ACCOUNT}.blob.core.windows.net/benchmodels/model.ilearner?{sas}"


def _swap(url: str, token: str, uri: str) -> None:
    body = {"properties": {"packageType": "Graph", "assets": {"asset1": {
        "name": "ADFV2Sample Model [trained model]", "type": "Resource", "locationInfo": {"uri": uri}}}}}
    with requests.Session() as http:
        response = http.patch(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text[:300]


def _wait_for_model_read(client, faults: str) -> None:
    """Until the PATCH has reached the (delayed) model read: the latency rule has fired once."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(rule.get("fired") for rule in client.http.get(faults).json()["rules"]):
            return
        time.sleep(0.002)
    raise AssertionError("the model swap never reached its model read")
