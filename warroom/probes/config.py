"""Probe definitions from TOML (`[[probe]]` tables), validated strictly.

A mistake is reported as ``FILE:LINE: probe NAME: field X: problem`` (ProbeConfigError, exit 2).
Header values and http targets may hold ``${ENV_VAR}`` templates (a token in a header, the
password or a query value in a URL): the spec keeps the template, the value is read from the
environment only when a request is made (`ProbeSpec.resolve_headers`, `resolve_target`).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from warroom.domain.clock import parse_duration
from warroom.domain.errors import WarroomError
from warroom.domain.secrets import REDACTED, is_sensitive_name, redact_url
from warroom.domain.text import first_unsafe, visible
from warroom.domain.tomlspot import line_of, load_toml, read_text_file
from warroom.probes.conditions import Condition, ConditionError, parse_condition
from warroom.probes.dns import parse_nameserver

TYPES = ("http", "tcp", "dns")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_CONDITIONS = {"http": ("status < 400",), "tcp": ("connected == true",), "dns": ("resolves == true",)}
MIN_INTERVAL = 0.1
MIN_TIMEOUT = 0.01
_HTTP_ONLY = ("method", "headers", "body", "follow_redirects", "verify_tls")
_KEYS = {
    "name", "group", "type", "target", "interval", "timeout", "conditions", "failure_threshold",
    "success_threshold", "degraded_over", "retries", "nameserver", *_HTTP_ONLY,
}
_TEMPLATE = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ProbeConfigError(WarroomError):
    """A probe file (or a probe given on the command line) is malformed."""


class MissingSecret(Exception):
    """A header references an environment variable that is not set at request time."""


def parse_seconds(value: str | int | float) -> float:
    """A probe file's duration in seconds (domain.clock.parse_duration, the one parser)."""
    return parse_duration(value).total_seconds()


def format_seconds(seconds: float) -> str:
    """Inverse of parse_duration for the values probes use: '30s', '5m', '1.5s', '250ms'."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True, eq=False)
class ProbeSpec:
    """One probe. Build it with `parse_probes`, `spec_from_dict` or `make_http_probe`."""

    name: str
    type: str
    target: str
    group: str = ""
    interval: float = 30.0
    timeout: float = 10.0
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    follow_redirects: bool = False
    verify_tls: bool = True
    conditions: tuple[str, ...] = ()
    failure_threshold: int = 3
    success_threshold: int = 2
    degraded_over: float | None = None  # milliseconds
    retries: int = 0
    nameserver: str | None = None  # dns only: ask this server (address[:port]) instead of the system
    compiled: tuple[Condition, ...] = field(default=(), repr=False)

    @property
    def checks(self) -> tuple[Condition, ...]:
        """Parsed conditions (the type's default when none are configured)."""
        if self.compiled:
            return self.compiled
        return tuple(parse_condition(text, self.type) for text in self.conditions or DEFAULT_CONDITIONS[self.type])

    def resolve_headers(self, env: Mapping[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
        """(headers with ${VAR} filled in, {secret value: "${VAR}"}) for one request.

        Raises MissingSecret naming the variable (never a value). The second mapping lets the
        checker scrub any echo of a secret out of errors and body excerpts.
        """
        secrets: dict[str, str] = {}
        fill = self._filler(os.environ if env is None else env, secrets, "header")
        return {key: _TEMPLATE.sub(fill, value) for key, value in self.headers.items()}, secrets

    def resolve_target(self, env: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
        """(the target with ${VAR} filled in, {secret value: "${VAR}"}); MissingSecret as above."""
        secrets: dict[str, str] = {}
        return _TEMPLATE.sub(self._filler(os.environ if env is None else env, secrets, "URL"), self.target), secrets

    def _filler(self, env: Mapping[str, str], secrets: dict[str, str], where: str):
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise MissingSecret(f"environment variable {name} is not set ({where} of probe {self.name})")
            if len(env[name]) >= 3:
                secrets[env[name]] = "${" + name + "}"
            return env[name]

        return fill

    def to_dict(self) -> dict[str, Any]:
        """TOML/JSON-ready dict that `spec_from_dict` accepts; templates stay unresolved."""
        data: dict[str, Any] = {"name": self.name, "type": self.type, "target": self.target}
        if self.group:
            data["group"] = self.group
        data["interval"] = format_seconds(self.interval)
        data["timeout"] = format_seconds(self.timeout)
        if self.type == "http":
            data.update(method=self.method, follow_redirects=self.follow_redirects, verify_tls=self.verify_tls)
            if self.headers:
                data["headers"] = dict(self.headers)
            if self.body is not None:
                data["body"] = self.body
        if self.conditions:
            data["conditions"] = list(self.conditions)
        data.update(failure_threshold=self.failure_threshold, success_threshold=self.success_threshold)
        if self.degraded_over is not None:
            data["degraded_over"] = self.degraded_over
        if self.retries:
            data["retries"] = self.retries
        if self.nameserver:
            data["nameserver"] = self.nameserver
        return data

    def redacted(self) -> dict[str, Any]:
        """`to_dict` safe to store, export or show: ${VAR} templates kept, and literal values of
        secret-looking headers (Authorization, *token*, *key*, Cookie...), the password of the URL
        and its secret-looking query values (api_key=, token=...) masked."""
        data = self.to_dict()
        data["target"] = redact_url(self.target)
        if "headers" in data:
            data["headers"] = {
                key: value if _TEMPLATE.search(value) or not is_sensitive_name(key) else REDACTED
                for key, value in data["headers"].items()
            }
        return data

    @property
    def shown_target(self) -> str:
        """The target as it may be shown: the URL's password and secret query values redacted."""
        return redact_url(self.target)


def _fail(source: str, text: str | None, index: int | None, name: str | None, key: str | None, problem: str):
    line = line_of(text, ["probe", index, key] if key else ["probe", index]) if text and index is not None else None
    where = f"{source}:{line}" if line else source
    who = f"probe {name}" if name else f"probe #{(index or 0) + 1}"
    what = f"field {key}: " if key else ""
    return ProbeConfigError(visible(f"{where}: {who}: {what}{problem}"))  # names and keys may hold anything


def _validate(raw: Any, fail) -> ProbeSpec:
    """Turn one raw table into a ProbeSpec; `fail(key, problem)` builds the located error."""
    if not isinstance(raw, dict):
        raise fail(None, "each [[probe]] must be a table")
    for key in raw:
        if key not in _KEYS:
            raise fail(key, f"unknown field (known: {', '.join(sorted(_KEYS))})")

    def get(key: str, kinds: type | tuple[type, ...], default: Any = None, what: str = "") -> Any:
        if key not in raw:
            return default
        value = raw[key]
        if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise fail(key, f"expected {what}, got {value!r}")
        if not isinstance(value, kinds):
            raise fail(key, f"expected {what}, got {type(value).__name__} {value!r}")
        return value

    for key in ("name", "type", "target"):
        if key not in raw:
            raise fail(None, f"missing required field {key}")
    name = get("name", str, what="a string").strip()
    if not name or len(name) > 64 or first_unsafe(name) or "\t" in name or "\n" in name:
        raise fail("name", "must be 1-64 printable characters (no control, bidi or zero-width ones)")
    group = get("group", str, "", "a string").strip()
    if first_unsafe(group) or "\n" in group:
        raise fail("group", "must be printable (no control, bidi or zero-width characters)")
    kind = get("type", str, what="a string")
    if kind not in TYPES:
        raise fail("type", f"unknown type {kind!r} (use http, tcp or dns)")
    target = get("target", str, what="a string").strip()
    problem = _target_problem(kind, target) or (_template_problem(target) if kind == "http" else None)
    if problem:
        raise fail("target", problem)
    if kind != "http":
        for key in _HTTP_ONLY:
            if key in raw:
                raise fail(key, "only http probes take this field")
    nameserver = get("nameserver", str, None, "an address such as 127.0.0.1:53")
    if nameserver is not None:
        if kind != "dns":
            raise fail("nameserver", "only dns probes take this field")
        try:
            parse_nameserver(nameserver)
        except ValueError as error:
            raise fail("nameserver", f"{nameserver!r} is not address[:port] ({error})") from None

    def seconds(key: str, default: float | None) -> float | None:
        value = get(key, (str, int, float), None, "a duration such as 30s")
        if value is None:
            return default
        try:
            result = parse_seconds(value)
        except ValueError as error:
            raise fail(key, str(error)) from None
        least = MIN_INTERVAL if key == "interval" else MIN_TIMEOUT
        if result < least:
            raise fail(key, f"must be at least {format_seconds(least)}")
        return result

    interval = seconds("interval", 30.0)
    timeout = seconds("timeout", min(10.0, 0.8 * interval))
    if timeout > interval:
        raise fail("timeout", f"{format_seconds(timeout)} is longer than the interval {format_seconds(interval)}")
    method = get("method", str, "GET", "a string").upper()
    if method not in METHODS:
        raise fail("method", f"unknown method {method!r} (use {', '.join(METHODS)})")
    headers = get("headers", dict, {}, "a table of strings")
    for key, value in headers.items():
        if not isinstance(value, str):
            raise fail("headers", f"value of {key!r} must be a string")
        if not key or any(ord(ch) <= 32 or ch in ":()<>@,;\\\"/[]?={}" for ch in key):
            raise fail("headers", f"{key!r} is not a valid header name")
        if any(ch in value for ch in "\r\n\0"):
            raise fail("headers", f"value of {key!r} contains a line break")
        problem = _template_problem(value)
        if problem:
            raise fail("headers", f"value of {key!r}: {problem}")
    conditions = get("conditions", list, [], "a list of strings")
    compiled = []
    for number, text in enumerate(conditions, start=1):
        if not isinstance(text, str):
            raise fail("conditions", f"condition {number} must be a string")
        try:
            compiled.append(parse_condition(text, kind))
        except ConditionError as error:
            raise fail("conditions", f"condition {number} {text!r}: {error}") from None
    if not compiled:
        compiled = [parse_condition(text, kind) for text in DEFAULT_CONDITIONS[kind]]

    def count(key: str, default: int, low: int, high: int) -> int:
        value = get(key, int, default, "an integer")
        if not low <= value <= high:
            raise fail(key, f"must be between {low} and {high}")
        return value

    degraded = get("degraded_over", (int, float, str), None, "milliseconds (a number) or a duration")
    if isinstance(degraded, str):
        try:
            degraded = parse_seconds(degraded) * 1000
        except ValueError as error:
            raise fail("degraded_over", str(error)) from None
    if degraded is not None and degraded <= 0:
        raise fail("degraded_over", "must be positive (milliseconds)")
    return ProbeSpec(
        name=name,
        type=kind,
        target=target,
        group=group,
        interval=interval,
        timeout=timeout,
        method=method,
        headers=dict(headers),
        body=get("body", str, None, "a string"),
        follow_redirects=get("follow_redirects", bool, False, "true or false"),
        verify_tls=get("verify_tls", bool, True, "true or false"),
        conditions=tuple(conditions),
        failure_threshold=count("failure_threshold", 3, 1, 100),
        success_threshold=count("success_threshold", 2, 1, 100),
        degraded_over=float(degraded) if degraded is not None else None,
        retries=count("retries", 0, 0, 3),
        nameserver=nameserver,
        compiled=tuple(compiled),
    )


def _template_problem(value: str) -> str | None:
    """What is wrong with the ${VAR} templates in `value`, if anything (names never values)."""
    for var in re.findall(r"\$\{([^}]*)\}?", value):
        if not _ENV_NAME.match(var):
            return f"${{{var}}} is not an environment variable name"
    if value.count("${") != len(_TEMPLATE.findall(value)):
        return "unclosed ${...}"
    return None


def _target_problem(kind: str, target: str) -> str | None:
    if not target:
        return "must not be empty"
    if kind == "http":
        if not re.match(r"^https?://", target, re.IGNORECASE):
            return f"{redact_url(target)!r} is not an http:// or https:// URL"
        host = re.match(r"^https?://([^/?#]*)", target, re.IGNORECASE).group(1).rpartition("@")[2]
        if not host or any(ch.isspace() for ch in target):
            return f"{redact_url(target)!r} is not a valid URL"
        return None
    if kind == "tcp":
        host, _, port = target.rpartition(":")
        if not host.strip("[]") or not port.isdigit() or not 0 < int(port) < 65536:
            return f"{target!r} is not host:port"
        return None
    if "/" in target or ":" in target or any(ch.isspace() for ch in target):
        return f"{target!r} is not a host name"
    return None


def parse_probes(text: str, source: str) -> list[ProbeSpec]:
    """Validate probe TOML text; `source` names the file in error messages."""
    try:
        raw = load_toml(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"at line (\d+)", str(error))
        where = f"{source}:{found.group(1)}" if found else source
        raise ProbeConfigError(f"{where}: invalid TOML: {error}") from None
    for key in raw:
        if key != "probe":
            line = line_of(text, [key])
            where = f"{source}:{line}" if line else source
            raise ProbeConfigError(f"{where}: unknown top-level field {key!r} (probe files hold [[probe]] tables)")
    tables = raw.get("probe", [])
    if not isinstance(tables, list):
        raise ProbeConfigError(f"{source}: probe must be an array of tables ([[probe]])")
    specs: list[ProbeSpec] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        name = table.get("name") if isinstance(table, dict) and isinstance(table.get("name"), str) else None

        def fail(key, problem, index=index, name=name):
            return _fail(source, text, index, name, key, problem)

        spec = _validate(table, fail)
        if spec.name in seen:
            raise fail("name", f"duplicate name (first used by probe #{seen[spec.name] + 1})")
        seen[spec.name] = index
        specs.append(spec)
    return specs


def load_probe_file(path: Path | str) -> list[ProbeSpec]:
    """Read and validate one probe file."""
    path = Path(path)
    try:
        text = read_text_file(path)
    except (OSError, UnicodeDecodeError) as error:
        raise ProbeConfigError(f"{path}: cannot read probe file: {error}") from None
    return parse_probes(text, str(path))


def spec_from_dict(data: Mapping[str, Any], source: str = "<probe>") -> ProbeSpec:
    """Validate one probe given as a dict (e.g. the JSON stored with an incident)."""
    name = data.get("name") if isinstance(data.get("name"), str) else None
    return _validate(dict(data), lambda key, problem: _fail(source, None, None, name, key, problem))


def make_http_probe(name: str, url: str, *, group: str = "", source: str = "/probe add", **fields: Any) -> ProbeSpec:
    """The probe `/probe add NAME URL` creates: GET URL, defaults for everything else."""
    return spec_from_dict({"name": name, "type": "http", "target": url, "group": group, **fields}, source)


def with_interval(spec: ProbeSpec, interval: float) -> ProbeSpec:
    """A copy running at `interval`, its timeout capped at 0.8 x interval (used by fast mode)."""
    return replace(spec, interval=interval, timeout=min(spec.timeout, 0.8 * interval))
