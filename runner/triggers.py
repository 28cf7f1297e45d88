"""When schedule and tumbling-window triggers fire: pure calendar arithmetic, no I/O.

Schedule triggers (Microsoft Learn: "Create a trigger that runs a pipeline on a schedule", "Pipeline execution and
triggers in Azure Data Factory"):
- ``frequency`` Minute, Hour, Day, Week or Month, every ``interval`` units from ``startTime``; the trigger fires
  no sooner than ``startTime`` and not after ``endTime``;
- ``schedule`` expands or limits occurrences: ``minutes`` and ``hours`` (default: those of ``startTime``),
  ``weekDays`` (Week), ``monthDays`` (Month; negative counts from the month's end) and ``monthlyOccurrences``
  (Month; ``{"day", "occurrence"}``, occurrence 1-5 or -1 for the last);
- ``timeZone`` (a Windows time zone name) is the zone of ``startTime``, ``endTime`` and the schedule. For Day,
  Week and Month recurrences the wall-clock time is kept across daylight-saving changes (the trigger "auto-adjusts
  for the twice a year change"); Minute and Hour recurrences step in absolute time. A wall-clock time that does
  not exist on the day clocks go forward fires after the gap (the same instant as the hour after); one that
  happens twice fires once, at its first occurrence (inferred: the documentation is silent on both).

Tumbling windows (Microsoft Learn: "Create a trigger that runs a pipeline on a tumbling window", "Create a
tumbling window trigger dependency"): fixed, contiguous windows of ``interval`` Minute/Hour/Month units from
``startTime`` (UTC); a dependency on a trigger covers the windows of that trigger overlapping
``[windowStart + offset, windowStart + offset + size)`` (``size`` defaults to this trigger's window size); a
self-dependency's offset is negative.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Iterator

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIMESPAN = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")
MAX_OCCURRENCES = 100_000  # a run over a huge interval stops here instead of exhausting memory


class TriggerError(ValueError):
    """A trigger definition or an interval that cannot be expanded (the message names the property)."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def instant(text: Any, zone: tzinfo = timezone.utc, what: str = "time") -> datetime:
    """An ISO 8601 date-time; without an offset it is read in ``zone``."""
    if isinstance(text, datetime):
        moment = text
    else:
        try:
            moment = datetime.fromisoformat(str(text).strip().replace("z", "Z"))
        except ValueError:
            raise TriggerError(f"{what} '{text}' is not an ISO 8601 date and time") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def timespan(text: Any, what: str) -> timedelta:
    """``[-][d.]hh:mm:ss`` as a timedelta."""
    match = TIMESPAN.match(str(text).strip()) if text is not None else None
    if not match:
        raise TriggerError(f"{what} '{text}' is not a timespan [-][d.]hh:mm:ss")
    sign, days, hours, minutes, seconds = match.groups()
    span = timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds))
    return -span if sign else span


def windows_zone(name: Any) -> tzinfo:
    """A Windows time zone name ("W. Europe Standard Time", "UTC") as a tzinfo."""
    from .expressions.functions import _timezones  # the expression library's Windows zone table
    if name is None or _timezones.is_utc(str(name)):
        return timezone.utc
    canonical = _timezones._BY_FOLDED.get(str(name).strip().casefold())
    if canonical is None:
        raise TriggerError(f"timeZone '{name}' is not a Windows time zone name (e.g. 'UTC', 'Pacific Standard Time')")
    try:
        return _timezones._load(canonical)
    except LookupError:
        raise TriggerError(f"timeZone '{canonical}' needs the tz database (install the 'tzdata' package)") from None


# --- schedule triggers -----------------------------------------------------------------------------------

def schedule_times(recurrence: dict, start: datetime, end: datetime) -> list[datetime]:
    """Every firing of a schedule trigger's ``recurrence`` in ``[start, end)`` (aware datetimes), in UTC."""
    zone = windows_zone(recurrence.get("timeZone"))
    first = instant(recurrence.get("startTime"), zone, "recurrence.startTime")
    last = instant(recurrence["endTime"], zone, "recurrence.endTime") if recurrence.get("endTime") else None
    frequency = str(recurrence.get("frequency", "")).capitalize()
    interval = _positive(recurrence.get("interval", 1), "recurrence.interval")
    if frequency not in FREQUENCIES:
        raise TriggerError(f"recurrence.frequency '{recurrence.get('frequency')}' is not Minute, Hour, Day, Week "
                           "or Month")
    found = []
    for moment in FREQUENCIES[frequency](first.astimezone(zone), interval, recurrence.get("schedule") or {}, zone):
        utc = moment.astimezone(timezone.utc)
        if (last is not None and utc > last) or utc >= end:
            break
        if utc >= start and utc >= first:
            found.append(utc)
            if len(found) >= MAX_OCCURRENCES:
                raise TriggerError(f"more than {MAX_OCCURRENCES} firings in the interval: give a shorter one")
    return found


def _absolute(first: datetime, interval: int, schedule: dict, zone: tzinfo, unit: timedelta) -> Iterator[datetime]:
    """Minute/Hour: steps in absolute time; an Hour schedule's ``minutes`` pick minutes of each hour."""
    minutes = sorted(set(_ints(schedule, "minutes", 0, 59))) if unit == timedelta(hours=1) else []
    base = first.astimezone(timezone.utc)
    if minutes:
        base = base.replace(minute=0, second=0, microsecond=0)
    step = 0
    while True:
        moment = base + step * interval * unit
        for minute in minutes or [None]:
            yield moment if minute is None else moment.replace(minute=minute)
        step += 1


def _minutely(first, interval, schedule, zone):
    return _absolute(first, interval, schedule, zone, timedelta(minutes=1))


def _hourly(first, interval, schedule, zone):
    return _absolute(first, interval, schedule, zone, timedelta(hours=1))


def _daily(first: datetime, interval: int, schedule: dict, zone: tzinfo) -> Iterator[datetime]:
    day = first.date()
    while True:
        yield from _times_of(day, first, schedule, zone)
        day += timedelta(days=interval)


def _weekly(first: datetime, interval: int, schedule: dict, zone: tzinfo) -> Iterator[datetime]:
    wanted = _weekdays(schedule.get("weekDays")) or [first.weekday()]
    monday = first.date() - timedelta(days=first.weekday())
    while True:
        for weekday in sorted(wanted):
            yield from _times_of(monday + timedelta(days=weekday), first, schedule, zone)
        monday += timedelta(weeks=interval)


def _monthly(first: datetime, interval: int, schedule: dict, zone: tzinfo) -> Iterator[datetime]:
    year, month = first.year, first.month
    while True:
        for day in _days_of_month(year, month, schedule, first.day):
            yield from _times_of(day, first, schedule, zone)
        month += interval
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1


FREQUENCIES = {"Minute": _minutely, "Hour": _hourly, "Day": _daily, "Week": _weekly, "Month": _monthly}


def _days_of_month(year: int, month: int, schedule: dict, default_day: int) -> list[date]:
    length = calendar.monthrange(year, month)[1]
    days = set()
    for value in _ints(schedule, "monthDays", -31, 31):
        day = value if value > 0 else length + value + 1
        if 1 <= day <= length and value != 0:  # day 31 only in months that have it
            days.add(day)
    for occurrence in schedule.get("monthlyOccurrences") or []:
        days |= _occurrences(year, month, occurrence)
    if not schedule.get("monthDays") and not schedule.get("monthlyOccurrences") and default_day <= length:
        days.add(default_day)
    return [date(year, month, d) for d in sorted(days)]


def _occurrences(year: int, month: int, occurrence: Any) -> set[int]:
    if not isinstance(occurrence, dict):
        raise TriggerError("schedule.monthlyOccurrences items are {\"day\": ..., \"occurrence\": ...}")
    weekday = _weekdays([occurrence.get("day")])[0]
    matching = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
                if date(year, month, d).weekday() == weekday]
    number = occurrence.get("occurrence")
    if number is None:
        return set(matching)
    if number == -1:
        return {matching[-1]}
    if not isinstance(number, int) or not 1 <= number <= 5:
        raise TriggerError(f"schedule.monthlyOccurrences occurrence {number!r} is not 1-5 or -1")
    return {matching[number - 1]} if number <= len(matching) else set()


def _times_of(day: date, first: datetime, schedule: dict, zone: tzinfo) -> Iterator[datetime]:
    """The schedule's wall-clock times on ``day`` in ``zone``, in order (hours x minutes)."""
    hours = sorted(set(_ints(schedule, "hours", 0, 23))) or [first.hour]
    minutes = sorted(set(_ints(schedule, "minutes", 0, 59))) or [first.minute]
    seconds = first.second if not schedule.get("hours") and not schedule.get("minutes") else 0
    for hour in hours:
        for minute in minutes:
            yield _local(datetime(day.year, day.month, day.day, hour, minute, seconds), zone)


def _local(naive: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time in ``zone``: the first of two (fold=0); one in a gap moves past the gap."""
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:  # does not exist (spring forward): the same instant as the wall time after the gap
        return (aware.astimezone(timezone.utc)).astimezone(zone)
    return aware


def _weekdays(values: Any) -> list[int]:
    found = []
    for value in values or []:
        name = str(value).strip().capitalize()
        if name not in DAYS:
            raise TriggerError(f"'{value}' is not a day of the week ({', '.join(DAYS)})")
        found.append(DAYS.index(name))
    return found


def _ints(schedule: dict, key: str, low: int, high: int) -> list[int]:
    values = schedule.get(key) or []
    values = values if isinstance(values, list) else [values]
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise TriggerError(f"schedule.{key} holds {value!r}: integers {low} to {high} are allowed")
    return values


def _positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TriggerError(f"{what} must be a positive integer, not {value!r}")
    return value


# --- tumbling windows ----------------------------------------------------------------------------------

def window_size(props: dict) -> tuple[str, int]:
    frequency = str(props.get("frequency", "")).capitalize()
    if frequency not in ("Minute", "Hour", "Month"):
        raise TriggerError(f"frequency '{props.get('frequency')}' is not Minute, Hour or Month")
    return frequency, _positive(props.get("interval"), "interval")


def _advance(moment: datetime, frequency: str, count: int) -> datetime:
    if frequency == "Minute":
        return moment + timedelta(minutes=count)
    if frequency == "Hour":
        return moment + timedelta(hours=count)
    month = moment.month - 1 + count
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def windows(props: dict, start: datetime, end: datetime) -> list[Window]:
    """The trigger's windows that end within ``(start, end]`` (a window is ready when it has ended)."""
    frequency, interval = window_size(props)
    first = instant(props.get("startTime"), what="startTime")
    last = instant(props["endTime"], what="endTime") if props.get("endTime") else None
    found, n = [], 0
    while True:
        window = Window(_advance(first, frequency, n * interval), _advance(first, frequency, (n + 1) * interval))
        if window.end > end or (last is not None and window.end > last):
            return found
        if window.end > start:
            found.append(window)
            if len(found) >= MAX_OCCURRENCES:
                raise TriggerError(f"more than {MAX_OCCURRENCES} windows in the interval: give a shorter one")
        n += 1


def dependency_span(window: Window, dependency: dict, own_size: timedelta) -> Window:
    """The period another trigger's windows must cover for ``window`` to run (offset and size applied)."""
    offset = timespan(dependency["offset"], "dependsOn offset") if dependency.get("offset") else timedelta(0)
    size = timespan(dependency["size"], "dependsOn size") if dependency.get("size") else own_size
    if size <= timedelta(0):
        raise TriggerError(f"dependsOn size '{dependency.get('size')}' must be positive")
    begin = window.start + offset
    return Window(begin, begin + size)


def covering(props: dict, span: Window) -> list[Window]:
    """The windows of a tumbling-window trigger overlapping ``span``; none before its ``startTime``."""
    frequency, interval = window_size(props)
    first = instant(props.get("startTime"), what="startTime")
    found, n = [], 0
    while n < MAX_OCCURRENCES:
        window = Window(_advance(first, frequency, n * interval), _advance(first, frequency, (n + 1) * interval))
        if window.start >= span.end:
            return found
        if window.end > span.start:
            found.append(window)
        n += 1
    raise TriggerError("a dependency covers too many windows")
