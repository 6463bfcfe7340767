"""Exports of an incident: complete JSON, CSV of the timeline, and the Markdown post-incident report."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warroom.domain.clock import format_duration, format_moment, to_stored
from warroom.domain.metrics import compute_metrics, incident_start
from warroom.domain.models import (
    ActionItem, Entry, EntryKind, Incident, Milestone, RoleAssignment, StatusUpdate,
)
from warroom.domain.policy import Policy
from warroom.domain.text import csv_cell, markdown_inline, visible

EXPORT_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """Everything known about one incident at one moment."""

    incident: Incident
    policy: Policy
    entries: list[Entry]
    roles: list[RoleAssignment]
    updates: list[StatusUpdate]
    actions: list[ActionItem]
    exported_at: datetime
    checklist_ticks: dict[tuple[str, int], bool] = field(default_factory=dict)
    playbooks: tuple[str, ...] = ()


def _t(moment: datetime | None) -> str | None:
    return to_stored(moment) if moment else None


def to_json_dict(record: IncidentRecord) -> dict[str, Any]:
    """A complete, stable structure (sorted keys when dumped)."""
    incident = record.incident
    return {
        "format": "warroom-incident",
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _t(record.exported_at),
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "policy": incident.policy_id,
            "severity": incident.severity,
            "status": incident.status,
            "services": list(incident.services),
            "impact": incident.impact,
            "created_at": _t(incident.created_at),
            "created_by": incident.created_by,
            "milestones": {m.value: _t(incident.milestones.get(m)) for m in Milestone},
        },
        "metrics": compute_metrics(incident, record.exported_at).as_seconds(),
        "entries": [
            {
                "id": e.id, "number": e.number, "occurred_at": _t(e.occurred_at), "recorded_at": _t(e.recorded_at),
                "author": e.author, "kind": e.kind.value, "text": e.text, "data": e.data,
                "corrects": e.corrects, "pinned": e.pinned,
            }
            for e in record.entries
        ],
        "roles": [
            {"role": r.role_id, "person": r.person, "started_at": _t(r.started_at), "ended_at": _t(r.ended_at)}
            for r in record.roles
        ],
        "updates": [
            {"audience": u.audience, "text": u.text, "posted_at": _t(u.posted_at), "author": u.author,
             "next_update_at": _t(u.next_update_at)}
            for u in record.updates
        ],
        "actions": [
            {"id": a.id, "text": a.text, "owner": a.owner, "due": _t(a.due), "done": a.done,
             "created_at": _t(a.created_at)}
            for a in record.actions
        ],
        "checklists": [
            {"checklist": checklist_id, "item": item, "done": done}
            for (checklist_id, item), done in sorted(record.checklist_ticks.items())
        ],
        "playbooks": list(record.playbooks),
    }


CSV_COLUMNS = ("number", "occurred_at", "recorded_at", "author", "kind", "text", "corrects", "pinned")


def to_csv(record: IncidentRecord) -> str:
    """The timeline as CSV, safe to `cat` and to open in a spreadsheet: every text cell goes
    through text.csv_cell (unsafe characters as visible stand-ins, formulas defused)."""
    by_id = {e.id: e.number for e in record.entries}
    out = io.StringIO()
    # RFC 4180 line ends: with "\n" alone, a cell holding a bare "\r" would go out unquoted and break rows.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in record.entries:
        row = [e.number, _t(e.occurred_at), _t(e.recorded_at), e.author, e.kind.value, e.text,
               by_id.get(e.corrects, "") if e.corrects else "", int(e.pinned)]
        writer.writerow([csv_cell(cell) if isinstance(cell, str) else cell for cell in row])
    return out.getvalue()


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "not set"


def _span(span) -> str:
    return format_duration(span) if span is not None else "n/a"


_BLOCK_START = re.compile(r"^([#>+=\-*_|]|[0-9]+(?=[.)]))")


def markdown_line(text: str) -> str:
    """One line of free text that may start a Markdown line (in a block quote): inline specials
    escaped as by markdown_inline, and whatever would open a block (heading, list, quote) too."""
    flat = markdown_inline(text.strip())
    match = _BLOCK_START.match(flat)
    if match is None:
        return flat
    if match.group(1)[0].isdigit():
        end = match.end()
        return flat[:end] + "\\" + flat[end:]
    return "\\" + flat


class _Timeline:
    """Entry numbers and the corrections that point at each entry."""

    def __init__(self, entries: list[Entry]):
        self.numbers = {e.id: e.number for e in entries}
        self.corrections: dict[int, list[Entry]] = {}
        for entry in entries:
            if entry.corrects is not None:
                self.corrections.setdefault(entry.corrects, []).append(entry)

    def line(self, entry: Entry) -> str:
        notes = []
        if entry.corrects:
            notes.append(f"corrects #{self.numbers.get(entry.corrects, '?')}")
        notes += [f"corrected by #{c.number}" for c in self.corrections.get(entry.id, [])]
        if entry.pinned:
            notes.append("pinned")
        note = f" ({', '.join(notes)})" if notes else ""
        return (f"- `#{entry.number}` {_when(entry.occurred_at)}, {entry.kind.label}, "
                f"{markdown_inline(entry.author)}{note}: {markdown_inline(entry.text)}")

    def latest_text(self, entry: Entry) -> str:
        """The entry's text as last corrected."""
        found = self.corrections.get(entry.id)
        return found[-1].text if found else entry.text


_KEY_KINDS = (EntryKind.MILESTONE, EntryKind.DECISION, EntryKind.SEVERITY, EntryKind.STATUS)


def _section(timeline: _Timeline, entries: list[Entry], command: str,
             prompts: tuple[str, ...]) -> list[str]:
    if entries:
        return [f"- {markdown_line(timeline.latest_text(e))} ({markdown_inline(e.author)}, "
                f"{_when(e.occurred_at)}, #{e.number})" for e in entries]
    lines = [f"> **TO BE WRITTEN.** Nothing was recorded with `{command}` during the incident."]
    if prompts:
        lines += [">"] + [f"> - {prompt}" for prompt in prompts]
    return lines


def to_markdown(record: IncidentRecord) -> str:
    """The post-incident report, following the seeds' post-mortem templates. Every piece of text
    that came from a person or a probe is escaped, so it cannot change the report's structure."""
    incident, policy = record.incident, record.policy
    metrics = compute_metrics(incident, record.exported_at)
    level = policy.find_severity(incident.severity)
    status = policy.find_status(incident.status)
    timeline = _Timeline(record.entries)
    roles_by_id = {r.id: r.name for r in policy.role}
    ended = incident.milestones.get(Milestone.RESOLVED) or incident.milestones.get(Milestone.CLOSED)
    ongoing = "" if ended else ", still open at export"
    lines: list[str] = [f"# Incident post-mortem: {incident.id}: {markdown_inline(incident.title)}", ""]

    lines += ["## Summary", ""]
    lines += [
        f"- **Severity:** {markdown_inline(incident.severity)}" + (f" ({markdown_inline(level.label)})" if level else ""),
        f"- **Status:** {markdown_inline(status.label if status else incident.status)}",
        f"- **Date:** {_when(incident_start(incident)[0])} to {_when(ended) if ended else 'ongoing'}",
        f"- **Duration:** {_span(metrics.duration)} (from {metrics.measured_from}{ongoing})",
        f"- **Impact:** {markdown_inline(incident.impact) or '_not recorded_'}",
        f"- **Services:** {markdown_inline(', '.join(incident.services)) or '_none recorded_'}",
        f"- **Declared:** {_when(incident.created_at)} by {markdown_inline(incident.created_by)}",
        f"- **Policy:** {markdown_inline(policy.name)}",
        "",
        "### Roles held",
        "",
    ]
    for r in record.roles:
        until = _when(r.ended_at) if r.ended_at else "the end"
        lines.append(f"- {markdown_line(roles_by_id.get(r.role_id, r.role_id))}: "
                     f"{markdown_inline(r.person)}, {_when(r.started_at)} to {until}")
    if not record.roles:
        lines.append("- _No roles were assigned._")

    lines += ["", "## Metrics", "", "| Metric | Value |", "| --- | --- |"]
    lines += [
        f"| Time to detect | {_span(metrics.time_to_detect)} |",
        f"| Time to acknowledge | {_span(metrics.time_to_acknowledge)} |",
        f"| Time to mitigate | {_span(metrics.time_to_mitigate)} |",
        f"| Time to resolve | {_span(metrics.time_to_resolve)} |",
    ]
    lines += ["", "### Milestones", ""]
    lines += [f"- {m.label.capitalize()}: {_when(incident.milestones.get(m))}" for m in Milestone]

    key = [e for e in record.entries if e.pinned or e.kind in _KEY_KINDS]
    lines += ["", "## Key timeline", ""]
    lines += [timeline.line(e) for e in key] or ["- _No key entries._"]

    lines += ["", "## Root cause", ""]
    lines += _section(timeline, [e for e in record.entries if e.kind is EntryKind.ROOT_CAUSE], "/rootcause",
                      ("What happened", "Why it happened", "Contributing factors"))
    lines += ["", "## Resolution", ""]
    resolution = [e for e in record.entries if e.kind is EntryKind.MILESTONE
                  and (e.data or {}).get("milestone") in (Milestone.MITIGATED.value, Milestone.RESOLVED.value)]
    lines += _section(timeline, resolution, "/mitigated or /resolve", ())
    lines += ["", "## Lessons learned", ""]
    lines += _section(timeline, [e for e in record.entries if e.kind is EntryKind.LESSON], "/lesson",
                      ("What went well", "What did not go well", "Where we got lucky"))

    lines += ["", "## Action items", ""]
    for a in record.actions:
        owner = f"@{markdown_inline(a.owner)}" if a.owner else "**no owner**"
        due = f", due {a.due:%Y-%m-%d}" if a.due else ""
        lines.append(f"- [{'x' if a.done else ' '}] {markdown_inline(a.text)} ({owner}{due})")
    if not record.actions:
        lines.append("- _No action items._")

    lines += ["", "## Checklists and playbooks", ""]
    lines += _procedure_lines(record)

    lines += ["", "## Updates posted", ""]
    labels = {a.id: a.label for a in policy.audience}
    for number, u in enumerate(record.updates, start=1):
        promise = f"; next promised {_when(u.next_update_at)}" if u.next_update_at else ""
        lines += [f"### Update {number}: {markdown_inline(labels.get(u.audience, u.audience))}, "
                  f"{_when(u.posted_at)}, by {markdown_inline(u.author)}{promise}", ""]
        quoted = visible(u.text, keep_newlines=True).split("\n")
        lines += [f"> {markdown_line(line)}" if line.strip() else ">" for line in quoted]
        lines.append("")
    if not record.updates:
        lines += ["- _No updates were posted._", ""]

    lines += ["## Appendix: full timeline", ""]
    lines += [timeline.line(e) for e in record.entries] or ["- _Empty._"]
    lines += ["", f"_Exported {_when(record.exported_at)} by warroom._", ""]
    return "\n".join(lines)


def _procedure_lines(record: IncidentRecord) -> list[str]:
    lines = []
    for checklist in record.policy.checklist:
        ticked = [item for index, item in enumerate(checklist.items) if record.checklist_ticks.get((checklist.id, index))]
        if ticked:
            lines.append(f"- {markdown_line(checklist.title)}: {len(ticked)} of {len(checklist.items)} ticked "
                         f"({markdown_inline('; '.join(ticked))})")
    titles = {p.id: p.title for p in record.policy.playbook}
    for playbook_id in record.playbooks:
        lines.append(f"- Playbook attached: {markdown_inline(titles.get(playbook_id, playbook_id))}")
    return lines or ["- _No checklist item was ticked and no playbook attached._"]


def plain_summary(record: IncidentRecord, now: datetime) -> str:
    """The record for `warroom show`: readable in a terminal, every text made inert."""
    incident, policy = record.incident, record.policy
    status = policy.find_status(incident.status)
    metrics = compute_metrics(incident, now)
    out = [
        f"{incident.id}  {visible(incident.severity)}  {visible(status.label if status else incident.status)}",
        f"  {visible(incident.title)}",
        f"  declared {_when(incident.created_at)} by {visible(incident.created_by)}; "
        f"{_span(metrics.duration)} since {metrics.measured_from}",
    ]
    if incident.services:
        out.append(f"  services: {visible(', '.join(incident.services))}")
    stones = [f"{m.label} {format_moment(incident.milestones[m], now, seconds=False)}"
              for m in Milestone if m in incident.milestones]
    if stones:
        out.append("  milestones: " + ", ".join(stones))
    current = {r.role_id: r for r in record.roles if r.ended_at is None}
    out.append("Roles:")
    for role in policy.role:
        held = current.get(role.id)
        out.append(f"  {visible(role.name):<22} {visible(held.person) if held else '(unfilled)'}")
    out.append(f"Timeline ({len(record.entries)} entries):")
    for e in record.entries:
        stamp = f"{e.occurred_at:%Y-%m-%d %H:%M:%S}" if e.occurred_at.date() != now.date() else f"{e.occurred_at:%H:%M:%S}"
        pin = " [pinned]" if e.pinned else ""
        out.append(f"  #{e.number:<4} {stamp} UTC  {e.kind.glyph} {e.kind.label:<10} {visible(e.author):<10} "
                   f"{visible(e.text)}{pin}")
    if record.actions:
        out.append("Action items:")
        for a in record.actions:
            out.append(f"  [{'x' if a.done else ' '}] {visible(a.text)} ({visible(a.owner or 'no owner')})")
    return "\n".join(out)
