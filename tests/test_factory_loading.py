"""Loading factories (runner.factory) and reading JSON with positions (runner.jsontext).

The corpus is vendor/real-adf-definitions (see its SOURCE.md: 159 files, 3 repos);
git layout and ARM export: https://learn.microsoft.com/azure/data-factory/source-control and
https://learn.microsoft.com/azure/data-factory/continuous-integration-delivery; the seed's raw TAB: the published
seed's AzureML linked service has one inside ``mlEndpoint``.
"""
from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adfemu.runner import factory as factory_module
from adfemu.runner.factory import (MAX_FILE_BYTES, LoadedFactory, LoadError, arm_entity_name, find_roots, guess_kind,
                            load_paths)
from adfemu.runner.jsontext import JsonTextError, decode, parse
from adfemu.schemas.entities import Factory

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "vendor" / "real-adf-definitions"
SEED_WITH_TAB = ROOT / "fixtures" / "seed-factory" / "linkedService" / "AzureMLLinkedService.json"  # verbatim

ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
ARM_TYPE = {"pipeline": "pipelines", "linkedService": "linkedServices", "dataset": "datasets",
            "trigger": "triggers", "dataflow": "dataflows", "integrationRuntime": "integrationRuntimes",
            "credential": "credentials", "managedVirtualNetwork": "managedVirtualNetworks"}

# A hand-written pipeline; the expected positions below were counted by hand.
PIPELINE = """{
  "name": "p1",
  "properties": {
    "activities": [
      {
        "name": "Wait1",
        "type": "Wait",
        "typeProperties": {"waitTimeInSeconds": 1}
      }
    ],
    "description": "a\tb"
  }
}
"""
PIPELINE_POSITIONS = {
    "": (1, 1),
    "/name": (2, 11),
    "/properties": (3, 17),
    "/properties/activities": (4, 19),
    "/properties/activities/0": (5, 7),
    "/properties/activities/0/name": (6, 17),
    "/properties/activities/0/type": (7, 17),
    "/properties/activities/0/typeProperties": (8, 27),
    "/properties/activities/0/typeProperties/waitTimeInSeconds": (8, 49),
    "/properties/description": (11, 20),
    # pointers that do not exist: the deepest existing ancestor
    "/properties/activities/0/dependsOn": (5, 7),
    "/properties/activities/0/dependsOn/0/activity": (5, 7),
    "/properties/activities/7": (4, 19),
    "/properties/activities/-": (4, 19),
    "/nothing": (1, 1),
}
TAB_AT = (11, 22)  # the raw TAB in "a<TAB>b"


def one_line(error: Exception) -> str:
    text = str(error)
    assert "\n" not in text and "\r" not in text and "Traceback" not in text, text
    return text


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def kinds(factories) -> Counter:
    return Counter(e.kind for f in factories for e in f.entities)


# --- the corpus ----------------------------------------------------------------------------------

def test_corpus_loads_into_one_factory_per_root_with_159_entities():
    factories = load_paths([str(CORPUS)])
    roots = sorted(os.path.relpath(f.root, CORPUS) for f in factories)
    assert roots == ["azure-data-services-go-fast-codebase/solution/DataFactory/ADF",
                     "azure-data-services-go-fast-codebase/solution/DataFactory/Templates",
                     "azure.datafactory.tools/test/BigFactorySample2",
                     "procfwk/DataFactory"]
    assert all(isinstance(f, Factory) and f.layout == "git" for f in factories)
    # SOURCE.md: 75 pipelines, 41 datasets, 24 linked services, 6 triggers, 3 data flows, 6 IRs, 4 factory files
    assert kinds(factories) == Counter(pipeline=75, dataset=41, linkedService=24, trigger=6, dataflow=3,
                                       integrationRuntime=6, factory=4)
    assert sum(len(f.entities) for f in factories) == 159
    assert [x for f in factories for x in f.findings] == []  # no raw control characters, no bad files
    for f in factories:
        assert set(f.positions) == {e.source for e in f.entities}
        for e in f.entities:
            assert e.pointer_prefix == ""
            assert e.document == json.loads(Path(e.source).read_text(encoding="utf-8"))
            name, stem = e.document.get("name"), Path(e.source).stem
            # a template file named with a {placeholder} is known by its file name (the "name" inside is stale)
            assert e.name == (stem if "{" in stem or not name else name)


def test_corpus_repos_load_one_by_one_and_shape_rules_agree_with_folders():
    per_repo = {p.name: load_paths([str(p)]) for p in sorted(CORPUS.iterdir()) if p.is_dir()}
    assert {name: len(fs) for name, fs in per_repo.items()} == {
        "azure-data-services-go-fast-codebase": 2, "azure.datafactory.tools": 1, "procfwk": 1}
    assert sum(len(f.entities) for fs in per_repo.values() for f in fs) == 159
    # the shape rules used for loose files classify every corpus file as its folder does
    everything = [e for fs in per_repo.values() for f in fs for e in f.entities]
    assert [(e.source, e.kind) for e in everything if guess_kind(e.document) != e.kind] == []


def test_corpus_files_given_one_by_one_form_one_factory():
    files = sorted(str(p) for p in (CORPUS / "procfwk" / "DataFactory").rglob("*.json"))
    [loose] = load_paths(files)
    assert loose.layout == "files"
    assert loose.root == str(CORPUS / "procfwk" / "DataFactory")
    assert kinds([loose]) == Counter(pipeline=18, linkedService=3, dataset=1, trigger=1, integrationRuntime=1,
                                     factory=1)


# --- ARM template export ---------------------------------------------------------------------------

def arm_template(git: LoadedFactory, factory_name: str = "myFactory") -> dict:
    resources = []
    for e in git.entities:
        if e.kind == "factory":
            resources.append({"name": "[parameters('factoryName')]", "type": "Microsoft.DataFactory/factories",
                              "apiVersion": "2018-06-01", "location": "[parameters('location')]",
                              "properties": e.document.get("properties", {})})
            factory_name = e.name
            continue
        resources.append({
            "name": f"[concat(parameters('factoryName'), '/{e.name}')]",
            "type": f"Microsoft.DataFactory/factories/{ARM_TYPE[e.kind]}",
            "apiVersion": "2018-06-01",
            "properties": e.document["properties"],
            "dependsOn": ["[concat(variables('factoryId'), '/linkedServices/x')]"],
        })
    return {"$schema": ARM_SCHEMA, "contentVersion": "1.0.0.0",
            "parameters": {"factoryName": {"type": "string", "metadata": "Data Factory name",
                                           "defaultValue": factory_name},
                           "location": {"type": "string", "defaultValue": "westeurope"}},
            "variables": {"factoryId": "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]"},
            "resources": resources}


@pytest.mark.parametrize("root", ["azure.datafactory.tools/test/BigFactorySample2", "procfwk/DataFactory",
                                  "azure-data-services-go-fast-codebase/solution/DataFactory/ADF",
                                  "azure-data-services-go-fast-codebase/solution/DataFactory/Templates"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])  # Python's "utf-16" writes a BOM (LE here)
def test_arm_template_built_from_git_folder_gives_same_entities(tmp_path, root, encoding):
    [git] = load_paths([str(CORPUS / root)])
    template = arm_template(git)
    path = tmp_path / "myFactory" / "ARMTemplateForFactory.json"
    write(path, json.dumps(template, indent=4).encode(encoding))
    write(tmp_path / "myFactory" / "ARMTemplateParametersForFactory.json", json.dumps(
        {"$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#",
         "contentVersion": "1.0.0.0", "parameters": {"factoryName": {"value": "x"}}}))
    for given in ([str(path)], [str(tmp_path)]):  # the file itself, or found in a folder walk
        [arm] = load_paths(given)
        assert arm.layout == "arm" and arm.root == str(path)
        assert sorted((e.kind, e.name) for e in arm.entities) == sorted((e.kind, e.name) for e in git.entities)
        parsed = arm.positions[str(path)]
        assert parsed.value == template
        for i, e in enumerate(arm.entities):
            assert e.pointer_prefix == f"/resources/{i}" and e.document is template_resource(arm, i)
            assert e.source == str(path)
            line, col = parsed.position(e.pointer_prefix + "/properties")
            assert parsed.text.splitlines()[line - 1][col - 1] == "{"


def template_resource(arm: LoadedFactory, i: int):
    return arm.positions[arm.root].value["resources"][i]


def test_arm_names_kinds_and_other_resources(tmp_path):
    template = {
        "$schema": ARM_SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {"factoryName": {"type": "string", "defaultValue": "fac"}},
        "resources": [
            {"name": "[concat(parameters('factoryName'), '/p1')]", "type": "Microsoft.DataFactory/factories/pipelines",
             "properties": {"activities": []}},
            {"name": "fac/ls1", "type": "Microsoft.DataFactory/factories/linkedServices",
             "properties": {"type": "AzureBlobStorage", "typeProperties": {}}},
            {"name": "[concat(parameters('factoryName'), '/default')]",
             "type": "Microsoft.DataFactory/factories/globalparameters", "properties": {}},
            {"name": "[concat(parameters('factoryName'), '/default')]",
             "type": "Microsoft.DataFactory/factories/managedVirtualNetworks", "properties": {}},
            {"name": "[concat(parameters('factoryName'), '/default/pe1')]",
             "type": "Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints",
             "properties": {}},
            {"name": "[format('{0}/ds1', parameters('factoryName'))]", "type": "microsoft.datafactory/factories/DATASETS",
             "properties": {"type": "Json", "linkedServiceName": {}}},
            {"name": "[concat(parameters('factoryName'), '/cred1')]", "type": "Microsoft.DataFactory/factories/credentials",
             "properties": {"type": "ManagedIdentity"}},
            {"name": "[concat(parameters('factoryName'), '/t1')]", "type": "Microsoft.DataFactory/factories/triggers",
             "properties": {"type": "ScheduleTrigger"}},
            {"name": "[parameters('factoryName')]", "type": "Microsoft.DataFactory/factories",
             "properties": {"globalParameters": {}}},
            {"name": "[concat(parameters('factoryName'), '/x')]", "type": "Microsoft.DataFactory/factories/adfcdcs",
             "properties": {}},
            {"name": "storage", "type": "Microsoft.Storage/storageAccounts"},
        ]}
    path = write(tmp_path / "template.json", json.dumps(template))
    [arm] = load_paths([str(path)])
    assert [(e.kind, e.name, e.pointer_prefix) for e in arm.entities] == [
        ("pipeline", "p1", "/resources/0"), ("linkedService", "ls1", "/resources/1"),
        ("globalParameters", "default", "/resources/2"), ("managedVirtualNetwork", "default", "/resources/3"),
        ("managedPrivateEndpoint", "pe1", "/resources/4"), ("dataset", "ds1", "/resources/5"),
        ("credential", "cred1", "/resources/6"), ("trigger", "t1", "/resources/7"),
        ("factory", "fac", "/resources/8"), ("unknown", "x", "/resources/9")]


@pytest.mark.parametrize("name, expected", [
    ("[concat(parameters('factoryName'), '/PL_Copy')]", "PL_Copy"),
    ("[concat( parameters( 'factoryName' ) , '/PL_Copy' ) ]", "PL_Copy"),
    ("[concat(variables('factoryName'), '/it''s')]", "it's"),
    ("myFactory/PL_Copy", "PL_Copy"),
    ("PL_Copy", "PL_Copy"),
    ("[parameters('factoryName')]", "factoryName"),
])
def test_arm_entity_name(name, expected):
    assert arm_entity_name(name) == expected


# --- git layout details ------------------------------------------------------------------------------

def test_git_layout_folders_case_insensitive_private_endpoints_and_ignored_files(tmp_path):
    root = tmp_path / "repo" / "adf"
    write(root / "Pipeline" / "p1.json", PIPELINE)
    write(root / "LINKEDSERVICE" / "ls.json", '{"name": "ls1", "properties": {"type": "AzureKeyVault", '
                                              '"typeProperties": {"baseUrl": "https://kv"}}}')
    write(root / "credential" / "c.json", '{"name": "c1", "properties": {"type": "ManagedIdentity"}}')
    write(root / "managedVirtualNetwork" / "default.json", '{"name": "default", "properties": {}}')
    write(root / "managedVirtualNetwork" / "default" / "managedPrivateEndpoint" / "pe1.json",
          '{"name": "pe1", "properties": {"privateLinkResourceId": "/x", "groupId": "blob"}}')
    write(root / "dataset" / "noname.json", '{"properties": {"type": "Json", "linkedServiceName": {}}}')
    # never read: root files, non-.json files, files in sub-folders of kind folders, parameter definitions
    write(root / "publish_config.json", "not json")
    write(root / "arm-template-parameters-definition.json", "not json")
    write(root / "pipeline" / "README.md", "not json")
    write(root / "Pipeline" / "old" / "p0.json", "not json")
    write(root / "dataset" / "arm-template-parameters-definition.json", "not json")
    write(tmp_path / "repo" / "node_modules" / "pkg" / "pipeline" / "x.json", "not json")
    write(tmp_path / "repo" / ".git" / "pipeline" / "x.json", "not json")
    (tmp_path / "repo" / "empty" / "pipeline").mkdir(parents=True)  # a kind folder without files: no factory

    [f] = load_paths([str(tmp_path / "repo")])
    assert f.root == str(root) and f.layout == "git"
    assert sorted((e.kind, e.name) for e in f.entities) == [
        ("credential", "c1"), ("dataset", "noname"), ("linkedService", "ls1"), ("managedPrivateEndpoint", "pe1"),
        ("managedVirtualNetwork", "default"), ("pipeline", "p1")]
    # the raw TAB of PIPELINE is the only finding
    [tab] = f.findings
    assert (tab.code, tab.severity, tab.pointer, tab.line, tab.column) == (
        "ADF-W-JSON-CONTROL-CHAR", "warning", "/properties/description", *TAB_AT)
    assert find_roots(str(tmp_path / "repo")) == [("git", str(root))]


def test_nested_roots_are_separate_factories(tmp_path):
    write(tmp_path / "a" / "pipeline" / "p.json", PIPELINE)
    write(tmp_path / "a" / "other" / "dataset" / "d.json", '{"name": "d", "properties": {"linkedServiceName": {}}}')
    factories = load_paths([str(tmp_path)])
    assert [(os.path.relpath(f.root, tmp_path), [e.name for e in f.entities]) for f in factories] == [
        ("a", ["p1"]), (os.path.join("a", "other"), ["d"])]


def test_single_files_kind_from_folder_or_shape(tmp_path):
    p = write(tmp_path / "pipeline" / "whatever.json", '{"properties": {"description": "no activities"}}')
    d = write(tmp_path / "loose" / "d.json", '{"name": "ds", "properties": {"type": "Json", "linkedServiceName": {}}}')
    t = write(tmp_path / "loose" / "t.json", '{"name": "tr", "properties": {"type": "ScheduleTrigger"}}')
    u = write(tmp_path / "loose" / "u.json", '{"name": "what", "properties": {"x": 1}}')
    [f] = load_paths([str(p), str(d), str(t), str(u)])
    assert [(e.kind, e.name) for e in f.entities] == [
        ("pipeline", "whatever"), ("dataset", "ds"), ("trigger", "tr"), ("unknown", "what")]
    assert f.findings == []  # an unknown kind is the validator's to report (ADF-W-UNKNOWN-KIND)
    assert f.root == str(tmp_path) and set(f.positions) == {str(p), str(d), str(t), str(u)}


@pytest.mark.parametrize("doc, kind", [
    ({"name": "x", "properties": {"activities": []}}, "pipeline"),
    ({"name": "x", "type": "Microsoft.DataFactory/factories/dataflows", "properties": {}}, "dataflow"),
    ({"properties": {"type": "TumblingWindowTrigger", "typeProperties": {}}}, "trigger"),
    ({"properties": {"type": "BlobEventsTrigger", "pipelines": []}}, "trigger"),
    ({"properties": {"type": "Json", "linkedServiceName": {}}}, "dataset"),
    ({"properties": {"type": "MappingDataFlow", "typeProperties": {}}}, "dataflow"),
    ({"properties": {"type": "SelfHosted"}}, "integrationRuntime"),
    ({"properties": {"type": "Managed", "typeProperties": {}}}, "integrationRuntime"),
    ({"properties": {"type": "AzureML", "typeProperties": {"mlEndpoint": "x"}}}, "linkedService"),
    ({"properties": {"globalParameters": {}}}, "factory"),
    ({"name": "f", "location": "westeurope"}, "factory"),
    ({"properties": {"type": "ManagedIdentity"}}, "credential"),
    ({"name": "x"}, "unknown"),
    ({"properties": {"type": "Thing"}}, "unknown"),
    ([1, 2], "unknown"),
])
def test_guess_kind(doc, kind):
    assert guess_kind(doc) == kind


# --- positions through the loader: encodings, line endings, control characters -----------------------

@pytest.mark.parametrize("encoding, newline", [
    ("utf-8", "\n"), ("utf-8-sig", "\n"), ("utf-16", "\n"), ("utf-16-be-bom", "\n"), ("utf-32", "\n"),
    ("utf-8", "\r\n"), ("utf-16", "\r\n"), ("utf-8-sig", "\r"),
])
def test_positions_of_nested_pointers(tmp_path, encoding, newline):
    text = PIPELINE.replace("\n", newline)
    data = ("\ufeff" + text).encode("utf-16-be") if encoding == "utf-16-be-bom" else text.encode(encoding)
    path = write(tmp_path / "pipeline" / "p1.json", data)
    [f] = load_paths([str(tmp_path)])
    parsed = f.positions[str(path)]
    assert {ptr: parsed.position(ptr) for ptr in PIPELINE_POSITIONS} == PIPELINE_POSITIONS
    assert f.locate(str(path), "/properties/activities/0/name") == (6, 17)
    assert f.locate("elsewhere.json", "/x") is None
    assert parsed.key_position("/properties/activities/0/name") == (6, 9)
    assert parsed.key_position("/properties/activities/0") == (5, 7)  # array item: the value itself
    [e] = f.entities
    assert e.document["properties"]["description"] == "a\tb"
    [tab] = f.findings
    assert (tab.code, tab.pointer, tab.source, (tab.line, tab.column)) == (
        "ADF-W-JSON-CONTROL-CHAR", "/properties/description", str(path), TAB_AT)
    assert "U+0009" in tab.message and "line 11, column 22" in tab.message
    assert tab.hint == "escape it as \\t"


def test_seed_linked_service_with_raw_tab():
    text = SEED_WITH_TAB.read_text(encoding="utf-8")
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)  # strict JSON rejects it
    parsed = parse(text, "seed")
    assert parsed.value["properties"]["type"] == "AzureML"
    [w] = parsed.warnings
    assert w.pointer == "/properties/typeProperties/mlEndpoint" and w.code == "ADF-W-JSON-CONTROL-CHAR"
    tab_line = next(i for i, line in enumerate(text.split("\n"), 1) if "\t" in line)
    assert (w.line, w.column) == (tab_line, text.split("\n")[tab_line - 1].index("\t") + 1)
    assert parsed.position(w.pointer) == (tab_line, text.split("\n")[tab_line - 1].index('"https') + 1)


def test_control_characters_in_keys_and_other_warnings():
    text = '{"a\x01b": "x\x00y\ny", "k": 1, "k": {"z": 2}}'
    parsed = parse(text, "s.json")
    assert parsed.value == {"a\x01b": "x\x00y\ny", "k": {"z": 2}}
    assert [(w.code, w.pointer, w.column, w.hint) for w in parsed.warnings] == [
        ("ADF-W-JSON-CONTROL-CHAR", "/a\x01b", 4, "escape it as \\u0001"),
        ("ADF-W-JSON-CONTROL-CHAR", "/a\x01b", 11, "escape it as \\u0000"),
        ("ADF-W-JSON-CONTROL-CHAR", "/a\x01b", 13, "escape it as \\n"),
        ("ADF-W-JSON-DUPLICATE-KEY", "/k", 13, "remove one of them")]
    assert parsed.warnings[-1].line == 2
    assert parsed.position("/k/z") == (2, 24)
    # the earlier duplicate's sub-pointers are gone
    parsed = parse('{"k": {"old": 1}, "k": 2}', "s")
    assert parsed.position("/k/old") == parsed.position("/k") == (1, 24)


# --- bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, fragment", [
    (b'{"name": "p", "properties": {,}}', "not JSON: expected a property name in double quotes, found ',' (line 1, column 30)"),
    (b'{"a": 1}\n{"b": 2}', "only one value is allowed"),
    (b'{"a": 1, // comment\n}', "(line 1, column 10)"),
    (b"", "empty file"),
    (b"  \n\t ", "empty file"),
    ('{"a": 1}'.encode("utf-16-le"), "without a byte-order mark"),
    ('{"a": 1}'.encode("utf-16-be"), "without a byte-order mark"),
    (b"\xff\xfe{\x00\x00\xd8", "UTF-16 LE"),  # a BOM, then a broken surrogate pair
    ('{"a": "caf\u00e9"}'.encode("latin-1"), "not valid UTF-8"),
    (b"[1, 2]", "expected a JSON object"),
    (b'"just a string"', "expected a JSON object"),
])
def test_bad_single_file_is_a_load_error(tmp_path, data, fragment):
    path = write(tmp_path / "x.json", data)
    with pytest.raises(LoadError) as info:
        load_paths([str(path)])
    assert fragment in one_line(info.value) and info.value.path == str(path)


def test_bad_file_in_a_factory_folder_is_a_finding_and_the_others_load(tmp_path):
    write(tmp_path / "pipeline" / "good.json", PIPELINE)
    bad = write(tmp_path / "pipeline" / "bad.json", '{\n  "name": "bad",\n  "properties": {\n    "activities": [}\n}')
    empty = write(tmp_path / "dataset" / "empty.json", b"")
    array = write(tmp_path / "dataset" / "array.json", b"[]")
    utf16 = write(tmp_path / "linkedService" / "nobom.json", '{"name": "x"}'.encode("utf-16-le"))
    [f] = load_paths([str(tmp_path)])
    assert [e.name for e in f.entities] == ["p1"]
    errors = {x.source: x for x in f.findings if x.severity == "error"}
    assert set(errors) == {str(bad), str(empty), str(array), str(utf16)}
    assert all(x.code == "ADF-E-JSON" and x.pointer == "" for x in errors.values())
    assert (errors[str(bad)].line, errors[str(bad)].column) == (4, 20)
    assert "expected a JSON value, found '}'" in errors[str(bad)].message
    assert "empty file" in errors[str(empty)].message
    assert "expected a JSON object" in errors[str(array)].message
    assert "byte-order mark" in errors[str(utf16)].message
    assert all("\n" not in x.message for x in f.findings)
    assert str(bad) not in f.positions and str(tmp_path / "pipeline" / "good.json") in f.positions


def test_folder_where_nothing_can_be_read_is_a_load_error(tmp_path):
    write(tmp_path / "pipeline" / "a.json", "{")
    write(tmp_path / "pipeline" / "b.json", "")
    with pytest.raises(LoadError) as info:
        load_paths([str(tmp_path)])
    assert "no entity could be read" in one_line(info.value) and "(and 1 more problems)" in str(info.value)


def test_huge_file_is_refused_without_reading(tmp_path, monkeypatch):
    path = tmp_path / "pipeline" / "huge.json"
    path.parent.mkdir()
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: cheap to make
    write(tmp_path / "pipeline" / "ok.json", PIPELINE)

    def no_open(*args, **kwargs):
        raise AssertionError(f"opened {args[0]}")
    real_open = open
    monkeypatch.setattr(factory_module, "open",
                        lambda p, *a, **k: no_open(p) if str(p).endswith("huge.json") else real_open(p, *a, **k),
                        raising=False)
    with pytest.raises(LoadError) as info:
        load_paths([str(path)])
    assert "too large" in one_line(info.value) and "4 MB" in str(info.value)
    [f] = load_paths([str(tmp_path)])
    [finding] = [x for x in f.findings if x.severity == "error"]
    assert finding.code == "ADF-E-JSON" and "too large" in finding.message and [e.name for e in f.entities] == ["p1"]


def test_missing_path_empty_folder_and_ignored_files(tmp_path):
    with pytest.raises(LoadError) as info:
        load_paths([str(tmp_path / "nope")])
    assert "no such file or directory" in one_line(info.value)
    write(tmp_path / "docs" / "readme.md", "# no factory here")
    write(tmp_path / "docs" / "config.json", '{"a": 1}')
    with pytest.raises(LoadError) as info:
        load_paths([str(tmp_path)])
    assert "no ADF factory found" in one_line(info.value)
    params = write(tmp_path / "publish_config.json", '{"publishBranch": "adf_publish"}')
    with pytest.raises(LoadError) as info:
        load_paths([str(params)])
    assert "nothing to load" in one_line(info.value)
    write(tmp_path / "f" / "pipeline" / "p.json", PIPELINE)
    with pytest.raises(LoadError) as info:
        load_paths([str(tmp_path / "f" / "pipeline")])
    assert "give its parent folder" in one_line(info.value)
    # a file named explicitly is read whatever its extension
    [f] = load_paths([str(write(tmp_path / "p1.txt", PIPELINE))])
    assert [(e.kind, e.name) for e in f.entities] == [("pipeline", "p1")]


# --- jsontext on its own ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, column, fragment", [
    ("", 1, 1, "empty document"),
    ("{\n  \"a\": [1,]\n}", 2, 11, "expected a JSON value, found ']'"),
    ("{\"a\": 1,}", 1, 9, "expected a property name"),
    ("{'a': 1}", 1, 2, "expected a property name in double quotes"),
    ("[1 2]", 1, 4, "expected ',' or ']'"),
    ("{\"a\" 1}", 1, 6, "expected ':'"),
    ("[NaN]", 1, 2, "expected a JSON value"),
    ("[01]", 1, 3, "expected ',' or ']'"),
    ("\"abc", 1, 1, "unterminated string"),
    ("[\"a\\qb\"]", 1, 4, "invalid escape"),
    ("[\"\\u12x4\"]", 1, 4, "invalid \\uXXXX"),
    ("[1]\r\n\r\n x", 3, 2, "after the JSON value"),
    ("[" * 1000, 1, 401, "nesting deeper"),
])
def test_syntax_errors_have_positions(text, line, column, fragment):
    with pytest.raises(JsonTextError) as info:
        parse(text, "f.json")
    e = info.value
    assert isinstance(e, ValueError)
    assert (e.source, e.line, e.column) == ("f.json", line, column) and fragment in e.message
    assert one_line(e).startswith(f"f.json:{line}:{column}: ")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom",
                                      "utf-32", "utf-32-be-bom"])
def test_decode(encoding):
    text = '{"ä": "€ 𝄞 \\u00e9"}'
    if encoding.endswith("-bom"):
        data = ("\ufeff" + text).encode(encoding[:-4])
    else:
        data = text.encode(encoding)
    assert decode(data, "x") == text


def test_decode_errors_are_one_line():
    for data in [b"\xef\xbb\xbf\xff", b"\xfe\xff\x00", b"{\"a\": \"\x80\"}", b"{\x00\"\x00", b"\x00\x00\x00{"]:
        with pytest.raises(JsonTextError) as info:
            decode(data, "f.json")
        assert one_line(info.value).startswith("f.json:")


# --- property: values and positions round-trip through json.dumps --------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30)


def all_pointers(value, pointer=""):
    yield pointer, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from all_pointers(v, pointer + "/" + k.replace("~", "~0").replace("/", "~1"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from all_pointers(v, f"{pointer}/{i}")


def offset_of(text: str, line: int, column: int) -> int:
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    return starts[line - 1] + column - 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, indent=st.sampled_from([None, 0, 1, 2, 4, "\t", "\r\n "]),
       ensure_ascii=st.booleans(), compact=st.booleans())
def test_roundtrip_and_every_pointer_points_at_its_value(value, indent, ensure_ascii, compact):
    separators = (",", ":") if compact else None
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, separators=separators)
    parsed = parse(text, "h.json")
    assert parsed.value == value and parsed.warnings == []
    decoder = json.JSONDecoder()
    pointers = list(all_pointers(value))
    assert sorted(parsed.pointers()) == sorted(p for p, _ in pointers)
    for pointer, sub in pointers:
        line, column = parsed.position(pointer)
        start = offset_of(text, line, column)
        assert start == parsed.offset(pointer)
        decoded, _ = decoder.raw_decode(text, start)  # no whitespace skipping: must be the first character
        assert decoded == sub


# --- speed -------------------------------------------------------------------------------------------------

def synthetic_pipeline(size: int) -> str:
    activity = {"name": "Copy", "type": "Copy", "dependsOn": [{"activity": "Lookup", "dependencyConditions": ["Succeeded"]}],
                "policy": {"timeout": "7.00:00:00", "retry": 0, "retryIntervalInSeconds": 30, "secureOutput": False},
                "typeProperties": {"source": {"type": "AzureSqlSource", "sqlReaderQuery": {
                    "value": "@concat('SELECT * FROM ', pipeline().parameters.Table, ' WHERE x > ', "
                             "string(activity('Lookup').output.firstRow.Watermark))", "type": "Expression"},
                    "queryTimeout": "02:00:00"}, "sink": {"type": "ParquetSink", "storeSettings": {
                        "type": "AzureBlobFSWriteSettings"}}, "enableStaging": False},
                "inputs": [{"referenceName": "ds_sql", "type": "DatasetReference", "parameters": {"Table": "t"}}]}
    activities = []
    doc = {"name": "big", "properties": {"activities": activities}}
    while len(json.dumps(doc, indent=4)) < size:
        activities.extend(dict(activity, name=f"Copy{len(activities) + i}") for i in range(50))
    return json.dumps(doc, indent=4)


def test_one_megabyte_parses_quickly():
    text = synthetic_pipeline(1_000_000)
    start = time.perf_counter()
    parsed = parse(text, "big.json")
    elapsed = time.perf_counter() - start
    assert parsed.value == json.loads(text)
    assert elapsed < 1.0, f"1 MB took {elapsed:.2f}s"
