"""Container and blob names are checked against Azure's naming rules before anything reaches storage: a name that
breaks them is refused in the API's envelope, nothing is written, and the container can still be listed."""
from __future__ import annotations

import pytest
import requests

from adfemu.emulator import names

from .arm_helpers import ws_id
from .helpers import PREDICTIVE, RESOURCE, TRAIN_CSV, TRAINING, TRAINING_KEY, UPDATABLE_KEY, UPDATABLE_NAME

ISSUE_CHARACTERS = ["\x00", "\x01", "\x08", "\x1f", "\ufffe", "\uffff"]  # accepted before, then listing failed


@pytest.mark.parametrize("name, problem", [
    ("abc", None), ("a-b-c", None), ("x" * 63, None), ("$root", None),
    ("ab", "3 to 63"), ("x" * 64, "3 to 63"), ("Abc", "lower-case"), ("a--b", "single hyphens"),
    ("-ab", "starts and ends"), ("ab-", "starts and ends"), ("a_b", "lower-case")])
def test_container_rules(name, problem):
    found = names.container_problem(name)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize("name, problem", [
    ("a.csv", None), ("dir/sub/a b é.csv", None), ("x" * 1024, None),
    ("x" * 1025, "at most 1024 characters"), ("a\x7fb", "U+007F"), ("a\x9fb", "U+009F"),
    ("../a.csv", "'.' or '..'"), ("a/./b.csv", "'.' or '..'"), ("/".join("a" * 255), "254 path segments")])
def test_blob_rules(name, problem):
    found = names.blob_problem(name)
    assert (found is None) if problem is None else (problem in found)


@pytest.fixture
def listed(aml, blobs):
    """A container holding the training data; ``listed()`` is its blob names (listing must keep working)."""
    container = blobs.get_container_client("blobnames")
    if not container.exists():
        container.create_container()
    container.upload_blob("train.csv", TRAIN_CSV, overwrite=True)
    return lambda: sorted(b.name for b in container.list_blobs())


def _submit(aml, output: str | None = None, source: str = "blobnames/train.csv"):
    body = aml.train_body(source, output)
    return aml.submit(TRAINING, TRAINING_KEY, body)


@pytest.mark.parametrize("char", ISSUE_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_each_blob_name_from_the_issue_is_refused_before_anything_is_written(aml, listed, char):
    before = listed()
    for output, source in ((f"blobnames/out{char}put.ilearner", "blobnames/train.csv"),
                           (None, f"blobnames/tra{char}in.csv")):
        r = _submit(aml, output, source)
        assert r.status_code == 400, r.text
        detail = r.json()["error"]["details"][0]
        assert r.json()["error"]["code"] == "BadArgument" and detail["code"] == "InvalidBlob"
        assert f"U+{ord(char):04X}" in detail["message"] and detail["target"] in ("output1", "input1")
    assert listed() == before  # nothing written, and the container still lists


@pytest.mark.parametrize("location, code, words", [
    ("blobnames/../escaped/model.ilearner", "InvalidBlob", "'.' or '..' path segments"),
    ("blobnames/" + "m" * 1025 + ".ilearner", "InvalidBlob", "at most 1024 characters"),
    ("BlobNames/model.ilearner", "ContainerSegmentInvalid", "Invalid container name."),
    ("ab/model.ilearner", "ContainerSegmentInvalid", "Invalid container name.")])
def test_names_breaking_azure_rules_are_refused_with_the_catalogue_code(aml, listed, location, code, words):
    before = listed()
    r = _submit(aml, location)
    detail = r.json()["error"]["details"][0]
    assert r.status_code == 400 and detail["code"] == code and words in detail["message"], r.text
    assert detail["target"] == "output1"
    assert listed() == before


def test_classic_patch_refuses_a_bad_blob_name(aml):
    r = requests.patch(aml.mgmt(f"/{PREDICTIVE}/endpoints/{UPDATABLE_NAME}"), headers=aml.auth(UPDATABLE_KEY),
                       json={"Resources": [{"Name": RESOURCE, "Location": {
                           "BaseLocation": "http://127.0.0.1:10000/devstoreaccount1/",
                           "RelativeLocation": "models/new\x00model.ilearner", "SasBlobToken": "?sv=x"}}]})
    assert r.status_code == 400
    detail = r.json()["error"]["details"][0]
    assert detail["code"] == "InvalidBlob" and detail["target"] == RESOURCE and "U+0000" in detail["message"]


def test_arm_fails_the_operation_for_a_bad_blob_name(arm):
    token = arm.token()
    body = {"properties": {"packageType": "Graph", "assets": {"asset1": {
        "name": RESOURCE, "type": "Resource",
        "locationInfo": {"uri": "https://devstoreaccount1.blob.core.windows.net/models/a%00b.ilearner"}}}}}
    r = arm.request("PATCH", ws_id(), token, body=body)
    assert r.status_code == 200, r.text
    status = arm.wait(r, token)
    assert status["status"] == "Failed" and status["error"]["code"] == "InvalidTrainedModel"
    assert "U+0000" in status["error"]["message"]
