"""Request bodies against the APIs' JSON Schemas (``schemas/aml-*.schema.json``).

Called after the catalogue's specific rules (which answer with precise detail codes such as
``DuplicateInputInBatchCall``) and before any expensive work: whatever those rules let through
but the schema refuses is ``BadArgument/RequestBodyInvalid``, targeted at the JSON pointer.
"""
from __future__ import annotations

from typing import Any

from adfemu import schemas

from . import errors


def check(body: Any, schema_name: str) -> None:
    problem = schemas.first_problem(body, schema_name)
    if problem is not None:
        raise errors.RequestBodyInvalid(target=problem.pointer or "/")
