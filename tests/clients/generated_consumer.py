"""A BES client that behaves like Microsoft's generated Python batch consumer.

Written for these tests (not a copy of the generated code), it keeps every wire-level habit that the
generated "Sample Code → Batch" Python 3 consumer has, because those habits are what the emulator
must tolerate:

- the input is uploaded with the storage SDK (here azure-storage-blob 12, against Azurite);
- the submit goes to ``{jobs_url}?api-version=2.0`` with ``Content-Type: application/json`` and
  ``Authorization: Bearer {key}``; every ``RelativeLocation`` has a **leading slash**
  (``"/" + container + "/" + blob``); the connection strings name only ``AccountName``/``AccountKey``
  (``DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…``); ``GlobalParameters`` is ``{}``;
- the job id is the response text minus its first and last character (no JSON decoding);
- the start call POSTs the body ``{}`` with the same headers;
- status is polled every ``poll_seconds`` (1 s in the generated code) and switched on ``StatusCode``
  given either as a number or a name; ``Failed`` prints ``"Error details: " + Details`` (a string
  concatenation: ``Details`` must be a string);
- on ``Finished`` each output in ``Results`` is downloaded from ``BaseLocation + RelativeLocation +
  SasBlobToken`` with a plain HTTP GET (urllib, no auth header, no storage SDK).

The generated code polls forever; ``timeout`` (seconds, optional) is the only addition, so a test can
never hang on it. It sends no DELETE, as the generated Python code does not.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from azure.storage.blob import BlobServiceClient

STATUS_NAMES = {0: "NotStarted", 1: "Running", 2: "Failed", 3: "Cancelled", 4: "Finished"}


class ConsumerTimeout(RuntimeError):
    """The job did not reach a terminal state within the caller's timeout."""


@dataclass
class BesRun:
    job_id: str
    final_status: dict
    statuses: list[str] = field(default_factory=list)
    outputs: dict[str, bytes] = field(default_factory=dict)   # output name -> downloaded bytes
    output_urls: dict[str, str] = field(default_factory=dict)  # output name -> the URL that was GET
    printed: list[str] = field(default_factory=list)           # what the generated code would print


def upload_file_to_blob(data: bytes, blob_name: str, container: str, blob_endpoint: str, account: str,
                        key: str) -> None:
    """The generated code's ``uploadFileToBlob``: the storage SDK with the account name and key."""
    service = BlobServiceClient(blob_endpoint, credential={"account_name": account, "account_key": key})
    container_client = service.get_container_client(container)
    if not container_client.exists():
        container_client.create_container()
    container_client.upload_blob(blob_name, data, overwrite=True)


def _request(url: str, headers: dict, body: bytes | None = None, method: str | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def invoke_batch_execution_service(*, jobs_url: str, api_key: str, storage_account_name: str,
                                   storage_account_key: str, blob_endpoint: str, storage_container_name: str,
                                   input_data: bytes, input_blob_name: str = "input1data.csv",
                                   outputs: dict[str, str] | None = None, poll_seconds: float = 1.0,
                                   timeout: float | None = None) -> BesRun:
    """Upload, submit, start, poll, download — the generated ``invokeBatchExecutionService``.

    ``jobs_url`` is the endpoint's ``…/services/{id}/jobs`` URL (the generated code's ``url``);
    ``outputs`` maps output port name -> blob name in the container (``{"output1": "output1results.ilearner"}``).
    ``blob_endpoint`` is only where the upload goes (Azure in the original; Azurite here).
    """
    printed: list[str] = []
    say = printed.append
    connection_string = ("DefaultEndpointsProtocol=https;AccountName=" + storage_account_name +
                         ";AccountKey=" + storage_account_key)
    say("Uploading the input to blob storage...")
    upload_file_to_blob(input_data, input_blob_name, storage_container_name, blob_endpoint, storage_account_name,
                        storage_account_key)

    payload = {
        "Inputs": {
            "input1": {"ConnectionString": connection_string,
                       "RelativeLocation": "/" + storage_container_name + "/" + input_blob_name},
        },
        "Outputs": {
            name: {"ConnectionString": connection_string,
                   "RelativeLocation": "/" + storage_container_name + "/" + blob}
            for name, blob in (outputs or {}).items()
        },
        "GlobalParameters": {},
    }
    body = str.encode(json.dumps(payload))
    headers = {"Content-Type": "application/json", "Authorization": ("Bearer " + api_key)}

    say("Submitting the job...")
    result = _request(jobs_url + "?api-version=2.0", headers, body).decode("utf-8")
    job_id = result[1:-1]  # remove the enclosing double quotes
    say("Job ID: " + job_id)

    say("Starting the job...")
    _request(jobs_url + "/" + job_id + "/start?api-version=2.0", headers, str.encode(json.dumps({})))

    status_url = jobs_url + "/" + job_id + "?api-version=2.0"
    deadline = None if timeout is None else time.monotonic() + timeout
    statuses: list[str] = []
    while True:
        say("Checking the job status...")
        status_body = json.loads(_request(status_url, {"Authorization": ("Bearer " + api_key)}).decode("utf-8"))
        status = status_body["StatusCode"]
        statuses.append(STATUS_NAMES.get(status, status) if isinstance(status, int) else status)
        if status == 0 or status == "NotStarted":
            say("Job " + job_id + " not yet started...")
        elif status == 1 or status == "Running":
            say("Job " + job_id + " running...")
        elif status == 2 or status == "Failed":
            say("Job " + job_id + " failed!")
            say("Error details: " + status_body["Details"])
            return BesRun(job_id, status_body, statuses, printed=printed)
        elif status == 3 or status == "Cancelled":
            say("Job " + job_id + " cancelled!")
            return BesRun(job_id, status_body, statuses, printed=printed)
        elif status == 4 or status == "Finished":
            say("Job " + job_id + " finished!")
            run = BesRun(job_id, status_body, statuses, printed=printed)
            process_results(status_body, run)
            return run
        if deadline is not None and time.monotonic() > deadline:
            raise ConsumerTimeout(f"job {job_id} still {status!r} after {timeout}s")
        time.sleep(poll_seconds)  # the generated code waits one second


def process_results(status_body: dict, run: BesRun) -> None:
    """The generated ``processResults``: for each output, ``base + relative + sas``, then a plain GET."""
    results = status_body["Results"]
    for output_name in results:
        location = results[output_name]
        sas_token = location["SasBlobToken"]
        base_url = location["BaseLocation"]
        relative_url = location["RelativeLocation"]
        run.printed.append("The results for " + output_name + " are available at the following Azure Storage "
                           "location:")
        run.printed.append("BaseLocation: " + base_url)
        run.printed.append("RelativeLocation: " + relative_url)
        run.printed.append("SasBlobToken: " + sas_token)
        url = base_url + relative_url + sas_token
        run.output_urls[output_name] = url
        run.outputs[output_name] = save_blob(url)


def save_blob(blob_url: str) -> bytes:
    """The generated ``saveBlobToFile`` without the file: ``urllib.request.urlopen(url).read()``."""
    try:
        with urllib.request.urlopen(blob_url, timeout=60) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"The request failed with status code: {error.code}: {error.read()[:500]!r}") from error
