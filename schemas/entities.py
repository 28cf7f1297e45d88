"""What validation works on: entities as written, and the problems found in them.

Plain data, no I/O: the loader (``runner.factory``) reads files into ``Entity`` objects,
``schemas.adf.validate_factory`` returns ``Finding`` objects, and the CLI maps each finding's
pointer to a line and column of its file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Any

PLACEHOLDER = re.compile(r"\{[^{}]+\}")  # template placeholders such as {IR}, replaced before deployment

# entity kinds, named after the ADF git folders they live in
KINDS = ("pipeline", "linkedService", "dataset", "trigger", "dataflow", "integrationRuntime", "factory",
         "credential", "managedVirtualNetwork", "managedPrivateEndpoint", "globalParameters")


@dataclass
class Entity:
    kind: str               # one of KINDS
    name: str               # resource name (ARM prefix "factoryName/" already stripped)
    document: Any           # the resource as written: {"name", "properties", ...}; for an ARM resource
                            # the resource object itself (its "name" is the ARM expression)
    source: str             # file path, for messages
    pointer_prefix: str = ""  # RFC 6901 pointer of ``document`` inside its file ("" or "/resources/3")


@dataclass
class Finding:
    source: str
    pointer: str            # RFC 6901, into the file as written
    severity: str           # "error" | "warning"
    code: str               # stable problem code, e.g. "ADF-E-SCHEMA", "ADF-W-NAME-CASE"
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict:
        return {"file": self.source, "line": self.line, "column": self.column, "pointer": self.pointer,
                "severity": self.severity, "code": self.code, "message": self.message, "hint": self.hint}


@dataclass
class Factory:
    """One factory: the entities that resolve references among themselves."""
    root: str
    entities: list[Entity] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # problems met while reading (e.g. control characters)

    @property
    def is_template_set(self) -> bool:
        """Entity files named with ``{placeholders}`` (``Copy_{IR}.json``) are templates, instantiated into a
        real factory before deployment: what they reference may live in that factory, not beside them."""
        return any(PLACEHOLDER.search(e.name) for e in self.entities)
