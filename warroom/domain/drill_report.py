"""Scoring a drill: each expected response and each duty of the policy, in time, late or missed.

An expected response is done by the first entry that does it (the acknowledged milestone, a
severity reached, an update to the audience...), at the time it was typed (`recorded_at`: a
back-dated /ack is still late). Its deadline is `within` from its step's `at`, else the policy's
own (domain.drill). Against the policy: the acknowledgement against the severity's response time,
each update posted against what was owed when it was posted (domain.duties.owed_when_posted), each
notify or review duty, and whatever was still owed when the drill ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from warroom.domain.clock import format_duration, format_moment
from warroom.domain.drill import DRILL_MARK, Expectation, Scenario
from warroom.domain.duties import Duty, DutyKind, owed_when_posted
from warroom.domain.duty_record import DutyRecord
from warroom.domain.models import Entry, EntryKind, Milestone
from warroom.domain.playback import speed_words
from warroom.domain.policy import Policy
from warroom.domain.replay import offset_words, span_words
from warroom.domain.report import IncidentRecord
from warroom.domain.text import markdown_inline, visible


class Verdict(StrEnum):
    IN_TIME = "in time"
    LATE = "late"
    MISSED = "missed"
    NOT_DUE = "not due yet"  # the drill ended before its deadline, and it was not done

    @property
    def glyph(self) -> str:
        return {"in time": "✓", "late": "⚠", "missed": "✗", "not due yet": "○"}[self.value]


@dataclass(frozen=True, slots=True)
class Scored:
    """One thing that was expected, by when (due_at None: no deadline), and when it was done."""

    label: str
    verdict: Verdict
    due_at: datetime | None
    done_at: datetime | None = None
    by: str = ""
    basis: str = ""  # where the deadline comes from: "within 5m of +1m", "SEV-2 response 15m"


@dataclass(frozen=True)
class DrillReport:
    """The drill's score: `expected` (the file's expectations), `policy` (the policy's duties)."""

    name: str
    source: str
    incident_id: str
    title: str
    policy_id: str
    started_at: datetime
    ended_at: datetime
    speed: float
    expected: tuple[Scored, ...]
    policy: tuple[Scored, ...]
    delivery: str = ""  # where updates and pages went: the drill outbox, or the real targets

    def count(self, verdict: Verdict) -> int:
        return sum(s.verdict is verdict for s in (*self.expected, *self.policy))


def verdict_of(done_at: datetime | None, due_at: datetime | None, ended_at: datetime) -> Verdict:
    if done_at is not None:
        return Verdict.IN_TIME if due_at is None or done_at <= due_at else Verdict.LATE
    if due_at is not None and due_at > ended_at:
        return Verdict.NOT_DUE
    return Verdict.MISSED


def _is_declaration(entry: Entry) -> bool:
    data = entry.data or {}
    return entry.kind is EntryKind.SYSTEM and "severity" in data and "policy" in data


def _does(expectation: Expectation, entry: Entry, policy: Policy) -> bool:
    """Whether `entry` is what the expectation waits for."""
    data, what, target = entry.data or {}, expectation.what, expectation.target
    if what in (m.value for m in Milestone):
        return entry.kind is EntryKind.MILESTONE and data.get("milestone") == what
    if what == "severity":
        reached = data.get("to") if entry.kind is EntryKind.SEVERITY else (
            data.get("severity") if _is_declaration(entry) else None)
        return isinstance(reached, str) and policy.rank(reached) <= policy.rank(target)
    if what == "update":
        return entry.kind is EntryKind.UPDATE and data.get("audience") == target
    if what == "status":
        return entry.kind is EntryKind.STATUS and data.get("to") == target
    if what == "role":
        return entry.kind is EntryKind.ROLE and data.get("role") == target and bool(data.get("to"))
    if what == "duty":
        return entry.kind is EntryKind.DUTY and data.get("duty") == target and data.get("done") is True
    return what == "decision" and entry.kind is EntryKind.DECISION


def _severity_at(record: DutyRecord, moment: datetime) -> str:
    reached = [step for step in record.steps if step.at <= moment]
    return (reached or record.steps[:1])[-1].severity


def _policy_deadline(expectation: Expectation, record: IncidentRecord, begin: datetime) -> tuple[datetime | None, str]:
    """The policy's own deadline for an expectation without `within`, and where it comes from."""
    policy, duties = record.policy, record.duty_record
    level = policy.find_severity(_severity_at(duties, begin)) if duties is not None else None
    if expectation.what in ("acknowledged", "resolved") and level is not None:
        span = level.response_target if expectation.what == "acknowledged" else level.resolution_target
        name = "response" if expectation.what == "acknowledged" else "resolution target"
        return (begin + span, f"{level.id} {name} {format_duration(span)}") if span is not None else (None, "")
    if expectation.what == "update" and duties is not None:
        posted = next((u for u in duties.updates if u.audience == expectation.target and u.posted_at >= begin), None)
        owed = owed_when_posted(policy, duties, posted) if posted else next(
            (d for d in record.duties if d.key == f"update:{expectation.target}" and d.is_open), None)
        if owed is not None and owed.due_at is not None:
            return owed.due_at, f"the policy: {owed.what}, {owed.reason(owed.due_at)}"
    if expectation.what == "duty":
        owed = next((d for d in record.duties if d.key == expectation.target), None)
        if owed is not None and owed.due_at is not None:
            return owed.due_at, f"the policy: {owed.reason(owed.due_at)}"
    return None, ""


def score_expectations(scenario: Scenario, record: IncidentRecord, started_at: datetime,
                       ended_at: datetime) -> list[Scored]:
    typed = sorted(record.entries, key=lambda e: (e.recorded_at, e.number))
    found = []
    for expectation in scenario.expectations:
        begin = started_at + expectation.start
        if expectation.within is not None:
            due, basis = begin + expectation.within, f"within {format_duration(expectation.within)} of +{span_words(expectation.start)}"
        else:
            due, basis = _policy_deadline(expectation, record, begin)
        if due is None:  # no deadline of its own: done by the end of the drill
            basis = basis or "by the end of the drill"
        done = next((e for e in typed if _does(expectation, e, record.policy)), None)
        verdict = verdict_of(done.recorded_at if done else None, due or started_at + scenario.length, ended_at)
        found.append(Scored(expectation.text, verdict, due, done.recorded_at if done else None,
                            done.author if done else "", basis))
    return found


def score_policy(record: IncidentRecord, ended_at: datetime, drill_end: datetime | None = None) -> list[Scored]:
    """The acknowledgement, every update posted and every duty, against the incident's policy; a
    duty without a deadline is due by `drill_end` (the drill's length), when given."""
    policy, duties, incident = record.policy, record.duty_record, record.incident
    found: list[Scored] = []
    if duties is not None:
        level = policy.find_severity(duties.steps[0].severity)
        ack = next((e for e in sorted(record.entries, key=lambda e: (e.recorded_at, e.number))
                    if e.kind is EntryKind.MILESTONE and (e.data or {}).get("milestone") == Milestone.ACKNOWLEDGED), None)
        if level is not None:
            due = incident.created_at + level.response_target
            found.append(Scored("Acknowledged", verdict_of(ack.recorded_at if ack else None, due, ended_at), due,
                                ack.recorded_at if ack else None, ack.author if ack else "",
                                f"{level.id} response {format_duration(level.response_target)}"))
        for number, update in enumerate(duties.updates, start=1):
            owed = owed_when_posted(policy, duties, update)
            if owed is not None and owed.due_at is not None:
                found.append(Scored(f"{owed.what} (update {number})", verdict_of(update.posted_at, owed.due_at, ended_at),
                                    owed.due_at, update.posted_at, update.author, owed.reason(owed.due_at)))
    for duty in record.duties:
        if duty.kind in (DutyKind.UPDATE, DutyKind.FINAL) and not duty.is_open:
            continue  # counted with the update that did it
        found.append(_duty_score(duty, ended_at, drill_end))
    return found


def _duty_score(duty: Duty, ended_at: datetime, drill_end: datetime | None) -> Scored:
    verdict = verdict_of(duty.done_at, duty.due_at or drill_end, ended_at)
    return Scored(duty.what, verdict, duty.due_at, duty.done_at, "", duty.reason(duty.due_at or ended_at))


def drill_report(scenario: Scenario, record: IncidentRecord, started_at: datetime, ended_at: datetime,
                 speed: float, delivery: str) -> DrillReport:
    return DrillReport(
        name=scenario.spec.name, source=scenario.source, incident_id=record.incident.id, title=record.incident.title,
        policy_id=record.policy.id, started_at=started_at, ended_at=ended_at, speed=speed,
        expected=tuple(score_expectations(scenario, record, started_at, ended_at)),
        policy=tuple(score_policy(record, ended_at, started_at + scenario.length)), delivery=delivery)


def _line(scored: Scored, start: datetime, now: datetime) -> str:
    due = (f"due {offset_words(scored.due_at, start)} ({format_moment(scored.due_at, now, seconds=False)})"
           if scored.due_at else "no deadline")
    if scored.done_at is not None:
        done = f"done {offset_words(scored.done_at, start)}" + (f" by {scored.by}" if scored.by else "")
        if scored.verdict is Verdict.LATE:
            done += f", {span_words(scored.done_at - scored.due_at)} late"
    else:
        done = "not done"
    basis = f" ({scored.basis})" if scored.basis else ""
    return f"{scored.verdict.glyph} {scored.verdict.value.upper()}: {scored.label}: {due}, {done}{basis}"


def report_lines(report: DrillReport, markdown: bool = False) -> list[str]:
    """The drill report, every part of it saying it is a DRILL: Markdown (for the file), or plain
    lines (for the screen and the terminal). Text from the drill file is inert in both."""
    inline = markdown_inline if markdown else visible
    start, end = report.started_at, report.ended_at
    real = (end - start) / report.speed
    lines = [f"{'# ' if markdown else ''}{DRILL_MARK} report: {inline(report.name)}", "",
             f"{'> ' if markdown else ''}{DRILL_MARK}: a practice incident. Nothing here happened to a real service.",
             "",
             f"- Drill file: {inline(report.source)}",
             f"- Incident: {report.incident_id} {inline(report.title)} (policy {inline(report.policy_id)})",
             f"- Ran {offset_words(end, start)} of drill time, from {format_moment(start, end)} at "
             f"{speed_words(report.speed)} ({offset_words(start + real, start)} real)",
             f"- Deliveries: {inline(report.delivery)}", "",
             f"{'## ' if markdown else ''}Expected responses", ""]
    lines += [f"- {inline(_line(s, start, end))}" for s in report.expected] or ["- The drill file expects nothing."]
    lines += ["", f"{'## ' if markdown else ''}Against the policy ({inline(report.policy_id)})", ""]
    lines += [f"- {inline(_line(s, start, end))}" for s in report.policy] or ["- The policy owed nothing."]
    total = len(report.expected) + len(report.policy)
    score = f"{DRILL_MARK} score: " + ", ".join(f"{report.count(v)} {v.value}" for v in Verdict) + f" (of {total})."
    return [*lines, "", f"**{score}**" if markdown else score]


def to_markdown(report: DrillReport) -> str:
    """The drill report as Markdown (drill-report.md)."""
    return "\n".join(report_lines(report, markdown=True)) + "\n"


def to_text(report: DrillReport) -> str:
    """The drill report as plain lines (the screen, the terminal)."""
    return "\n".join(report_lines(report)) + "\n"
