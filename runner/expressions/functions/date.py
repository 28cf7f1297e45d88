"""Date functions: addDays, addHours, addMinutes, addSeconds, addToTime, convertFromUtc,
convertTimeZone, convertToUtc, dayOfMonth, dayOfWeek, dayOfYear, formatDateTime, getFutureTime,
getPastTime, startOfDay, startOfHour, startOfMonth, subtractFromTime, ticks, utcNow.

Timestamps are strings (see ``_datetime.parse_stamp`` for the accepted forms); results are strings
in the given .NET format, default ``o`` (``2018-03-15T13:00:00.0000000Z``; a time without a zone is
written without the ``Z``). ``utcNow`` reads ``Context.clock``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from .._errors import Failure
from ._datetime import (TICKS_PER_DAY, TICKS_PER_SECOND, Stamp, add_months, checked, format_stamp,
                        parse_stamp)
from ._registry import fail_type, function, want_int, want_str
from ._timezones import is_utc, zone

_UNIT_TICKS = {"second": TICKS_PER_SECOND, "minute": 60 * TICKS_PER_SECOND, "hour": 3600 * TICKS_PER_SECOND,
               "day": TICKS_PER_DAY, "week": 7 * TICKS_PER_DAY}
_UNITS = "'Second', 'Minute', 'Hour', 'Day', 'Week', 'Month' or 'Year'"


def _fmt(fn: str, index: int, fmt) -> str | None:
    if fmt is None:
        return None
    return want_str(fn, index, fmt)


def _out(stamp: Stamp, fmt) -> str:
    return format_stamp(stamp, fmt)


def _now(ctx) -> Stamp:
    clock = getattr(ctx, "clock", None)
    now = clock() if clock is not None else datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return Stamp.from_datetime(now, 0, True)


def _shift_by(fn: str, amount, unit_ticks: int) -> int:
    if type(amount) is int:
        return amount * unit_ticks
    if type(amount) is float:
        # .NET's AddDays/AddHours/... round a fractional amount to the millisecond
        millis = round(amount * unit_ticks / 10_000)
        return int(millis) * 10_000
    raise fail_type(fn, 1, amount, "a number")


def _add(fn: str, stamp: Stamp, interval: int, unit) -> Stamp:
    unit_name = want_str(fn, 2 if fn in ("addToTime", "subtractFromTime") else 1, unit)
    key = unit_name.strip().lower()
    if key in _UNIT_TICKS:
        return stamp.plus_ticks(interval * _UNIT_TICKS[key])
    if key == "month":
        return add_months(stamp, interval)
    if key == "year":
        return add_months(stamp, 12 * interval)
    raise Failure(f"the function '{fn}' was given the time unit '{unit_name}': it must be {_UNITS}")


def _simple_add(fn: str, unit_ticks: int):
    def impl(timestamp, amount, fmt=None):
        stamp = parse_stamp(fn, timestamp)
        return _out(stamp.plus_ticks(_shift_by(fn, amount, unit_ticks)), _fmt(fn, 2, fmt))
    impl.__name__ = fn
    return impl


function("addDays", 2, 3)(_simple_add("addDays", TICKS_PER_DAY))
function("addHours", 2, 3)(_simple_add("addHours", 3600 * TICKS_PER_SECOND))
function("addMinutes", 2, 3)(_simple_add("addMinutes", 60 * TICKS_PER_SECOND))
function("addSeconds", 2, 3)(_simple_add("addSeconds", TICKS_PER_SECOND))


@function("addToTime", 3, 4)
def add_to_time(timestamp, interval, unit, fmt=None):
    stamp = parse_stamp("addToTime", timestamp)
    return _out(_add("addToTime", stamp, want_int("addToTime", 1, interval), unit), _fmt("addToTime", 3, fmt))


@function("subtractFromTime", 3, 4)
def subtract_from_time(timestamp, interval, unit, fmt=None):
    stamp = parse_stamp("subtractFromTime", timestamp)
    interval = want_int("subtractFromTime", 1, interval)
    return _out(_add("subtractFromTime", stamp, -interval, unit), _fmt("subtractFromTime", 3, fmt))


@function("getFutureTime", 2, 3, needs_context=True)
def get_future_time(ctx, interval, unit, fmt=None):
    interval = want_int("getFutureTime", 0, interval)
    return _out(_add("getFutureTime", _now(ctx), interval, unit), _fmt("getFutureTime", 2, fmt))


@function("getPastTime", 2, 3, needs_context=True)
def get_past_time(ctx, interval, unit, fmt=None):
    interval = want_int("getPastTime", 0, interval)
    return _out(_add("getPastTime", _now(ctx), -interval, unit), _fmt("getPastTime", 2, fmt))


@function("utcNow", 0, 1, needs_context=True)
def utc_now(ctx, fmt=None):
    return _out(_now(ctx), _fmt("utcNow", 0, fmt))


@function("formatDateTime", 1, 2)
def format_date_time(timestamp, fmt=None):
    return _out(parse_stamp("formatDateTime", timestamp), _fmt("formatDateTime", 1, fmt))


@function("startOfDay", 1, 2)
def start_of_day(timestamp, fmt=None):
    stamp = parse_stamp("startOfDay", timestamp)
    return _out(stamp.with_ticks(stamp.ticks - stamp.ticks % TICKS_PER_DAY), _fmt("startOfDay", 1, fmt))


@function("startOfHour", 1, 2)
def start_of_hour(timestamp, fmt=None):
    stamp = parse_stamp("startOfHour", timestamp)
    hour = 3600 * TICKS_PER_SECOND
    return _out(stamp.with_ticks(stamp.ticks - stamp.ticks % hour), _fmt("startOfHour", 1, fmt))


@function("startOfMonth", 1, 2)
def start_of_month(timestamp, fmt=None):
    stamp = parse_stamp("startOfMonth", timestamp)
    dt = stamp.naive()
    first = datetime(dt.year, dt.month, 1)
    return _out(Stamp.from_datetime(first, 0, stamp.utc), _fmt("startOfMonth", 1, fmt))


@function("dayOfMonth", 1)
def day_of_month(timestamp):
    return parse_stamp("dayOfMonth", timestamp).naive().day


@function("dayOfWeek", 1)
def day_of_week(timestamp):
    return (parse_stamp("dayOfWeek", timestamp).naive().weekday() + 1) % 7  # Sunday = 0


@function("dayOfYear", 1)
def day_of_year(timestamp):
    return parse_stamp("dayOfYear", timestamp).naive().timetuple().tm_yday


@function("ticks", 1)
def ticks(timestamp):
    return parse_stamp("ticks", timestamp).ticks


# --- time zones -------------------------------------------------------------------------------------

def _to_zone(stamp: Stamp, tz) -> Stamp:
    """A UTC instant as wall-clock time in ``tz`` (unspecified kind)."""
    aware = stamp.naive().replace(tzinfo=timezone.utc)
    try:
        local = aware.astimezone(tz)
    except (OverflowError, ValueError):
        raise Failure("the converted date and time is outside the range 0001-01-01 to 9999-12-31") from None
    return checked(Stamp.from_datetime(local.replace(tzinfo=None), stamp.sub_ticks, False))


def _from_zone(fn: str, stamp: Stamp, tz, tz_name: str) -> Stamp:
    """Wall-clock time in ``tz`` as a UTC instant; a time skipped by a daylight-saving change is an error."""
    wall = stamp.naive()
    try:
        aware = wall.replace(tzinfo=tz)
        back = aware.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
        utc = aware.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise Failure("the converted date and time is outside the range 0001-01-01 to 9999-12-31") from None
    if back != wall:
        raise Failure(f"the function '{fn}' was given {wall.isoformat()}, which does not exist in the time zone "
                      f"'{tz_name}' (it is skipped by a daylight saving time change)")
    return checked(Stamp.from_datetime(utc, stamp.sub_ticks, True))


@function("convertFromUtc", 2, 3)
def convert_from_utc(timestamp, destination, fmt=None):
    stamp = parse_stamp("convertFromUtc", timestamp)
    tz = zone("convertFromUtc", destination)
    result = Stamp(stamp.ticks, True) if is_utc(destination) else _to_zone(stamp, tz)
    return _out(result, _fmt("convertFromUtc", 2, fmt))


@function("convertToUtc", 2, 3)
def convert_to_utc(timestamp, source, fmt=None):
    stamp = parse_stamp("convertToUtc", timestamp)
    tz = zone("convertToUtc", source)
    result = Stamp(stamp.ticks, True) if is_utc(source) else _from_zone("convertToUtc", stamp, tz, source)
    return _out(result, _fmt("convertToUtc", 2, fmt))


@function("convertTimeZone", 3, 4)
def convert_time_zone(timestamp, source, destination, fmt=None):
    stamp = parse_stamp("convertTimeZone", timestamp)
    src = zone("convertTimeZone", source)
    dst = zone("convertTimeZone", destination)
    if is_utc(source):
        instant = Stamp(stamp.ticks, True)
    else:
        instant = _from_zone("convertTimeZone", stamp, src, source)
    result = instant if is_utc(destination) else _to_zone(instant, dst)
    return _out(result, _fmt("convertTimeZone", 3, fmt))
