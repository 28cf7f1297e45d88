"""JSON Schemas (draft 2020-12) and the one way to check a document against them.

Leaf package: no Flask, no HTTP, no storage. ``check(document, schema_name, source)``
raises ``DefinitionError`` naming the file, the JSON pointer and the problem.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


@dataclass
class Problem:
    source: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.pointer or '/'}: {self.message}"


class DefinitionError(ValueError):
    """A document does not satisfy its schema; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _schema(schema_name: str, definition: str | None) -> dict:
    """A schema file, or one of its ``$defs`` (e.g. a PATCH body's ``properties``) as a schema of its own."""
    text = resources.files(__name__).joinpath(f"{schema_name}.schema.json").read_text()
    schema = json.loads(text)
    if definition is not None:
        schema = {k: v for k, v in schema.items() if k in ("$schema", "$id", "$defs")}
        schema["$ref"] = f"#/$defs/{definition}"
    return schema


@lru_cache(maxsize=None)
def validator(schema_name: str, definition: str | None = None) -> Draft202012Validator:
    """The validator that explains: every problem, with its pointer and message (``jsonschema``, imported when a
    document fails: a valid one is decided by ``decider`` alone)."""
    from jsonschema import Draft202012Validator
    return Draft202012Validator(_schema(schema_name, definition))  # the files are checked by tests, not here


@lru_cache(maxsize=None)
def decider(schema_name: str, definition: str | None = None):
    """The validator that only decides, in Rust (``jsonschema-rs``): a 10,000-row scoring body in a few ms, where
    the explaining one takes a fifth of a second. Same schema, same draft."""
    import jsonschema_rs
    return jsonschema_rs.Draft202012Validator(_schema(schema_name, definition))


def pointer(path) -> str:
    """RFC 6901 pointer of a jsonschema error path."""
    from .pointers import join
    return join(path)


def problems(document: object, schema_name: str, source: str, definition: str | None = None,
             echo_values: bool = True) -> list[Problem]:
    from jsonschema.exceptions import best_match
    found = []
    for error in validator(schema_name, definition).iter_errors(document):
        error = best_match([error]) if error.context else error
        found.append(Problem(source, pointer(error.absolute_path), _describe(error, echo_values)))
    return sorted(found, key=lambda p: p.pointer)


def check(document: object, schema_name: str, source: str) -> None:
    if decider(schema_name).is_valid(document):
        return
    found = problems(document, schema_name, source)
    if found:
        raise DefinitionError(found)


def first_problem(document: object, schema_name: str, definition: str | None = None,
                  echo_values: bool = True) -> Problem | None:
    """The first problem of ``document`` (by pointer), or None: for request bodies, where one is enough.
    ``echo_values=False`` keeps the offending value out of the message (it may be a secret)."""
    if decider(schema_name, definition).is_valid(document):
        return None
    found = problems(document, schema_name, "<body>", definition, echo_values)
    return found[0] if found else None


def _describe(error: ValidationError, echo_values: bool = True) -> str:
    if error.validator == "additionalProperties":
        return f"unknown property: {error.message.split('(')[-1].rstrip(')')}"
    if not echo_values:
        shown = repr(error.instance)
        if error.message.startswith(shown):
            return "the value" + error.message[len(shown):]
        if error.validator not in ("required", "dependentRequired"):
            return f"the value fails the '{error.validator}' rule"
    return error.message
