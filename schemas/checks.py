"""Checks beyond JSON Schema: what ADF's "Validate all" rejects, and what will fail at run time.

Each check reads canonical documents (after ``lenient.canonicalize``) and reports findings at
pointers into the document as written. Codes are stable: ``ADF-E-*`` errors, ``ADF-W-*`` warnings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .entities import PLACEHOLDER, Entity, Finding
from . import ranges
from .lenient import Canonical
from .pointers import escape

FORBIDDEN = set(".+?/<>*%&:\\")
CONTAINER_LISTS = {"ForEach": ("activities",), "Until": ("activities",),
                   "IfCondition": ("ifTrueActivities", "ifFalseActivities")}
STORAGE_TYPES = {"AzureStorage", "AzureBlobStorage"}
DATASET_EXTENSIONS = (".csv", ".tsv", ".arff")
MAX_ACTIVITIES, WARN_ACTIVITIES, MAX_PARAMETERS, MAX_BATCH = 120, 80, 50, 50
TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?$")


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _conditions(dep: dict) -> list[str]:
    return [c for c in _list(dep.get("dependencyConditions")) if isinstance(c, str)]


@dataclass
class Item:
    """One canonical entity and how to point into its file."""
    entity: Entity
    canonical: Canonical

    @property
    def properties(self) -> dict:
        value = self.canonical.value
        props = value.get("properties") if isinstance(value, dict) else None
        return props if isinstance(props, dict) else {}

    def type(self) -> str | None:
        kind = self.properties.get("type")
        return kind if isinstance(kind, str) else None

    def finding(self, canonical_pointer: str, severity: str, code: str, message: str, hint: str | None = None) -> Finding:
        written = self.canonical.written_pointer(canonical_pointer)
        return Finding(self.entity.source, self.entity.pointer_prefix + written, severity, code, message, hint)


class Index:
    """Entities by kind and case-insensitive name."""

    def __init__(self, items: list[Item]):
        self.template_set = False
        self.by_kind: dict[str, dict[str, Item]] = {}
        for item in items:
            self.by_kind.setdefault(item.entity.kind, {}).setdefault(item.entity.name.lower(), item)

    def get(self, kind: str, name: str) -> Item | None:
        return self.by_kind.get(kind, {}).get(name.lower())


def run_all(items: list[Item], template_set: bool = False) -> list[Finding]:
    index = Index(items)
    index.template_set = template_set
    found: list[Finding] = list(unique_names(items))
    for item in items:
        found += naming(item)
        found += references(item, index)
        if item.entity.kind == "pipeline":
            found += pipeline_checks(item, index)
        if item.entity.kind == "trigger":
            found += trigger_checks(item)
    return found


# --- names ----------------------------------------------------------------------------------------

def unique_names(items: list[Item]) -> Iterator[Finding]:
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        key = (item.entity.kind, item.entity.name.lower())
        if key in seen and item.entity.kind != "factory":
            first = seen[key].entity
            yield item.finding("/name", "error", "ADF-E-DUPLICATE-NAME",
                               f"{item.entity.kind} '{item.entity.name}' is defined twice (also in {first.source}); "
                               "names are unique per factory, case-insensitively")
        seen.setdefault(key, item)


def name_problem(name: str, kind: str) -> str | None:
    """ADF naming rules (Microsoft Learn: "Azure Data Factory - naming rules"); None when the name is valid."""
    if not name:
        return "the name is empty"
    bad = sorted(set(name) & FORBIDDEN)
    if bad:
        return f"the name contains {' '.join(repr(c) for c in bad)}, which ADF forbids in names"
    if kind in ("linkedService", "dataset", "dataflow") and "-" in name:
        return f"a {kind} name may not contain '-'"
    if kind == "pipeline" and len(name) > 140:
        return f"a pipeline name has at most 140 characters ({len(name)} here)"
    if kind == "activity":
        if len(name) > 55:
            return f"an activity name has at most 55 characters ({len(name)} here)"
        if not (name[0].isalnum() or name[0] == "_"):
            return "an activity name must start with a letter, a digit or '_'"
    return None


def naming(item: Item) -> list[Finding]:
    kind, name = item.entity.kind, item.entity.name
    if kind not in ("pipeline", "linkedService", "dataset", "dataflow"):
        return []
    problem = name_problem(name, kind)
    if problem:
        return [item.finding("/name", "error", "ADF-E-NAME", f"invalid {kind} name '{name}': {problem}")]
    if not name[0].isalpha():  # documented, but real factories publish such names (procfwk's 01-Grandparent)
        return [item.finding("/name", "warning", "ADF-W-NAME", f"the naming rules say a {kind} name starts with "
                                                                f"a letter; '{name}' does not")]
    return []


# --- references -----------------------------------------------------------------------------------

REFERENCE_KINDS = {"LinkedServiceReference": "linkedService", "DatasetReference": "dataset",
                   "PipelineReference": "pipeline", "DataFlowReference": "dataflow"}


def walk(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    yield pointer, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{pointer}/{escape(key)}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, f"{pointer}/{i}")


def objects(value: Any, pointer: str) -> Iterator[tuple[str, dict]]:
    """Every object inside ``value`` with its pointer (pointers are built for containers only: fast)."""
    stack = [(value, pointer)]
    while stack:
        value, pointer = stack.pop()
        if type(value) is dict:
            yield pointer, value
            stack.extend((v, f"{pointer}/{escape(k)}") for k, v in value.items() if type(v) in (dict, list))
        elif type(value) is list:
            stack.extend((v, f"{pointer}/{i}") for i, v in enumerate(value) if type(v) in (dict, list))


def references(item: Item, index: Index) -> list[Finding]:
    found = []
    for pointer, value in objects(item.properties, "/properties"):
        kind = REFERENCE_KINDS.get(value.get("type")) if isinstance(value.get("type"), str) else None
        name = value.get("referenceName")
        if kind and isinstance(name, str) and not name.startswith("@") and not PLACEHOLDER.search(name):
            found += _resolve(item, index, kind, name, pointer + "/referenceName")
        if value.get("type") == "AzureKeyVaultSecret" and isinstance(value.get("store"), dict):
            store = value["store"].get("referenceName")
            target = index.get("linkedService", store) if isinstance(store, str) else None
            if target is not None and target.type() not in (None, "AzureKeyVault"):
                found.append(item.finding(pointer + "/store/referenceName", "error", "ADF-E-LINKED-SERVICE-TYPE",
                                          f"'{store}' is a {target.type()} linked service; a secret store must be "
                                          "AzureKeyVault"))
    return found


def _resolve(item: Item, index: Index, kind: str, name: str, pointer: str) -> list[Finding]:
    target = index.get(kind, name)
    if target is None and index.template_set:
        return [item.finding(pointer, "warning", "ADF-W-REFERENCE-OUTSIDE",
                             f"{kind} '{name}' is not in this template set; it must exist in the factory the "
                             "templates are deployed to")]
    if target is None:
        return [item.finding(pointer, "error", "ADF-E-REFERENCE", f"{kind} '{name}' does not exist in this factory")]
    if target.entity.name != name:
        return [item.finding(pointer, "warning", "ADF-W-REFERENCE-CASE",
                             f"'{name}' matches {kind} '{target.entity.name}' only when case is ignored",
                             hint=f"write '{target.entity.name}'")]
    return []


# --- pipelines ------------------------------------------------------------------------------------

@dataclass
class Activity:
    value: dict
    pointer: str               # canonical pointer
    siblings: list["Activity"]  # the activities of the same container level


def activities(container: Any, pointer: str) -> Iterator[Activity]:
    """Every activity, containers included, depth first."""
    if not isinstance(container, list):
        return
    level = [Activity(a, f"{pointer}/{i}", []) for i, a in enumerate(container) if isinstance(a, dict)]
    for act in level:
        act.siblings = level
    for act in level:
        yield act
        props = act.value.get("typeProperties")
        kind = act.value.get("type")
        if not isinstance(props, dict) or not isinstance(kind, str):
            continue
        for key in CONTAINER_LISTS.get(kind, ()):
            yield from activities(props.get(key), f"{act.pointer}/typeProperties/{key}")
        if kind == "Switch":
            for c, case in enumerate(_list(props.get("cases"))):
                if isinstance(case, dict):
                    yield from activities(case.get("activities"), f"{act.pointer}/typeProperties/cases/{c}/activities")
            yield from activities(props.get("defaultActivities"), f"{act.pointer}/typeProperties/defaultActivities")


def pipeline_checks(item: Item, index: Index) -> list[Finding]:
    props = item.properties
    acts = list(activities(props.get("activities"), "/properties/activities"))
    found: list[Finding] = []
    found += _activity_names(item, acts)
    found += _limits(item, props, acts)
    found += _depends_on(item, acts)
    found += _parameter_references(item, props, index)
    for act in acts:
        found += _activity_rules(item, act, index)
    return found


def _activity_names(item: Item, acts: list[Activity]) -> list[Finding]:
    found, seen = [], {}
    for act in acts:
        name = act.value.get("name")
        if not isinstance(name, str):
            continue
        problem = name_problem(name, "activity")
        if problem:
            found.append(item.finding(f"{act.pointer}/name", "error", "ADF-E-NAME", f"invalid activity name '{name}': {problem}"))
        if name.lower() in seen:
            found.append(item.finding(f"{act.pointer}/name", "error", "ADF-E-DUPLICATE-ACTIVITY",
                                      f"activity name '{name}' is used twice in pipeline '{item.entity.name}' "
                                      f"(also at {item.canonical.written_pointer(seen[name.lower()])}); names are "
                                      "unique in a pipeline, containers included, case-insensitively"))
        seen.setdefault(name.lower(), f"{act.pointer}/name")
    return found


def _limits(item: Item, props: dict, acts: list[Activity]) -> list[Finding]:
    found = []
    if len(acts) > MAX_ACTIVITIES:
        found.append(item.finding("/properties/activities", "error", "ADF-E-LIMIT",
                                  f"{len(acts)} activities (containers included); ADF allows at most {MAX_ACTIVITIES}"))
    elif len(acts) > WARN_ACTIVITIES:
        found.append(item.finding("/properties/activities", "warning", "ADF-W-LIMIT",
                                  f"{len(acts)} activities (containers included); ADF's default limit is "
                                  f"{WARN_ACTIVITIES} (at most {MAX_ACTIVITIES} on request)"))
    params = props.get("parameters")
    if isinstance(params, dict) and len(params) > MAX_PARAMETERS:
        found.append(item.finding("/properties/parameters", "error", "ADF-E-LIMIT",
                                  f"{len(params)} parameters; ADF allows at most {MAX_PARAMETERS} per pipeline"))
    return found


def _depends_on(item: Item, acts: list[Activity]) -> list[Finding]:
    found: list[Finding] = []
    edges: dict[int, list[str]] = {}  # id(activity) -> names it depends on, resolved
    for act in acts:
        names = {a.value.get("name"): a for a in act.siblings if isinstance(a.value.get("name"), str)}
        lower = {n.lower(): n for n in names}
        act_edges = edges.setdefault(id(act), [])
        for d, dep in enumerate(_list(act.value.get("dependsOn"))):
            if not isinstance(dep, dict) or not isinstance(dep.get("activity"), str):
                continue
            pointer, target = f"{act.pointer}/dependsOn/{d}/activity", dep["activity"]
            if target in names:
                act_edges.append(target)
            elif target.lower() in lower:
                act_edges.append(lower[target.lower()])
                found.append(item.finding(pointer, "warning", "ADF-W-DEPENDSON-CASE",
                                          f"dependsOn '{target}' matches activity '{lower[target.lower()]}' only when "
                                          "case is ignored; ADF resolves it", hint=f"write '{lower[target.lower()]}'"))
            else:
                # ADF saves and publishes such a pipeline (corpus: BigFactorySample2 "Multiple Waits"); only its
                # runs fail, before any activity starts (the runner does the same)
                found.append(item.finding(pointer, "warning", "ADF-W-DEPENDSON-MISSING",
                                          f"dependsOn names '{target}', which is not an activity of the same level; "
                                          "ADF accepts the pipeline but every run fails at start with InvalidTemplate",
                                          hint="name an activity of the same container, or remove the dependency"))
            conditions = _conditions(dep)
            if "Completed" in conditions and ({"Succeeded", "Failed"} & set(conditions)):
                found.append(item.finding(f"{act.pointer}/dependsOn/{d}/dependencyConditions", "error",
                                          "ADF-E-DEPENDSON-CONDITIONS",
                                          "'Completed' cannot be combined with 'Succeeded' or 'Failed' on one activity"))
    levels = {id(a.siblings): a.siblings for a in acts}
    for level in levels.values():
        found += _cycles(item, level, edges)
    return found


def _cycles(item: Item, level: list[Activity], edges: dict[int, list[str]]) -> list[Finding]:
    graph = {a.value.get("name"): a for a in level if isinstance(a.value.get("name"), str)}
    state: dict[str, int] = {}
    found: list[Finding] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for nxt in edges.get(id(graph[name]), []):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt] if nxt in path else [name, nxt]
                found.append(item.finding(f"{graph[name].pointer}/dependsOn", "error", "ADF-E-CYCLE",
                                          f"dependsOn cycle: {' -> '.join(cycle)}"))
            elif state.get(nxt) is None and nxt in graph:
                visit(nxt, path + [nxt])
        state[name] = 2

    for name in graph:
        if isinstance(name, str) and name not in state:
            visit(name, [name])
    return found


def _parameter_references(item: Item, props: dict, index: Index) -> list[Finding]:
    """SetVariable / AppendVariable name a declared variable. What expressions refer to is checked by
    ``expression_checks`` with the runner's parser."""
    variables = {k.lower(): k for k in (props.get("variables") or {})} if isinstance(props.get("variables"), dict) else {}
    found = []
    for act in activities(props.get("activities"), "/properties/activities"):
        if act.value.get("type") in ("SetVariable", "AppendVariable"):
            name = _dict(act.value.get("typeProperties")).get("variableName")
            if isinstance(name, str) and name != "pipelineReturnValue":
                found += _declared(item, f"{act.pointer}/typeProperties/variableName", name, variables, "variable")
    return found


def _declared(item: Item, pointer: str, name: str, declared: dict[str, str], what: str) -> list[Finding]:
    if name in declared.values():
        return []
    if name.lower() in declared:
        return [item.finding(pointer, "warning", "ADF-W-REFERENCE-CASE",
                             f"{what} '{name}' matches '{declared[name.lower()]}' only when case is ignored")]
    return [item.finding(pointer, "error", "ADF-E-UNDECLARED", f"{what} '{name}' is not declared")]


# --- activity rules -------------------------------------------------------------------------------

def _linked_service(index: Index, ref: Any) -> tuple[str | None, Item | None]:
    name = ref.get("referenceName") if isinstance(ref, dict) else None
    if not isinstance(name, str) or name.startswith("@"):
        return None, None
    return name, index.get("linkedService", name)


def _literal(value: Any) -> str | None:
    """A plain string that is not an expression, else None."""
    return value if isinstance(value, str) and not value.startswith("@") and "@{" not in value else None


def _activity_rules(item: Item, act: Activity, index: Index) -> list[Finding]:
    kind, props = act.value.get("type"), _dict(act.value.get("typeProperties"))
    if not isinstance(kind, str):
        return _policy(item, act)
    rules: dict[str, Callable[..., list[Finding]]] = {
        "AzureMLBatchExecution": _batch_execution, "AzureMLUpdateResource": _update_resource, "ForEach": _for_each}
    found = _policy(item, act)
    if kind in rules:
        found += rules[kind](item, act, props, index)
    return found + ranges.type_properties(kind, props, f"{act.pointer}/typeProperties", _reporter(item))


def _reporter(item: Item) -> ranges.Report:
    return lambda pointer, code, message, hint: item.finding(pointer, "error", code, message, hint)


def _needs_type(item: Item, pointer: str, target: Item | None, name: str | None, types: set[str], role: str) -> list[Finding]:
    if target is None or target.type() is None or target.type() in types:
        return []
    return [item.finding(pointer, "error", "ADF-E-LINKED-SERVICE-TYPE",
                         f"'{name}' is a {target.type()} linked service; {role} needs {' or '.join(sorted(types))}")]


def _missing_linked_service(item: Item, act: Activity) -> list[Finding]:
    """The spec leaves linkedServiceName optional on execution activities; the AML ones cannot run without one."""
    if "linkedServiceName" in act.value:
        return []
    return [item.finding(act.pointer, "error", "ADF-E-NO-LINKED-SERVICE",
                         f"{act.value.get('type')} '{act.value.get('name')}' needs a linkedServiceName (an AzureML "
                         "linked service)")]


def _batch_execution(item: Item, act: Activity, props: dict, index: Index) -> list[Finding]:
    name, target = _linked_service(index, act.value.get("linkedServiceName"))
    found = _missing_linked_service(item, act) + _needs_type(item, f"{act.pointer}/linkedServiceName/referenceName", target, name, {"AzureML"},
                        "AzureMLBatchExecution")
    for side in ("webServiceInputs", "webServiceOutputs"):
        for port, spec in _dict(props.get(side)).items():
            if not isinstance(spec, dict):
                continue
            base = f"{act.pointer}/typeProperties/{side}/{port}"
            ls_name, ls = _linked_service(index, spec.get("linkedServiceName"))
            found += _needs_type(item, f"{base}/linkedServiceName/referenceName", ls, ls_name, STORAGE_TYPES,
                                 f"{side}.{port}")
            path = _literal(spec.get("filePath"))
            allowed = DATASET_EXTENSIONS + ((".ilearner",) if side == "webServiceOutputs" else ())
            if path is not None and not path.lower().endswith(allowed):
                found.append(item.finding(f"{base}/filePath", "warning", "ADF-W-BES-EXTENSION",
                                          f"'{path}' has no file extension that AML accepts ({', '.join(allowed)}); "
                                          "the Batch Execution job will fail with InvalidBlobExtension",
                                          hint="name the blob with its extension, e.g. "
                                               f"'{path.rstrip('/')}/{'model.ilearner' if side == 'webServiceOutputs' else 'data.csv'}'"))
    return found


def _update_resource(item: Item, act: Activity, props: dict, index: Index) -> list[Finding]:
    name, target = _linked_service(index, act.value.get("linkedServiceName"))
    found = _missing_linked_service(item, act) + _needs_type(item, f"{act.pointer}/linkedServiceName/referenceName", target, name, {"AzureML"},
                        "AzureMLUpdateResource")
    if target is not None and target.type() == "AzureML" and \
            not _dict(target.properties.get("typeProperties")).get("updateResourceEndpoint"):
        found.append(item.finding(f"{act.pointer}/linkedServiceName/referenceName", "warning",
                                  "ADF-W-NO-UPDATE-ENDPOINT",
                                  f"linked service '{name}' has no updateResourceEndpoint; Update Resource will fail at "
                                  "run time"))
    ls_name, ls = _linked_service(index, props.get("trainedModelLinkedServiceName"))
    found += _needs_type(item, f"{act.pointer}/typeProperties/trainedModelLinkedServiceName/referenceName", ls, ls_name,
                         STORAGE_TYPES, "trainedModelLinkedServiceName")
    path = _literal(props.get("trainedModelFilePath"))
    if path is None:
        return found
    if not path.lower().endswith(".ilearner"):
        found.append(item.finding(f"{act.pointer}/typeProperties/trainedModelFilePath", "error", "ADF-E-ILEARNER",
                                  f"trainedModelFilePath '{path}' must name an .ilearner file"))
    produced = _upstream_outputs(act)
    if produced is not None and path not in produced:
        found.append(item.finding(f"{act.pointer}/typeProperties/trainedModelFilePath", "warning",
                                  "ADF-W-MODEL-NOT-PRODUCED",
                                  f"no upstream AzureMLBatchExecution output writes '{path}' "
                                  f"(they write: {', '.join(sorted(produced)) or 'nothing'}); Update Resource will "
                                  "read a model that this run did not train",
                                  hint="point a webServiceOutputs filePath of the training activity at this file"))
    return found


def _upstream_outputs(act: Activity) -> set[str] | None:
    """Literal BES output paths of the activities this one depends on (transitively); None if none is BES."""
    by_name = {a.value.get("name", "").lower(): a for a in act.siblings if isinstance(a.value.get("name"), str)}
    seen, stack, outputs, any_bes = set(), [act], set(), False
    while stack:
        current = stack.pop()
        for dep in _list(current.value.get("dependsOn")):
            name = dep.get("activity", "").lower() if isinstance(dep, dict) and isinstance(dep.get("activity"), str) else ""
            upstream = by_name.get(name)
            if upstream is None or name in seen:
                continue
            seen.add(name)
            stack.append(upstream)
            if upstream.value.get("type") == "AzureMLBatchExecution":
                any_bes = True
                for spec in _dict(_dict(upstream.value.get("typeProperties")).get("webServiceOutputs")).values():
                    path = _literal(spec.get("filePath")) if isinstance(spec, dict) else None
                    if path:
                        outputs.add(path)
    return outputs if any_bes else None


def _for_each(item: Item, act: Activity, props: dict, index: Index) -> list[Finding]:
    count = props.get("batchCount")
    if isinstance(count, int) and not isinstance(count, bool) and count > MAX_BATCH:
        return [item.finding(f"{act.pointer}/typeProperties/batchCount", "error", "ADF-E-LIMIT",
                             f"batchCount {count}: a ForEach runs at most {MAX_BATCH} iterations in parallel "
                             f"(range 1 to {MAX_BATCH})")]
    return []


def _policy(item: Item, act: Activity) -> list[Finding]:
    policy = act.value.get("policy")
    if not isinstance(policy, dict):
        return []
    found = ranges.policy(policy, f"{act.pointer}/policy", _reporter(item))
    timeout = policy.get("timeout")
    match = TIMESPAN.match(timeout) if isinstance(timeout, str) else None
    if match:
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        if total < 600:
            found.append(item.finding(f"{act.pointer}/policy/timeout", "warning", "ADF-W-TIMEOUT",
                                      f"timeout {timeout} is below ADF's documented minimum of 10 minutes; "
                                      "adfemu honours it"))
    return found


def trigger_checks(item: Item) -> list[Finding]:
    props = item.properties
    if props.get("type") in ("TumblingWindowTrigger", "RerunTumblingWindowTrigger") and not props.get("pipeline"):
        return [item.finding("/properties", "warning", "ADF-W-TRIGGER-NO-PIPELINE",
                             "this trigger names no pipeline, so it can never start a run")]
    return []
