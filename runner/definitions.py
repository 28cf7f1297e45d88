"""A factory's definitions as the runner reads them: canonical documents (ADF's leniency applied),
looked up by name case-insensitively, and pipeline parameters bound with their ADF types."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from adfemu.schemas.entities import Factory, Finding

from .validation import check_factory

PARAMETER_TYPES = ("String", "Int", "Float", "Bool", "Array", "Object", "SecureString")
CONTAINER_KEYS = ("activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities", "cases")


def scopes(activities: Any) -> Iterator[list[dict]]:
    """Each level of activities: the given list, then the inner lists of every container, depth first."""
    level = [a for a in activities if isinstance(a, dict)] if isinstance(activities, list) else []
    yield level
    for act in level:
        props = act.get("typeProperties") if isinstance(act.get("typeProperties"), dict) else {}
        for key in CONTAINER_KEYS:
            if key != "cases" and key in props:
                yield from scopes(props[key])
        cases = props.get("cases")
        for case in cases if isinstance(cases, list) else []:
            if isinstance(case, dict):
                yield from scopes(case.get("activities"))


class DefinitionsError(ValueError):
    """The factory has errors (the findings say which) or lacks what the run needs."""

    def __init__(self, message: str, findings: list[Finding] | None = None):
        super().__init__(message)
        self.findings = findings or []


@dataclass
class Definitions:
    factory_name: str = "adfemu"
    pipelines: dict[str, dict] = field(default_factory=dict)        # lower-case name -> canonical document
    linked_services: dict[str, dict] = field(default_factory=dict)
    datasets: dict[str, dict] = field(default_factory=dict)
    triggers: dict[str, dict] = field(default_factory=dict)
    global_parameters: dict[str, Any] = field(default_factory=dict)
    warnings: list[Finding] = field(default_factory=list)

    @classmethod
    def from_factory(cls, factory: Factory) -> "Definitions":
        findings, items = check_factory(factory)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise DefinitionsError(f"the factory has {len(errors)} error(s)", errors)
        defs = cls(warnings=[f for f in findings if f.severity == "warning"])
        for item in items:
            doc, kind = item.canonical.value, item.entity.kind
            doc = dict(doc, name=item.entity.name)
            table = {"pipeline": defs.pipelines, "linkedService": defs.linked_services,
                     "dataset": defs.datasets, "trigger": defs.triggers}.get(kind)
            if table is not None:
                table[item.entity.name.lower()] = doc
            elif kind == "factory":
                defs.factory_name = item.entity.name
                for name, spec in ((doc.get("properties") or {}).get("globalParameters") or {}).items():
                    defs.global_parameters[name] = coerce(spec.get("value"), spec.get("type", "Object"), name)
        return defs

    def pipeline(self, name: str) -> dict:
        doc = self.pipelines.get(name.lower())
        if doc is None:
            known = ", ".join(sorted(d["name"] for d in self.pipelines.values())) or "none"
            raise DefinitionsError(f"pipeline '{name}' is not in the factory (pipelines: {known})")
        return doc

    def linked_service(self, name: str) -> dict:
        doc = self.linked_services.get(str(name).lower())
        if doc is None:
            raise DefinitionsError(f"linked service '{name}' is not in the factory")
        return doc

    def bind_parameters(self, pipeline: dict, given: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """Given values (strings from the command line, or typed) coerced to the declared types;
        defaults applied; a parameter without default and without value is an error."""
        declared = (pipeline.get("properties") or {}).get("parameters") or {}
        lower = {k.lower(): k for k in declared}
        unknown = [k for k in given if k.lower() not in lower]
        if unknown:
            raise DefinitionsError(f"pipeline '{pipeline['name']}' has no parameter {', '.join(unknown)} "
                                   f"(parameters: {', '.join(declared) or 'none'})")
        values, secure = {}, set()
        given = {lower[k.lower()]: v for k, v in given.items()}
        for name, spec in declared.items():
            kind = spec.get("type", "String")
            if kind == "SecureString":
                secure.add(name)
            if name in given:
                values[name] = coerce(given[name], kind, name)
            elif "defaultValue" in spec:
                values[name] = coerce(spec["defaultValue"], kind, name)
            else:
                raise DefinitionsError(f"pipeline '{pipeline['name']}' needs a value for parameter '{name}' ({kind})")
        return values, secure


def coerce(value: Any, kind: str, name: str) -> Any:
    """A parameter value of an ADF type; strings (e.g. from ``--param``) are converted."""
    kind = {"boolean": "Bool", "integer": "Int"}.get(str(kind).lower(), kind)
    kind = next((t for t in PARAMETER_TYPES if t.lower() == str(kind).lower()), kind)
    if not isinstance(value, str) or kind in ("String", "SecureString"):
        return value
    try:
        if kind == "Int":
            return int(value)
        if kind == "Float":
            return float(value)
        if kind == "Bool":
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
        if kind in ("Array", "Object"):
            return json.loads(value)
    except ValueError:
        raise DefinitionsError(f"parameter '{name}' is {kind}; '{value}' is not a {kind} value") from None
    return value
