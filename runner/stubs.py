"""Stubs: the outcome of activity types adfemu does not run (Copy, Lookup, WebActivity, ...).

A stubs file maps an activity type, or an activity name (which wins), to ``{"status": "Succeeded" |
"Failed", "output": {...}, "error": {"errorCode", "message"}}``. From Python, ``Settings.stubs`` takes
handlers directly: ``{"Copy": lambda call: {"rowsCopied": 3}}``.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .engine import ActivityError, Call


class StubError(ValueError):
    """The stubs file cannot be used."""


def load_stubs(path: str) -> dict[str, Callable[[Call], Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise StubError(f"cannot read the stubs file {path}: {exc}") from None
    return stub_handlers(document, path)


def stub_handlers(document: Any, source: str = "stubs") -> dict[str, Callable[[Call], Any]]:
    """Handlers for a stubs document; a value may also be a handler itself (Python callers)."""
    if not isinstance(document, dict):
        raise StubError(f"{source}: expected an object of activity type or name -> outcome")
    outcomes, handlers = {}, {}
    for key, outcome in document.items():
        if callable(outcome):
            handlers[key] = outcome
            continue
        if not isinstance(outcome, dict) or outcome.get("status", "Succeeded") not in ("Succeeded", "Failed"):
            raise StubError(f"{source}: /{key}: an outcome is {{\"status\": \"Succeeded\" | \"Failed\", \"output\", "
                            f"\"error\"}}")
        outcomes[key] = outcome
    return {**{key: _handler(outcomes) for key in outcomes}, **handlers}


def _handler(outcomes: dict[str, dict]) -> Callable[[Call], Any]:
    def stub(call: Call) -> Any:
        outcome = outcomes.get(call.name) or outcomes.get(call.activity.get("type", "")) or {}
        if outcome.get("status", "Succeeded") == "Failed":
            error = outcome.get("error") or {}
            raise ActivityError(str(error.get("message", "Failed by the stubs file")), str(error.get("errorCode", "Stub")))
        return outcome.get("output", {})
    return stub
