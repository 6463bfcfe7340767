"""Incident procedures as data: severities, roles, statuses, escalation, checklists, playbooks,
the duties they imply (per-audience update cadences, parties to notify, reviews) and the report.

Policies are TOML files validated strictly; a mistake is reported with file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Iterable, Literal

import msgspec

from warroom.domain.clock import parse_duration
from warroom.domain.errors import PolicyError
from warroom.domain.policy_checks import NO_DEADLINE, check_policy, moved_field_hint, norm_name
from warroom.domain.text_files import packaged_policy_dir, toml_files
from warroom.domain.tomlspot import decode_toml, located_message, read_text_file


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
    page: list[str] = []  # how on-call is reached (phone, sms...); any entry: this level pages

    @property
    def pages(self) -> bool:
        """Declaring or escalating to this level pages the configured pagers."""
        return bool(self.page)

    @property
    def response_target(self) -> timedelta:
        return parse_duration(self.response)

    @property
    def resolution_target(self) -> timedelta | None:
        return parse_duration(self.resolution) if self.resolution else None


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
    proofs: dict[str, str] = {}  # item number (1 = the first) -> what in the record proves it (domain.checklists)


class Playbook(_Strict):
    """Steps for one type of incident."""

    id: str
    title: str
    steps: list[str]
    signs: list[str] = []


@dataclass(frozen=True, slots=True)
class Owed:
    """A duty the policy asks for at some severity; `within` None: no deadline."""

    within: timedelta | None


def owed_at(table: dict[str, str], severity_id: str) -> Owed | None:
    """What a per-severity table (`{ SEV-1 = "15m", SEV-2 = "no deadline" }`) asks at `severity_id`."""
    value = table.get(severity_id)
    if value is None:
        return None
    return Owed(None if value == NO_DEADLINE else parse_duration(value))


class Audience(_Strict):
    """Who a status update is written for, and how often it is owed at each severity.

    `first`: the first update, counted from the declaration (or from a raise to that severity);
    `every`: the next one, counted from the last update to this audience; `final`: the update that
    says it is resolved, counted from the resolution. Each maps severity ids to durations;
    `first` and `final` may also say "no deadline". A severity not named owes nothing."""

    id: str
    label: str
    template: str = ""
    first: dict[str, str] = {}
    every: dict[str, str] = {}
    final: dict[str, str] = {}
    wording: dict[str, str] = {}  # status-page text per severity: "Identified - We have identified..."
    final_wording: str = ""  # status-page text of the final update
    eta: bool = False  # drafts carry an ETA line

    def first_owed(self, severity_id: str) -> Owed | None:
        return owed_at(self.first, severity_id)

    def cadence(self, severity_id: str) -> timedelta | None:
        value = self.every.get(severity_id)
        return parse_duration(value) if value is not None else None

    def final_owed(self, severity_id: str) -> Owed | None:
        return owed_at(self.final, severity_id)


class PolicyDuty(_Strict):
    """Someone to notify, or a review to hold, and what starts its clock.

    `within` maps the severities that owe it to how long after `starts` it is due (or "no
    deadline"). `starts`: "declared", "severity" (when the incident first reaches one of those
    levels as its most severe so far; a downgrade starts nothing) or "resolved" (timed by the
    highest severity reached). Owed once. `if_unresolved`: owed only if the incident is still
    unresolved when it falls due."""

    id: str
    label: str
    within: dict[str, str]
    kind: Literal["notify", "review"] = "notify"
    starts: Literal["declared", "severity", "resolved"] = "severity"
    if_unresolved: bool = False
    contacts: list[str] = []

    def owed(self, severity_id: str) -> Owed | None:
        return owed_at(self.within, severity_id)


class Contact(_Strict):
    """A person, team, channel or vendor the procedure names, and how to reach them."""

    id: str
    name: str
    kind: Literal["person", "team", "channel", "vendor"] = "person"
    reach: str = ""  # phone, address or channel as the procedure gives it; empty when it gives none
    severities: list[str] = []  # an alert channel used only at these severities
    note: str = ""


class ActionGroup(_Strict):
    """A group of action items in the report (seed 001: immediate, short-term, long-term)."""

    id: str
    label: str
    description: str = ""
    aliases: list[str] = []
    during: bool = False  # worked during the incident ("now"); otherwise a follow-up after it


ReportFill = Literal["summary", "metrics", "impact", "timeline", "root_cause", "resolution", "lessons",
                     "actions", "notes", "review"]


class ReportSection(_Strict):
    """One section of the post-incident report: its title, what fills it, and the questions it answers."""

    title: str
    fill: ReportFill
    prompts: list[str] = []


class Targets(_Strict):
    """Response-metric targets (time to resolve is each severity's `resolution`)."""

    detect: str | None = None
    acknowledge: str | None = None
    mitigate: str | None = None

    def target(self, name: str) -> timedelta | None:
        value = getattr(self, name)
        return parse_duration(value) if value else None


class PolicyHeader(_Strict):
    id: str
    name: str
    description: str
    default_severity: str
    source: str = ""
    deviations: list[str] = []  # where this policy knowingly departs from its source, and why


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
    duty: list[PolicyDuty] = []
    contact: list[Contact] = []
    action_group: list[ActionGroup] = []
    postmortem: list[ReportSection] = []
    targets: Targets = Targets()

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

    def commander_role(self) -> Role:
        """The incident-commander role (or the first role when none goes by that name)."""
        return self.find_role("ic") or self.find_role("incident commander") or self.role[0]

    def find_status(self, text: str) -> Status | None:
        return _find(self.status, text, lambda s: [s.id, s.label])

    def find_action_group(self, text: str) -> ActionGroup | None:
        return _find(self.action_group, text, lambda g: [g.id, g.label, *g.aliases])

    def find_audience(self, audience_id: str) -> Audience | None:
        return next((a for a in self.audience if a.id == audience_id), None)

    def rank(self, severity_id: str) -> int:
        """0 for the most severe level, larger for milder ones (unknown ids rank mildest)."""
        ids = [level.id for level in self.severity]
        return ids.index(severity_id) if severity_id in ids else len(ids)

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


def _find(items, text, names):
    wanted = norm_name(text)
    if not wanted:
        return None
    for item in items:
        if any(norm_name(name) == wanted for name in names(item)):
            return item
    return None


def parse_policy(text: str, source: str) -> Policy:
    """Validate policy TOML text; `source` names the file in error messages."""
    policy = decode_toml(text, source, Policy, PolicyError, moved_field_hint)
    problem = check_policy(policy)
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


builtin_policy_dir = packaged_policy_dir  # (the name the loader looks up: a test points it elsewhere)


class PolicyBook:
    """All known policies: the packaged ones plus the user's own (which may override by id).

    The user's files are read and checked when the book is loaded (a broken one is reported
    before anything else happens); a packaged file, whose name is its policy's id, is read the
    first time its policy is wanted, so a command on one incident reads one policy file."""

    def __init__(self, policies: dict[str, Policy], packaged: dict[str, Path] | None = None):
        self._policies = policies
        self._unread = {pid: path for pid, path in (packaged or {}).items() if pid not in policies}

    @classmethod
    def load(cls, user_dir: Path | None = None) -> "PolicyBook":
        found: dict[str, Policy] = {}
        for path in toml_files(user_dir):
            policy = load_policy_file(path)
            found[policy.id] = policy
        return cls(found, {path.stem: path for path in toml_files(builtin_policy_dir())})

    def _read(self, policy_id: str) -> Policy:
        path = self._unread[policy_id]
        policy = load_policy_file(path)
        if policy.id != policy_id:  # a packaging mistake: the name is how the policy is found
            raise PolicyError(f"{path}: a packaged policy file is named after its id, and this one's is {policy.id!r}")
        self._policies[policy_id] = policy
        del self._unread[policy_id]
        return policy

    def get(self, policy_id: str) -> Policy:
        found = self._policies.get(policy_id)
        if found is not None:
            return found
        if policy_id in self._unread:
            return self._read(policy_id)
        raise PolicyError(f"unknown policy {policy_id!r}; known: {', '.join(sorted({*self._policies, *self._unread}))}")

    @property
    def default(self) -> Policy:
        return self.get(DEFAULT_POLICY_ID)

    def audience_ids(self, wanted: Iterable[str] = ()) -> set[str]:
        """Audience ids the policies have: those read already, then the default's, then the other
        packaged ones', reading each only while one of `wanted` is still missing (so all of them
        when one is nowhere: a message then lists them all)."""
        missing = set(wanted)
        known = {audience.id for policy in self._policies.values() for audience in policy.audience}
        for policy_id in sorted(self._unread, key=lambda pid: (pid != DEFAULT_POLICY_ID, pid)):
            if missing <= known:
                break
            known |= {audience.id for audience in self._read(policy_id).audience}
        return known if missing <= known else {audience.id for policy in self for audience in policy.audience}

    def __iter__(self):
        for policy_id in list(self._unread):
            self._read(policy_id)
        return iter(sorted(self._policies.values(), key=lambda p: (p.id != DEFAULT_POLICY_ID, p.id)))

    def __len__(self) -> int:
        return len(self._policies) + len(self._unread)


def update_cadences(policy: Policy, severity_id: str) -> str:
    """What each audience is owed at a severity, in a line: 'Internal: first 5m, every 15m, final 0m;
    Status page: first 0m'; 'no update cadence' when no audience is owed anything."""
    parts = []
    for audience in policy.audience:
        terms = [f"{name} {table[severity_id]}" for name, table in
                 (("first", audience.first), ("every", audience.every), ("final", audience.final))
                 if severity_id in table]
        if terms:
            parts.append(f"{audience.label}: {', '.join(terms)}")
    return "; ".join(parts) or "no update cadence"
