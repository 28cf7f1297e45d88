"""Test helpers: the seed scenario's ids and keys, a small HTTP client, blob upload, polling."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from azure.storage.blob import BlobServiceClient

ROOT = Path(__file__).resolve().parent.parent
TRAIN_CSV = (ROOT / "fixtures" / "data" / "train.csv").read_bytes()
SCORE_CSV = (ROOT / "fixtures" / "data" / "score.csv").read_bytes()

WS = "b4c0c73937824d64ad1181cade4a76b2"
WS_TOKEN = "c2VlZC13b3Jrc3BhY2UtcHJpbWFyeS10b2tlbi1ub3QtYS1yZWFsLXNlY3JldC0wMDAwMDAwMDAwMDAwMDAwMDA="
TRAINING = "7c2d4e3f1a9b4c8d9e0f1a2b3c4d5e6f"
TRAINING_KEY = "dHJhaW5pbmctZGVmYXVsdC1wcmltYXJ5LWtleS1mb3ItYWRmZW11LXRlc3RzLW5vdC1hLXJlYWwtc2VjcmV0MDA="
TRAINING_KEY2 = "dHJhaW5pbmctZGVmYXVsdC1zZWNvbmRhcnkta2V5LWZvci1hZGZlbXUtdGVzdHMtbm90LWEtcmVhbC1zZWNyZXQ="
PREDICTIVE = "0e8f0c3d5a6b47c1a2b3c4d5e6f70812"
PREDICTIVE_KEY = "cHJlZGljdGl2ZS1kZWZhdWx0LXByaW1hcnkta2V5LWZvci1hZGZlbXUtdGVzdHMtbm90LWEtcmVhbC1zZWNyZXQ="
UPDATABLE = "26734a5889e02fbb1f65cefd00000000"
UPDATABLE_NAME = "updatable"
UPDATABLE_KEY = "dXBkYXRhYmxlLWVuZHBvaW50LXByaW1hcnkta2V5LWZvci1hZGZlbXUtdGVzdHMtbm90LWEtcmVhbC1zZWNyZXQ="
RESOURCE = "ADFV2Sample Model [trained model]"

# Test-only services (added to the seed config in conftest.py)
SLOW = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"          # training, 30 s run time: for Running/cancel tests
SLOW_KEY = "c2xvdy10cmFpbmluZy1rZXktZm9yLWFkZmVtdS10ZXN0cy1ub3QtYS1yZWFsLXNlY3JldC0wMDAwMDAwMDAw"
PARAMS = "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b"        # training with declared global parameters
PARAMS_KEY = "cGFyYW1zLXRyYWluaW5nLWtleS1mb3ItYWRmZW11LXRlc3RzLW5vdC1hLXJlYWwtc2VjcmV0LTAwMDAwMDAwMA=="
PLUGIN = "7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d"        # training with a user experiment (tests/plugin_example.py)
PLUGIN_KEY = "cGx1Z2luLWtleS1mb3ItYWRmZW11LXRlc3RzLW5vdC1hLXJlYWwtc2VjcmV0LTAwMDAwMDAwMDAwMDAwMDA="
FAILING = "8e8e8e8e8e8e8e8e8e8e8e8e8e8e8e8e"       # predictive, experiment raises ExperimentError
FAILING_KEY = "ZmFpbGluZy1rZXktZm9yLWFkZmVtdS10ZXN0cy1ub3QtYS1yZWFsLXNlY3JldC0wMDAwMDAwMDAwMDAwMA=="
CRASHING = "9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f"      # training, experiment has a bug (KeyError)
CRASHING_KEY = "Y3Jhc2hpbmcta2V5LWZvci1hZGZlbXUtdGVzdHMtbm90LWEtcmVhbC1zZWNyZXQtMDAwMDAwMDAwMDAwMA=="
FREE_WS = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"
FREE_TOKEN = "ZnJlZS13b3Jrc3BhY2UtdG9rZW4tZm9yLWFkZmVtdS10ZXN0cy1ub3QtYS1yZWFsLXNlY3JldC0wMDAwMDAw"
FREE_SVC = "f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

CUSTOM_ACCOUNT = "contosoml"
CUSTOM_KEY = "Y29udG9zb21sLWtleS1mb3ItYWRmZW11LXRlc3RzLW5vdC1hLXJlYWwtc2VjcmV0LTAwMDAwMDAwMDAwMDAwMDA="

ALL_KEYS = [WS_TOKEN, TRAINING_KEY, TRAINING_KEY2, PREDICTIVE_KEY, UPDATABLE_KEY, SLOW_KEY, PARAMS_KEY, PLUGIN_KEY,
            FAILING_KEY, CRASHING_KEY,
            FREE_TOKEN, CUSTOM_KEY]


def extra_services() -> dict:
    return {
        "seed_workspace": [
            {"id": SLOW, "name": "slow training", "kind": "training", "settings": {"labelColumn": "target"},
             "timing": {"runSeconds": 30},
             "endpoints": [{"name": "default", "primaryKey": SLOW_KEY}]},
            {"id": PARAMS, "name": "training with parameters", "kind": "training",
             "globalParameters": [{"name": "Random seed", "default": "1"}, {"name": "Required one", "required": True}],
             "outputs": [{"name": "output1", "type": "ilearner"}, {"name": "evaluation", "type": "dataset"}],
             "endpoints": [{"name": "default", "primaryKey": PARAMS_KEY}]},
            {"id": PLUGIN, "name": "user experiment", "kind": "training",
             "experiment": {"callable": "tests.plugin_example:double_label"},
             "outputs": [{"name": "output1", "type": "dataset"}],
             "endpoints": [{"name": "default", "primaryKey": PLUGIN_KEY}]},
            {"id": FAILING, "name": "failing module", "kind": "predictive",
             "experiment": {"callable": "tests.plugin_example:refuse"},
             "endpoints": [{"name": "default", "primaryKey": FAILING_KEY}]},
            {"id": CRASHING, "name": "crashing plug-in", "kind": "training",
             "experiment": {"callable": "tests.plugin_example:crash"},
             "endpoints": [{"name": "default", "primaryKey": CRASHING_KEY}]},
        ],
        "free_workspace": {
            "id": FREE_WS, "tier": "Free", "authorizationToken": {"primary": FREE_TOKEN},
            "webServices": [{"id": FREE_SVC, "name": "free predictive", "kind": "predictive",
                             "resources": [{"name": RESOURCE, "model": "models/initial.ilearner"}]}],
        },
    }


def unique(prefix: str = "c") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def upload(blobs: BlobServiceClient, data: bytes, name: str = "train.csv") -> str:
    """Upload to a fresh container; returns the relative location ``container/name``."""
    container = unique("adfemu")
    blobs.create_container(container)
    blobs.get_blob_client(container, name).upload_blob(data)
    return f"{container}/{name}"


def deadline_poll(check, timeout: float = 30.0, interval: float = 0.01):
    """Call ``check`` until it returns a truthy value or the deadline passes."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


@dataclass
class Aml:
    url: str
    emulator: object
    azurite: object

    def __post_init__(self):
        self.http = requests.Session()

    def connection_string(self, account: str = "devstoreaccount1") -> str:
        return self.azurite.connection_string(account)

    def runtime(self, endpoint_id: str, ws: str = WS) -> str:
        return f"{self.url}/workspaces/{ws}/services/{endpoint_id}"

    def mgmt(self, path: str = "", ws: str = WS) -> str:
        return f"{self.url}/workspaces/{ws}/webservices{path}"

    @staticmethod
    def auth(key: str) -> dict:
        return {"Authorization": f"Bearer {key}"}

    def submit(self, endpoint_id: str, key: str, body: dict, **kw) -> requests.Response:
        return self.http.post(f"{self.runtime(endpoint_id)}/jobs?api-version=2.0", json=body,
                              headers=self.auth(key), **kw)

    def start(self, endpoint_id: str, key: str, job_id: str, **kw) -> requests.Response:
        return self.http.post(f"{self.runtime(endpoint_id)}/jobs/{job_id}/start?api-version=2.0",
                              headers=self.auth(key), **kw)

    def status(self, endpoint_id: str, key: str, job_id: str) -> dict:
        r = self.http.get(f"{self.runtime(endpoint_id)}/jobs/{job_id}?api-version=2.0", headers=self.auth(key))
        assert r.status_code == 200, r.text
        return r.json()

    def run_job(self, endpoint_id: str, key: str, body: dict, timeout: float = 60) -> tuple[str, dict]:
        """Submit, start and poll to a terminal state; returns (job id, final status)."""
        r = self.submit(endpoint_id, key, body)
        assert r.status_code == 200, r.text
        job_id = r.json()
        assert self.start(endpoint_id, key, job_id).status_code == 200
        final = deadline_poll(lambda: (s := self.status(endpoint_id, key, job_id))["StatusCode"] in
                              ("Finished", "Failed", "Cancelled") and s, timeout)
        return job_id, final

    def train_body(self, relative: str, output: str | None = None, account: str = "devstoreaccount1") -> dict:
        cs = self.connection_string(account)
        body = {"Inputs": {"input1": {"ConnectionString": cs, "RelativeLocation": relative}},
                "Outputs": {}, "GlobalParameters": {}}
        if output:
            body["Outputs"]["output1"] = {"ConnectionString": cs, "RelativeLocation": output}
        return body

    def execute(self, endpoint_id: str, key: str, body: dict, query: str = "api-version=2.0&details=true"):
        return self.http.post(f"{self.runtime(endpoint_id)}/execute?{query}", json=body, headers=self.auth(key))

    def journal(self, path: str | None = None) -> list[dict]:
        return self.http.get(f"{self.url}/_emulator/requests", params={"path": path} if path else None).json()


def csv_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    import csv
    import io
    rows = list(csv.reader(io.StringIO(data.decode())))
    return rows[0], rows[1:]


def child_processes(pid: int) -> list[int]:
    """The pids of a process's children, from every one of its threads (Linux's /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def memory(pid: int | None) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process in MiB."""
    if pid is None:
        return {"rss": float("nan"), "peak": float("nan")}
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss": int(fields["VmRSS"].split()[0]) / 1024, "peak": int(fields["VmHWM"].split()[0]) / 1024}


def settled_memory(pid: int, still: float = 1.0, timeout: float = 60.0) -> dict[str, float]:
    """``memory`` once the resident size has not changed for ``still`` seconds: `adfemu serve` imports the storage
    SDK and numpy just after it answers, and idle means after that."""
    seen = {"last": memory(pid), "since": time.monotonic()}

    def settled() -> bool:
        now = memory(pid)
        if now["rss"] != seen["last"]["rss"]:
            seen.update(last=now, since=time.monotonic())
        return time.monotonic() - seen["since"] >= still

    deadline_poll(settled, timeout=timeout, interval=0.1)
    return seen["last"]
