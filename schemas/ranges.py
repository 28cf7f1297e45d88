"""Ranges the ADF spec states only in words, checked as errors that give the range.

| property | range | source |
|---|---|---|
| ``policy.retry`` | >= 0 | spec description "minimum: 0" |
| ``policy.retryIntervalInSeconds`` | <= 86400 | spec maximum (below its minimum 30 stays the warning ``ADF-W-RANGE``: the real procfwk factory publishes 5) |
| ``policy.timeout``, Until ``timeout`` | ``[d.]hh:mm:ss``, at most 7 days | spec pattern; Microsoft Learn "Azure Data Factory limits" (maximum activity timeout 7 days) |
| ForEach ``batchCount`` | >= 1 (above 50 is ``ADF-E-LIMIT``) | ForEach activity page: "batch count ... (max 50)"; a count of 0 runs nothing |
| Wait ``waitTimeInSeconds`` | >= 0 | a duration |
| Switch ``cases`` | at most 25 | Microsoft Learn "Switch activity": "There's a max limit of 25 cases" |

Values written as expressions are not checked (they are known only when the pipeline runs).
"""
from __future__ import annotations

import re
from typing import Any, Callable

from .entities import Finding

TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?$")
MAX_TIMEOUT = 7 * 86400
MAX_RETRY_INTERVAL = 86400
MAX_CASES = 25

Report = Callable[[str, str, str, str], Finding]   # (pointer, code, message, hint) -> an error Finding


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def seconds(timespan: str) -> int | None:
    match = TIMESPAN.match(timespan)
    if not match:
        return None
    days, hours, minutes, secs = (int(g or 0) for g in match.groups())
    if hours > 23 or minutes > 59 or secs > 59:
        return None
    return ((days * 24 + hours) * 60 + minutes) * 60 + secs


def _at_least(value: Any, low: float, what: str, pointer: str, report: Report) -> list[Finding]:
    if _number(value) and value < low:
        return [report(pointer, "ADF-E-RANGE", f"{what} is {value}; it must be at least {low:g}", None)]
    return []


def _timeout(value: Any, what: str, pointer: str, report: Report) -> list[Finding]:
    if not isinstance(value, str) or value.startswith("@"):
        return []
    total = seconds(value.strip())
    if total is None:
        return [report(pointer, "ADF-E-TIMESPAN", f"{what} '{value}' is not a [d.]hh:mm:ss timespan",
                       "write e.g. 0.12:00:00 for 12 hours or 7.00:00:00 for 7 days")]
    if total > MAX_TIMEOUT:
        return [report(pointer, "ADF-E-RANGE", f"{what} {value} is longer than ADF's maximum of 7 days "
                       "(range 0.00:10:00 to 7.00:00:00)", "write at most 7.00:00:00")]
    return []


def policy(policy: dict, pointer: str, report: Report) -> list[Finding]:
    found = _at_least(policy.get("retry"), 0, "policy.retry", f"{pointer}/retry", report)
    interval = policy.get("retryIntervalInSeconds")
    if _number(interval) and interval > MAX_RETRY_INTERVAL:
        found.append(report(f"{pointer}/retryIntervalInSeconds", "ADF-E-RANGE",
                            f"policy.retryIntervalInSeconds is {interval}; the range is 30 to {MAX_RETRY_INTERVAL}",
                            None))
    found += _timeout(policy.get("timeout"), "policy.timeout", f"{pointer}/timeout", report)
    return found


def type_properties(kind: str, props: dict, pointer: str, report: Report) -> list[Finding]:
    if kind == "ForEach":
        return _at_least(props.get("batchCount"), 1, "batchCount", f"{pointer}/batchCount", report)
    if kind == "Wait":
        return _at_least(props.get("waitTimeInSeconds"), 0, "waitTimeInSeconds", f"{pointer}/waitTimeInSeconds",
                         report)
    if kind == "Until":
        return _timeout(props.get("timeout"), "the Until timeout", f"{pointer}/timeout", report)
    if kind == "Switch" and isinstance(props.get("cases"), list) and len(props["cases"]) > MAX_CASES:
        return [report(f"{pointer}/cases", "ADF-E-RANGE", f"{len(props['cases'])} cases; a Switch has at most "
                       f"{MAX_CASES}", None)]
    return []
