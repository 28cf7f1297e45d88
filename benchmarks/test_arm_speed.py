"""Benchmark: the Azure AD and Resource Manager side, sequential on one keep-alive session (HTTP).

- token: ``POST /{tenant}/oauth2/token`` (client credentials; an RS256 signature per token);
- ARM GET of the web service (token verification, role check, rendering);
- model swap: ``PATCH`` of the trained-model asset with a new ``.ilearner`` (read from Azurite through a
  SAS, loaded, swapped) plus one status poll — what the runner's Update Resource costs the emulator.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from azure.storage.blob import BlobSasPermissions, generate_blob_sas

from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY
from tests.arm_helpers import SEED_SP, ws_id
from tests.helpers import ROOT

RUNS = 50


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
    container = blobs.get_container_client("benchmodels")
    if not container.exists():
        container.create_container()
    container.upload_blob("model.ilearner", (ROOT / "fixtures" / "models" / "initial.ilearner").read_bytes(),
                          overwrite=True)
    sas = generate_blob_sas(DEV_ACCOUNT, "benchmodels", "model.ilearner", account_key=DEV_KEY,
                            permission=BlobSasPermissions(read=True),
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    headers = {"Authorization": f"Bearer {_token(client)}"}
    url = f"{client.base_url}{ws_id()}?api-version=2016-05-01-preview"
    samples: list[float] = []
    counter = iter(range(10**6))

    def swap():
        uri = f"https://{DEV_ACCOUNT}.blob.core.windows.net/benchmodels/model.ilearner?{sas}&n={next(counter)}"
        body = {"properties": {"packageType": "Graph", "assets": {"asset1": {
            "name": "ADFV2Sample Model [trained model]", "type": "Resource", "locationInfo": {"uri": uri}}}}}
        response = client.http.patch(url, json=body, headers=headers)
        assert response.status_code == 200, response.text
        status = client.http.get(response.headers["Azure-AsyncOperation"], headers=headers).json()
        assert status["status"] == "Succeeded", status

    benchmark.group = "arm"
    benchmark.pedantic(lambda: _timed(samples, swap), rounds=RUNS, warmup_rounds=3, iterations=1)
    bench_report.add("arm PATCH model swap + status", samples[-RUNS:], kind="latency")
