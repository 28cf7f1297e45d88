"""Batch Execution jobs API, as the public clients and Microsoft's generated sample code use it (Microsoft Learn:
"How to consume a Machine Learning Studio (classic) web service"; error texts from "Azure Machine Learning Studio
(classic) REST API Error Codes")."""
from __future__ import annotations

import pytest
import requests

from adfemu.emulator.experiments import ilearner

from .helpers import (PARAMS, PARAMS_KEY, SLOW, SLOW_KEY, SUBSCRIPTION, TRAIN_CSV, TRAINING, TRAINING_KEY,
                      CUSTOM_ACCOUNT, deadline_poll, unique, upload)


def test_submit_returns_quoted_job_id_and_job_is_not_started(aml, blobs):
    body = aml.train_body(upload(blobs, TRAIN_CSV))
    r = aml.submit(TRAINING, TRAINING_KEY, body)
    assert r.status_code == 200
    assert r.text.startswith('"') and r.text.endswith('"')
    assert r.headers["Content-Type"].startswith("application/json")
    assert aml.status(TRAINING, TRAINING_KEY, r.json())["StatusCode"] == "NotStarted"


def test_subscription_route_serves_the_same_jobs(aml, blobs):
    body = aml.train_body(upload(blobs, TRAIN_CSV))
    base = f"{aml.url}/subscriptions/{SUBSCRIPTION}/services/{TRAINING}"
    job_id = requests.post(f"{base}/jobs?api-version=2.0", json=body, headers=aml.auth(TRAINING_KEY)).json()
    assert requests.post(f"{base}/jobs/{job_id}/start?api-version=2.0", headers=aml.auth(TRAINING_KEY)).ok
    # the job is visible through the workspace form too: one endpoint, two URL shapes
    final = deadline_poll(lambda: aml.status(TRAINING, TRAINING_KEY, job_id)["StatusCode"] == "Finished")
    assert final
    via_sub = requests.get(f"{base}/jobs/{job_id}?api-version=2.0", headers=aml.auth(TRAINING_KEY)).json()
    assert via_sub["StatusCode"] == "Finished"


@pytest.mark.parametrize("how", ["no body", "empty object"])
def test_start_accepts_no_body_and_empty_object(aml, blobs, how):
    job_id = aml.submit(SLOW, SLOW_KEY, aml.train_body(upload(blobs, TRAIN_CSV))).json()
    assert aml.status(SLOW, SLOW_KEY, job_id)["StatusCode"] == "NotStarted"
    url = f"{aml.runtime(SLOW)}/jobs/{job_id}/start?api-version=2.0"
    r = (requests.post(url, headers=aml.auth(SLOW_KEY)) if how == "no body"
         else requests.post(url, json={}, headers=aml.auth(SLOW_KEY)))
    assert r.status_code == 200
    assert aml.status(SLOW, SLOW_KEY, job_id)["StatusCode"] == "Running"
    again = aml.start(SLOW, SLOW_KEY, job_id)
    assert again.status_code == 400
    error = again.json()["error"]
    assert error["code"] == "InvalidOperation"
    assert error["details"][0] == {"code": "CannotStartJob",
                                   "message": "The job cannot be started because it is in Running state."}


def test_status_code_is_a_string_and_results_null_until_finished(aml, blobs):
    job_id = aml.submit(SLOW, SLOW_KEY, aml.train_body(upload(blobs, TRAIN_CSV))).json()
    before = aml.status(SLOW, SLOW_KEY, job_id)
    assert before["StatusCode"] == "NotStarted" and "Results" in before and before["Results"] is None
    assert before["Details"] is None and before["StartTime"] is None
    aml.start(SLOW, SLOW_KEY, job_id)
    running = aml.status(SLOW, SLOW_KEY, job_id)
    assert running["StatusCode"] == "Running" and running["Results"] is None and running["Details"] is None
    assert isinstance(running["StatusCode"], str) and running["StartTime"]


def test_finished_results_form_a_readable_azurite_url(aml, blobs):
    relative = upload(blobs, TRAIN_CSV)
    output = f"{relative.split('/')[0]}/models/model.ilearner"
    _, final = aml.run_job(TRAINING, TRAINING_KEY, aml.train_body(relative, output))
    assert final["StatusCode"] == "Finished" and final["Details"] is None
    result = final["Results"]["output1"]
    assert result["ConnectionString"] is None
    assert result["BaseLocation"].startswith("http") and result["BaseLocation"].endswith("/")
    assert result["RelativeLocation"] == output and not result["RelativeLocation"].startswith("/")
    assert result["SasBlobToken"].startswith("?")
    downloaded = requests.get(result["BaseLocation"] + result["RelativeLocation"] + result["SasBlobToken"])
    assert downloaded.status_code == 200
    model = ilearner.loads(downloaded.content)
    assert model.label == "target" and model.algorithm == "LinearRegression"
    container, blob = output.split("/", 1)
    assert blobs.get_blob_client(container, blob).download_blob().readall() == downloaded.content


def test_results_without_output_override_point_at_service_storage(aml, blobs):
    _, final = aml.run_job(TRAINING, TRAINING_KEY, aml.train_body(upload(blobs, TRAIN_CSV)))
    result = final["Results"]["output1"]
    assert result["RelativeLocation"].endswith(".ilearner")
    data = requests.get(result["BaseLocation"] + result["RelativeLocation"] + result["SasBlobToken"]).content
    assert ilearner.loads(data).features[0] == "age"


def test_failed_job_has_string_details(aml, blobs):
    bad = upload(blobs, b"a,b,label\nx,y,1\nz,w,0\n")
    _, final = aml.run_job(TRAINING, TRAINING_KEY, {
        "Inputs": {"input1": {"ConnectionString": aml.connection_string(), "RelativeLocation": bad}}})
    assert final["StatusCode"] == "Failed"
    assert isinstance(final["Details"], str) and final["Details"]
    assert final["Results"] is None


def test_delete_cancels_running_job_and_removes_finished(aml, blobs):
    job_id = aml.submit(SLOW, SLOW_KEY, aml.train_body(upload(blobs, TRAIN_CSV))).json()
    aml.start(SLOW, SLOW_KEY, job_id)
    url = f"{aml.runtime(SLOW)}/jobs/{job_id}?api-version=2.0"
    assert requests.delete(url, headers=aml.auth(SLOW_KEY)).status_code == 200
    assert aml.status(SLOW, SLOW_KEY, job_id)["StatusCode"] == "Cancelled"
    assert aml.emulator.jobs.wait_idle(5), "the cancelled job's worker must stop at once"

    finished_id, final = aml.run_job(TRAINING, TRAINING_KEY, aml.train_body(upload(blobs, TRAIN_CSV)))
    assert final["StatusCode"] == "Finished"
    finished_url = f"{aml.runtime(TRAINING)}/jobs/{finished_id}?api-version=2.0"
    assert requests.delete(finished_url, headers=aml.auth(TRAINING_KEY)).status_code == 200


@pytest.mark.parametrize("slash", ["", "/"])
def test_leading_slash_relative_locations_resolve_to_the_same_blob(aml, blobs, slash):
    relative = upload(blobs, TRAIN_CSV)
    out = f"{relative.split('/')[0]}/out/m.ilearner"
    body = aml.train_body(slash + relative, slash + out)
    _, final = aml.run_job(TRAINING, TRAINING_KEY, body)
    assert final["StatusCode"] == "Finished"
    assert final["Results"]["output1"]["RelativeLocation"] == out
    container, blob = out.split("/", 1)
    assert blobs.get_blob_client(container, blob).exists()


def test_sas_mode_references_work(aml, blobs):
    from datetime import datetime, timedelta, timezone
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas
    from adfemu.emulator.azurite import DEV_ACCOUNT, DEV_KEY

    relative = upload(blobs, TRAIN_CSV)
    container = relative.split("/")[0]
    sas = generate_container_sas(DEV_ACCOUNT, container, account_key=DEV_KEY,
                                 permission=ContainerSasPermissions(read=True, write=True, create=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    base = f"https://{DEV_ACCOUNT}.blob.core.windows.net/"  # the cloud name: mapped to Azurite
    body = {"Inputs": {"input1": {"BaseLocation": base, "RelativeLocation": relative, "SasBlobToken": "?" + sas}},
            "Outputs": {"output1": {"BaseLocation": base, "RelativeLocation": f"{container}/sas/m.ilearner",
                                    "SasBlobToken": "?" + sas}}}
    _, final = aml.run_job(TRAINING, TRAINING_KEY, body)
    assert final["StatusCode"] == "Finished", final
    assert blobs.get_blob_client(container, "sas/m.ilearner").exists()


def test_account_name_and_key_only_connection_string_maps_to_azurite(aml, azurite):
    from azure.storage.blob import BlobServiceClient
    from .helpers import CUSTOM_KEY
    custom = BlobServiceClient.from_connection_string(azurite.connection_string(CUSTOM_ACCOUNT))
    relative = upload(custom, TRAIN_CSV)
    cs = f"DefaultEndpointsProtocol=https;AccountName={CUSTOM_ACCOUNT};AccountKey={CUSTOM_KEY}"
    body = {"Inputs": {"input1": {"ConnectionString": cs, "RelativeLocation": relative}},
            "Outputs": {"output1": {"ConnectionString": cs, "RelativeLocation": relative + ".ilearner"}}}
    _, final = aml.run_job(TRAINING, TRAINING_KEY, body)
    assert final["StatusCode"] == "Finished", final
    assert f"/{CUSTOM_ACCOUNT}/" in final["Results"]["output1"]["BaseLocation"]


def test_legacy_single_input_is_accepted(aml, blobs):
    body = {"Input": {"ConnectionString": aml.connection_string(), "RelativeLocation": upload(blobs, TRAIN_CSV)}}
    _, final = aml.run_job(TRAINING, TRAINING_KEY, body)
    assert final["StatusCode"] == "Finished"


def test_input_and_inputs_together_are_rejected(aml, blobs):
    ref = {"ConnectionString": aml.connection_string(), "RelativeLocation": upload(blobs, TRAIN_CSV)}
    r = aml.submit(TRAINING, TRAINING_KEY, {"Input": ref, "Inputs": {"input1": ref}})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "BadArgument"
    assert r.json()["error"]["details"][0]["code"] == "DuplicateInputInBatchCall"


@pytest.mark.parametrize("port, location, expected", [
    ("input1", "azuremltesting/input", ".csv, .tsv, .arff"),
    ("output1", "azuremltesting/output", ".ilearner"),
    ("output1", "azuremltesting/output/model.csv", ".ilearner"),
])
def test_missing_or_wrong_extension_is_invalid_blob_extension(aml, blobs, port, location, expected):
    body = aml.train_body(upload(blobs, TRAIN_CSV), "c/out.ilearner")
    target = body["Inputs"] if port.startswith("input") else body["Outputs"]
    target[port]["RelativeLocation"] = location
    r = aml.submit(TRAINING, TRAINING_KEY, body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "BadArgument" and error["message"] == "Invalid argument provided."
    assert error["details"][0]["code"] == "InvalidBlobExtension"
    assert error["details"][0]["message"] == (
        f'The blob reference: {location} has an invalid or missing file extension. '
        f'Supported file extensions for this output type are: "{expected}".')


def test_seed_pipeline_paths_fail_like_the_real_service(aml):  # MicrosoftDocs/azure-docs#32354's message
    cs = aml.connection_string()
    body = {"Inputs": {"input1": {"ConnectionString": cs, "RelativeLocation": "azuremltesting/input"},
                       "input2": {"ConnectionString": cs, "RelativeLocation": "azuremltesting/input"}},
            "Outputs": {"output1": {"ConnectionString": cs, "RelativeLocation": "azuremltesting/output"}}}
    error = aml.submit(TRAINING, TRAINING_KEY, body).json()["error"]
    assert f"{error['message']} {error['details'][0]['message']}" == (
        'Invalid argument provided. The blob reference: azuremltesting/input has an invalid or missing file '
        'extension. Supported file extensions for this output type are: ".csv, .tsv, .arff".')


def test_unknown_input_name_and_missing_blob(aml, blobs):
    cs = aml.connection_string()
    r = aml.submit(TRAINING, TRAINING_KEY, {"Inputs": {"input1": {"ConnectionString": cs, "RelativeLocation": "c/a.csv"},
                                                        "trainingData": {"ConnectionString": cs, "RelativeLocation": "c/a.csv"}}})
    assert r.status_code == 400
    detail = r.json()["error"]["details"][0]
    assert detail["code"] == "InvalidInputNames"
    assert detail["message"] == ("Invalid service input name(s) specified in the request: trainingData. Please map the "
                                 "input data to the correct service inputs and try again.")
    missing = f"{unique('adfemu')}/nothing.csv"
    r = aml.submit(TRAINING, TRAINING_KEY, aml.train_body(missing))
    assert r.status_code == 400
    detail = r.json()["error"]["details"][0]
    assert detail["code"] == "BlobNotFound"
    assert detail["message"].startswith(f"Unable to access the provided Azure blob - {missing}. Azure error message:")


def test_global_parameters_declared_required_and_unexpected(aml, blobs):
    relative = upload(blobs, TRAIN_CSV)
    body = aml.train_body(relative)
    missing = aml.submit(PARAMS, PARAMS_KEY, body).json()["error"]
    assert (missing["code"], missing["details"][0]["code"]) == ("BadUserArgument", "MissingRequiredGlobalParameters")
    body["GlobalParameters"] = {"Required one": 3, "Unknown": "x"}
    unexpected = aml.submit(PARAMS, PARAMS_KEY, body).json()["error"]
    assert unexpected["details"][0]["code"] == "UnexpectedParameter"
    body["GlobalParameters"] = {"Required one": 3}
    _, final = aml.run_job(PARAMS, PARAMS_KEY, body)
    assert final["StatusCode"] == "Finished"
    evaluation = requests.get("".join(final["Results"]["evaluation"][k] for k in
                                      ("BaseLocation", "RelativeLocation", "SasBlobToken"))).text
    assert evaluation.splitlines()[0] == "Mean Absolute Error,Root Mean Squared Error,Coefficient of Determination"


def test_status_of_a_finished_job_mints_a_fresh_sas(aml, blobs):
    job_id, final = aml.run_job(TRAINING, TRAINING_KEY, aml.train_body(upload(blobs, TRAIN_CSV)))
    later = aml.status(TRAINING, TRAINING_KEY, job_id)
    assert later["Results"]["output1"]["RelativeLocation"] == final["Results"]["output1"]["RelativeLocation"]
    assert later["Results"]["output1"]["SasBlobToken"].startswith("?")


def test_missing_api_version_is_taken_as_2_0_and_a_wrong_one_rejected(aml, blobs):
    body = aml.train_body(upload(blobs, TRAIN_CSV))
    assert requests.post(f"{aml.runtime(TRAINING)}/jobs", json=body, headers=aml.auth(TRAINING_KEY)).status_code == 200
    r = requests.post(f"{aml.runtime(TRAINING)}/jobs?api-version=1.0", json=body, headers=aml.auth(TRAINING_KEY))
    assert r.status_code == 400 and r.json()["error"]["details"][0]["code"] == "BadVersionCall"


def test_tight_polling_does_not_starve_the_job(aml, blobs):
    """A client polling with no delay at all still sees the job finish promptly."""
    r = aml.submit(TRAINING, TRAINING_KEY, aml.train_body(upload(blobs, TRAIN_CSV)))
    job_id = r.json()
    aml.start(TRAINING, TRAINING_KEY, job_id)
    polls = 0
    while True:
        polls += 1
        status = aml.status(TRAINING, TRAINING_KEY, job_id)["StatusCode"]
        if status != "Running":
            break
        assert polls < 5000, "job did not finish under tight polling"
    assert status == "Finished"
