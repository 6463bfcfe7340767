"""Incident procedures as data: severities, roles, statuses, escalation, checklists, playbooks.

Policies are TOML files validated strictly; a mistake is reported with file, line and field.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path

import msgspec

from warroom.domain.clock import parse_duration
from warroom.domain.errors import PolicyError
from warroom.domain.text import first_unsafe
from warroom.domain.tomlspot import load_toml, located_message, read_text_file


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class Severity(_Strict):
    """One severity level and the clocks it starts."""

    id: str
    label: str
    qualifies: list[str]
    response: str
    aliases: list[str] = []
    resolution: str | None = None
    update_every: str | None = None
    first_update: str | None = None
    notify: list[str] = []

    @property
    def response_target(self) -> timedelta:
        return parse_duration(self.response)

    @property
    def resolution_target(self) -> timedelta | None:
        return parse_duration(self.resolution) if self.resolution else None

    @property
    def update_cadence(self) -> timedelta | None:
        return parse_duration(self.update_every) if self.update_every else None

    @property
    def first_update_deadline(self) -> timedelta | None:
        return parse_duration(self.first_update) if self.first_update else None


class Role(_Strict):
    """A role people hold during the incident."""

    id: str
    name: str
    duties: str
    aliases: list[str] = []
    required: bool = False


class Status(_Strict):
    """A step of the status lifecycle; `resolved` marks the status that resolves the incident."""

    id: str
    label: str
    description: str = ""
    resolved: bool = False


class EscalationPath(_Strict):
    """An ordered chain of who to involve next, and when."""

    name: str
    steps: list[str]


class Checklist(_Strict):
    """Items to tick in a phase of the response."""

    id: str
    title: str
    items: list[str]
    phase: str | None = None


class Playbook(_Strict):
    """Steps for one type of incident."""

    id: str
    title: str
    steps: list[str]
    signs: list[str] = []


class Audience(_Strict):
    """Who a status update is written for."""

    id: str
    label: str
    template: str = ""


class PolicyHeader(_Strict):
    id: str
    name: str
    description: str
    default_severity: str
    source: str = ""


class Policy(_Strict):
    """A whole procedure."""

    policy: PolicyHeader
    severity: list[Severity]
    role: list[Role]
    status: list[Status]
    escalation: list[EscalationPath] = []
    checklist: list[Checklist] = []
    playbook: list[Playbook] = []
    audience: list[Audience] = []
    postmortem_sections: list[str] = []

    @property
    def id(self) -> str:
        return self.policy.id

    @property
    def name(self) -> str:
        return self.policy.name

    # Lookup by id, label/name or alias, case-insensitively.
    def find_severity(self, text: str) -> Severity | None:
        return _find(self.severity, text, lambda s: [s.id, s.label, *s.aliases])

    def find_role(self, text: str) -> Role | None:
        return _find(self.role, text, lambda r: [r.id, r.name, *r.aliases])

    def find_status(self, text: str) -> Status | None:
        return _find(self.status, text, lambda s: [s.id, s.label])

    def severity_by_id(self, severity_id: str) -> Severity:
        found = self.find_severity(severity_id)
        if found is None:
            raise KeyError(severity_id)
        return found

    def role_by_id(self, role_id: str) -> Role:
        found = self.find_role(role_id)
        if found is None:
            raise KeyError(role_id)
        return found

    def status_by_id(self, status_id: str) -> Status:
        found = self.find_status(status_id)
        if found is None:
            raise KeyError(status_id)
        return found

    @property
    def first_status(self) -> Status:
        return self.status[0]

    def severity_names(self) -> str:
        return ", ".join(s.id for s in self.severity)

    def role_names(self) -> str:
        return ", ".join(f"{r.id} ({r.name})" for r in self.role)

    def status_names(self) -> str:
        return ", ".join(s.id for s in self.status)


def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


def _find(items, text, names):
    wanted = _norm(text)
    if not wanted:
        return None
    for item in items:
        if any(_norm(name) == wanted for name in names(item)):
            return item
    return None


def _unsafe_text(node, path: str = "$") -> tuple[str, str] | None:
    """(field path, message) for the first string holding a control, bidi or zero-width character:
    policy text is shown on screens and in reports, so it must be plain (tabs and newlines are)."""
    if isinstance(node, str):
        found = first_unsafe(node)
        if found is not None:
            return path, f"holds the invisible or control character U+{ord(found):04X}; policy text must be plain"
    elif isinstance(node, dict):
        for key, value in node.items():
            problem = _unsafe_text(value, f"{path}.{key}")
            if problem:
                return problem
    elif isinstance(node, list):
        for index, value in enumerate(node):
            problem = _unsafe_text(value, f"{path}[{index}]")
            if problem:
                return problem
    return None


def _check_semantics(policy: Policy) -> tuple[str, str] | None:
    """Return (field path, message) for the first rule a well-formed policy still breaks."""
    unsafe = _unsafe_text(msgspec.to_builtins(policy))
    if unsafe:
        return unsafe
    if not policy.severity:
        return "$.severity", "at least one severity level is required"
    if not policy.role:
        return "$.role", "at least one role is required"
    if not policy.status:
        return "$.status", "at least one status is required"
    for index, level in enumerate(policy.severity):
        for field in ("response", "resolution", "update_every", "first_update"):
            value = getattr(level, field)
            if value is None:
                continue
            try:
                parse_duration(value)
            except ValueError as error:
                return f"$.severity[{index}].{field}", str(error)
    for kind, items, names in (
        ("severity", policy.severity, lambda s: [s.id, s.label, *s.aliases]),
        ("role", policy.role, lambda r: [r.id, r.name, *r.aliases]),
        ("status", policy.status, lambda s: [s.id, s.label]),
    ):
        seen: dict[str, str] = {}
        ids: set[str] = set()
        for index, item in enumerate(items):
            if _norm(item.id) in ids:
                return f"$.{kind}[{index}].id", f"id {item.id!r} is used by two {kind} entries"
            ids.add(_norm(item.id))
            for name in names(item):
                key = _norm(name)
                if key in seen and seen[key] != item.id:
                    return f"$.{kind}[{index}].id", f"name {name!r} is used by two {kind} entries"
                seen[key] = item.id
    if policy.find_severity(policy.policy.default_severity) is None:
        return "$.policy.default_severity", (
            f"unknown severity {policy.policy.default_severity!r}; valid: {policy.severity_names()}"
        )
    if not any(status.resolved for status in policy.status):
        return "$.status", "one status must be marked resolved = true"
    return None


def parse_policy(text: str, source: str) -> Policy:
    """Validate policy TOML text; `source` names the file in error messages."""
    try:
        raw = load_toml(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{source}: invalid TOML: {error}") from None
    try:
        policy = msgspec.convert(raw, Policy)
    except msgspec.ValidationError as error:
        raise _located(text, source, str(error)) from None
    problem = _check_semantics(policy)
    if problem:
        path, message = problem
        raise _located(text, source, f"{message} - at `{path}`") from None
    return policy


def _located(text: str, source: str, message: str) -> PolicyError:
    return PolicyError(located_message(text, source, message))


def load_policy_file(path: Path) -> Policy:
    """Read and validate one policy file."""
    try:
        text = read_text_file(path)
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot read policy file: {error}") from None
    return parse_policy(text, str(path))


DEFAULT_POLICY_ID = "default"


def builtin_policy_dir() -> Path:
    return Path(str(resources.files("warroom") / "policies"))


class PolicyBook:
    """All known policies: the packaged ones plus the user's own (which may override by id)."""

    def __init__(self, policies: dict[str, Policy]):
        self._policies = policies

    @classmethod
    def load(cls, user_dir: Path | None = None) -> "PolicyBook":
        found: dict[str, Policy] = {}
        dirs = [builtin_policy_dir()]
        if user_dir is not None and user_dir.is_dir():
            dirs.append(user_dir)
        for directory in dirs:
            for path in sorted(directory.glob("*.toml")):
                policy = load_policy_file(path)
                found[policy.id] = policy
        return cls(found)

    def get(self, policy_id: str) -> Policy:
        try:
            return self._policies[policy_id]
        except KeyError:
            raise PolicyError(
                f"unknown policy {policy_id!r}; known: {', '.join(sorted(self._policies))}"
            ) from None

    @property
    def default(self) -> Policy:
        return self.get(DEFAULT_POLICY_ID)

    def __iter__(self):
        return iter(sorted(self._policies.values(), key=lambda p: (p.id != DEFAULT_POLICY_ID, p.id)))

    def __len__(self) -> int:
        return len(self._policies)
