"""Exports of an incident: complete JSON, CSV of the timeline, and the Markdown post-incident report."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.domain.clock import format_duration, to_stored
from warroom.domain.metrics import compute_metrics
from warroom.domain.models import (
    ActionItem, Entry, EntryKind, Incident, Milestone, RoleAssignment, StatusUpdate,
)
from warroom.domain.policy import Policy
from warroom.domain.text import markdown_inline, visible

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
    }


CSV_COLUMNS = ("number", "occurred_at", "recorded_at", "author", "kind", "text", "corrects", "pinned")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert_cell(text: str) -> str:
    """Prefix a quote to text a spreadsheet would otherwise run as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def to_csv(record: IncidentRecord) -> str:
    """The timeline as CSV; cells that a spreadsheet would run as formulas are defused."""
    by_id = {e.id: e.number for e in record.entries}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in record.entries:
        writer.writerow([e.number, _t(e.occurred_at), _t(e.recorded_at), _inert_cell(e.author), e.kind.value,
                         _inert_cell(e.text),
                         by_id.get(e.corrects, "") if e.corrects else "", int(e.pinned)])
    return out.getvalue()


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "not set"


def _span(span) -> str:
    return format_duration(span) if span is not None else "n/a"


def _entry_line(entry: Entry, numbers: dict[int, int]) -> str:
    note = ""
    if entry.corrects:
        note = f" (corrects #{numbers.get(entry.corrects, '?')})"
    return (f"- `#{entry.number}` {entry.occurred_at:%Y-%m-%d %H:%M:%S} UTC, {entry.kind.label}, "
            f"{markdown_inline(entry.author)}{note}: {markdown_inline(entry.text)}")


def to_markdown(record: IncidentRecord) -> str:
    """The post-incident report, following the seeds' post-mortem templates."""
    incident, policy = record.incident, record.policy
    metrics = compute_metrics(incident, record.exported_at)
    level = policy.find_severity(incident.severity)
    status = policy.find_status(incident.status)
    numbers = {e.id: e.number for e in record.entries}
    roles_by_id = {r.id: r.name for r in policy.role}
    lines: list[str] = [f"# Incident report: {incident.id}: {markdown_inline(incident.title)}", ""]

    lines += ["## Summary", ""]
    lines += [
        f"- **Severity:** {markdown_inline(incident.severity)}" + (f" ({markdown_inline(level.label)})" if level else ""),
        f"- **Status:** {markdown_inline(status.label if status else incident.status)}",
        f"- **Policy:** {markdown_inline(policy.name)}",
        f"- **Declared:** {_when(incident.created_at)} by {markdown_inline(incident.created_by)}",
        f"- **Duration:** {_span(metrics.duration)} (from {metrics.measured_from})",
        f"- **Services:** {markdown_inline(', '.join(incident.services)) or 'none recorded'}",
        f"- **Impact:** {markdown_inline(incident.impact) or '_not recorded_'}",
        "",
        "### Roles held",
        "",
    ]
    if record.roles:
        for r in record.roles:
            until = _when(r.ended_at) if r.ended_at else "end"
            lines.append(f"- {markdown_inline(roles_by_id.get(r.role_id, r.role_id))}: "
                         f"{markdown_inline(r.person)}, {_when(r.started_at)} to {until}")
    else:
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

    key = [e for e in record.entries
           if e.pinned or e.kind in (EntryKind.MILESTONE, EntryKind.DECISION, EntryKind.SEVERITY, EntryKind.STATUS)]
    lines += ["", "## Key timeline", ""]
    lines += [_entry_line(e, numbers) for e in key] or ["- _No key entries._"]

    for title, kind in (("Root cause", EntryKind.ROOT_CAUSE), ("Resolution", None), ("Lessons learned", EntryKind.LESSON)):
        lines += ["", f"## {title}", ""]
        if kind is None:
            found = [e for e in record.entries if e.kind is EntryKind.MILESTONE
                     and (e.data or {}).get("milestone") in (Milestone.MITIGATED.value, Milestone.RESOLVED.value)]
        else:
            found = [e for e in record.entries if e.kind is kind]
        if found:
            lines += [f"- {markdown_inline(e.text)} ({markdown_inline(e.author)}, #{e.number})" for e in found]
        else:
            marker = {"Root cause": "/rootcause", "Resolution": "/resolve", "Lessons learned": "/lesson"}[title]
            lines.append(f"> **TO BE WRITTEN.** Nothing was recorded with `{marker}` during the incident.")

    lines += ["", "## Action items", ""]
    if record.actions:
        for a in record.actions:
            owner = f"@{markdown_inline(a.owner)}" if a.owner else "no owner"
            due = f", due {a.due:%Y-%m-%d}" if a.due else ""
            lines.append(f"- [{'x' if a.done else ' '}] {markdown_inline(a.text)} ({owner}{due})")
    else:
        lines.append("- _No action items._")

    lines += ["", "## Updates posted", ""]
    if record.updates:
        for u in record.updates:
            lines.append(f"- {_when(u.posted_at)}, {markdown_inline(u.audience)}, by {markdown_inline(u.author)}: "
                         f"{markdown_inline(u.text)}")
    else:
        lines.append("- _No updates were posted._")

    lines += ["", "## Appendix: full timeline", ""]
    lines += [_entry_line(e, numbers) for e in record.entries] or ["- _Empty._"]
    lines += ["", f"_Exported {_when(record.exported_at)} by warroom._", ""]
    return "\n".join(lines)


def plain_summary(record: IncidentRecord, now: datetime) -> str:
    """The record for `warroom show`: readable in a terminal, every text made inert."""
    incident, policy = record.incident, record.policy
    status = policy.find_status(incident.status)
    metrics = compute_metrics(incident, now)
    out = [
        f"{incident.id}  {incident.severity}  {status.label if status else incident.status}",
        f"  {visible(incident.title)}",
        f"  declared {_when(incident.created_at)} by {visible(incident.created_by)}; "
        f"{_span(metrics.duration)} since {metrics.measured_from}",
    ]
    if incident.services:
        out.append(f"  services: {visible(', '.join(incident.services))}")
    stones = [f"{m.label} {incident.milestones[m]:%H:%M}" for m in Milestone if m in incident.milestones]
    if stones:
        out.append("  milestones: " + ", ".join(stones))
    current = {r.role_id: r for r in record.roles if r.ended_at is None}
    out.append("Roles:")
    for role in policy.role:
        held = current.get(role.id)
        out.append(f"  {role.name:<22} {visible(held.person) if held else '(unfilled)'}")
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
