"""The API body schemas in schemas/ are valid and the emulator checks request bodies against them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from adfemu import schemas

from .helpers import TRAIN_CSV, TRAINING, TRAINING_KEY, upload

SCHEMA_DIR = Path(schemas.__file__).parent


@pytest.mark.parametrize("name", ["aml-bes-submit", "aml-rrs-request", "aml-classic-patch", "emulator-config"])
def test_schema_is_valid_draft_2020_12(name):
    Draft202012Validator.check_schema(json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text()))


@pytest.mark.parametrize("name, body, ok", [
    ("aml-bes-submit", {"Inputs": {"input1": {"ConnectionString": "x", "RelativeLocation": "c/a.csv"}},
                        "GlobalParameters": {"a": "1", "b": 2, "c": True}}, True),
    ("aml-bes-submit", {"Inputs": {"input1": {"ConnectionString": 5, "RelativeLocation": "c/a.csv"}}}, False),
    ("aml-rrs-request", {"Inputs": {"input1": {"ColumnNames": ["a"], "Values": [["1"], [2]]}}}, True),
    ("aml-rrs-request", {"Inputs": {"input1": [{"a": 1}, {"a": "x"}]}}, True),
    ("aml-rrs-request", {"Inputs": {"input1": {"ColumnNames": ["a"], "Values": [{"x": 1}]}}}, False),
    ("aml-classic-patch", {"Resources": [{"Name": "M", "Location": {"BaseLocation": "b", "RelativeLocation": "r",
                                                                      "SasBlobToken": "?s"}}]}, True),
    ("aml-classic-patch", {"Resources": []}, False),
])
def test_bodies(name, body, ok):
    assert (schemas.first_problem(body, name) is None) == ok


def test_the_emulator_refuses_what_the_schema_refuses(aml, blobs):
    """A reference the catalogue's rules accept (SAS mode) but whose ConnectionString is a number."""
    relative = upload(blobs, TRAIN_CSV)
    body = aml.train_body(relative)
    ref = body["Inputs"]["input1"]
    ref.update(ConnectionString=5, BaseLocation="https://devstoreaccount1.blob.core.windows.net/", SasBlobToken="?sig=x")
    r = aml.submit(TRAINING, TRAINING_KEY, body)
    assert r.status_code == 400
    detail = r.json()["error"]["details"][0]
    assert detail["code"] == "RequestBodyInvalid" and detail["target"] == "/Inputs/input1/ConnectionString"


REFERENCE = Path(__file__).resolve().parents[1] / "vendor" / "arm-machinelearning"


@pytest.mark.parametrize("version", ["2016-05-01-preview", "2017-01-01"])
def test_arm_webservice_schema_accepts_the_spec_examples_and_refuses_a_wrong_body(version):
    schema = json.loads((SCHEMA_DIR / f"arm-webservice-{version}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    bodies = [body for example in sorted((REFERENCE / version / "examples").glob("*.json"))
              for body in json.loads(example.read_text()).get("parameters", {}).values()
              if isinstance(body, dict) and "properties" in body and "location" in body]
    assert all(not list(validator.iter_errors(body)) for body in bodies)
    assert list(validator.iter_errors({"location": "x", "properties": {"packageType": "Graph", "assets": []}}))


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                         st.sampled_from(["Inputs", "Outputs", "GlobalParameters", "input1", "ColumnNames", "Values",
                                          "ConnectionString", "RelativeLocation", "Resources", "Name", "Location",
                                          "BaseLocation", "SasBlobToken", "x"]), inner, max_size=4),
                     max_leaves=12)


@pytest.mark.parametrize("name", ["aml-bes-submit", "aml-rrs-request", "aml-classic-patch"])
@settings(max_examples=150, deadline=None)
@given(body=_JSON)
def test_the_fast_decider_agrees_with_the_explaining_validator(name, body):
    """Request bodies are decided by jsonschema-rs and explained by jsonschema: both must agree."""
    assert schemas.decider(name).is_valid(body) == (not list(schemas.validator(name).iter_errors(body)))


def _property_names(node) -> set[str]:
    if isinstance(node, dict):
        names = set(node.get("properties", {})) if isinstance(node.get("properties"), dict) else set()
        return names.union(*(_property_names(v) for v in node.values()))
    return set().union(*(_property_names(v) for v in node)) if isinstance(node, list) else set()


_CONFIG_KEYS = sorted(_property_names(json.loads((SCHEMA_DIR / "emulator-config.schema.json").read_text())))
_CONFIG_LIKE = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                st.sampled_from(_CONFIG_KEYS), inner, max_size=5), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(document=st.dictionaries(st.sampled_from(_CONFIG_KEYS), _CONFIG_LIKE, max_size=4))
def test_configs_are_decided_as_the_explaining_validator_would(document):
    """A config is decided by jsonschema-rs (a valid one never imports jsonschema) and explained by jsonschema."""
    assert schemas.decider("emulator-config").is_valid(document) == \
        (not list(schemas.validator("emulator-config").iter_errors(document)))
