"""What run records may show: account keys and SAS signatures masked in request bodies, secrets masked in
the definitions a record carries."""
from __future__ import annotations

import json
import re
from typing import Any

from .definitions import CONTAINER_KEYS, scopes
from .records import SECURE

MASK = "***"


def masked(body: dict) -> dict:
    text = json.dumps(body)
    text = re.sub(r"(AccountKey=)[^;\"]+", r"\1***", text)
    text = re.sub(r"(sig=)[^&\"]+", r"\1***", text)
    return json.loads(text)


def masked_definition(pipeline: dict) -> dict:
    """A pipeline definition with its secrets hidden: SecureString values, the defaults of SecureString
    parameters, keys and SAS signatures inside strings, and the typeProperties of activities whose policy says
    ``secureInput`` (their inner activities, which the report draws, are kept)."""
    document = masked(_without_secure_strings(pipeline))
    props = document.get("properties") or {}
    for spec in (props.get("parameters") or {}).values():
        if isinstance(spec, dict) and str(spec.get("type", "")).lower() == "securestring" and "defaultValue" in spec:
            spec["defaultValue"] = MASK
    for level in scopes(props.get("activities")):
        for act in level:
            policy = act.get("policy") if isinstance(act.get("policy"), dict) else {}
            if policy.get("secureInput") and isinstance(act.get("typeProperties"), dict):
                act["typeProperties"] = {k: v if k in CONTAINER_KEYS else SECURE
                                         for k, v in act["typeProperties"].items()}
    return document


def _without_secure_strings(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("type") == "SecureString" and "value" in value:
            return {**value, "value": MASK}
        return {k: _without_secure_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secure_strings(v) for v in value]
    return value
