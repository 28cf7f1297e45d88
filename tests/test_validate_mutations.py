"""Mutation testing of ``adfemu validate``: break a valid factory in one place, find the error there.

A small valid factory is built in memory (an AzureMLBatchExecution -> AzureMLUpdateResource pipeline with
a ForEach container around a nested scoring chain, an ExecutePipeline to a child pipeline, two AzureML
linked services, an AzureBlobStorage linked service and a DelimitedText dataset). It validates with zero
findings. One mutation is then applied:

* ``drop``       a required property          -> ADF-E-SCHEMA at the pointer of the object that lost it
* ``wrong-type`` a value of the wrong JSON type -> ADF-E-SCHEMA at the value
* ``dangling``   a referenceName to nothing    -> ADF-E-REFERENCE at the referenceName
* ``dup-activity`` an activity renamed to another activity's name (containers included, any case)
                                               -> ADF-E-DUPLICATE-ACTIVITY at the later activity's name
* ``dup-entity`` a second definition with an existing name -> ADF-E-DUPLICATE-NAME at its /name
* ``cycle``      a dependsOn closing a cycle   -> ADF-E-CYCLE at the dependsOn of an activity on the cycle
* ``ls-type``    an AzureML activity on the storage linked service, or a BES port / the trained model
                 on an AzureML linked service  -> ADF-E-LINKED-SERVICE-TYPE at the referenceName

and the property checked is: at least one error with the expected code at the expected pointer, and no
error anywhere else except the ones the mutation explains (dependsOn entries naming an activity whose
name the mutation removed, uses of a pipeline parameter whose declaration it removed). The same is done
through files (git layout, UTF-8 / UTF-8 with BOM / UTF-16 with BOM, LF or CRLF, pretty or compact):
``load_paths`` + ``validate_factory`` give the same errors, and ``LoadedFactory.locate`` puts each one
at the line and column where this file's own writer put the mutated value.

The regression tests at the end pin, one by one, the validator defects these mutations found.
"""
from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adfemu.runner.factory import load_paths
from adfemu.schemas.adf import validate_factory
from adfemu.schemas.entities import Entity, Factory, Finding
from adfemu.schemas.expression_checks import SECRET_TYPES

# ------------------------------------------------------------------------------------------------ the factory


def _ls(name: str) -> dict:
    return {"referenceName": name, "type": "LinkedServiceReference"}


def _dep(name: str, *conditions: str) -> dict:
    return {"activity": name, "dependencyConditions": list(conditions or ("Succeeded",))}


def _port(path: str) -> dict:
    return {"linkedServiceName": _ls("Storage"), "filePath": path}


def valid_documents() -> list[tuple[str, dict]]:
    """(kind, document) of a factory that validates with no finding at all, lenient and strict."""
    main = {"name": "TrainAndUpdate", "properties": {
        # non-ASCII, one character outside the BMP: columns count code points, in UTF-8 and UTF-16 files alike
        "description": "retrain the model – update the scoring web service – score every batch 📈",
        "parameters": {"batches": {"type": "Array", "defaultValue": ["2024-01", "2024-02"]}},
        "activities": [
            {"name": "Train", "type": "AzureMLBatchExecution", "linkedServiceName": _ls("TrainingEndpoint"),
             "policy": {"timeout": "0.01:00:00", "retry": 2, "retryIntervalInSeconds": 60},
             "typeProperties": {
                 "webServiceInputs": {"input1": _port("data/train/input.csv")},
                 "webServiceOutputs": {"output1": _port("data/model/model.ilearner")}}},
            {"name": "Update", "type": "AzureMLUpdateResource", "linkedServiceName": _ls("ScoringEndpoint"),
             "dependsOn": [_dep("Train")],
             "typeProperties": {"trainedModelName": "Model [trained model]",
                                "trainedModelLinkedServiceName": _ls("Storage"),
                                "trainedModelFilePath": "data/model/model.ilearner"}},
            {"name": "ScoreEach", "type": "ForEach", "dependsOn": [_dep("Update")],
             "typeProperties": {
                 "items": {"type": "Expression", "value": "@pipeline().parameters.batches"},
                 "batchCount": 4, "isSequential": False,
                 "activities": [
                     {"name": "Score", "type": "AzureMLBatchExecution", "linkedServiceName": _ls("ScoringEndpoint"),
                      "typeProperties": {
                          "webServiceInputs": {"input1": _port("data/score/input.csv")},
                          "webServiceOutputs": {"output1": _port("data/score/output.csv")}}},
                     {"name": "Settle", "type": "Wait", "dependsOn": [_dep("Score")],
                      "typeProperties": {"waitTimeInSeconds": 5}},
                     {"name": "ReadScores", "type": "Lookup", "dependsOn": [_dep("Settle")],
                      "typeProperties": {"source": {"type": "DelimitedTextSource"},
                                         "dataset": {"referenceName": "ScoredData", "type": "DatasetReference"},
                                         "firstRowOnly": False}},
                     {"name": "Tick", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1}}]}},
            {"name": "Notify", "type": "ExecutePipeline", "dependsOn": [_dep("ScoreEach", "Succeeded", "Failed")],
             "typeProperties": {"pipeline": {"referenceName": "Child", "type": "PipelineReference"},
                                "waitOnCompletion": True}},
            {"name": "Cleanup", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 2}},
        ]}}
    child = {"name": "Child", "properties": {"activities": [
        {"name": "Pause", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1}}]}}
    training = {"name": "TrainingEndpoint", "properties": {"type": "AzureML", "typeProperties": {
        "mlEndpoint": "https://ussouthcentral.services.azureml.net/workspaces/ws/services/train/jobs?api-version=2.0",
        "apiKey": {"type": "SecureString", "value": "training-key"}}}}
    scoring = {"name": "ScoringEndpoint", "properties": {"type": "AzureML", "typeProperties": {
        "mlEndpoint": "https://ussouthcentral.services.azureml.net/workspaces/ws/services/score/jobs?api-version=2.0",
        "apiKey": {"type": "SecureString", "value": "scoring-key"},
        "updateResourceEndpoint": "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/"
                                  "Microsoft.MachineLearning/webServices/score?api-version=2016-05-01-preview"}}}
    storage = {"name": "Storage", "properties": {"type": "AzureBlobStorage", "typeProperties": {
        "connectionString": "DefaultEndpointsProtocol=https;AccountName=acct;EndpointSuffix=core.windows.net"}}}
    dataset = {"name": "ScoredData", "properties": {
        "type": "DelimitedText", "linkedServiceName": _ls("Storage"),
        "typeProperties": {"location": {"type": "AzureBlobStorageLocation", "container": "data",
                                        "folderPath": "score", "fileName": "output.csv"},
                           "columnDelimiter": ",", "firstRowAsHeader": True}}}
    return [("pipeline", main), ("pipeline", child), ("linkedService", training), ("linkedService", scoring),
            ("linkedService", storage), ("dataset", dataset)]


AZUREML_LS = ("TrainingEndpoint", "ScoringEndpoint")
STORAGE_LS = ("Storage",)
EXISTING_NAMES = {d["name"].lower() for _, d in valid_documents()}
PORT_KEYS = ("linkedServiceName", "filePath")


@dataclass
class Doc:
    kind: str
    stem: str       # file name without .json; the entity's source
    value: Any


def base_docs(seed_spelling: bool) -> list[Doc]:
    """The valid factory; ``seed_spelling`` writes the BES port keys as the published seed does
    (``LinkedServiceName``, ``FilePath``), which ADF accepts (lenient mode: a warning each)."""
    docs = [Doc(kind, d["name"], d) for kind, d in valid_documents()]
    if seed_spelling:
        for _, ptr, value in walk_all(docs):
            if isinstance(value, dict) and set(value) == set(PORT_KEYS) and _parent_key(ptr) in ("input1", "output1"):
                for key in PORT_KEYS:
                    value[key[0].upper() + key[1:]] = value.pop(key)
    return docs


# ------------------------------------------------------------------------------------------------ pointers

def esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]] if pointer else []


def _parent_key(pointer: str) -> str:
    parts = tokens(pointer)
    return parts[-1] if parts else ""


def parent(pointer: str) -> str:
    return pointer[:pointer.rfind("/")]


def get(doc: Any, pointer: str) -> Any:
    for t in tokens(pointer):
        doc = doc[int(t)] if isinstance(doc, list) else doc[t]
    return doc


def put(doc: Any, pointer: str, value: Any) -> None:
    container, last = get(doc, parent(pointer)), tokens(pointer)[-1]
    if isinstance(container, list):
        container[int(last)] = value
    else:
        container[last] = value


def delete(doc: Any, pointer: str) -> None:
    container, last = get(doc, parent(pointer)), tokens(pointer)[-1]
    del container[int(last) if isinstance(container, list) else last]


def walk(value: Any, pointer: str = ""):
    yield pointer, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{pointer}/{esc(k)}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{pointer}/{i}")


def walk_all(docs: list[Doc]):
    for doc in docs:
        for ptr, value in walk(doc.value):
            yield doc, ptr, value


def key_of(d: dict, name: str) -> str | None:
    """The key spelling used in ``d`` for ``name`` (ADF matches member names ignoring case)."""
    return name if name in d else next((k for k in d if k.lower() == name.lower()), None)


# ------------------------------------------------------------------------------------------------ activities

@dataclass
class Act:
    stem: str        # pipeline
    pointer: str
    value: dict
    level: str       # pointer of the list it is in
    order: int       # depth-first position in the pipeline (the validator's order)


def activities_of(docs: list[Doc]) -> list[Act]:
    out: list[Act] = []
    for doc in docs:
        if doc.kind != "pipeline":
            continue
        counter = itertools.count()

        def visit(level_ptr: str, items: list) -> None:
            for i, a in enumerate(items):
                act = Act(doc.stem, f"{level_ptr}/{i}", a, level_ptr, next(counter))
                out.append(act)
                nested = a.get("typeProperties", {}).get("activities") if a.get("type") == "ForEach" else None
                if nested:
                    visit(f"{act.pointer}/typeProperties/activities", nested)

        visit("/properties/activities", doc.value["properties"]["activities"])
    return out


def dependents(acts: list[Act], target: Act) -> list[str]:
    """Pointers of the dependsOn[*].activity values (same level) that name ``target``."""
    out = []
    for a in acts:
        if a.stem == target.stem and a.level == target.level:
            for d, dep in enumerate(a.value.get("dependsOn", [])):
                if dep["activity"] == target.value["name"]:
                    out.append(f"{a.pointer}/dependsOn/{d}/activity")
    return out


def reachable(acts: list[Act], start: Act) -> set[str]:
    """Pointers of the activities of ``start``'s level that depend on it, transitively (itself included)."""
    level = [a for a in acts if a.stem == start.stem and a.level == start.level]
    seen, todo = {start.pointer}, [start]
    while todo:
        current = todo.pop()
        for a in level:
            if a.pointer not in seen and any(d["activity"] == current.value["name"] for d in a.value.get("dependsOn", [])):
                seen.add(a.pointer)
                todo.append(a)
    return seen


# ------------------------------------------------------------------------------------------------ mutations

@dataclass
class Mutation:
    category: str
    description: str
    stem: str                                   # file the error must be in
    expected: frozenset[str]                    # pointers; at least one error at one of them ...
    codes: frozenset[str]                       # ... with one of these codes
    apply: Callable[[list[Doc]], None]
    token: str                                  # how the written file reads at the expected pointer
    extra: frozenset[tuple[str, str, str]] = frozenset()  # (stem, pointer, code) errors the mutation explains

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return f"<{self.category}: {self.description}>"


def _mutate(stem: str, fn: Callable[[Any], None]) -> Callable[[list[Doc]], None]:
    def apply(docs: list[Doc]) -> None:
        fn(next(d for d in docs if d.stem == stem).value)
    return apply


def _token(value: Any) -> str:
    if isinstance(value, dict):
        return "{"
    if isinstance(value, list):
        return "["
    return json.dumps(value, ensure_ascii=False)


def _parameter_extras(docs: list[Doc], stem: str) -> frozenset[tuple[str, str, str]]:
    doc = next(d for d in docs if d.stem == stem)
    return frozenset((stem, p, "ADF-E-UNDECLARED") for p, v in walk(doc.value)
                     if isinstance(v, str) and "pipeline().parameters." in v)


# --- drop a required property ---------------------------------------------------------------------------

REQUIRED_IN_TYPE_PROPERTIES = {
    "AzureMLUpdateResource": ("trainedModelName", "trainedModelLinkedServiceName", "trainedModelFilePath"),
    "ForEach": ("items", "activities"), "Lookup": ("source", "dataset"), "ExecutePipeline": ("pipeline",),
    "Wait": ("waitTimeInSeconds",), "AzureMLBatchExecution": ()}
REQUIRED_IN_PROPERTIES = {"linkedService": ("type", "typeProperties"), "dataset": ("type", "linkedServiceName"),
                          "pipeline": ()}
REQUIRED_IN_LS_TYPE_PROPERTIES = {"AzureML": ("mlEndpoint", "apiKey"), "AzureBlobStorage": ()}


def required_keys(doc: Doc, ptr: str, value: dict, acts: list[Act]) -> tuple[str, ...]:
    """The properties the ADF spec requires in the object at ``ptr`` (as spelled in ``value``)."""
    names: tuple[str, ...] = ()
    parts = tokens(ptr)
    if ptr == "":
        names = ("properties",)
    elif ptr == "/properties":
        names = REQUIRED_IN_PROPERTIES[doc.kind]
    elif doc.kind == "linkedService" and ptr == "/properties/typeProperties":
        names = REQUIRED_IN_LS_TYPE_PROPERTIES[doc.value["properties"]["type"]]
    elif any(a.stem == doc.stem and a.pointer == ptr for a in acts):
        names = ("name", "type", "typeProperties")
    elif parts[-1:] == ["typeProperties"] and any(a.stem == doc.stem and a.pointer == parent(ptr) for a in acts):
        names = REQUIRED_IN_TYPE_PROPERTIES[get(doc.value, parent(ptr))["type"]]
    elif len(parts) >= 2 and parts[-2] == "dependsOn":
        names = ("activity", "dependencyConditions")
    elif isinstance(value.get("type"), str) and value["type"].endswith("Reference"):
        names = ("referenceName", "type")
    elif len(parts) >= 2 and parts[-2].lower() in ("webserviceinputs", "webserviceoutputs"):
        names = PORT_KEYS
    elif value.get("type") == "Expression":
        names = ("type", "value")
    elif value.get("type") == "SecureString":
        names = ("value",)
    elif len(parts) == 3 and parts[:2] == ["properties", "parameters"]:
        names = ("type",)
    return tuple(k for k in (key_of(value, n) for n in names) if k is not None)


def drop_mutations(docs: list[Doc]) -> list[Mutation]:
    acts = activities_of(docs)
    out = []
    for doc, ptr, value in walk_all(docs):
        if not isinstance(value, dict):
            continue
        for key in required_keys(doc, ptr, value, acts):
            target = f"{ptr}/{esc(key)}"
            out.append(Mutation("drop", f"{doc.stem}{target}", doc.stem, frozenset({ptr}), frozenset({"ADF-E-SCHEMA"}),
                                _mutate(doc.stem, lambda v, t=target: delete(v, t)), "{"))
    return out


# --- wrong JSON type ------------------------------------------------------------------------------------

WRONG_VALUES: dict[type, tuple[Any, ...]] = {
    str: (42, 1.5, True, ["x"], {"x": "y"}),
    bool: ("maybe", 3, [True], {"x": True}),
    int: ("abc", 1.5, True, [1], {"x": 1}),
    list: ("x", {"x": "y"}, 7, False),
    dict: ("x", 7, True, ["x"]),
}
# Values whose type is not fixed by the spec, or that select a subschema rather than being checked by one.
NOT_TYPED = {"defaultValue"}
DISCRIMINATORS = {("linkedService", "/properties/type"), ("dataset", "/properties/type")}


def wrong_type_sites(docs: list[Doc]) -> list[tuple[Doc, str, Any]]:
    sites = []
    for doc, ptr, value in walk_all(docs):
        if ptr == "" or (doc.kind, ptr) in DISCRIMINATORS or any(t in NOT_TYPED for t in tokens(ptr)):
            continue
        if ptr == "/name":
            continue  # the entity name: the loader falls back to the file name; see test_entity_name_of_wrong_type
        sites.append((doc, ptr, value))
    return sites


def wrong_type_mutation(docs: list[Doc], doc: Doc, ptr: str, new: Any) -> Mutation:
    extra: frozenset[tuple[str, str, str]] = frozenset()
    if ptr == "/properties/parameters" or (ptr.startswith("/properties/parameters/") and ptr.count("/") == 3):
        extra = _parameter_extras(docs, doc.stem)
    return Mutation("wrong-type", f"{doc.stem}{ptr} = {new!r}", doc.stem, frozenset({ptr}),
                    frozenset({"ADF-E-SCHEMA"}), _mutate(doc.stem, lambda v: put(v, ptr, copy.deepcopy(new))),
                    _token(new), frozenset(extra))


def wrong_values(doc: Doc, ptr: str, value: Any, acts: list[Act]) -> list[Any]:
    kind = type(value) if type(value) in WRONG_VALUES else str
    if isinstance(value, dict) and value.get("type") in SECRET_TYPES:  # a string there is a secret in clear text:
        return [v for v in WRONG_VALUES[kind] if not isinstance(v, str)]  # read as a SecureString, with a warning
    return list(WRONG_VALUES[kind])


def wrong_type_cases(docs: list[Doc]) -> list[tuple[Doc, str, list[Any]]]:
    """(document, pointer, the wrong values to try there), for the sites with at least one such value."""
    acts = activities_of(docs)
    cases = [(doc, ptr, wrong_values(doc, ptr, value, acts)) for doc, ptr, value in wrong_type_sites(docs)]
    return [case for case in cases if case[2]]


# --- the other categories -------------------------------------------------------------------------------

REFERENCE_TYPES = ("LinkedServiceReference", "DatasetReference", "PipelineReference")


def reference_sites(docs: list[Doc]) -> list[tuple[Doc, str]]:
    return [(doc, ptr) for doc, ptr, v in walk_all(docs) if isinstance(v, dict) and v.get("type") in REFERENCE_TYPES]


def dangling_mutation(doc: Doc, ptr: str, missing: str) -> Mutation:
    target = f"{ptr}/referenceName"
    return Mutation("dangling", f"{doc.stem}{target} = {missing!r}", doc.stem, frozenset({target}),
                    frozenset({"ADF-E-REFERENCE"}), _mutate(doc.stem, lambda v: put(v, target, missing)),
                    _token(missing))


def duplicate_pairs(docs: list[Doc]) -> list[tuple[Act, Act]]:
    """(renamed, original): the renamed activity comes later in the pipeline (depth first), so the
    validator reports it; for siblings, nothing may depend on the original (the dependsOn would become
    ambiguous, which is another mutation)."""
    acts = activities_of(docs)
    pairs = []
    for x, y in itertools.permutations(acts, 2):
        if x.stem != y.stem or x.order < y.order:
            continue
        if x.level == y.level and dependents(acts, y):
            continue
        pairs.append((x, y))
    return pairs


def duplicate_activity_mutation(docs: list[Doc], x: Act, new_name: str) -> Mutation:
    target = f"{x.pointer}/name"
    return Mutation("dup-activity", f"{x.stem}{target} = {new_name!r}", x.stem, frozenset({target}),
                    frozenset({"ADF-E-DUPLICATE-ACTIVITY"}), _mutate(x.stem, lambda v: put(v, target, new_name)),
                    _token(new_name))


def duplicate_entity_mutation(doc: Doc, new_name: str) -> Mutation:
    stem = f"zz_copy_{doc.stem}"

    def apply(docs: list[Doc]) -> None:
        original = next(d for d in docs if d.stem == doc.stem)
        twin = copy.deepcopy(original.value)
        twin["name"] = new_name
        docs.append(Doc(original.kind, stem, twin))

    return Mutation("dup-entity", f"{doc.kind} {stem}.json named {new_name!r}", stem, frozenset({"/name"}),
                    frozenset({"ADF-E-DUPLICATE-NAME"}), apply, _token(new_name))


def cycle_pairs(docs: list[Doc]) -> list[tuple[Act, Act]]:
    """(a, b) on one level with b depending on a (transitively) or b == a: a dependsOn b closes a cycle."""
    acts = activities_of(docs)
    return [(a, b) for a in acts for b in acts if b.pointer in reachable(acts, a) and a.stem == b.stem]


def cycle_mutation(docs: list[Doc], a: Act, b: Act) -> Mutation:
    acts = [x for x in activities_of(docs) if x.stem == a.stem]
    # on the cycle: what depends on a (transitively) and is depended on by b (transitively)
    members = {x.pointer for x in acts if x.pointer in reachable(acts, a) and b.pointer in reachable(acts, x)}

    def add(value: Any) -> None:
        act = get(value, a.pointer)
        act.setdefault("dependsOn", []).append(_dep(b.value["name"]))

    return Mutation("cycle", f"{a.stem}: {a.value['name']} dependsOn {b.value['name']}", a.stem,
                    frozenset(f"{p}/dependsOn" for p in members), frozenset({"ADF-E-CYCLE"}), _mutate(a.stem, add), "[")


def ls_type_sites(docs: list[Doc]) -> list[tuple[Doc, str, tuple[str, ...]]]:
    """(pipeline, pointer of a linked-service reference, the names that are the wrong type there)."""
    sites = []
    for doc, ptr, v in walk_all(docs):
        if not (isinstance(v, dict) and v.get("type") == "LinkedServiceReference") or doc.kind != "pipeline":
            continue
        key = _parent_key(ptr).lower()
        owner = get(doc.value, parent(ptr))
        if key == "linkedservicename" and owner.get("type", "").startswith("AzureML"):
            sites.append((doc, ptr, STORAGE_LS))
        elif key in ("linkedservicename", "trainedmodellinkedservicename"):
            sites.append((doc, ptr, AZUREML_LS))
    return sites


def ls_type_mutation(doc: Doc, ptr: str, name: str) -> Mutation:
    target = f"{ptr}/referenceName"
    return Mutation("ls-type", f"{doc.stem}{target} = {name!r}", doc.stem, frozenset({target}),
                    frozenset({"ADF-E-LINKED-SERVICE-TYPE"}), _mutate(doc.stem, lambda v: put(v, target, name)),
                    _token(name))


def case_variant(name: str, how: str) -> str:
    return {"same": name, "upper": name.upper(), "lower": name.lower(), "swap": name.swapcase()}[how]


# ------------------------------------------------------------------------------------------------ running

def in_memory(docs: list[Doc]) -> Factory:
    return Factory(root="memory", entities=[Entity(d.kind, d.stem if not isinstance(d.value.get("name"), str)
                                                   else d.value["name"], d.value, f"{d.kind}/{d.stem}.json")
                                            for d in docs])


def errors_of(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def check(mutation: Mutation, findings: list[Finding], source_of: Callable[[str], str]) -> list[Finding]:
    """The property; returns the errors at the expected place."""
    errors = errors_of(findings)
    source = source_of(mutation.stem)
    hits = [f for f in errors if f.source == source and f.pointer in mutation.expected and f.code in mutation.codes]
    listing = "\n".join(f"  {f.source} {f.pointer} {f.code}: {f.message}" for f in errors) or "  (no errors)"
    assert hits, (f"{mutation!r}: expected {sorted(mutation.codes)} at {sorted(mutation.expected)} in {source}; "
                  f"errors found:\n{listing}")
    at_expected = {(source, p) for p in mutation.expected}
    explained = {(source_of(s), p, c) for s, p, c in mutation.extra}
    unexplained = [f for f in errors if (f.source, f.pointer) not in at_expected
                   and (f.source, f.pointer, f.code) not in explained]
    assert not unexplained, f"{mutation!r}: errors the mutation does not explain:\n{listing}"
    keys = [(f.source, f.pointer, f.code, f.message) for f in errors]
    assert len(keys) == len(set(keys)), f"{mutation!r}: a problem is reported more than once:\n{listing}"
    return hits


def mutated(mutation: Mutation, seed_spelling: bool) -> list[Doc]:
    docs = base_docs(seed_spelling)
    mutation.apply(docs)
    return docs


# ------------------------------------------------------------------------------------------------ files

class Writer:
    """JSON text plus the offset where each value starts: an oracle independent of runner.jsontext."""

    def __init__(self, indent: int | None, newline: str):
        self.indent, self.newline = indent, newline
        self.parts: list[str] = []
        self.length = 0
        self.offsets: dict[str, int] = {}

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def break_line(self, depth: int) -> None:
        if self.indent is not None:
            self.emit(self.newline + " " * (self.indent * depth))

    def value(self, value: Any, pointer: str = "", depth: int = 0) -> None:
        self.offsets[pointer] = self.length
        if isinstance(value, dict) and value:
            self.emit("{")
            for i, (k, v) in enumerate(value.items()):
                self.emit("," if i else "")
                self.break_line(depth + 1)
                self.emit(json.dumps(k, ensure_ascii=False) + (": " if self.indent is not None else ":"))
                self.value(v, f"{pointer}/{esc(k)}", depth + 1)
            self.break_line(depth)
            self.emit("}")
        elif isinstance(value, list) and value:
            self.emit("[")
            for i, v in enumerate(value):
                self.emit("," if i else "")
                self.break_line(depth + 1)
                self.value(v, f"{pointer}/{i}", depth + 1)
            self.break_line(depth)
            self.emit("]")
        else:
            self.emit(json.dumps(value, ensure_ascii=False))

    def text(self) -> str:
        return "".join(self.parts) + self.newline


def line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


@dataclass
class Written:
    root: Path
    texts: dict[str, str] = field(default_factory=dict)            # source -> text
    offsets: dict[str, dict[str, int]] = field(default_factory=dict)

    def source(self, stem: str, docs: list[Doc]) -> str:
        kind = next(d.kind for d in docs if d.stem == stem)
        return str(self.root / kind / f"{stem}.json")


def write_git_layout(root: Path, docs: list[Doc], encoding: str, newline: str, indent: int | None) -> Written:
    written = Written(root)
    for doc in docs:
        writer = Writer(indent, newline)
        writer.value(doc.value)
        text = writer.text()
        path = root / doc.kind / f"{doc.stem}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(encoding))
        written.texts[str(path)] = text
        written.offsets[str(path)] = writer.offsets
    return written


ENCODINGS = ("utf-8", "utf-8-sig", "utf-16")   # Python's "utf-16" writes a BOM (what real exports use)


# ------------------------------------------------------------------------------------------------ strategies

CATEGORIES = ("drop", "wrong-type", "dangling", "dup-activity", "dup-entity", "cycle", "ls-type")
_BASES = {spelling: base_docs(spelling) for spelling in (False, True)}
_MISSING_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,24}", fullmatch=True).filter(
    lambda n: n.lower() not in EXISTING_NAMES)


@st.composite
def mutations(draw, seed_spelling: bool) -> Mutation:
    docs = _BASES[seed_spelling]
    category = draw(st.sampled_from(CATEGORIES))
    if category == "drop":
        return draw(st.sampled_from(drop_mutations(docs)))
    if category == "wrong-type":
        doc, ptr, choices = draw(st.sampled_from(wrong_type_cases(docs)))
        return wrong_type_mutation(docs, doc, ptr, draw(st.sampled_from(choices)))
    if category == "dangling":
        doc, ptr = draw(st.sampled_from(reference_sites(docs)))
        return dangling_mutation(doc, ptr, draw(_MISSING_NAMES))
    if category == "dup-activity":
        x, y = draw(st.sampled_from(duplicate_pairs(docs)))
        how = draw(st.sampled_from(("same", "upper", "lower", "swap")))
        return duplicate_activity_mutation(docs, x, case_variant(y.value["name"], how))
    if category == "dup-entity":
        doc = draw(st.sampled_from(docs))
        return duplicate_entity_mutation(doc, case_variant(doc.stem, draw(st.sampled_from(("same", "upper", "swap")))))
    if category == "cycle":
        a, b = draw(st.sampled_from(cycle_pairs(docs)))
        return cycle_mutation(docs, a, b)
    doc, ptr, names = draw(st.sampled_from(ls_type_sites(docs)))
    return ls_type_mutation(doc, ptr, draw(st.sampled_from(names)))


@st.composite
def scenarios(draw) -> tuple[bool, bool, Mutation]:
    strict = draw(st.booleans())
    seed_spelling = False if strict else draw(st.booleans())
    return strict, seed_spelling, draw(mutations(seed_spelling))


# ------------------------------------------------------------------------------------------------ tests

@pytest.mark.parametrize("strict", [False, True])
def test_the_valid_factory_has_no_finding_at_all(strict):
    assert validate_factory(in_memory(base_docs(False)), strict=strict) == []


def test_seed_spelling_is_accepted_with_a_warning_per_renamed_key():
    findings = validate_factory(in_memory(base_docs(True)))
    assert errors_of(findings) == []
    assert {f.code for f in findings} == {"ADF-W-NAME-CASE"}
    assert len(findings) == 2 * 2 * 2  # two BES activities x (input1, output1) x (LinkedServiceName, FilePath)


def test_every_category_has_sites():
    docs = base_docs(False)
    assert len(drop_mutations(docs)) >= 40
    assert len(wrong_type_cases(docs)) >= 120
    assert len(reference_sites(docs)) == 11
    assert any(x.level != y.level for x, y in duplicate_pairs(docs))   # nested in a container vs. top level
    assert any(x.level == y.level for x, y in duplicate_pairs(docs))
    assert any(a.pointer == b.pointer for a, b in cycle_pairs(docs)) and any(a.pointer != b.pointer
                                                                             for a, b in cycle_pairs(docs))
    assert {names for _, _, names in ls_type_sites(docs)} == {STORAGE_LS, AZUREML_LS}


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_a_mutation_is_reported_where_it_was_made(scenario):
    strict, seed_spelling, mutation = scenario
    docs = mutated(mutation, seed_spelling)
    findings = validate_factory(in_memory(docs), strict=strict)
    check(mutation, findings, lambda stem: next(f"{d.kind}/{d.stem}.json" for d in docs if d.stem == stem))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios(), encoding=st.sampled_from(ENCODINGS), newline=st.sampled_from(("\n", "\r\n")),
       indent=st.sampled_from((2, 4, None)))
def test_a_mutation_in_files_is_located_at_its_line_and_column(tmp_path_factory, scenario, encoding, newline, indent):
    strict, seed_spelling, mutation = scenario
    docs = mutated(mutation, seed_spelling)
    root = tmp_path_factory.mktemp("factory")
    written = write_git_layout(root, docs, encoding, newline, indent)
    [factory] = load_paths([str(root)])
    findings = validate_factory(factory, strict=strict)
    hits = check(mutation, findings, lambda stem: written.source(stem, docs))

    # the files say what the objects say
    memory = validate_factory(in_memory(docs), strict=strict)
    relative = lambda f: (Path(f.source).relative_to(root).as_posix() if f.source.startswith(str(root)) else f.source)
    assert sorted((relative(f), f.pointer, f.code) for f in errors_of(findings)) == \
        sorted((f.source, f.pointer, f.code) for f in errors_of(memory))

    for hit in hits:
        text, offsets = written.texts[hit.source], written.offsets[hit.source]
        assert factory.locate(hit.source, hit.pointer) == line_column(text, offsets[hit.pointer]), hit
        line, column = factory.locate(hit.source, hit.pointer)
        at = text.split("\n")[line - 1][column - 1:]
        expected_token = "{" if mutation.category == "drop" else mutation.token
        assert at.startswith(expected_token), (hit, at[:60])


# --- every site once, deterministically (hypothesis samples; this sweeps) -----------------------------------

def _sweep(mutations_: list[Mutation], strict: bool = False) -> None:
    failures = []
    for mutation in mutations_:
        docs = mutated(mutation, False)
        try:
            check(mutation, validate_factory(in_memory(docs), strict=strict),
                  lambda stem: next(f"{d.kind}/{d.stem}.json" for d in docs if d.stem == stem))
        except AssertionError as e:
            failures.append(str(e))
        except Exception as e:  # noqa: BLE001 - a crash is a failure of this mutation, not of the sweep
            failures.append(f"{mutation!r}: {type(e).__name__}: {e}")
    assert not failures, f"{len(failures)} of {len(mutations_)} mutations:\n" + "\n".join(failures)


def test_sweep_every_required_property():
    _sweep(drop_mutations(base_docs(False)))


def test_sweep_every_value_with_a_wrong_type():
    docs = base_docs(False)
    # one wrong value per site, cycling through the pool so that every kind of wrong value is used
    _sweep([wrong_type_mutation(docs, doc, ptr, choices[i % len(choices)])
            for i, (doc, ptr, choices) in enumerate(wrong_type_cases(docs))])


def test_sweep_every_reference_duplicate_cycle_and_linked_service_type():
    docs = base_docs(False)
    sweep = [dangling_mutation(doc, ptr, "DoesNotExist") for doc, ptr in reference_sites(docs)]
    sweep += [duplicate_activity_mutation(docs, x, y.value["name"]) for x, y in duplicate_pairs(docs)]
    sweep += [duplicate_entity_mutation(doc, doc.stem) for doc in docs]
    sweep += [cycle_mutation(docs, a, b) for a, b in cycle_pairs(docs)]
    sweep += [ls_type_mutation(doc, ptr, name) for doc, ptr, names in ls_type_sites(docs) for name in names]
    _sweep(sweep)


def test_entity_name_of_wrong_type_is_reported_and_the_file_name_is_used(tmp_path):
    docs = base_docs(False)
    next(d for d in docs if d.stem == "Storage").value["name"] = 42
    write_git_layout(tmp_path, docs, "utf-8", "\n", 2)
    [factory] = load_paths([str(tmp_path)])
    assert {e.name for e in factory.entities} >= {"Storage"}
    errors = errors_of(validate_factory(factory))
    assert [(Path(f.source).name, f.pointer) for f in errors] == [("Storage.json", "/name")]


# A property reached through two allOf paths (Activity.fields via the base and via the type) and a non-object
# under a discriminated union (every if/then branch applied) used to report one problem up to ~150 times; fixed
# in 4a55674 ("dispatch 'if' needs an object; schema findings de-duplicated"). Kept as a regression test.
@pytest.mark.parametrize("stem,pointer,value", [
    ("TrainAndUpdate", "/properties/activities/1/dependsOn", "Train"),
    ("TrainAndUpdate", "/properties/activities/1/dependsOn/0/activity", 3),
    ("TrainAndUpdate", "/properties/activities/4", "Cleanup"),
    ("Storage", "/properties", "AzureBlobStorage"),
    ("ScoredData", "/properties/linkedServiceName", None),
])
def test_each_problem_is_reported_once(stem, pointer, value):
    def mutate(docs):
        doc = next(d for d in docs if d.stem == stem).value
        delete(doc, pointer) if value is None else put(doc, pointer, value)
    errors = errors_of(_validate_mutated(mutate))
    keys = [(f.source, f.pointer, f.code, f.message) for f in errors]
    assert errors and len(keys) == len(set(keys)), keys


# ------------------------------------------------------------------------------------------------ regressions
# Each test below pins a defect these mutations found (and that is fixed).

def _validate_mutated(fn: Callable[[list[Doc]], None], strict: bool = False) -> list[Finding]:
    docs = base_docs(False)
    fn(docs)
    return validate_factory(in_memory(docs), strict=strict)


def _pipeline(docs: list[Doc]) -> dict:
    return docs[0].value


@pytest.mark.parametrize("pointer", ["/properties/activities/0", "/properties/activities/1",
                                     "/properties/activities/2/typeProperties/activities/0"])
def test_dropped_linked_service_of_an_azureml_activity_is_an_error(pointer):
    findings = _validate_mutated(lambda docs: delete(_pipeline(docs), f"{pointer}/linkedServiceName"))
    assert [f for f in errors_of(findings) if f.pointer in (pointer, f"{pointer}/linkedServiceName")]


@pytest.mark.parametrize("pointer,value", [
    ("/properties/activities/0/typeProperties", "inputs"),                     # AzureMLBatchExecution
    ("/properties/activities/1/typeProperties", ["data/model/model.ilearner"]),  # AzureMLUpdateResource
    ("/properties/activities/2/typeProperties", 7),                            # ForEach
    ("/properties/activities/4/typeProperties", None),                         # Wait
    ("/properties/activities/3/typeProperties/pipeline", "Child"),             # PipelineReference
    ("/properties/activities/2/typeProperties/activities/2/typeProperties/dataset", "ScoredData"),  # DatasetReference
])
def test_non_object_where_an_object_is_required_is_an_error(pointer, value):
    findings = _validate_mutated(lambda docs: put(_pipeline(docs), pointer, value))
    assert [f for f in errors_of(findings) if f.pointer == pointer]


def test_dataset_type_properties_not_an_object():
    findings = _validate_mutated(lambda docs: put(docs[5].value, "/properties/typeProperties", "output.csv"))
    assert [f for f in errors_of(findings) if f.pointer == "/properties/typeProperties"]


@pytest.mark.parametrize("stem,pointer,value", [
    ("TrainAndUpdate", "/properties/activities/1/dependsOn", 3),                        # _depends_on: enumerate(3)
    ("TrainAndUpdate", "/properties/activities/4/dependsOn", True),
    ("TrainAndUpdate", "/properties/activities/1/dependsOn/0/dependencyConditions", 1),  # "Completed" in 1
    ("TrainAndUpdate", "/properties/activities/4/type", ["Wait"]),                      # kind in rules: unhashable
    ("TrainAndUpdate", "/properties/activities/4/name", {"value": "Cleanup"}),          # _cycles: unhashable
    ("TrainAndUpdate", "/properties/activities/0/typeProperties/webServiceOutputs", "out"),  # _upstream_outputs
    ("ScoringEndpoint", "/properties/typeProperties", "endpoint"),                     # _update_resource
    ("Storage", "/properties/type", ["AzureBlobStorage"]),                             # _needs_type: unhashable
])
def test_wrong_typed_values_do_not_crash_the_checks(stem, pointer, value):
    findings = _validate_mutated(lambda docs: put(next(d for d in docs if d.stem == stem).value, pointer, value))
    assert [f for f in errors_of(findings) if f.pointer == pointer]
