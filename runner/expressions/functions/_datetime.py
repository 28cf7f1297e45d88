""".NET ``DateTime`` semantics for the date functions: 100-ns ticks, a kind (UTC or unspecified),
parsing of the timestamp forms ADF accepts, and .NET standard and custom format strings (en-US).

A ``Stamp`` is ``ticks`` (100-ns intervals since 0001-01-01T00:00:00) plus ``utc`` (True for a UTC
time, which the ``o`` format and ``K`` write with a ``Z``; False for an unspecified one, written
without). Parsing turns a time with an offset into UTC.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .._errors import Failure

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
MAX_TICKS = 3_155_378_975_999_999_999  # 9999-12-31T23:59:59.9999999
_EPOCH = datetime(1, 1, 1)

DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]  # weekday()
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]


@dataclass(frozen=True)
class Stamp:
    ticks: int
    utc: bool

    @staticmethod
    def from_datetime(dt: datetime, sub_ticks: int = 0, utc: bool | None = None) -> "Stamp":
        if dt.tzinfo is not None:
            dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
            utc = True if utc is None else utc
        delta = dt - _EPOCH
        ticks = (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10 + sub_ticks
        return Stamp(ticks, bool(utc))

    def naive(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.ticks // 10)

    @property
    def sub_ticks(self) -> int:
        return self.ticks % 10

    def plus_ticks(self, delta: int) -> "Stamp":
        return checked(Stamp(self.ticks + delta, self.utc))

    def with_ticks(self, ticks: int, utc: bool | None = None) -> "Stamp":
        return checked(Stamp(ticks, self.utc if utc is None else utc))


def checked(stamp: Stamp) -> Stamp:
    if 0 <= stamp.ticks <= MAX_TICKS:
        return stamp
    raise Failure("the resulting date and time is outside the range 0001-01-01 to 9999-12-31")


def add_months(stamp: Stamp, months: int) -> Stamp:
    """.NET AddMonths: the day is clamped to the last day of the target month."""
    dt = stamp.naive()
    total = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise Failure("the resulting date and time is outside the range 0001-01-01 to 9999-12-31")
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return Stamp.from_datetime(dt.replace(year=year, month=month, day=day), stamp.sub_ticks, stamp.utc)


# --- parsing ----------------------------------------------------------------------------------------

_ISO_RE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?\Z")
_US_RE = re.compile(
    r"(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
    r"(?:\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?\s*(?P<ampm>[AaPp][Mm])?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?\Z")
_SLASH_ISO_RE = re.compile(
    r"(?P<y>\d{4})/(?P<mo>\d{1,2})/(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?\Z")
_RFC1123_RE = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3})\s+(?P<y>\d{4})\s+"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<tz>GMT|UTC|Z)?\Z")
_MONTH_ABBR = {name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)}


def parse_stamp(fn: str, text) -> Stamp:
    """A timestamp as ADF reads it: ISO 8601 (``2018-03-15``, ``2018-03-15T13:27:36.1234567Z``,
    ``2018-03-15 13:27:36+02:00``), ``MM/dd/yyyy [h:mm[:ss] [AM|PM]]``, ``yyyy/MM/dd [HH:mm[:ss]]``
    and RFC 1123 (``Thu, 15 Mar 2018 13:27:36 GMT``)."""
    if type(text) is not str:
        from .._values import type_name
        raise Failure(f"the function '{fn}' expects a timestamp string, but the value given is of type "
                      f"'{type_name(text)}'")
    s = text.strip()
    m = _ISO_RE.match(s) or _US_RE.match(s) or _SLASH_ISO_RE.match(s)
    try:
        if m:
            g = m.groupdict()
            hour = int(g["h"] or 0)
            if g.get("ampm"):
                if not 1 <= hour <= 12:
                    raise ValueError("hour")
                hour = hour % 12 + (12 if g["ampm"].lower() == "pm" else 0)
            fraction = (g["f"] or "")[:7].ljust(7, "0")
            dt = datetime(int(g["y"]), int(g["mo"]), int(g["d"]), hour, int(g["mi"] or 0), int(g["s"] or 0),
                          int(fraction[:6]))
            sub = int(fraction[6])
            tz = g["tz"]
            if tz is None:
                return Stamp.from_datetime(dt, sub, False)
            if tz in ("Z", "z"):
                return Stamp.from_datetime(dt, sub, True)
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
            if offset > timedelta(hours=14):
                raise ValueError("offset")
            return checked(Stamp.from_datetime(dt - sign * offset, sub, True))
        m = _RFC1123_RE.match(s)
        if m and m.group("mon").lower() in _MONTH_ABBR:
            dt = datetime(int(m.group("y")), _MONTH_ABBR[m.group("mon").lower()], int(m.group("d")),
                          int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0))
            return Stamp.from_datetime(dt, 0, True)
    except (ValueError, OverflowError):
        pass
    raise Failure(f"the function '{fn}' was given '{text}', which is not recognized as a valid date and time")


# --- formatting -------------------------------------------------------------------------------------

_STANDARD = {
    "d": "M/d/yyyy",
    "D": "dddd, MMMM d, yyyy",
    "f": "dddd, MMMM d, yyyy h:mm tt",
    "F": "dddd, MMMM d, yyyy h:mm:ss tt",
    "g": "M/d/yyyy h:mm tt",
    "G": "M/d/yyyy h:mm:ss tt",
    "m": "MMMM d", "M": "MMMM d",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "h:mm tt",
    "T": "h:mm:ss tt",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "U": "dddd, MMMM d, yyyy h:mm:ss tt",
    "y": "MMMM yyyy", "Y": "MMMM yyyy",
}
STANDARD_FORMATS = "".join(sorted(_STANDARD))
CUSTOM_SPECIFIERS = "d dd ddd dddd f..fffffff F..FFFFFFF g gg h hh H HH K m mm M MM MMM MMMM s ss t tt " \
                    "y yy yyy yyyy yyyyy z zz zzz : / 'literal' \"literal\" %c \\c"

_CUSTOM_CACHE: dict[str, list] = {}


def _bad_format(fmt: str, why: str) -> Failure:
    return Failure(f"the format string '{fmt}' is not valid: {why}")


def _compile(fmt: str) -> list:
    """Custom format -> list of (kind, payload); kinds: "lit" text, or a specifier letter with a count."""
    cached = _CUSTOM_CACHE.get(fmt)
    if cached is not None:
        return cached
    out: list = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch in "dfFghHKmMstyz":
            j = i
            while j < n and fmt[j] == ch:
                j += 1
            count = j - i
            if ch in "fF" and count > 7:
                raise _bad_format(fmt, "more than 7 'f' or 'F' specifiers in a row")
            if ch == "K":
                out.extend([("K", 1)] * count)
            else:
                out.append((ch, count))
            i = j
        elif ch in "'\"":
            j = i + 1
            buf = []
            while j < n and fmt[j] != ch:
                if fmt[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(fmt[j])
                j += 1
            if j >= n:
                raise _bad_format(fmt, f"the quoted text starting at position {i} is not closed")
            out.append(("lit", "".join(buf)))
            i = j + 1
        elif ch == "%":
            if i + 1 >= n or fmt[i + 1] == "%":
                raise _bad_format(fmt, "'%' must be followed by one custom format specifier")
            nxt = fmt[i + 1]
            if nxt in "dfFghHKmMstyz":
                out.append((nxt, 1))
            else:
                out.append(("lit", nxt))
            i += 2
        elif ch == "\\":
            if i + 1 >= n:
                raise _bad_format(fmt, "it ends with an escape character")
            out.append(("lit", fmt[i + 1]))
            i += 2
        else:
            out.append(("lit", ch))  # ':' and '/' are ':' and '/' in en-US
            i += 1
    if len(_CUSTOM_CACHE) < 1024:
        _CUSTOM_CACHE[fmt] = out
    return out


def format_stamp(stamp: Stamp, fmt: str | None) -> str:
    if not fmt or fmt == "o" or fmt == "O":  # the default, written directly
        dt = stamp.naive()
        return (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}."
                f"{dt.microsecond:06d}{stamp.sub_ticks}{'Z' if stamp.utc else ''}")
    if len(fmt) == 1:
        pattern = _STANDARD.get(fmt)
        if pattern is None:
            raise _bad_format(fmt, f"a one-letter format must be a standard format ({', '.join(STANDARD_FORMATS)})")
        fmt = pattern
    parts = _compile(fmt)
    dt = stamp.naive()
    fraction = f"{dt.microsecond:06d}{stamp.sub_ticks}"
    out: list[str] = []
    for kind, count in parts:
        if kind == "lit":
            out.append(count)
        elif kind == "y":
            if count == 1:
                out.append(str(dt.year % 100))
            elif count == 2:
                out.append(f"{dt.year % 100:02d}")
            else:
                out.append(str(dt.year).zfill(count))
        elif kind == "M":
            out.append(str(dt.month) if count == 1 else f"{dt.month:02d}" if count == 2
                       else MONTH_NAMES[dt.month - 1][:3] if count == 3 else MONTH_NAMES[dt.month - 1])
        elif kind == "d":
            out.append(str(dt.day) if count == 1 else f"{dt.day:02d}" if count == 2
                       else DAY_NAMES[dt.weekday()][:3] if count == 3 else DAY_NAMES[dt.weekday()])
        elif kind == "H":
            out.append(str(dt.hour) if count == 1 else f"{dt.hour:02d}")
        elif kind == "h":
            h12 = dt.hour % 12 or 12
            out.append(str(h12) if count == 1 else f"{h12:02d}")
        elif kind == "m":
            out.append(str(dt.minute) if count == 1 else f"{dt.minute:02d}")
        elif kind == "s":
            out.append(str(dt.second) if count == 1 else f"{dt.second:02d}")
        elif kind == "f":
            out.append(fraction[:count])
        elif kind == "F":
            digits = fraction[:count].rstrip("0")
            if digits:
                out.append(digits)
            elif out and out[-1].endswith("."):
                out[-1] = out[-1][:-1]
        elif kind == "t":
            marker = "AM" if dt.hour < 12 else "PM"
            out.append(marker[0] if count == 1 else marker)
        elif kind == "g":
            out.append("A.D.")
        elif kind == "K":
            out.append("Z" if stamp.utc else "")
        elif kind == "z":
            out.append("+0" if count == 1 else "+00" if count == 2 else "+00:00")
    return "".join(out)
