"""`adfemu serve --state DIR` survives kill -9: every acknowledged job, model update and ARM resource is there after
a restart with the same DIR; jobs that were running come back Failed with Details. Real processes, real Azurite."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from .arm_helpers import RG, SEED_SP, SUB, ws_id
from . import conftest
from .conftest import FIXTURES, ROOT
from .helpers import (PREDICTIVE, RESOURCE, SCORE_CSV, SLOW, SLOW_KEY, TRAIN_CSV, TRAINING, TRAINING_KEY, UPDATABLE,
                      UPDATABLE_KEY, UPDATABLE_NAME, WS, csv_rows, deadline_poll)

DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
FINISHED, RUNNING, NOT_STARTED = 20, 25, 5  # 50 acknowledged jobs at the kill


class Serve:
    """`adfemu serve --state DIR` as a real process; ``url`` and ``storage`` from its banner."""

    def __init__(self, config: Path, state: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "adfemu.cli", "serve", "--config", str(config),
                                      "--state", str(state), "--port", "0"], cwd=ROOT, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env={**os.environ, "TMPDIR": str(state.parent)})  # what a kill leaves stays there
        for line in self.proc.stdout:
            if m := re.match(r"adfemu emulator listening on (\S+)", line):
                self.url = m.group(1)
            if m := re.match(r"storage: (\S+)", line):
                self.storage = m.group(1)
            if line.startswith("health:"):
                break
        else:
            raise AssertionError(f"adfemu serve exited early with {self.proc.wait(10)}")
        self.output: list[str] = []  # drained, so that its log lines never fill the pipe and block it
        threading.Thread(target=lambda: self.output.extend(self.proc.stdout), daemon=True).start()
        self.health = requests.get(f"{self.url}/_emulator/health", timeout=10).json()
        self.azurite_pid = self.health["storage"]["pid"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.communicate(timeout=60)
        if not _gone(self.azurite_pid):  # normally gone with its parent
            _kill_group(self.azurite_pid)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _gone(pid: int) -> bool:
    """Exited (a zombie counts: an orphan may wait for a reaper)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.fixture
def served(tmp_path):
    """Starts `adfemu serve` processes on one state folder; each is stopped (and its Azurite) at the end."""
    document = conftest.test_document()
    for ws in document["workspaces"]:
        for svc in ws["webServices"]:
            for res in svc.get("resources", []):
                res["model"] = str(FIXTURES / res["model"])
    config = tmp_path / "emulator.json"
    config.write_text(json.dumps(document))
    started: list[Serve] = []

    def start() -> Serve:
        started.append(Serve(config, tmp_path / "state"))
        return started[-1]
    yield start, tmp_path / "state"
    for serve in started:
        serve.stop()


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _train_body(storage: str, output: str | None) -> dict:
    cs = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};BlobEndpoint={storage}/devstoreaccount1;"
    body = {"Inputs": {"input1": {"ConnectionString": cs, "RelativeLocation": "restart/train.csv"}}, "Outputs": {}}
    if output:
        body["Outputs"]["output1"] = {"ConnectionString": cs, "RelativeLocation": output}
    return body


def _submit(s: Serve, service: str, key: str, body: dict, start: bool = True) -> str:
    r = requests.post(f"{s.url}/workspaces/{WS}/services/{service}/jobs?api-version=2.0", json=body,
                      headers=_auth(key), timeout=30)
    assert r.status_code == 200, r.text
    if start:
        started = requests.post(f"{s.url}/workspaces/{WS}/services/{service}/jobs/{r.json()}/start?api-version=2.0",
                                headers=_auth(key), timeout=30)
        assert started.status_code == 200, started.text
    return r.json()


def _status(s: Serve, service: str, key: str, job: str) -> dict:
    r = requests.get(f"{s.url}/workspaces/{WS}/services/{service}/jobs/{job}?api-version=2.0", headers=_auth(key),
                     timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _scores(s: Serve) -> list[str]:
    columns, rows = csv_rows(SCORE_CSV)
    body = {"Inputs": {"input1": {"ColumnNames": columns, "Values": rows[:10]}}, "GlobalParameters": {}}
    r = requests.post(f"{s.url}/workspaces/{WS}/services/{UPDATABLE}/execute?api-version=2.0", json=body,
                      headers=_auth(UPDATABLE_KEY), timeout=30)
    assert r.status_code == 200, r.text
    return [row[-1] for row in r.json()["Results"]["output1"]["value"]["Values"]]


def _arm(s: Serve, method: str, path: str, token: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, s.url + path, params={"api-version": "2016-05-01-preview"}, json=body,
                            headers=_auth(token), timeout=30)


def _before_the_kill(s: Serve) -> dict:
    """Jobs, a model update, ARM resources; returns what the restarted emulator must still show."""
    blobs = f"{s.storage}/devstoreaccount1"
    from azure.storage.blob import BlobServiceClient
    client = BlobServiceClient(blobs, credential={"account_name": "devstoreaccount1", "account_key": DEV_KEY})
    client.create_container("restart").upload_blob("train.csv", TRAIN_CSV)
    finished = [_submit(s, TRAINING, TRAINING_KEY, _train_body(s.storage, f"restart/model{i}.ilearner"))
                for i in range(FINISHED)]
    done = {j: deadline_poll(lambda j=j: (st := _status(s, TRAINING, TRAINING_KEY, j))["StatusCode"] == "Finished"
                             and st, timeout=120) for j in finished}
    result = done[finished[0]]["Results"]["output1"]
    location = {k: result[k] for k in ("BaseLocation", "RelativeLocation", "SasBlobToken")}
    initial = _scores(s)
    patched = requests.patch(f"{s.url}/workspaces/{WS}/webservices/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}",
                             json={"Resources": [{"Name": RESOURCE, "Location": location}]},
                             headers=_auth(UPDATABLE_KEY), timeout=30)
    assert patched.status_code == 200, patched.text
    updated = _scores(s)
    assert updated != initial
    token = requests.post(f"{s.url}/{SEED_SP.tenant}/oauth2/token", timeout=30, data={
        "grant_type": "client_credentials", "client_id": SEED_SP.client_id, "client_secret": SEED_SP.secret,
        "resource": "https://management.azure.com/"}).json()["access_token"]
    created = _arm(s, "PUT", ws_id("restartService"), token, {
        "location": "South Central US", "tags": {"kept": "yes"},
        "properties": {"packageType": "Graph", "title": "made before the kill", "assets": {}}})
    assert created.status_code == 201, created.text
    running = [_submit(s, SLOW, SLOW_KEY, _train_body(s.storage, None)) for _ in range(RUNNING)]
    waiting = [_submit(s, TRAINING, TRAINING_KEY, _train_body(s.storage, f"restart/late{i}.ilearner"), start=False)
               for i in range(NOT_STARTED)]
    assert all(_status(s, SLOW, SLOW_KEY, j)["StatusCode"] == "Running" for j in running)
    return {"finished": finished, "running": running, "waiting": waiting, "scores": updated, "token": token,
            "last_write": time.time()}


def _after_the_restart(s: Serve, before: dict, *, same_process: bool = False) -> None:
    for job in before["finished"]:
        status = _status(s, TRAINING, TRAINING_KEY, job)
        assert status["StatusCode"] == "Finished", status
        out = status["Results"]["output1"]
        blob = requests.get(out["BaseLocation"] + out["RelativeLocation"] + out["SasBlobToken"], timeout=30)
        assert blob.status_code == 200 and b'"format"' in blob.content[:200], blob.text[:200]
    interrupted = 0
    for job in before["running"]:
        status = _status(s, SLOW, SLOW_KEY, job)
        if same_process:  # only storage restarted: a job runs on (or has ended), or failed naming storage
            assert status["StatusCode"] in ("Running", "Finished") or "storage at" in (status["Details"] or ""), \
                status
        else:  # never stuck: Failed naming the interruption, or Finished if it ended before the kill (slow machine)
            assert status["StatusCode"] == "Finished" or (
                status["StatusCode"] == "Failed" and "interrupted" in status["Details"]), status
            interrupted += status["StatusCode"] == "Failed"
    assert same_process or interrupted > 0
    for job in before["waiting"]:
        assert _status(s, TRAINING, TRAINING_KEY, job)["StatusCode"] == "NotStarted"
    late = before["waiting"][0]  # an acknowledged job can still be started
    assert requests.post(f"{s.url}/workspaces/{WS}/services/{TRAINING}/jobs/{late}/start?api-version=2.0",
                         headers=_auth(TRAINING_KEY), timeout=30).status_code == 200
    if not same_process:  # (in the same process it waits behind the slow jobs for the 4 job workers)
        deadline_poll(lambda: _status(s, TRAINING, TRAINING_KEY, late)["StatusCode"] == "Finished", timeout=60)
    assert _scores(s) == before["scores"]  # the PATCHed model still scores
    kept = _arm(s, "GET", ws_id("restartService"), before["token"])  # the token from before the kill still works
    assert kept.status_code == 200, kept.text
    assert kept.json()["tags"] == {"kept": "yes"} and kept.json()["properties"]["title"] == "made before the kill"
    listed = _arm(s, "GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearning/webServices",
                  before["token"])
    assert listed.status_code == 200
    journal = requests.get(f"{s.url}/_emulator/requests", params={"api": "management"}, timeout=30).json()
    assert any(e["method"] == "PATCH" for e in journal)  # the journal too


@pytest.mark.parametrize("killed", ["serve", "serve and Azurite", "Azurite under a running serve"])
def test_kill_9_while_50_jobs_run_then_restart_finds_everything(served, killed):
    start, state = served
    first = start()
    before = _before_the_kill(first)
    if "Azurite" in killed:
        # Azurite saves its blob index every 5 s; a SIGKILL loses what came after the last save (docs/emulator.md)
        index = state / "azurite" / "__azurite_db_blob__.json"
        deadline_poll(lambda: index.exists() and index.stat().st_mtime > before["last_write"], timeout=30, interval=0.2)
        _kill_group(first.azurite_pid)
    if killed == "Azurite under a running serve":  # the watchdog restarts it
        health = deadline_poll(lambda: (h := requests.get(f"{first.url}/_emulator/health", timeout=10).json())
                               ["storage"]["restarts"] == 1 and h, timeout=60, interval=0.1)
        assert any("Azurite exited (status -9) and was restarted" in line for line in first.output), first.output
        assert health["status"] == "ok" and health["storage"]["dataKept"] is True, health
        _after_the_restart(first, before, same_process=True)
        return
    first.proc.kill()
    first.proc.communicate(timeout=30)
    deadline_poll(lambda: _gone(first.azurite_pid), timeout=30, interval=0.05)
    second = start()
    assert second.health["state"]["schemaVersion"] == 1
    _after_the_restart(second, before)
