"""Gatus-like condition strings, parsed once at configuration time and evaluated per result.

    status == 200            status in [200, 204]        response_time < 300   (ms; or 1.5s)
    body contains "ok"       body.status == "UP"          body.items[0].ready == true
    cert_expires_in > 48h    connected == true (tcp)      resolves == true, answer contains 10.0.0.1 (dns)

Operators: == != < <= > >= in, not in, contains, not contains (which ones apply depends on the
subject). `evaluate` returns the first failing condition as a sentence: "status == 200 failed: got 503".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from warroom.domain.clock import format_duration, parse_duration


class ConditionError(ValueError):
    """A condition string cannot be understood (reported as a configuration error)."""


_MISSING = object()
_SUBJECT = re.compile(r"^(status|response_time|cert_expires_in|connected|resolves|answer|body)\b")
_PATH = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
_OP = re.compile(r"^(==|!=|<=|>=|<|>|not\s+in\b|in\b|not\s+contains\b|contains\b)")
_ORDER = ("==", "!=", "<", "<=", ">", ">=")

SUBJECTS = {
    "http": ("status", "response_time", "body", "cert_expires_in"),
    "tcp": ("connected", "response_time"),
    "dns": ("resolves", "answer", "response_time"),
}
_OPS = {
    "status": _ORDER + ("in", "not in"),
    "response_time": _ORDER,
    "cert_expires_in": _ORDER,
    "connected": ("==", "!="),
    "resolves": ("==", "!="),
    "answer": ("contains", "not contains"),
    "body": ("==", "!=", "contains", "not contains"),
    "body.": _ORDER + ("in", "not in", "contains", "not contains"),
}


@dataclass(frozen=True)
class Condition:
    """One parsed condition; `text` is what the user wrote (normalised spacing)."""

    text: str
    subject: str
    op: str
    value: Any
    path: tuple[str | int, ...] = ()


@dataclass
class Observation:
    """What one check saw; None means "not measured" (e.g. no response)."""

    status: int | None = None
    response_time: float | None = None  # ms
    body: str | None = None
    cert_expires_in: float | None = None  # seconds; None when not TLS
    connected: bool | None = None
    resolves: bool | None = None
    answers: tuple[str, ...] = ()
    error: str | None = None
    _json: Any = field(default=_MISSING, repr=False)

    def json(self) -> Any:
        if self._json is _MISSING:
            try:
                self._json = json.loads(self.body or "")
            except (ValueError, RecursionError):  # not JSON, or nested deeper than json can read
                self._json = _MISSING
                return _MISSING
        return self._json


def _scalar(text: str) -> tuple[Any, str]:
    """Parse one literal at the start of text; returns (value, rest)."""
    text = text.lstrip()
    if text[:1] in ('"', "'"):
        quote = text[0]
        match = re.match(rf"{quote}((?:[^{quote}\\]|\\.)*){quote}", text)
        if not match:
            raise ConditionError("unclosed quote")
        raw = match.group(1)
        value = json.loads(f'"{raw}"') if quote == '"' else raw.replace("\\'", "'")
        return value, text[match.end():]
    match = re.match(r"[^,\]\s]+", text)
    if not match:
        raise ConditionError("missing value")
    word, rest = match.group(0), text[match.end():]
    if word in ("true", "false"):
        return word == "true", rest
    if word == "null":
        return None, rest
    if re.fullmatch(r"-?\d+", word):
        return int(word), rest
    if re.fullmatch(r"-?\d+\.\d*|-?\d*\.\d+", word):
        return float(word), rest
    return word, rest


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("["):
        items, rest = [], text[1:].lstrip()
        while not rest.startswith("]"):
            value, rest = _scalar(rest)
            items.append(value)
            rest = rest.lstrip()
            if rest.startswith(","):
                rest = rest[1:].lstrip()
            elif not rest.startswith("]"):
                raise ConditionError("expected , or ] in list")
        if rest[1:].strip():
            raise ConditionError(f"unexpected text after list: {rest[1:].strip()!r}")
        return items
    value, rest = _scalar(text)
    if rest.strip():
        raise ConditionError(f"unexpected text {rest.strip()!r} (quote strings that contain spaces)")
    return value


def _span(value: Any, subject: str, scale: float) -> float:
    """A duration literal (48h, 300ms) or, for response_time, a bare number of ms."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and subject == "response_time":
        return float(value)
    text = str(value) if not isinstance(value, bool) else ""
    if not text:
        raise ConditionError(f"{subject} needs a duration, got {value!r}")
    try:
        total = parse_duration(text).total_seconds()
    except ValueError:
        example = "300 (ms) or 1.5s" if subject == "response_time" else "a duration such as 48h or 7d"
        raise ConditionError(f"{subject} needs {example}, got {value!r}") from None
    return total / scale


def parse_condition(text: str, probe_type: str) -> Condition:
    """Parse and type-check one condition for a probe of `probe_type`. Raises ConditionError."""
    source = " ".join(text.split())
    match = _SUBJECT.match(source)
    if not match:
        raise ConditionError(f"unknown subject (use one of {', '.join(SUBJECTS[probe_type])})")
    subject, rest = match.group(1), source[match.end():]
    path: tuple[str | int, ...] = ()
    if subject == "body" and rest[:1] in (".", "["):
        end = re.match(r"(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])+", rest)
        if not end:
            raise ConditionError("bad JSON path after body (use body.field.sub or body.list[0])")
        path = tuple(name if name else int(index) for name, index in _PATH.findall(end.group(0)))
        rest = rest[end.end():]
    if subject not in SUBJECTS[probe_type]:
        raise ConditionError(f"{subject} does not apply to {probe_type} probes (use {', '.join(SUBJECTS[probe_type])})")
    rest = rest.strip()
    op_match = _OP.match(rest)
    if not op_match:
        raise ConditionError("missing operator (==, !=, <, <=, >, >=, in, contains)")
    op = " ".join(op_match.group(1).split())
    allowed = _OPS["body." if path else subject]
    if op not in allowed:
        raise ConditionError(f"operator {op!r} does not apply to {subject} (use {', '.join(allowed)})")
    raw = rest[op_match.end():].strip()
    if not raw:
        raise ConditionError("missing value")
    value = _literal(raw)
    if op in ("in", "not in") and not isinstance(value, list):
        raise ConditionError(f"{op} needs a list such as [200, 204]")
    if subject == "status":
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, int) and not isinstance(item, bool) for item in items):
            raise ConditionError(f"status needs whole numbers, got {raw}")
    elif subject in ("response_time", "cert_expires_in"):
        value = _span(value, subject, 0.001 if subject == "response_time" else 1.0)
    elif subject in ("connected", "resolves"):
        if not isinstance(value, bool):
            raise ConditionError(f"{subject} compares with true or false, got {raw}")
    elif subject == "answer" or (subject == "body" and not path):
        if isinstance(value, list):
            raise ConditionError(f"{subject} compares with a string, got a list")
        value = raw_string(value)
    elif op in _ORDER[2:] and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
        raise ConditionError(f"{op} needs a number, got {raw}")
    return Condition(text=source, subject=subject, op=op, value=value, path=path)


def raw_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "==":
        if isinstance(actual, bool) or isinstance(expected, bool):
            return actual is expected
        return actual == expected
    if op == "!=":
        return not _compare(actual, "==", expected)
    if op in ("in", "not in"):
        found = any(_compare(actual, "==", item) for item in expected)
        return found if op == "in" else not found
    if op in ("contains", "not contains"):
        if isinstance(actual, str):
            found = raw_string(expected) in actual
        elif isinstance(actual, (list, tuple)):
            found = any(_compare(item, "==", expected) or raw_string(item) == raw_string(expected) for item in actual)
        else:
            found = False
        return found if op == "contains" else not found
    if not isinstance(actual, (int, float)) or isinstance(actual, bool):
        return False
    return {"<": actual < expected, "<=": actual <= expected, ">": actual > expected, ">=": actual >= expected}[op]


def _quote(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return json.dumps(flat if len(flat) <= limit else flat[: limit - 1] + "…", ensure_ascii=False)


def _actual(condition: Condition, seen: Observation) -> tuple[Any, str]:
    """(value to compare, how to show it) or (_MISSING, why it is missing)."""
    subject = condition.subject
    if subject == "body" and condition.path:
        if seen.body is None:
            return _MISSING, "no response body"
        node = seen.json()
        if node is _MISSING:
            return _MISSING, "body is not JSON"
        walked = "body"
        for part in condition.path:
            if isinstance(part, int) and isinstance(node, list) and part < len(node):
                node = node[part]
            elif isinstance(part, str) and isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return _MISSING, f"{walked} has no {'[%d]' % part if isinstance(part, int) else part}"
            walked += f"[{part}]" if isinstance(part, int) else f".{part}"
        return node, json.dumps(node, ensure_ascii=False)[:60]
    value = {"status": seen.status, "response_time": seen.response_time, "body": seen.body,
             "cert_expires_in": seen.cert_expires_in, "connected": seen.connected,
             "resolves": seen.resolves, "answer": list(seen.answers)}[subject]
    if value is None:
        reason = {"body": "no response body", "cert_expires_in": "no TLS certificate"}.get(subject, "no response")
        return _MISSING, reason + (f" ({seen.error})" if seen.error and subject != "cert_expires_in" else "")
    if subject == "response_time":
        return value, f"{value:.0f} ms"
    if subject == "cert_expires_in":
        if value < 0:
            return value, f"expired {format_duration(timedelta(seconds=-value))} ago"
        return value, format_duration(timedelta(seconds=value))
    if subject == "body":
        return value, _quote(value)
    if subject == "answer":
        return value, "[" + ", ".join(value) + "]" if value else "no answers"
    return value, raw_string(value)


def check(condition: Condition, seen: Observation) -> str | None:
    """None when the condition holds, else the sentence saying why not."""
    value, shown = _actual(condition, seen)
    if value is _MISSING:
        return f"{condition.text} failed: {shown}"
    if _compare(value, condition.op, condition.value):
        return None
    cause = f" ({seen.error})" if seen.error and seen.error not in shown else ""  # why: refused, no such name...
    return f"{condition.text} failed: got {shown}{cause}"


def evaluate(conditions: tuple[Condition, ...] | list[Condition], seen: Observation) -> str | None:
    """The first failing condition, in words, or None when all hold."""
    for condition in conditions:
        failure = check(condition, seen)
        if failure:
            return failure
    return None
