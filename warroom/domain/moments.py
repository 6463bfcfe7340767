"""Moments typed in the entry bar: a leading back-dating token (`-1h30m`, `@14:02`,
`@2026-11-23T14:02`) and a due date (`due:2h`, `due:17:00`, `due:2026-11-30`). Times are UTC;
`now` is the injected clock's. Errors are ParseError, whose message says what was expected."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from warroom.domain.clock import UTC, parse_duration
from warroom.domain.errors import ParseError

# Digits are ASCII on purpose: `int()` would accept others.
_N = r"[0-9]+(?:\.[0-9]+)?"
OFFSET = re.compile(rf"-(?:{_N}d)?(?:{_N}h)?(?:{_N}m)?(?:{_N}s)?(?:{_N}ms)?")  # as domain.clock.parse_duration
CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
STAMP = re.compile(DATE.pattern + r"[Tt]" + CLOCK.pattern)
DUE_FORMS = "YYYY-MM-DD, YYYY-MM-DDTHH:MM, HH:MM (UTC) or a duration like 2h or 3d"


# --- time --------------------------------------------------------------------------------------


def backdate(token: str, now: datetime) -> datetime | None:
    """The moment a leading `-1h30m` / `@14:02[:30]` / `@YYYY-MM-DDTHH:MM` token names, or None."""
    if len(token) > 1 and OFFSET.fullmatch(token):
        return _shifted(now, -_duration(token[1:], token), token)
    if not token.startswith("@"):
        return None
    if clock := CLOCK.fullmatch(token[1:]):
        moment = _at(now.date(), clock.groups(), token)
        return _shifted(moment, -timedelta(days=1), token) if moment > now else moment
    if stamp := STAMP.fullmatch(token[1:]):
        moment = _at(_day(stamp.groups()[:3], token), stamp.groups()[3:], token)
        if moment > now:
            raise ParseError(f"'{token}' is in the future (now is {now:%Y-%m-%d %H:%M} UTC)")
        return moment
    return None


def due_date(value: str, now: datetime) -> datetime:
    """A due date: a UTC date (midnight), date and time, clock time (next one) or duration."""
    token = f"due:{value}"
    if day := DATE.fullmatch(value):
        return _at(_day(day.groups(), token), ("0", "0", None), token)
    if stamp := STAMP.fullmatch(value):
        return _at(_day(stamp.groups()[:3], token), stamp.groups()[3:], token)
    if clock := CLOCK.fullmatch(value):
        moment = _at(now.date(), clock.groups(), token)
        return _shifted(moment, timedelta(days=1), token) if moment < now else moment
    problem = f"invalid due date '{value}'; use {DUE_FORMS}"
    return _shifted(now, _duration(value, token, problem), token)


def _duration(text: str, token: str, message: str = "") -> timedelta:
    try:
        return parse_duration(text)
    except (ValueError, OverflowError):
        raise ParseError(message or f"'{token}' is not a usable time offset") from None


def _shifted(moment: datetime, delta: timedelta, token: str) -> datetime:
    try:
        return moment + delta
    except OverflowError:
        raise ParseError(f"'{token}' is too far away in time") from None


def _day(parts: tuple[str | None, ...], token: str) -> date:
    try:
        return date(*(int(part or 0) for part in parts))
    except ValueError:
        raise ParseError(f"'{token}' is not a valid date") from None


def _at(day: date, clock: tuple[str | None, ...], token: str) -> datetime:
    hour, minute, second = (int(part or 0) for part in clock)
    try:
        return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise ParseError(f"'{token}' is not a valid time (use HH:MM, 00:00 to 23:59)") from None
