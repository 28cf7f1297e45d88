"""Validate an ADF factory as ADF's "Validate all" would: schema, leniency, then semantic checks.

Default (lenient) mode reproduces what the service accepts (measured on ``vendor/real-adf-definitions``): every
leniency used is a warning at its JSON pointer, and the canonical document is what the schema
and the semantic checks see. ``strict=True`` checks the documents against the spec as written.

Speed: ``jsonschema-rs`` (Rust) decides whether a document is valid, about a hundred times faster than the
pure-Python ``jsonschema``; only a document that fails is validated again with ``jsonschema``, whose errors
give the messages (so they read as they always did), and is imported only then (0.1 s of imports that
`adfemu run` of a valid factory does without). Each ``jsonschema-rs`` validator is compiled with only the
``$defs`` its root reaches, on first use.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import jsonschema_rs

from . import checks, pointers
from .entities import Entity, Factory, Finding
from .lenient import Canonical, Walker

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

SCHEMA_ID = "https://adfemu.local/schemas/adf.schema.json"
RESOURCE_DEFS = {"pipeline": "PipelineResource", "linkedService": "LinkedServiceResource",
                 "dataset": "DatasetResource", "trigger": "TriggerResource", "dataflow": "DataFlowResource",
                 "integrationRuntime": "IntegrationRuntimeResource", "factory": "Factory",
                 "credential": "CredentialResource", "managedVirtualNetwork": "ManagedVirtualNetworkResource",
                 "managedPrivateEndpoint": "ManagedPrivateEndpointResource",
                 "globalParameters": "GlobalParameterResource"}
# What ADF accepts although the spec requires it (seen in real factories): (definition of the object, missing property)
TOLERATED_MISSING = {("TumblingWindowTrigger", "pipeline"), ("Pipeline", "activities")}


@lru_cache(maxsize=1)
def adf_schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("adf.schema.json").read_text())


@lru_cache(maxsize=1)
def _registry() -> Registry:
    from referencing import Registry, Resource
    return Registry().with_resource(SCHEMA_ID, Resource.from_contents(adf_schema()))


@lru_cache(maxsize=None)
def _validator(definition: str, strict: bool):
    """The validator that explains a document ``_decider`` refused."""
    return _validator_class(strict)({"$ref": f"{SCHEMA_ID}#/$defs/{definition}"}, registry=_registry())


@lru_cache(maxsize=2)
def _validator_class(strict: bool):
    """L4, lenient: the spec's minimum/maximum are reported by the lenient walker as warnings, not enforced."""
    from jsonschema import Draft202012Validator, validators
    lenient = {"minimum": None, "maximum": None}
    return Draft202012Validator if strict else validators.extend(Draft202012Validator, lenient)


@lru_cache(maxsize=None)
def _decider(definition: str, strict: bool) -> jsonschema_rs.Draft202012Validator:
    """The fast validity check of one resource definition: its reachable ``$defs`` only (compiling the whole
    spec costs ~70 ms per validator); in lenient mode without ``minimum``/``maximum``, as ``_validator``'s."""
    defs = _reachable(definition)
    if not strict:
        defs = _without_bounds(defs)
    return jsonschema_rs.Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": defs})


def _reachable(definition: str) -> dict:
    all_defs, found, stack = adf_schema()["$defs"], {}, [definition]
    while stack:
        name = stack.pop()
        if name in found:
            continue
        found[name] = all_defs[name]
        stack.extend(ref.rsplit("/", 1)[-1] for ref in _refs(all_defs[name]))
    return found


def _refs(schema) -> list[str]:
    out, stack = [], [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                out.append(ref)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def _without_bounds(node):
    if isinstance(node, dict):
        return {k: _without_bounds(v) for k, v in node.items() if k not in ("minimum", "maximum")
                or not isinstance(v, (int, float))}
    if isinstance(node, list):
        return [_without_bounds(v) for v in node]
    return node


@lru_cache(maxsize=1)
def _walker() -> Walker:
    return Walker(adf_schema())


def validate_factory(factory: Factory, strict: bool = False) -> list[Finding]:
    return check_factory(factory, strict)[0]


def check_factory(factory: Factory, strict: bool = False) -> tuple[list[Finding], list[checks.Item]]:
    """Findings, and each entity with its canonical document (what the runner executes)."""
    items: list[checks.Item] = []
    findings: list[Finding] = list(factory.findings)
    for entity in factory.entities:
        try:
            found, item = validate_entity(entity, strict)
        except RecursionError:
            findings.append(Finding(entity.source, entity.pointer_prefix, "error", "ADF-E-TOO-DEEP",
                                    "the definition is nested too deeply to check"))
            continue
        findings += found
        if item is not None:
            items.append(item)
    findings += checks.run_all(items, factory.is_template_set)
    return _range_errors_win(findings), items


def _range_errors_win(findings: list[Finding]) -> list[Finding]:
    """A value that breaks a range ADF enforces (``ADF-E-RANGE``) is not also reported as the tolerated
    ``ADF-W-RANGE`` of the spec's bounds."""
    errors = {(f.source, f.pointer) for f in findings if f.code == "ADF-E-RANGE"}
    if not errors:
        return findings
    return [f for f in findings if f.code != "ADF-W-RANGE" or (f.source, f.pointer) not in errors]


def validate_entity(entity: Entity, strict: bool = False) -> tuple[list[Finding], checks.Item | None]:
    definition = RESOURCE_DEFS.get(entity.kind)
    if definition is None or not isinstance(entity.document, dict):
        return [Finding(entity.source, entity.pointer_prefix, "warning", "ADF-W-UNKNOWN-KIND",
                        "not recognised as an ADF definition; not checked")], None
    schema = {"$ref": f"#/$defs/{definition}"}
    if strict:
        canonical = Canonical(entity.document)
        findings = _schema_findings(entity, canonical, definition, strict=True)
        # the schema does not pin discriminator values: an unknown or mis-cased type is the walker's to report
        findings += [_note_finding(entity, n, "error") for n in _walker().canonicalize(schema, entity.document).type_notes]
        return findings, checks.Item(entity, canonical)
    canonical = _walker().canonicalize(schema, entity.document)
    findings = [_note_finding(entity, note, "warning") for note in canonical.notes + canonical.type_notes]
    findings += _schema_findings(entity, canonical, definition, strict=False)
    return findings, checks.Item(entity, canonical)


def _note_finding(entity: Entity, note, severity: str) -> Finding:
    code = note.code if severity == "warning" else note.code.replace("ADF-W-", "ADF-E-")
    return Finding(entity.source, entity.pointer_prefix + note.pointer, severity, code, note.message, note.hint)


def _schema_findings(entity: Entity, canonical: Canonical, definition: str, strict: bool) -> list[Finding]:
    """One finding per problem: a property reached through two allOf paths reports its error twice."""
    if _decider(definition, strict).is_valid(canonical.value):
        return []
    found, seen = [], set()
    for error in _validator(definition, strict).iter_errors(canonical.value):
        error = _deepest(error)
        missing = _missing_property(error)
        severity = "error"
        if not strict and missing and (_definition_of(error), missing) in TOLERATED_MISSING:
            severity = "warning"
        pointer = entity.pointer_prefix + canonical.written_pointer(_pointer(error.absolute_path))
        code = "ADF-E-SCHEMA" if severity == "error" else "ADF-W-SPEC-REQUIRED"
        message = _message(error)
        if (pointer, message) in seen:
            continue
        seen.add((pointer, message))
        found.append(Finding(entity.source, pointer, severity, code, message))
    return found


def _deepest(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf failures, the branch error that explains most, unless it is a dfe union."""
    if error.schema.get("x-adfemu-dfe") is not None or not error.context:
        return error
    return max(error.context, key=lambda e: (len(e.absolute_path), -len(e.schema_path)))


def _missing_property(error: ValidationError) -> str | None:
    if error.validator == "required":
        return error.message.split("'")[1] if "'" in error.message else None
    return None


def _definition_of(error: ValidationError) -> str | None:
    """The $defs name of the subschema that raised the error (found by identity)."""
    for name, candidate in adf_schema()["$defs"].items():
        if candidate is error.schema:
            return name
    return None


def _message(error: ValidationError) -> str:
    dfe = error.schema.get("x-adfemu-dfe") if isinstance(error.schema, dict) else None
    if dfe is not None:
        return (f"{json.dumps(error.instance)[:80]} is not a {dfe} value, an '@' expression or an "
                '{"type": "Expression", "value": "@..."} object')
    if error.validator == "required":
        return f"missing required property {error.message.split(' is a required')[0]}"
    if error.validator == "const" and error.path and error.path[-1] == "type":
        return f"type must be {error.validator_value!r}"
    return error.message


_pointer = pointers.join
