"""Validation as ``adfemu validate`` does it: the checks of ``adfemu.schemas`` plus every expression parsed with the
runner's grammar.

``schemas`` is the leaf that every part may import, so it cannot import the grammar that defines the expression
language (``runner.expressions``). Rather than keep a second grammar there, the semantic expression checks live in
``schemas.expression_checks`` and take the parser as an argument; this module, which may import both, composes
them. The command, the benchmarks and the runner's own loading (``runner.definitions``) all validate through it.
"""
from __future__ import annotations

from adfemu.schemas import adf, expression_checks
from adfemu.schemas.checks import Item
from adfemu.schemas.entities import Factory, Finding

from .expressions import scan

__all__ = ["check_factory", "validate_factory"]


def check_factory(factory: Factory, strict: bool = False) -> tuple[list[Finding], list[Item]]:
    """Findings (schema, leniency, semantic and expression checks) and each entity's canonical document."""
    findings, items = adf.check_factory(factory, strict)
    findings += expression_checks.run(items, scan, factory.is_template_set)
    return findings, items


def validate_factory(factory: Factory, strict: bool = False) -> list[Finding]:
    return check_factory(factory, strict)[0]
