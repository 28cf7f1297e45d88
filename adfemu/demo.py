"""`make demo`: the seed retraining scenario, end to end, offline.

Starts Azurite and the emulator, then makes the calls that the seed pipeline
(LookupPipelineDemo) makes: the Batch Execution job of ``amlBEGetilearner`` on the training
web service, then ``amlUpdateResource``'s PATCH of the predictive service's non-default
endpoint; finally it scores through that endpoint before and after. The published pipeline's
extension-less paths are tried first and fail exactly as on the real service.

(The ADF runner, `adfemu run`, executes the pipeline definition itself; until it lands this
demo issues the same HTTP calls directly.)
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas
from rich.console import Console
from rich.table import Table

from emulator.azurite import DEV_ACCOUNT, DEV_KEY
from emulator.config import load
from emulator.server import start_stack

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CONTAINER = "azuremltesting"
RESOURCE = "ADFV2Sample Model [trained model]"
console = Console(highlight=False)


def main() -> int:
    config = load(FIXTURES / "seed-emulator.json")
    ws = config.document["workspaces"][0]
    training, predictive = ws["webServices"]
    updatable = predictive["endpoints"][1]
    console.rule("[bold]adfemu demo: retrain and update an AML Studio (classic) model, offline")
    stack = start_stack(config)
    try:
        console.print(f"emulator  {stack.url}\nstorage   {stack.emulator.store.azurite_url} (Azurite, in memory)")
        api = Api(stack.url, ws["id"])
        storage = BlobServiceClient.from_connection_string(
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint={stack.emulator.store.azurite_url}/{DEV_ACCOUNT};")
        storage.create_container(CONTAINER)
        storage.get_blob_client(CONTAINER, "input/train.csv").upload_blob((FIXTURES / "data" / "train.csv").read_bytes())
        cs = f"DefaultEndpointsProtocol=https;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY}"
        key = training["endpoints"][0]["primaryKey"]

        console.rule("1. amlBEGetilearner as published (FilePath without extensions)")
        published = {"Inputs": {"input1": ref(cs, "azuremltesting/input"), "input2": ref(cs, "azuremltesting/input")},
                     "Outputs": {"output1": ref(cs, "azuremltesting/output")}, "GlobalParameters": {}}
        r = api.post(f"/services/{training['id']}/jobs?api-version=2.0", key, published)
        error = r.json()["error"]
        console.print(f"HTTP {r.status_code}: [red]{error['message']} {error['details'][0]['message']}[/red]")
        console.print("(the real service answered the same; ADF reports it as error 2600)")

        console.rule("2. amlBEGetilearner with file extensions: train on 342 rows")
        fixed = {"Inputs": {"input1": ref(cs, "azuremltesting/input/train.csv")},
                 "Outputs": {"output1": ref(cs, "azuremltesting/output/newModelForArm.ilearner")}}
        started = time.monotonic()
        status = api.run_job(training["id"], key, fixed)
        console.print(f"job {status['StatusCode']} in {time.monotonic() - started:.2f}s; "
                      f"output1 -> {status['Results']['output1']['RelativeLocation']}")
        if status["StatusCode"] != "Finished":
            console.print(f"[red]{status['Details']}[/red]")
            return 1

        columns, rows = read_csv((FIXTURES / "data" / "score.csv").read_text())
        sample = rows[:5]
        before = api.score(updatable["id"], updatable["primaryKey"], columns, sample)

        console.rule("3. amlUpdateResource: PATCH the non-default endpoint with the new .ilearner")
        sas = generate_blob_sas(DEV_ACCOUNT, CONTAINER, "output/newModelForArm.ilearner", account_key=DEV_KEY,
                                permission=BlobSasPermissions(read=True),
                                expiry=datetime.now(timezone.utc) + timedelta(hours=1))
        patch = {"Resources": [{"Name": RESOURCE, "Location": {
            "BaseLocation": f"https://{DEV_ACCOUNT}.blob.core.windows.net/",
            "RelativeLocation": "azuremltesting/output/newModelForArm.ilearner", "SasBlobToken": f"?{sas}"}}]}
        r = requests.patch(f"{stack.url}/workspaces/{ws['id']}/webservices/{predictive['id']}/endpoints/"
                           f"{updatable['name']}", json=patch, headers=bearer(updatable["primaryKey"]), timeout=30)
        console.print(f"PATCH -> HTTP {r.status_code}")
        if not r.ok:
            console.print(f"[red]{r.text}[/red]")
            return 1

        console.rule("4. Scoring through the updated endpoint (request-response)")
        after = api.score(updatable["id"], updatable["primaryKey"], columns, sample)
        table = Table("row", "bmi", "before retraining", "after retraining")
        for i, (b, a) in enumerate(zip(before, after)):
            table.add_row(str(i), sample[i][columns.index("bmi")][:8], f"{float(b):.2f}", f"{float(a):.2f}")
        console.print(table)
        changed = sum(1 for b, a in zip(before, after) if b != a)
        console.print(f"[green]done:[/green] {changed} of {len(sample)} scores changed after Update Resource")
        return 0 if changed else 1
    finally:
        stack.close()


class Api:
    def __init__(self, url: str, ws: str):
        self.base = f"{url}/workspaces/{ws}"
        self.http = requests.Session()

    def post(self, path: str, key: str, body: dict | None = None) -> requests.Response:
        return self.http.post(self.base + path, json=body, headers=bearer(key), timeout=30)

    def run_job(self, service: str, key: str, body: dict, timeout: float = 120) -> dict:
        job = self.post(f"/services/{service}/jobs?api-version=2.0", key, body)
        job.raise_for_status()
        job_id = job.json()
        self.post(f"/services/{service}/jobs/{job_id}/start?api-version=2.0", key, {}).raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.http.get(f"{self.base}/services/{service}/jobs/{job_id}?api-version=2.0",
                                   headers=bearer(key), timeout=30).json()
            if status["StatusCode"] in ("Finished", "Failed", "Cancelled"):
                return status
            time.sleep(0.05)
        raise TimeoutError(f"job {job_id} did not finish within {timeout}s")

    def score(self, endpoint: str, key: str, columns: list[str], rows: list[list[str]]) -> list[str]:
        r = self.post(f"/services/{endpoint}/execute?api-version=2.0&details=true", key,
                      {"Inputs": {"input1": {"ColumnNames": columns, "Values": rows}}, "GlobalParameters": {}})
        r.raise_for_status()
        return [row[-1] for row in r.json()["Results"]["output1"]["value"]["Values"]]


def ref(connection_string: str, relative: str) -> dict:
    return {"ConnectionString": connection_string, "RelativeLocation": relative}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    import csv
    import io
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


if __name__ == "__main__":
    sys.exit(main())
