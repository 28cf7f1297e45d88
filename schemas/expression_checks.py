"""Checks of every expression in a factory: syntax, functions, arguments, and what each expression refers to.

``schemas`` is a leaf and may not import the runner, whose grammar defines what an expression is; the caller
passes the runner's ``scan`` (``adfemu.runner.expressions.scan``), and ``adfemu.runner.validation`` composes
the two. ``scan(text)`` returns an object with ``problems`` (``kind``, ``message``, ``offset``) and
``references`` (``kind``, ``name``, ``offset``); offsets are into the JSON string as written.

What is reported, each at the string's JSON pointer with the offset in the message:

* ``ADF-E-EXPRESSION-SYNTAX`` / ``-FUNCTION`` (with a "did you mean") / ``-ARGUMENTS`` / ``-LIMIT``;
  ``ADF-W-EXPRESSION-NAME`` for a ``-`` in a name after ``.``, which ADF rejects when it runs (real factories
  deploy it; MicrosoftDocs/azure-docs issue 69407);
* ``ADF-E-ACTIVITY-REFERENCE``: ``activity('X')`` where X is not an activity that runs before this one in the same
  container or an enclosing one (ADF: "The output of activity 'X' can't be referenced since it is either not an
  ancestor to the current activity or does not exist"). Activities nested inside such an upstream container count
  too (they have run), and an Until's own ``expression`` may name the activities of its body;
* ``ADF-E-UNDECLARED``: ``variables('x')``, ``pipeline().parameters.x``, ``pipeline().globalParameters.x`` (when
  the factory file is present), ``dataset().x`` / ``linkedService().x`` not declared on that entity;
* ``ADF-E-SCOPE``: ``item()`` outside a ForEach (or a Filter's ``condition``), ``dataset()`` outside a dataset,
  ``linkedService()`` outside a linked service;
* ``ADF-W-REFERENCE-CASE``: the name exists with another case.

In a template set, strings with a ``{placeholder}`` are not checked: the deployment step rewrites them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .checks import Index, Item
from .entities import Finding
from .pointers import escape

PROBLEM_CODES = {"syntax": ("error", "ADF-E-EXPRESSION-SYNTAX"), "function": ("error", "ADF-E-EXPRESSION-FUNCTION"),
                 "arguments": ("error", "ADF-E-EXPRESSION-ARGUMENTS"), "limit": ("error", "ADF-E-EXPRESSION-LIMIT"),
                 "hyphen": ("warning", "ADF-W-EXPRESSION-NAME")}
PROBLEM_HINTS = {"function": "see the function list of Microsoft Learn's \"Expressions and functions in Azure Data "
                             "Factory\"",
                 "hyphen": "select such a name with ['name'], e.g. pipeline().globalParameters['GP-Int']",
                 "syntax": "check the brackets and quotes around the offset"}
CONTAINERS = {"ForEach": ("activities",), "Until": ("activities",), "IfCondition": ("ifTrueActivities",
                                                                                   "ifFalseActivities")}
NOT_EVALUATED = {"description", "annotations", "folder"}  # text ADF shows, never evaluates
PLACEHOLDER = re.compile(r"(?<!@)\{[A-Za-z_][\w.-]*\}")
SECRET_TYPES = {"SecureString", "AzureKeyVaultSecret"}
_AT_POSITION = re.compile(r" at position '\d+'")  # the runtime message's offset in the expression; ours is in the string


@dataclass
class Place:
    """Where an expression is evaluated: the activity, the containers around it, and what it may see."""
    activities: set[str] = field(default_factory=set)   # names that run before it (same or enclosing level)
    lower: dict[str, str] = field(default_factory=dict)  # lower-case name -> name, of every activity in the pipeline
    in_foreach: bool = False
    entity: str = "pipeline"                            # "pipeline" | "dataset" | "linkedService"


def run(items: list[Item], scan: Callable[[str], Any], template_set: bool = False) -> list[Finding]:
    index = Index(items)
    checker = _Checker(scan, template_set, _globals(index))
    found: list[Finding] = []
    for item in items:
        kind = item.entity.kind
        if kind == "pipeline":
            found += checker.pipeline(item)
        elif kind in ("dataset", "linkedService"):
            found += checker.entity(item)
    return found


def _globals(index: Index) -> dict[str, str] | None:
    factory = next(iter(index.by_kind.get("factory", {}).values()), None)
    if factory is None:
        return None
    declared = factory.properties.get("globalParameters")
    return {k.lower(): k for k in declared} if isinstance(declared, dict) else {}


def _names(value: Any) -> dict[str, str]:
    return {k.lower(): k for k in value} if isinstance(value, dict) else {}


class _Checker:
    def __init__(self, scan: Callable[[str], Any], template_set: bool, globals_: dict[str, str] | None):
        self.scan = scan
        self.template_set = template_set
        self.globals = globals_

    # --- entities -------------------------------------------------------------------------------------

    def entity(self, item: Item) -> list[Finding]:
        props = item.properties
        self.declared = {item.entity.kind: _names(props.get("parameters"))}
        place = Place(entity=item.entity.kind)
        found: list[Finding] = []
        for key, value in props.items():
            if key not in NOT_EVALUATED and key != "parameters":
                found += self.value(item, value, f"/properties/{escape(key)}", place)
        return found

    def pipeline(self, item: Item) -> list[Finding]:
        props = item.properties
        self.declared = {"parameter": _names(props.get("parameters")), "variable": _names(props.get("variables")),
                         "globalParameter": self.globals}
        acts = props.get("activities")
        lower: dict[str, str] = {}
        for level in _levels(acts):
            lower.update({a["name"].lower(): a["name"] for a in level if isinstance(a.get("name"), str)})
        return list(self.level(item, acts, "/properties/activities", Place(lower=lower)))

    # --- activities, level by level -----------------------------------------------------------------------

    def level(self, item: Item, acts: Any, pointer: str, outer: Place) -> Iterator[Finding]:
        if not isinstance(acts, list):
            return
        level = {a["name"]: a for a in acts if isinstance(a, dict) and isinstance(a.get("name"), str)}
        for i, act in enumerate(acts):
            if not isinstance(act, dict):
                continue
            upstream = _upstream(act, level)
            here = Place(outer.activities | upstream | _inside(level[n] for n in upstream), outer.lower,
                         outer.in_foreach)
            yield from self.activity(item, act, f"{pointer}/{i}", here)

    def activity(self, item: Item, act: dict, pointer: str, place: Place) -> Iterator[Finding]:
        kind = act.get("type")
        props = act.get("typeProperties") if isinstance(act.get("typeProperties"), dict) else {}
        nested = set(CONTAINERS.get(kind, ())) | ({"cases", "defaultActivities"} if kind == "Switch" else set())
        for key, value in act.items():
            if key in NOT_EVALUATED or key in ("name", "type", "dependsOn"):
                continue
            if key != "typeProperties":
                yield from self.value(item, value, f"{pointer}/{escape(key)}", place)
                continue
            for prop, inner in props.items():
                if prop in nested:
                    continue
                yield from self.value(item, inner, f"{pointer}/typeProperties/{escape(prop)}",
                                      self._sees(kind, prop, props, place))
        body = Place(place.activities, place.lower, place.in_foreach or kind == "ForEach")
        for key in CONTAINERS.get(kind, ()):
            yield from self.level(item, props.get(key), f"{pointer}/typeProperties/{key}", body)
        if kind == "Switch":
            for c, case in enumerate(props.get("cases") if isinstance(props.get("cases"), list) else []):
                if isinstance(case, dict):
                    yield from self.level(item, case.get("activities"),
                                          f"{pointer}/typeProperties/cases/{c}/activities", body)
            yield from self.level(item, props.get("defaultActivities"), f"{pointer}/typeProperties/defaultActivities",
                                  body)

    @staticmethod
    def _sees(kind: Any, prop: str, props: dict, place: Place) -> Place:
        """What a container's own property sees: Until's expression runs after its body; Filter's condition
        runs per item."""
        if kind == "Until" and prop == "expression":
            inner = {a["name"] for lvl in _levels(props.get("activities")) for a in lvl if isinstance(a.get("name"), str)}
            return Place(place.activities | inner, place.lower, place.in_foreach)
        if kind == "Filter" and prop == "condition":
            return Place(place.activities, place.lower, True)
        return place

    # --- values ---------------------------------------------------------------------------------------

    def value(self, item: Item, value: Any, pointer: str, place: Place) -> list[Finding]:
        found: list[Finding] = []
        stack = [(value, pointer)]
        while stack:
            value, pointer = stack.pop()
            if isinstance(value, str):
                if "@" in value:
                    found += self.string(item, value, pointer, place)
            elif isinstance(value, dict):
                if value.get("type") in SECRET_TYPES:
                    continue  # never echo a secret; ADF does not evaluate a SecureString's value
                stack.extend((v, f"{pointer}/{escape(k)}") for k, v in value.items() if _worth(v))
            elif isinstance(value, list):
                stack.extend((v, f"{pointer}/{i}") for i, v in enumerate(value) if _worth(v))
        return found

    def string(self, item: Item, text: str, pointer: str, place: Place) -> list[Finding]:
        if self.template_set and PLACEHOLDER.search(text):
            return []
        result = self.scan(text)
        found = [self.problem(item, p, pointer) for p in result.problems]
        for ref in result.references:
            found += self.reference(item, ref, pointer, place)
        return found

    def problem(self, item: Item, problem: Any, pointer: str) -> Finding:
        severity, code = PROBLEM_CODES.get(problem.kind, ("error", "ADF-E-EXPRESSION-SYNTAX"))
        detail = _AT_POSITION.sub("", problem.message.split(" is not valid: ", 1)[-1].rstrip("."))
        return item.finding(pointer, severity, code, f"expression at offset {problem.offset}: {detail}",
                            PROBLEM_HINTS.get(problem.kind))

    def reference(self, item: Item, ref: Any, pointer: str, place: Place) -> list[Finding]:
        where = f"(offset {ref.offset})"
        if ref.kind == "activity":
            return self.activity_reference(item, ref.name, pointer, place, where)
        if ref.kind == "item":
            if place.in_foreach:
                return []
            return [item.finding(pointer, "error", "ADF-E-SCOPE", f"item() {where} is used outside a ForEach; it has "
                                 "no value here", hint="item() works in a ForEach's activities and a Filter's "
                                                       "condition")]
        if ref.kind in ("dataset", "linkedService") and place.entity != ref.kind:
            return [item.finding(pointer, "error", "ADF-E-SCOPE", f"{ref.kind}() {where} can only be used inside a "
                                 f"{ref.kind} definition")]
        declared = self.declared.get(ref.kind)
        if declared is None:  # global parameters without the factory file: unknown, not wrong
            return []
        what = {"parameter": "parameter", "variable": "variable", "globalParameter": "global parameter",
                "dataset": "dataset parameter", "linkedService": "linked service parameter"}[ref.kind]
        return _declared(item, pointer, ref.name, declared, what, where)

    def activity_reference(self, item: Item, name: str, pointer: str, place: Place, where: str) -> list[Finding]:
        if name in place.activities:
            return []
        match = next((a for a in place.activities if a.lower() == name.lower()), None)
        if match is not None:
            return [item.finding(pointer, "warning", "ADF-W-REFERENCE-CASE", f"activity('{name}') {where} matches "
                                 f"activity '{match}' only when case is ignored", hint=f"write '{match}'")]
        exists = place.lower.get(name.lower())
        why = (f"activity '{exists}' does not run before this one in its container or an enclosing one"
               if exists else "no activity of this pipeline has that name")
        return [item.finding(pointer, "error", "ADF-E-ACTIVITY-REFERENCE",
                             f"activity('{name}') {where}: the output of activity '{name}' can't be referenced since "
                             f"it is either not an ancestor to the current activity or does not exist ({why})",
                             hint="add a dependsOn path from that activity to this one"
                             if exists else "name an activity that runs before this one")]


def _worth(value: Any) -> bool:
    """Whether a value may hold an expression (skips numbers, booleans and plain strings cheaply)."""
    kind = type(value)
    return kind is dict or kind is list or (kind is str and "@" in value)


def _declared(item: Item, pointer: str, name: str, declared: dict[str, str], what: str, where: str) -> list[Finding]:
    if name in declared.values():
        return []
    if name.lower() in declared:
        return [item.finding(pointer, "warning", "ADF-W-REFERENCE-CASE",
                             f"{what} '{name}' {where} matches '{declared[name.lower()]}' only when case is ignored",
                             hint=f"write '{declared[name.lower()]}'")]
    known = ", ".join(sorted(declared.values())[:10]) or "none"
    return [item.finding(pointer, "error", "ADF-E-UNDECLARED", f"{what} '{name}' {where} is not declared",
                         hint=f"declared: {known}")]


def _levels(acts: Any) -> Iterator[list[dict]]:
    level = [a for a in acts if isinstance(a, dict)] if isinstance(acts, list) else []
    yield level
    for act in level:
        props = act.get("typeProperties") if isinstance(act.get("typeProperties"), dict) else {}
        for key in CONTAINERS.get(act.get("type"), ()):
            yield from _levels(props.get(key))
        if act.get("type") == "Switch":
            for case in props.get("cases") if isinstance(props.get("cases"), list) else []:
                if isinstance(case, dict):
                    yield from _levels(case.get("activities"))
            yield from _levels(props.get("defaultActivities"))


def _inside(containers) -> set[str]:
    """Every activity nested in the given ones: once a container has run, so have they (the real procfwk pipeline
    04-Infant reads activity('Get Worker Pipeline Status'), inside an Until, from a Switch after that Until)."""
    found: set[str] = set()
    for act in containers:
        for lvl in list(_levels([act]))[1:]:
            found.update(a["name"] for a in lvl if isinstance(a.get("name"), str))
    return found


def _upstream(act: dict, level: dict[str, dict]) -> set[str]:
    """The activities of the same level that ``act`` depends on, transitively (names matched ignoring case)."""
    lower = {n.lower(): n for n in level}
    seen: set[str] = set()
    stack = [act]
    while stack:
        for dep in stack.pop().get("dependsOn") or []:
            target = dep.get("activity") if isinstance(dep, dict) else None
            name = lower.get(target.lower()) if isinstance(target, str) else None
            if name is not None and name not in seen:
                seen.add(name)
                stack.append(level[name])
    return seen
