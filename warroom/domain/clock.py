"""Time in warroom: stored in UTC, shown with its zone, dated when not today."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from collections.abc import Callable  # (not typing's: a plain note's path never imports typing)

UTC = timezone.utc
Clock = Callable[[], datetime]

_STORED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# One part of a duration: a number (ASCII digits, optional fraction) and its unit.
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|d|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_UNIT_ORDER = ("d", "h", "m", "s", "ms")
DURATION_FORMS = "forms like 500ms, 90s, 15m, 1.5h, 4h, 1d, 1h30m"


def system_clock() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


SERVER_CLOCK_TOLERANCE = 2.0  # seconds a machine's clock may be off a shared server's before warroom says so


def clock_skew_warning(offset: float, server: str) -> str | None:
    """A sentence when this machine's clock is more than SERVER_CLOCK_TOLERANCE seconds off the server's
    (`offset`: the server's clock minus ours, in seconds); None when it is close enough."""
    if abs(offset) <= SERVER_CLOCK_TOLERANCE:
        return None
    how = "behind" if offset > 0 else "ahead of"
    return (f"this machine's clock is {abs(offset):.1f} s {how} the database server's ({server}): entries are "
            "stamped with this machine's time; set it right (NTP: timedatectl set-ntp true)")


def to_stored(moment: datetime) -> str:
    """Fixed-width, sortable UTC text for the database."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are never stored")
    return moment.astimezone(UTC).strftime(_STORED_FORMAT)


def from_stored(text: str) -> datetime:
    """Inverse of to_stored. The fixed-width form is read by fromisoformat (in C, some 20 times
    faster than strptime, which stays for anything else so a malformed value still fails)."""
    if len(text) == 27 and text[-1] == "Z" and text[10] == "T":
        return datetime.fromisoformat(text)
    return datetime.strptime(text, _STORED_FORMAT).replace(tzinfo=UTC)


def parse_duration(value: str | int | float) -> timedelta:
    """The one duration parser: '250ms', '90s', '15m', '1.5h', '1d', '1h30m' (spaces allowed
    between parts), or a number of seconds. Raises ValueError (OverflowError is reported as one)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (use {DURATION_FORMS})")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = value.strip().replace(" ", "")
        parts = _DURATION_PART.findall(text)
        units = [_UNIT_ORDER.index(unit) for _, unit in parts]
        if not text or _DURATION_PART.sub("", text) or units != sorted(set(units)):
            raise ValueError(f"{value!r} is not a duration (use {DURATION_FORMS}, largest unit first)")
        seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"{value!r} is too long a duration") from None


def format_duration(span: timedelta) -> str:
    """Compact human duration: '45s', '12m', '1h 05m', '2d 3h'. Negative spans get a minus."""
    total = int(span.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m"
    return f"{sign}{seconds}s"


def format_clock(span: timedelta) -> str:
    """Countdown digits: 'MM:SS', or 'H:MM:SS' past an hour. Always non-negative."""
    total = abs(int(span.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


def format_moment(moment: datetime, now: datetime, *, seconds: bool = True) -> str:
    """'14:02:07 UTC' for today, '2026-11-20 14:02:07 UTC' for another day (UTC calendar)."""
    moment = moment.astimezone(UTC)
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    if moment.date() != now.astimezone(UTC).date():
        return f"{moment:%Y-%m-%d} {clock} UTC"
    return f"{clock} UTC"


CLOCK_TOLERANCE = timedelta(seconds=5)
"""How far this computer's clock may be behind the record (another writer's clock) unremarked."""


def clock_behind(now: datetime, newest: datetime | None) -> timedelta | None:
    """How far `now` is behind `newest` (the record's newest entry, as its writer dated it), when
    that is more than CLOCK_TOLERANCE: entries written now would be dated before it."""
    if newest is None or newest - now <= CLOCK_TOLERANCE:
        return None
    return newest - now


def clock_note(now: datetime, newest: datetime, behind: timedelta) -> str:
    """One line saying the clock is behind the record, and what that does."""
    return (f"this computer's clock reads {format_moment(now, newest)}, {format_duration(behind)} behind the "
            f"record's newest entry ({format_moment(newest, newest)}): what is written here is dated by it, "
            "so it lands earlier in the timeline; check the clock (NTP)")
