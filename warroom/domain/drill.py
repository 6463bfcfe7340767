"""Drill files: a scripted practice incident (TOML, validated strictly like the other files).

    [drill]                      name, title, severity, policy, services, impact, commander, length, briefing
    [[probe]]                    name, state ("up", "down", "slow"), group, interval (real time between checks)
    [[step]]  at = "+2m"         and one of:
        probe = "api", state = "down"                the drill's fake service makes the probe fail (or recover)
        alert = { title = "...", severity, services, description, status }   an alert comes in
        note = "text", by = "carol"                  someone else types a line (any entry-bar command)
        expect = "ack within 5m"                     an expected response, counted from `at`

Expected responses (`domain.drill_report` scores them): `ack`, `detected`, `mitigated`,
`resolved`, `SEV-1 declared` (or `severity SEV-1`), `first update [AUDIENCE]`, `status STATUS`,
`role ROLE`, `notify DUTY` / `review DUTY`, `decision`; each with `within DURATION`, or without it
by the policy's own deadline where it has one (ack: the severity's response time; resolved: its
resolution target; an update or a notify/review duty: its due time from domain.duties).

A mistake is reported as FILE:LINE: field X: problem (DrillError, exit 2), like policy files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import msgspec

from warroom.domain.clock import parse_duration
from warroom.domain.drill_mark import DRILL_MARK, TITLE_PREFIX, drill_title, is_drill  # noqa: F401 (theirs too)
from warroom.domain.errors import ParseError, WarroomError
from warroom.domain.policy import Policy, PolicyBook
from warroom.domain.tomlspot import decode_toml, located_message, read_text_file

PROBE_STATES = ("up", "down", "slow")
ACTIONS = ("probe", "alert", "note", "expect")
MILESTONE_WORDS = {"ack": "acknowledged", "acknowledged": "acknowledged", "acknowledge": "acknowledged",
                   "detected": "detected", "mitigated": "mitigated", "resolved": "resolved"}
EXPECT_FORMS = ("ack, detected, mitigated, resolved, SEV-1 declared, first update [AUDIENCE], status STATUS, "
                "role ROLE, notify DUTY, review DUTY or decision; optionally followed by 'within 5m'")


class DrillError(WarroomError):
    """A drill file is malformed; the message names file, line and field."""


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class DrillSpec(_Strict):
    """The practice incident and how long the drill runs."""

    name: str
    title: str
    severity: str
    policy: str | None = None
    services: list[str] = []
    impact: str = ""
    commander: str | None = None
    length: str = "30m"  # drill time from the start to the report
    briefing: str = ""  # what the facilitator says at the start (the drill's first note)


class DrillProbe(_Strict):
    """A probe of the drill's fake service; the script decides when it fails."""

    name: str
    state: str = "up"
    group: str = "drill"
    interval: str = "2s"  # real time between checks, whatever the speed


class DrillAlert(_Strict):
    """An alert as monitoring would send it (it goes through the alert intake)."""

    title: str
    severity: str = ""
    services: list[str] = []
    description: str = ""
    status: str = "firing"


class DrillStep(_Strict):
    at: str
    probe: str | None = None
    state: str | None = None
    alert: DrillAlert | None = None
    note: str | None = None
    by: str | None = None
    expect: str | None = None

    @property
    def action(self) -> str:
        return next(name for name in ACTIONS if getattr(self, name) is not None)


class DrillFile(_Strict):
    drill: DrillSpec
    probe: list[DrillProbe] = []
    step: list[DrillStep] = []


@dataclass(frozen=True, slots=True)
class Expectation:
    """One expected response: `what` (ack, detected, mitigated, resolved, severity, update, status,
    role, duty, decision), its `target` (a severity, audience, status, role id or duty key),
    `within` (None: the policy's deadline, if it has one) counted from `start`."""

    text: str
    what: str
    target: str = ""
    within: timedelta | None = None
    start: timedelta = timedelta(0)


@dataclass(frozen=True)
class Scenario:
    """A validated drill: the file as read, its times as durations, its expectations parsed."""

    source: str
    file: DrillFile
    policy: Policy
    length: timedelta
    offsets: tuple[timedelta, ...]  # each step's `at`
    expectations: tuple[Expectation, ...]

    @property
    def spec(self) -> DrillSpec:
        return self.file.drill

    @property
    def title(self) -> str:
        return drill_title(self.spec.title)

    def events(self) -> list[tuple[timedelta, int, DrillStep]]:
        """The steps that do something (not expectations), in time order: (at, index, step)."""
        found = [(at, index, step) for index, (at, step) in enumerate(zip(self.offsets, self.file.step))
                 if step.expect is None]
        return sorted(found, key=lambda item: (item[0], item[1]))


def parse_offset(text: str) -> timedelta:
    """'+2m', '+0s', '+1h30m': time after the drill started (ValueError otherwise)."""
    text = text.strip()
    if not text.startswith("+"):
        raise ValueError(f"{text!r} is not a time in the drill: write it as +2m (after the start)")
    return parse_duration(text[1:])


def parse_expectation(text: str, policy: Policy, start: timedelta = timedelta(0)) -> Expectation:
    """'ack within 5m', 'SEV-1 declared', 'first update public within 15m'... (ValueError says why)."""
    words = text.split()
    within = None
    if "within" in [w.lower() for w in words]:
        at = [w.lower() for w in words].index("within")
        if at + 1 >= len(words):
            raise ValueError(f"{text!r}: 'within' needs a duration, e.g. within 5m")
        within = parse_duration("".join(words[at + 1:]))
        words = words[:at]
    lowered = [w.lower() for w in words]
    if not words:
        raise ValueError(f"{text!r}: expect one of {EXPECT_FORMS}")
    head, rest = lowered[0], words[1:]
    if len(lowered) == 1 and head in MILESTONE_WORDS:
        return Expectation(text, MILESTONE_WORDS[head], within=within, start=start)
    if head == "decision" and not rest:
        return Expectation(text, "decision", within=within, start=start)
    if (head in ("severity", "sev") and len(rest) == 1) or (len(lowered) == 2 and lowered[1] == "declared"):
        name = rest[0] if head in ("severity", "sev") else words[0]
        level = policy.find_severity(name)
        if level is None:
            raise ValueError(f"{text!r}: unknown severity {name!r}; valid: {policy.severity_names()}")
        return Expectation(text, "severity", level.id, within, start)
    if lowered[:2] == ["first", "update"] or head == "update":
        named = words[2:] if head == "first" else words[1:]
        audiences = [a.id for a in policy.audience] or ["internal"]
        if len(named) > 1 or named and named[0] not in audiences:
            raise ValueError(f"{text!r}: unknown audience {' '.join(named)!r}; valid: {', '.join(audiences)}")
        return Expectation(text, "update", named[0] if named else audiences[0], within, start)
    if head == "status" and len(rest) == 1:
        status = policy.find_status(rest[0])
        if status is None:
            raise ValueError(f"{text!r}: unknown status {rest[0]!r}; valid: {policy.status_names()}")
        return Expectation(text, "status", status.id, within, start)
    if head == "role" and rest:
        role = policy.find_role(" ".join(rest))
        if role is None:
            raise ValueError(f"{text!r}: unknown role {' '.join(rest)!r}; valid: {policy.role_names()}")
        return Expectation(text, "role", role.id, within, start)
    if head in ("notify", "review") and len(rest) == 1:
        duty = next((d for d in policy.duty if d.id == rest[0] and d.kind == head), None)
        if duty is None:
            known = ", ".join(f"{d.kind} {d.id}" for d in policy.duty) or "none"
            raise ValueError(f"{text!r}: the policy has no {head} duty {rest[0]!r}; its duties: {known}")
        return Expectation(text, "duty", f"{head}:{duty.id}", within, start)
    raise ValueError(f"{text!r}: expect one of {EXPECT_FORMS}")


def parse_drill(text: str, source: str, policies: PolicyBook) -> Scenario:
    """Validate drill TOML text against the policies; `source` names the file in error messages."""
    drill = decode_toml(text, source, DrillFile, DrillError)

    def fail(path: str, message: str) -> DrillError:
        return DrillError(located_message(text, source, f"{message} - at `$.{path}`"))

    spec = drill.drill
    for field in ("name", "title"):
        if not getattr(spec, field).strip():
            raise fail(f"drill.{field}", "must not be empty")
    try:
        policy = policies.get(spec.policy) if spec.policy else policies.default
    except WarroomError as error:
        raise fail("drill.policy", str(error)) from None
    level = policy.find_severity(spec.severity)
    if level is None:
        raise fail("drill.severity", f"unknown severity {spec.severity!r}; valid: {policy.severity_names()}")
    try:
        length = parse_duration(spec.length)
    except ValueError as error:
        raise fail("drill.length", str(error)) from None
    if length <= timedelta(0):
        raise fail("drill.length", "a drill lasts longer than 0s")
    probes = _check_probes(drill, fail)
    offsets, expectations = [], []
    for index, step in enumerate(drill.step):
        where = f"step[{index}]"
        try:
            at = parse_offset(step.at)
        except ValueError as error:
            raise fail(f"{where}.at", str(error)) from None
        if at > length:
            raise fail(f"{where}.at", f"{step.at} is after the drill's end (length {spec.length})")
        offsets.append(at)
        chosen = [name for name in ACTIONS if getattr(step, name) is not None]
        if len(chosen) != 1:
            raise fail(where, f"a step does one thing: give exactly one of {', '.join(ACTIONS)}"
                       + (f" (it has {', '.join(chosen)})" if chosen else ""))
        action = chosen[0]
        if (step.state is not None) != (action == "probe"):
            raise fail(f"{where}.state", "`state` goes with `probe` (and a probe step needs it)")
        if (step.by is not None) != (action == "note"):
            raise fail(f"{where}.by", "`by` says who types a `note` (and a note step needs it)")
        if action == "probe":
            if step.probe not in probes:
                raise fail(f"{where}.probe", f"no [[probe]] named {step.probe!r}; probes: {', '.join(probes) or 'none'}")
            if step.state not in PROBE_STATES:
                raise fail(f"{where}.state", f"must be one of {', '.join(PROBE_STATES)}")
        elif action == "alert":
            if not step.alert.title.strip():
                raise fail(f"{where}.alert.title", "must not be empty")
            if step.alert.status not in ("firing", "resolved"):
                raise fail(f"{where}.alert.status", "must be 'firing' or 'resolved'")
        elif action == "note":
            if not step.note.strip() or not step.by.strip():
                raise fail(f"{where}.note" if not step.note.strip() else f"{where}.by", "must not be empty")
            _check_line(step.note, policy, lambda message: fail(f"{where}.note", message))
        else:
            try:
                expectations.append(parse_expectation(step.expect, policy, at))
            except ValueError as error:
                raise fail(f"{where}.expect", str(error)) from None
    return Scenario(source, drill, policy, length, tuple(offsets), tuple(expectations))


def _check_probes(drill: DrillFile, fail) -> list[str]:
    names: list[str] = []
    for index, probe in enumerate(drill.probe):
        if not probe.name.strip() or probe.name in names:
            raise fail(f"probe[{index}].name", "every probe needs a name of its own")
        if probe.state not in PROBE_STATES:
            raise fail(f"probe[{index}].state", f"must be one of {', '.join(PROBE_STATES)}")
        try:
            interval = parse_duration(probe.interval)
        except ValueError as error:
            raise fail(f"probe[{index}].interval", str(error)) from None
        if not timedelta(seconds=1) <= interval <= timedelta(minutes=5):
            raise fail(f"probe[{index}].interval", "must be between 1s and 5m")
        names.append(probe.name)
    return names


def _check_line(text: str, policy: Policy, fail) -> None:
    """A scripted line must be one the entry bar takes (its rules are checked when it is typed)."""
    from warroom.domain.clock import system_clock
    from warroom.domain.grammar import parse

    try:
        parse(text, policy, system_clock())
    except ParseError as error:
        raise fail(str(error)) from None


def load_drill(path: Path | str, policies: PolicyBook) -> Scenario:
    """Read and validate one drill file."""
    try:
        text = read_text_file(Path(path))
    except FileNotFoundError:
        raise DrillError(f"{path}: no such drill file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DrillError(f"{path}: cannot read drill file: {getattr(error, 'strerror', None) or error}") from None
    return parse_drill(text, str(path), policies)
