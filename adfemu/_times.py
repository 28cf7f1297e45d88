"""Instants the API takes as ISO 8601 text or datetimes (``now=``, trigger times, windows)."""
from __future__ import annotations

from datetime import datetime, timezone

from ._errors import RunInputError


def instant(value: datetime | str | None) -> datetime | None:
    """ISO 8601 text ("2024-06-01T00:00:00Z") or a datetime, as a datetime (None stays None)."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).strip().replace("z", "Z"))
    except ValueError:
        raise RunInputError(f"{value!r} is not an ISO 8601 date and time (e.g. 2024-06-01T00:00:00Z)") from None


def utc(value: datetime | str, what: str) -> datetime:
    """A required instant; naive means UTC."""
    moment = instant(value)
    if moment is None:
        raise RunInputError(f"{what} is required")
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
