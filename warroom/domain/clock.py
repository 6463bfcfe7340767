"""Time in warroom: stored in UTC, shown with its zone, dated when not today."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Callable

UTC = timezone.utc
Clock = Callable[[], datetime]

_STORED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")


def system_clock() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def to_stored(moment: datetime) -> str:
    """Fixed-width, sortable UTC text for the database."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are never stored")
    return moment.astimezone(UTC).strftime(_STORED_FORMAT)


def from_stored(text: str) -> datetime:
    """Inverse of to_stored."""
    return datetime.strptime(text, _STORED_FORMAT).replace(tzinfo=UTC)


def parse_duration(text: str) -> timedelta:
    """Parse '90s', '15m', '4h', '1d', '1h30m' into a timedelta. Raises ValueError."""
    match = _DURATION.match(text)
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration (use forms like 90s, 15m, 4h, 1d, 1h30m)")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


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
