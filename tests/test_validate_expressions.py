"""`adfemu validate` parses every expression (issue 12): each mistake gets an error at the string's JSON pointer
and the offset inside it, in a factory as a user writes it and in a broken copy of every corpus pipeline."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from adfemu.cli import main
from adfemu.runner.factory import load_paths
from adfemu.runner.validation import validate_factory
from adfemu.schemas.entities import Entity, Factory

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "vendor" / "real-adf-definitions"


def _act(name, kind="SetVariable", *depends, **props) -> dict:
    return {"name": name, "type": kind, "typeProperties": props,
            "dependsOn": [{"activity": d, "dependencyConditions": ["Succeeded"]} for d in depends]}


def _factory(*activities, variables=None, parameters=None, extra=()) -> Factory:
    props = {"activities": list(activities), "variables": variables or {"modelPath": {"type": "String"},
                                                                      "out": {"type": "String"}},
             "parameters": parameters or {}}
    return Factory("mem", [Entity("pipeline", "Retrain", {"name": "Retrain", "properties": props}, "Retrain.json"),
                           *extra])


def _problems(factory: Factory) -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.pointer) for f in validate_factory(factory)]


def _one(factory: Factory, severity: str = "error"):
    found = [f for f in validate_factory(factory) if f.severity == severity]
    assert len(found) == 1, found
    return found[0]


VALUE = "/properties/activities/{}/typeProperties/value"


def test_a_missing_parenthesis_is_an_error_at_the_offset_where_the_expression_ends():
    """The issue's case: it failed only at run time, after Update Resource had pushed the model."""
    text = "@concat('deployed ', variables('modelPath')"
    found = _one(_factory(_act("Note", variableName="out", value=text)))
    assert (found.code, found.pointer) == ("ADF-E-EXPRESSION-SYNTAX", VALUE.format(0))
    assert f"offset {len(text)}" in found.message and "ends unexpectedly" in found.message


def test_a_reference_to_an_activity_that_does_not_exist_is_an_error():
    text = "@activity('RetrainChurnModl').output"
    found = _one(_factory(_act("RetrainChurnModel", "Wait", waitTimeInSeconds=1),
                          _act("Note", "SetVariable", "RetrainChurnModel", variableName="out", value=text)))
    assert (found.code, found.pointer) == ("ADF-E-ACTIVITY-REFERENCE", VALUE.format(1))
    assert "can't be referenced since it is either not an ancestor to the current activity or does not exist" \
        in found.message and "(offset 1)" in found.message


def test_a_reference_to_an_activity_that_runs_later_or_in_parallel_is_an_error():
    acts = [_act("A", "Wait", waitTimeInSeconds=1), _act("B", "SetVariable", variableName="out",
                                                          value="@string(activity('A').output)")]
    found = _one(_factory(*acts))
    assert found.code == "ADF-E-ACTIVITY-REFERENCE" and "does not run before this one" in found.message
    acts[1]["dependsOn"] = [{"activity": "A", "dependencyConditions": ["Succeeded"]}]
    assert _problems(_factory(*acts)) == []


def test_activities_of_an_enclosing_scope_and_inside_an_upstream_container_may_be_referenced():
    inner = _act("Inner", "SetVariable", variableName="out", value="@string(activity('First').output)")
    loop = {"name": "Loop", "type": "Until", "dependsOn": [{"activity": "First", "dependencyConditions": ["Succeeded"]}],
            "typeProperties": {"expression": {"type": "Expression", "value": "@equals(activity('Inner').status, 'x')"},
                               "activities": [inner]}}
    after = _act("After", "SetVariable", "Loop", variableName="out", value="@string(activity('Inner').output)")
    assert _problems(_factory(_act("First", "Wait", waitTimeInSeconds=1), loop, after)) == []


def test_a_name_with_another_case_is_a_warning():
    found = _one(_factory(_act("A", "Wait", waitTimeInSeconds=1),
                          _act("B", "SetVariable", "A", variableName="out", value="@string(activity('a').output)")),
                 "warning")
    assert found.code == "ADF-W-REFERENCE-CASE" and "write 'A'" in found.hint


@pytest.mark.parametrize("text, code, offset, words", [
    ("@concatt('a', 'b')", "ADF-E-EXPRESSION-FUNCTION", 1, "did you mean 'concat'"),
    ("@toUpper('a', 'b')", "ADF-E-EXPRESSION-ARGUMENTS", 1, "expects exactly 1 argument but was given 2"),
    ("x @{variables('nope')} y", "ADF-E-UNDECLARED", 4, "variable 'nope'"),
    ("@pipeline().parameters.missing", "ADF-E-UNDECLARED", 23, "parameter 'missing'"),
    ("@item().name", "ADF-E-SCOPE", 1, "item()"),
    ("@dataset().path", "ADF-E-SCOPE", 11, "dataset()"),
    ("a @{concat('x'", "ADF-E-EXPRESSION-SYNTAX", 2, "not closed"),
])
def test_each_expression_mistake_is_an_error_at_its_offset(text, code, offset, words):
    found = _one(_factory(_act("Note", variableName="out", value=text)))
    assert (found.code, found.pointer) == (code, VALUE.format(0))
    assert f"offset {offset}" in found.message and words in found.message


def test_item_inside_a_foreach_and_declared_names_are_fine():
    loop = _act("Each", "ForEach", items={"type": "Expression", "value": "@pipeline().parameters.batches"},
                activities=[_act("Note", variableName="out", value="@{item().name}-@{variables('modelPath')}")])
    assert _problems(_factory(loop, parameters={"batches": {"type": "Array"}})) == []


def test_dataset_and_linked_service_parameters_must_be_declared_on_that_entity():
    dataset = Entity("dataset", "Input", {"name": "Input", "properties": {
        "type": "DelimitedText", "linkedServiceName": {"referenceName": "Storage", "type": "LinkedServiceReference"},
        "parameters": {"path": {"type": "String"}},
        "typeProperties": {"location": {"type": "AzureBlobStorageLocation",
                                        "folderPath": {"type": "Expression", "value": "@dataset().pathh"}}}}},
        "Input.json")
    storage = Entity("linkedService", "Storage", {"name": "Storage", "properties": {
        "type": "AzureBlobStorage", "typeProperties": {"connectionString": "@{linkedService().account}"}}},
        "Storage.json")
    found = [(f.source, f.code, f.pointer) for f in validate_factory(Factory("f", [dataset, storage]))
             if f.severity == "error"]
    assert found == [("Input.json", "ADF-E-UNDECLARED", "/properties/typeProperties/location/folderPath/value"),
                     ("Storage.json", "ADF-E-UNDECLARED", "/properties/typeProperties/connectionString")]


def test_the_command_prints_file_line_column_pointer_and_offset(tmp_path):
    folder = tmp_path / "factory" / "pipeline"
    folder.mkdir(parents=True)
    doc = {"name": "Retrain", "properties": {"variables": {"modelPath": {"type": "String"}, "out": {"type": "String"}},
                                             "activities": [_act("Note", variableName="out",
                                                                 value="@concat('deployed ', variables('modelPath')")]}}
    (folder / "Retrain.json").write_text(json.dumps(doc, indent=2))
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "factory")])
    assert result.exit_code == 1
    line = next(l for l in result.output.splitlines() if "ADF-E-EXPRESSION-SYNTAX" in l)
    assert f"Retrain.json:18:20: error ADF-E-EXPRESSION-SYNTAX {VALUE.format(0)}: expression at offset 43" in line
    assert "Traceback" not in result.output


# --- a broken copy of every corpus pipeline ----------------------------------------------------------

def _expression_strings(value, pointer=""):
    if isinstance(value, str) and value.startswith("@") and not value.startswith(("@@", "@{")):
        yield pointer
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _expression_strings(v, f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _expression_strings(v, f"{pointer}/{i}")


def _corpus_pipelines():
    out = []
    for factory in load_paths([str(CORPUS)]):
        if factory.is_template_set:
            continue  # placeholders are rewritten before deployment: their strings are not checked
        for entity in factory.entities:
            if entity.kind == "pipeline":
                pointers = [p for p in _expression_strings(entity.document) if "/activities/" in p]
                if pointers:
                    out.append((factory, entity, pointers))
    return out


PIPELINES = _corpus_pipelines()


def _at(document, pointer):
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    for t in tokens[:-1]:
        document = document[int(t) if isinstance(document, list) else t]
    return document, (int(tokens[-1]) if isinstance(document, list) else tokens[-1])


BREAKERS = ["(", "'", ",", "unknownFn(", ")", "["]


# Every corpus pipeline with an expression, each its own test; hypothesis picks which expression, where to break it
# and how (a few examples each keeps the whole sweep to seconds).
@pytest.mark.parametrize("index", range(len(PIPELINES)),
                         ids=[f"{Path(e.source).parent.name}/{Path(e.source).name}" for _, e, _ in PIPELINES])
@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_one_broken_expression_in_every_corpus_pipeline_is_an_error_at_its_pointer_and_offset(index, data):
    factory, entity, pointers = PIPELINES[index]
    pointer = data.draw(st.sampled_from(pointers), label="pointer")
    document = copy.deepcopy(entity.document)
    parent, key = _at(document, pointer)
    text = parent[key]
    cut = data.draw(st.integers(min_value=1, max_value=len(text) - 1), label="cut")
    breaker = data.draw(st.sampled_from(BREAKERS), label="breaker")
    broken = text[:cut] + breaker + text[cut:]
    from adfemu.runner.expressions import scan
    problems = [p for p in scan(broken).problems if p.kind != "hyphen"]
    assume(problems)  # an insertion inside a string literal can make another valid expression
    parent[key] = broken
    copy_entity = Entity(entity.kind, entity.name, document, entity.source, entity.pointer_prefix)
    mutated = Factory(factory.root, [copy_entity if e is entity else e for e in factory.entities])
    errors = [f for f in validate_factory(mutated) if f.severity == "error"]
    assert errors, broken
    assert {f.pointer for f in errors} == {pointer}, (broken, errors)
    assert any(f"offset {problems[0].offset}" in f.message for f in errors), (broken, errors)
    assert 1 <= problems[0].offset <= len(broken)


def test_the_sweep_covers_every_corpus_pipeline_with_an_expression():
    """75 corpus pipelines: 26 are in a template set (placeholders rewritten before deployment, not checked) and 5
    have no '@' string in an activity; the other 44 are each broken by the sweep above."""
    pipelines = [(f, e) for f in load_paths([str(CORPUS)]) for e in f.entities if e.kind == "pipeline"]
    templates = [e for f, e in pipelines if f.is_template_set]
    without = [e for f, e in pipelines if not f.is_template_set
               and not any("/activities/" in p for p in _expression_strings(e.document))]
    assert (len(pipelines), len(templates), len(without)) == (75, 26, 5)
    assert sorted(e.source for _, e, _ in PIPELINES) == sorted(
        e.source for f, e in pipelines if not f.is_template_set and e not in without)
