"""`make demo`: the seed retraining pipeline, end to end, offline.

1. Start Azurite and the emulator (``fixtures/seed-emulator.json``) and upload the training data.
2. Run ``LookupPipelineDemo`` from ``fixtures/seed-factory-corrected`` with the runner: the BES
   activity trains a model on the training web service, Update Resource pushes the ``.ilearner``
   into the predictive service's non-default endpoint (classic flavour).
3. Score a few rows through that endpoint before and after: the predictions change.
4. Run the pipeline as published (its BES paths have no file extension): it fails on
   ``amlBEGetilearner`` with the error ADF showed users, and ``amlUpdateResource`` is Skipped.
5. Run it once more from ``fixtures/seed-factory-arm``, whose ``updatableScoringEndpoint2`` is the ARM
   flavour as published: Update Resource gets an Azure AD token for the linked service's service
   principal and patches the web service ``myWebService`` through Resource Manager (all over HTTPS with
   a local CA); scoring through that service's RRS endpoint changes too.

6. Then the hourly example (``fixtures/retrain-hourly``, zero-config): its tumbling-window trigger runs three
   hourly windows one after the other; each stages that hour's SQL rows (SQLite) and landed files, retrains,
   updates the scoring endpoint and records the model version; the predictions change after each window.

Exit 0 only when every outcome is as expected.
"""
from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import requests

import adfemu
from adfemu import progress
from adfemu.console import say

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PIPELINE = "LookupPipelineDemo"


def main() -> int:
    corrected = adfemu.load(FIXTURES / "seed-factory-corrected")
    arm_flavour = adfemu.load(FIXTURES / "seed-factory-arm")
    published = _with_published_pipeline()
    _title("adfemu demo: retrain and update an AML Studio (classic) model, offline")
    with adfemu.start(config=FIXTURES / "seed-emulator.json", https=True) as env:
        say(f"emulator {env.url} (dashboard: {env.url}/_emulator/), storage {env.storage_url} (Azurite)")
        env.upload_folder(FIXTURES / "seed-data")
        columns, rows = _score_rows()
        http = _Trusting(env.ca_bundle)
        before = _score(env, corrected, columns, rows)
        arm_before = _score_arm(http, env.url, columns, rows)

        _title(f"{PIPELINE} (seed, paths corrected)")
        run = _run(env, corrected)
        after = _score(env, corrected, columns, rows)
        _predictions("predictions of the updated endpoint", before, after)
        corrected_ok = run.status == "Succeeded" and before != after

        _title(f"{PIPELINE} as published")
        failed = _run(env, published)
        bes, update = failed.activity("amlBEGetilearner"), failed.activity("amlUpdateResource")
        say("why: AML requires a file extension on BES blobs (.csv/.tsv/.arff, .ilearner for the model); the "
            "published FilePaths have none.")
        published_ok = (failed.status == "Failed" and "InvalidBlobExtension" not in bes.error["message"]
                        and "has an invalid or missing file extension" in bes.error["message"]
                        and update.status == "Skipped")

        _title(f"{PIPELINE} with the ARM flavour of updatableScoringEndpoint2 (as published)")
        arm_run = _run(env, arm_flavour)
        arm_after = _score_arm(http, env.url, columns, rows)
        _predictions("predictions of the ARM web service myWebService (RRS)", arm_before, arm_after)
        arm_ok = arm_run.status == "Succeeded" and arm_before != arm_after and arm_after == after
    hourly_ok = _hourly(columns, rows)
    ok = corrected_ok and published_ok and arm_ok and hourly_ok
    say("demo passed" if ok else "demo failed: an outcome was not as expected")
    return 0 if ok else 1


HOURLY = FIXTURES / "retrain-hourly"
WINDOWS = ("2024-06-01T00:00:00Z", "2024-06-01T01:00:00Z", "2024-06-01T02:00:00Z", "2024-06-01T03:00:00Z")


def _hourly(columns: list[str], rows: list[list[str]]) -> bool:
    """Three hourly windows of the tumbling-window trigger, one at a time, scoring after each."""
    _title("retrain-hourly: the tumbling-window trigger HourlyRetrainWindow over three hours")
    factory = adfemu.load(HOURLY)
    scored: list[list[float]] = []
    statuses = []
    with adfemu.start(factory, sql={"TelemetryDatabase": HOURLY / "telemetry.sql"}) as env:
        env.upload_folder(FIXTURES / "retrain-hourly-data", factory.storage_account())
        for start, end in zip(WINDOWS, WINDOWS[1:]):
            result = env.run_trigger(factory, "HourlyRetrainWindow", start, end)
            window = result.trigger_runs[0]
            copied = [a.output.get("rowsCopied") for a in result.runs[-1].activity_runs("MergeStaging")]
            say(f"window {window['properties']['WindowStartTime']}: {window['status']}, trained on {copied[-1]} rows "
                f"(run {result.runs[-1].run_id})")
            statuses.append(window["status"])
            scored.append([float(r["Scored Labels"]) for r in env.score(
                factory, "ScoringService", [dict(zip(columns, row)) for row in rows])])
        patches = [e for e in env.requests("management") if e["method"] == "PATCH"]
    say("predictions of the scoring endpoint after each window:")
    say(f"  {'row':>3}  " + "  ".join(f"{'after ' + w[11:16]:>12}" for w in WINDOWS[:3]))
    for i, values in enumerate(zip(*scored)):
        say(f"  {i:>3}  " + "  ".join(f"{v:>12.2f}" for v in values))
    say(f"{len(patches)} model updates (PATCH) reached the scoring endpoint")
    changing = all(a != b for a, b in zip(scored, scored[1:]))
    return statuses == ["Succeeded"] * 3 and len(patches) == 3 and changing


def _run(env: adfemu.Environment, factory: adfemu.Factory) -> adfemu.RunResult:
    """A run with live progress on a terminal (plain lines otherwise), then its status and errors in full."""
    reporter = progress.for_stream()
    with reporter if isinstance(reporter, progress.LiveProgress) else nullcontext():
        result = env.run(factory, PIPELINE, listener=reporter)
    reporter.finish(result.record)
    return result


def _title(text: str) -> None:
    say("")
    say(f"== {text} ==")


def _predictions(title: str, before: list[float], after: list[float]) -> None:
    say(f"{title}:")
    say(f"  {'row':>3}  {'before':>10}  {'after':>10}")
    for i, (b, a) in enumerate(zip(before, after)):
        say(f"  {i:>3}  {b:>10.2f}  {a:>10.2f}")


def _with_published_pipeline() -> adfemu.Factory:
    """The corrected factory's linked services with the pipeline exactly as published."""
    linked = sorted((FIXTURES / "seed-factory-corrected" / "linkedService").glob("*.json"))
    return adfemu.load([*linked, FIXTURES / "seed-factory" / "pipeline" / f"{PIPELINE}.json"])


def _score_rows() -> tuple[list[str], list[list[str]]]:
    import csv
    import io
    rows = list(csv.reader(io.StringIO((FIXTURES / "data" / "score.csv").read_text())))
    return rows[0], rows[1:6]


class _Trusting(requests.Session):
    """A session that trusts the emulator's CA on every request (REQUESTS_CA_BUNDLE would override a
    session-wide ``verify``)."""

    def __init__(self, ca_bundle: str | None):
        super().__init__()
        self.ca_bundle = ca_bundle

    def request(self, *args, **kwargs):
        kwargs.setdefault("verify", self.ca_bundle or True)
        return super().request(*args, **kwargs)


def _score(env: adfemu.Environment, factory: adfemu.Factory, columns: list[str], rows: list[list[str]]) -> list[float]:
    """Through the endpoint behind the linked service that Update Resource updates."""
    scored = env.score(factory, "updatableScoringEndpoint2", [dict(zip(columns, row)) for row in rows])
    return [float(row["Scored Labels"]) for row in scored]


def _score_arm(http: requests.Session, url: str, columns: list[str], rows: list[list[str]]) -> list[float]:
    """As a consumer of a new-style web service does: a token for the service principal, listKeys through
    Resource Manager, then RRS at /subscriptions/{sub}/services/{id}/execute in the swagger format."""
    import json
    config = json.loads((FIXTURES / "seed-emulator.json").read_text())
    principal = config["azureAd"]["tenants"][0]["servicePrincipals"][0]
    service = next(s for s in config["workspaces"][0]["webServices"] if s.get("arm"))
    arm = service["arm"]
    token = http.post(f"{url}/mycompany.com/oauth2/token", timeout=30, data={
        "grant_type": "client_credentials", "client_id": principal["clientId"], "client_secret": principal["secret"],
        "resource": "https://management.azure.com/"}).json()["access_token"]
    resource = (f"/subscriptions/{arm['subscriptionId']}/resourceGroups/{arm['resourceGroup']}/providers/"
                f"Microsoft.MachineLearning/webServices/{arm['name']}")
    keys = http.get(f"{url}{resource}/listKeys?api-version=2016-05-01-preview", timeout=30,
                    headers={"Authorization": f"Bearer {token}"}).json()
    r = http.post(f"{url}/subscriptions/{arm['subscriptionId']}/services/{service['id']}/execute"
                  "?api-version=2.0&format=swagger", timeout=30, headers={"Authorization": f"Bearer {keys['primary']}"},
                  json={"Inputs": {"input1": [dict(zip(columns, row)) for row in rows]}, "GlobalParameters": {}})
    r.raise_for_status()
    return [float(row["Scored Labels"]) for row in r.json()["Results"]["output1"]]


if __name__ == "__main__":
    sys.exit(main())
