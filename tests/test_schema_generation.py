"""schemas/adf.schema.json and the adf-<kind>.schema.json entry files: fresh, well-formed, and faithful to the spec.

The spec (ADF REST spec 2018-06-01, Swagger 2.0) is vendored in ``vendor/adf-rest-spec`` (see its SOURCE.md);
the generator is ``tools/generate_schemas.py``.
Validation here is the schema as written (strict): leniency (case-insensitive names, plain strings as
secrets, ...) belongs to the walker, not to these files.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from .vendored import VENDOR, load_tool

generate = load_tool("generate_schemas")

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
SPEC = VENDOR / "adf-rest-spec"
EXAMPLES = SPEC / "examples"

GENERATED = [generate.MAIN_FILE] + [f"adf-{kind}.schema.json" for kind in generate.ENTRY_POINTS] + [
    f"arm-webservice-{version}.schema.json" for version in ("2016-05-01-preview", "2017-01-01")]



@lru_cache(maxsize=None)
def committed(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def registry() -> Registry:
    """Every generated file under its $id; no retrieve function, so nothing is ever fetched remotely."""
    return Registry().with_resources(
        (committed(name)["$id"], Resource.from_contents(committed(name))) for name in GENERATED)


@lru_cache(maxsize=None)
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(committed(f"adf-{kind}.schema.json"), registry=registry())


def errors(kind: str, document) -> list:
    return list(validator(kind).iter_errors(document))


# ---------------------------------------------------------------------------------------------------------------
# 1. the committed output is what the generator produces now


def test_committed_schemas_are_fresh(tmp_path):
    assert generate.main(["--spec", str(SPEC), "--out", str(tmp_path), "--quiet"]) == 0
    fresh = sorted(p.name for p in tmp_path.iterdir())
    assert fresh == sorted(GENERATED)
    stale = [name for name in fresh
             if not (SCHEMAS / name).is_file() or (SCHEMAS / name).read_bytes() != (tmp_path / name).read_bytes()]
    assert not stale, f"stale generated schemas {stale}: run `python tools/generate_schemas.py` and commit the result"
    leftovers = sorted({p.name for p in [*SCHEMAS.glob("adf*.schema.json"), *SCHEMAS.glob("arm-*.schema.json")]}
                       - set(GENERATED))
    assert not leftovers, f"schemas/ holds generated-looking files the generator no longer writes: {leftovers}"


def test_check_mode_reports_stale_output(tmp_path):
    assert generate.main(["--spec", str(SPEC), "--out", str(tmp_path), "--check", "--quiet"]) == 1
    assert not any(tmp_path.iterdir())
    assert generate.main(["--spec", str(SPEC), "--out", str(tmp_path), "--quiet"]) == 0
    assert generate.main(["--spec", str(SPEC), "--out", str(tmp_path), "--check", "--quiet"]) == 0


def test_name_conflicts_are_reported_and_resolved_by_file_order(tmp_path):
    (tmp_path / "entityTypes").mkdir()
    (tmp_path / "datafactory.json").write_text(json.dumps({"definitions": {
        "Same": {"type": "object", "properties": {"x": {"$ref": "#/definitions/Same"}}}}}))
    (tmp_path / "entityTypes" / "A.json").write_text(json.dumps({"definitions": {
        "Same": {"type": "object", "properties": {"x": {"$ref": "../datafactory.json#/definitions/Same"}}},
        "Dup": {"type": "string"}}}))
    (tmp_path / "entityTypes" / "B.json").write_text(json.dumps({"definitions": {"Dup": {"type": "integer"}}}))
    notes: list[str] = []
    definitions, origin = generate.load_definitions(tmp_path, notes)
    assert origin == {"Same": "datafactory.json", "Dup": "entityTypes/A.json"}
    assert definitions["Dup"] == {"type": "string"}
    assert notes == ["name conflict: definition 'Dup' differs between entityTypes/A.json and entityTypes/B.json; "
                     "kept the one from entityTypes/A.json (first in file order)"]


# ---------------------------------------------------------------------------------------------------------------
# 2. well-formed, and within the output contract


@pytest.mark.parametrize("name", GENERATED)
def test_is_a_valid_draft_2020_12_schema(name):
    Draft202012Validator.check_schema(committed(name))


VOCABULARY = {"type", "properties", "required", "additionalProperties", "items", "enum", "const", "$ref", "allOf",
              "anyOf", "if", "then", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength",
              "pattern", "description", "x-adfemu-dfe", "x-adfemu-secret", "x-adfemu-open-enum",
              "x-adfemu-discriminator"}


def subschemas(node, path="#"):
    """(path, schema) for ``node`` and every schema below it."""
    yield path, node
    for key in ("properties",):
        for name, sub in node.get(key, {}).items():
            yield from subschemas(sub, f"{path}/{key}/{name}")
    for key in ("items", "additionalProperties", "if", "then"):
        if isinstance(node.get(key), dict):
            yield from subschemas(node[key], f"{path}/{key}")
    for key in ("allOf", "anyOf"):
        for i, sub in enumerate(node.get(key, [])):
            yield from subschemas(sub, f"{path}/{key}/{i}")


def test_main_schema_follows_the_contract():
    main = committed(generate.MAIN_FILE)
    assert main["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert main["$id"] == "https://adfemu.local/schemas/adf.schema.json"
    defs = main["$defs"]
    assert defs["ExpressionString"] == {**defs["ExpressionString"], "type": "string", "pattern": "^@"}
    for name, schema in defs.items():
        for path, node in subschemas(schema, f"#/$defs/{name}"):
            assert set(node) <= VOCABULARY, (path, set(node) - VOCABULARY)
            if "$ref" in node:
                assert node["$ref"].startswith("#/$defs/") and node["$ref"][8:] in defs, path
            if ("if" in node or "then" in node) and not name.endswith(".fields"):
                assert "x-adfemu-discriminator" in schema, path
            if "x-adfemu-dfe" in node:
                literal, *rest = node["anyOf"]
                assert literal == generate.DFE_LITERALS.get(node["x-adfemu-dfe"], {}), path
                assert rest[-2:] == [{"$ref": "#/$defs/ExpressionString"}, {"$ref": "#/$defs/Expression"}], path
            if "x-adfemu-open-enum" in node:
                assert "enum" in node, path
        dispatch = schema.get("x-adfemu-discriminator")
        if dispatch:
            prop = dispatch["property"]
            assert schema["allOf"][0] == {"$ref": f"#/$defs/{name}.fields"}
            branches = {b["if"]["properties"][prop]["const"]: b["then"]["$ref"][8:] for b in schema["allOf"][1:]}
            assert branches == dispatch["mapping"]
            own = defs[f"{name}.fields"]["properties"].get(prop, {})
            assert set(own) <= {"type", "description"}, f"{name}.{prop}: unknown values must pass"
            for value, sub in branches.items():
                assert defs[sub]["properties"][prop] == {"const": value}, sub


def test_activity_dispatch_is_transitive_and_acyclic():
    defs = committed(generate.MAIN_FILE)["$defs"]
    mapping = defs["Activity"]["x-adfemu-discriminator"]["mapping"]
    assert mapping["Copy"] == "CopyActivity"          # Copy extends ExecutionActivity extends Activity
    assert mapping["AzureMLUpdateResource"] == "AzureMLUpdateResourceActivity"
    assert mapping["Execution"] == "ExecutionActivity" and mapping["Container"] == "ControlActivity"
    assert len(mapping) == 41
    assert defs["CopyActivity"]["allOf"] == [{"$ref": "#/$defs/ExecutionActivity.fields"}]
    assert defs["ExecutionActivity.fields"]["allOf"] == [{"$ref": "#/$defs/Activity.fields"}]
    # no $ref chain from a ".fields" composition or a subtype leads back to a dispatching definition via allOf
    for name, schema in defs.items():
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            for part in defs[current].get("allOf", []):
                target = part.get("$ref", "#/$defs/")[8:]
                if target and target not in seen:
                    assert target != name, f"allOf cycle through {name}"
                    seen.add(target)
                    todo.append(target)
    assert defs["AzureMLLinkedServiceTypeProperties"]["properties"]["apiKey"] == {
        **defs["AzureMLLinkedServiceTypeProperties"]["properties"]["apiKey"],
        "$ref": "#/$defs/SecretBase", "x-adfemu-secret": True}


@pytest.mark.parametrize("kind, resource", sorted(generate.ENTRY_POINTS.items()))
def test_entry_files_are_thin(kind, resource):
    assert committed(f"adf-{kind}.schema.json") == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://adfemu.local/schemas/adf-{kind}.schema.json",
        "$ref": f"adf.schema.json#/$defs/{resource}",
    }


# ---------------------------------------------------------------------------------------------------------------
# 3. behaviour on documents

REF = {"type": "LinkedServiceReference"}


def seed_pipeline() -> dict:
    """The seed document's LookupPipelineDemo, with linkedServiceName/filePath spelled as the spec spells them."""
    def port(path):
        return {"linkedServiceName": {"referenceName": "StorageLinkedService", **REF}, "filePath": path}

    policy = {"timeout": "7.00:00:00", "retry": 0, "retryIntervalInSeconds": 30, "secureOutput": False,
              "secureInput": False}
    return {
        "name": "LookupPipelineDemo",
        "properties": {
            "activities": [
                {
                    "name": "amlBEGetilearner",
                    "type": "AzureMLBatchExecution",
                    "dependsOn": [],
                    "policy": dict(policy),
                    "userProperties": [],
                    "typeProperties": {
                        "webServiceInputs": {"input1": port("azuremltesting/input")},
                        "webServiceOutputs": {"output1": port("azuremltesting/output")},
                    },
                    "linkedServiceName": {"referenceName": "trainingEndpoint", **REF},
                },
                {
                    "name": "amlUpdateResource",
                    "type": "AzureMLUpdateResource",
                    "dependsOn": [{"activity": "amlbeGetilearner", "dependencyConditions": ["Succeeded"]}],
                    "policy": dict(policy),
                    "userProperties": [],
                    "typeProperties": {
                        "trainedModelName": "ADFV2Sample Model [trained model]",
                        "trainedModelLinkedServiceName": {"referenceName": "StorageLinkedService", **REF},
                        "trainedModelFilePath": "azuremltesting/output/newModelForArm.ilearner",
                    },
                    "linkedServiceName": {"referenceName": "updatableScoringEndpoint2", **REF},
                },
            ],
        },
    }


def test_seed_pipeline_is_accepted():
    assert errors("pipeline", seed_pipeline()) == []


def test_seed_pipeline_as_published_is_rejected_at_the_misspelt_keys():
    doc = seed_pipeline()
    port = doc["properties"]["activities"][0]["typeProperties"]["webServiceInputs"]["input1"]
    port["LinkedServiceName"] = port.pop("linkedServiceName")
    found = errors("pipeline", doc)
    assert [list(e.absolute_path) for e in found] == [
        ["properties", "activities", 0, "typeProperties", "webServiceInputs", "input1"]]
    assert found[0].validator == "required" and "'linkedServiceName'" in found[0].message


def test_update_resource_without_trained_model_file_path_is_rejected_at_its_type_properties():
    doc = seed_pipeline()
    del doc["properties"]["activities"][1]["typeProperties"]["trainedModelFilePath"]
    found = errors("pipeline", doc)
    assert found
    best = best_match(found)
    assert list(best.absolute_path) == ["properties", "activities", 1, "typeProperties"]
    assert best.validator == "required" and "'trainedModelFilePath'" in best.message
    assert all(list(e.absolute_path)[:3] == ["properties", "activities", 1] for e in found)


def test_unknown_activity_type_is_not_a_schema_error():
    doc = seed_pipeline()
    doc["properties"]["activities"].append({"name": "later", "type": "DatabricksJob", "typeProperties": {"x": 1},
                                            "dependsOn": [{"activity": "amlUpdateResource",
                                                           "dependencyConditions": ["Succeeded"]}]})
    assert errors("pipeline", doc) == []


def test_known_activity_type_still_checks_the_common_envelope():
    doc = seed_pipeline()
    doc["properties"]["activities"].append({"type": "DatabricksJob"})
    assert [e.message for e in errors("pipeline", doc)] == ["'name' is a required property"]


@pytest.mark.parametrize("retry, ok", [
    (3, True),
    ("@pipeline().parameters.n", True),
    ({"type": "Expression", "value": "@x"}, True),
    ([1], False),
    ("3", False),            # a string that is not an expression is not an integer (leniency is the walker's)
    ({"value": "@x"}, False),
])
def test_dfe_int_property(retry, ok):
    doc = seed_pipeline()
    doc["properties"]["activities"][0]["policy"]["retry"] = retry
    found = errors("pipeline", doc)
    assert (found == []) == ok, [e.message for e in found]
    if not ok:
        assert [list(e.absolute_path) for e in found] == [["properties", "activities", 0, "policy", "retry"]]


def azureml_linked_service(api_key) -> dict:
    return {
        "name": "trainingEndpoint",
        "properties": {
            "type": "AzureML",
            "typeProperties": {
                "mlEndpoint": "https://ussouthcentral.services.azureml.net/workspaces/0000/services/1111/jobs",
                "apiKey": api_key,
            },
        },
    }


@pytest.mark.parametrize("api_key, ok", [
    ({"type": "SecureString", "value": "abc=="}, True),
    ({"type": "AzureKeyVaultSecret", "store": {"referenceName": "kv", **REF}, "secretName": "aml-key"}, True),
    ({"type": "SecureString"}, False),       # value is required
    ("abc==", False),                        # the seed document's plain string: leniency is the walker's job
])
def test_azureml_linked_service_api_key(api_key, ok):
    found = errors("linkedService", azureml_linked_service(api_key))
    assert (found == []) == ok, [e.message for e in found]


def test_schema_keeps_spec_casing_strict():
    doc = seed_pipeline()
    doc["properties"]["parameters"] = {"n": {"type": "int"}}
    assert [e.validator for e in errors("pipeline", doc)] == ["enum"]


@pytest.mark.parametrize("secret, ok", [
    ({"type": "SecureString", "value": "pw"}, True),
    ({"type": "SecureString"}, False),                              # SecureString's own required
    ({"value": "pw"}, False),                                       # SecretBase's required "type"
    ({"type": "AzureKeyVaultSecret", "store": {"referenceName": "kv", **REF}, "secretName": "s"}, False),  # pinned
])
def test_subtype_referenced_directly_validates_completely(secret, ok):
    """IntegrationRuntimeSsisCatalogInfo.catalogAdminPassword refers to SecureString itself, not SecretBase."""
    check = Draft202012Validator({"$ref": "adf.schema.json#/$defs/IntegrationRuntimeSsisCatalogInfo",
                                  "$id": "https://adfemu.local/schemas/probe.json"}, registry=registry())
    found = list(check.iter_errors({"catalogAdminPassword": secret}))
    assert (found == []) == ok, [e.message for e in found]


def test_unknown_discriminator_values_pass_where_the_spec_has_an_enum():
    ir = {"name": "ir", "properties": {"type": "Serverless", "typeProperties": {}}}
    assert errors("integrationRuntime", ir) == []
    ir["properties"]["type"] = "SelfHosted"
    assert errors("integrationRuntime", ir) == []


# ---------------------------------------------------------------------------------------------------------------
# 4. the spec's own request examples

EXAMPLE_BODIES = {  # example file prefix -> (request parameter holding the body, entry kind)
    "Pipelines_": ("pipeline", "pipeline"),
    "LinkedServices_": ("linkedService", "linkedService"),
    "Datasets_": ("dataset", "dataset"),
    "Triggers_": ("trigger", "trigger"),
    "DataFlows_": ("dataFlow", "dataflow"),
    "IntegrationRuntimes_": ("integrationRuntime", "integrationRuntime"),
    "Factories_": ("factory", "factory"),
    "Credentials_": ("credential", "credential"),
    "ManagedVirtualNetworks_": ("managedVirtualNetwork", "managedVirtualNetwork"),
    "ManagedPrivateEndpoints_": ("managedPrivateEndpoint", "managedPrivateEndpoint"),
    "GlobalParameters_": ("default", "globalParameters"),
}

# examples the strict schema rejects, and why (strict xfail: the test fails once they pass, so this list stays true)
KNOWN_REJECTED: dict[str, str] = {}  # every entity example validates (secret objects in dfe-strings included)


def example_bodies() -> list:
    cases = []
    for path in sorted(EXAMPLES.glob("*.json")):
        for prefix, (parameter, kind) in EXAMPLE_BODIES.items():
            if not path.name.startswith(prefix):
                continue
            body = json.loads(path.read_text(encoding="utf-8")).get("parameters", {}).get(parameter)
            if isinstance(body, dict):
                marks = [pytest.mark.xfail(reason=KNOWN_REJECTED[path.name], strict=True)] \
                    if path.name in KNOWN_REJECTED else []
                cases.append(pytest.param(path.name, kind, body, id=path.name, marks=marks))
    return cases


@pytest.mark.parametrize("example, kind, body", example_bodies())
def test_spec_request_example_validates(example, kind, body):
    found = errors(kind, body)
    assert found == [], [(list(e.absolute_path), e.message[:300]) for e in found]


def test_example_coverage():
    covered = {param.id for param in example_bodies()}
    for needed in ("Pipelines_Create.json", "LinkedServices_Create.json", "Datasets_Create.json",
                   "Triggers_Create.json"):
        assert needed in covered
