"""The Markdown post-incident report, built from the incident's own policy: its `[[postmortem]]`
sections in their order with their prompts, each metric beside the policy's target, action items
in the policy's groups. What the policy does not place (the review: contributing factors, what
went well and badly; metrics, the duties, checklists, updates, the full timeline) follows. Every piece of text that came from a person, a probe or
a policy file is escaped, so it cannot change the report's structure. The key timeline and the
full-timeline appendix are written by domain.postmortem_timeline."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import IO, Iterable, Iterator

from warroom.domain.checklists import PLAYBOOK_STEPS, record_ticks
from warroom.domain.clock import format_duration
from warroom.domain.drill_mark import DRILL_MARK, is_drill
from warroom.domain.duties import by_urgency, owed_when_posted, peak_severity
from warroom.domain.duty_record import DutyRecord, duty_record
from warroom.domain.metrics import compute_metrics, incident_start
from warroom.domain.models import ActionItem, Entry, EntryKind, Milestone
from warroom.domain.policy import Policy, ReportSection
from warroom.domain.postmortem_timeline import appendix, key_lines, key_lines_and_appendix
from warroom.domain.report import IncidentRecord, joined, notable_entries
from warroom.domain.standing import by_phase, numbered_actions, shown_status
from warroom.domain.stored import stored_chunks
from warroom.domain.text import markdown_inline, visible
from warroom.domain.timeline_lines import TIMELINE_COLUMNS, Timeline

DEFAULT_SECTIONS = (
    ReportSection(title="Summary", fill="summary"), ReportSection(title="Metrics", fill="metrics"),
    ReportSection(title="Timeline", fill="timeline"), ReportSection(title="Root cause", fill="root_cause"),
    ReportSection(title="Resolution", fill="resolution"), ReportSection(title="Lessons learned", fill="lessons"),
    ReportSection(title="Review", fill="review"), ReportSection(title="Action items", fill="actions"),
)
"""The sections of a policy that names none."""

_BLOCK_START = re.compile(r"^([#>+=\-*_|]|[0-9]+(?=[.)]))")
_METRICS = (("Time to detect", "time_to_detect", "detect"), ("Time to acknowledge", "time_to_acknowledge", "acknowledge"),
            ("Time to mitigate", "time_to_mitigate", "mitigate"), ("Time to resolve", "time_to_resolve", None))
_WRITTEN = {"root_cause": (EntryKind.ROOT_CAUSE, "/rootcause"), "lessons": (EntryKind.LESSON, "/lesson")}
_REVIEW = (("Contributing factors", EntryKind.FACTOR, "/factor"), ("What went well", EntryKind.WENT_WELL, "/went-well"),
           ("What went badly", EntryKind.WENT_BADLY, "/went-badly"))


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


def _when(moment: datetime | None) -> str:
    return moment.isoformat(" ", "seconds")[:19] + " UTC" if moment else "not set"  # strftime is 5x slower


def _span(span: timedelta | None) -> str:
    return format_duration(span) if span is not None else "n/a"


SPOOL_BLOCK = 1 << 16
"""Characters of the set-aside appendix copied as one piece."""


class _Report:
    """One report being written: the record, its policy and what the sections share."""

    def __init__(self, record: IncidentRecord, aside: IO[str] | None = None):
        """With `aside`, the first key timeline reads the whole timeline once (not its key entries
        apart): the appendix's lines go to `aside` as the chunks pass, to be copied in its place."""
        self.record, self.incident, self.policy = record, record.incident, record.policy
        self.aside, self.appendix_set_aside = aside, False
        self.metrics = compute_metrics(self.incident, record.exported_at)
        self.notable = notable_entries(record)  # what the sections quote (the full timeline is read once, last)
        self.timeline = Timeline(self.notable)
        self.duty_record: DutyRecord = record.duty_record or duty_record(self.incident, record.entries, record.updates)
        self.peak = peak_severity(self.policy, self.duty_record)
        self.ended = self.incident.milestones.get(Milestone.RESOLVED) or self.incident.milestones.get(Milestone.CLOSED)

    def severity_name(self, severity_id: str) -> str:
        level = self.policy.find_severity(severity_id)
        return markdown_inline(severity_id) + (f" ({markdown_inline(level.label)})" if level else "")

    def to_be_written(self, command: str, prompts: list[str]) -> list[str]:
        what = f"Nothing was recorded with `{command}` during the incident." if command else "Written after the incident."
        lines = [f"> **TO BE WRITTEN.** {what}"]
        if prompts:
            lines += [">"] + [f"> - {markdown_line(prompt)}" for prompt in prompts]
        return lines

    def written(self, entries: list[Entry], command: str, prompts: list[str]) -> list[str]:
        if not entries:
            return self.to_be_written(command, prompts)
        lines = [f"- {markdown_line(self.timeline.latest_text(e))} ({markdown_inline(e.author)}, "
                 f"{_when(e.occurred_at)}, #{e.number})" for e in entries]
        if prompts:
            lines += ["", "> Check that it covers: " + "; ".join(markdown_inline(p) for p in prompts) + "."]
        return lines

    # ---- what fills each kind of section ------------------------------------------------------

    def summary(self, section: ReportSection) -> list[str]:
        incident, metrics = self.incident, self.metrics
        ongoing = "" if self.ended else ", still open at export"
        history = ", ".join(f"{markdown_inline(step.severity)} at {_when(step.at)}" for step in self.duty_record.steps)
        lines = [
            f"- **Severity:** {self.severity_name(incident.severity)}"
            + (f"; highest reached {self.severity_name(self.peak)}" if self.peak != incident.severity else ""),
            f"- **Severity history:** {history}",
            f"- **Status:** {markdown_inline(shown_status(self.policy, incident))}",
            f"- **Date:** {_when(incident_start(incident)[0])} to {_when(self.ended) if self.ended else 'ongoing'}",
            f"- **Duration:** {_span(metrics.duration)} (from {metrics.measured_from}{ongoing})",
            f"- **Impact:** {markdown_inline(incident.impact) or '_not recorded_'}",
            f"- **Who is affected:** {markdown_inline(incident.customer_impact) or '_not recorded_'}",
            f"- **Services:** {markdown_inline(', '.join(incident.services)) or '_none recorded_'}",
            f"- **Declared:** {_when(incident.created_at)} by {markdown_inline(incident.created_by)}",
            f"- **Policy:** {markdown_inline(self.policy.name)}",
            "", "### Roles held", "",
        ]
        names = {r.id: r.name for r in self.policy.role}
        for r in self.record.roles:
            until = _when(r.ended_at) if r.ended_at else "the end"
            lines.append(f"- {markdown_line(names.get(r.role_id, r.role_id))}: "
                         f"{markdown_inline(r.person)}, {_when(r.started_at)} to {until}")
        if not self.record.roles:
            lines.append("- _No roles were assigned._")
        return lines

    def metrics_table(self, section: ReportSection) -> list[str]:
        lines = ["| Metric | Value | Target | Result |", "| --- | --- | --- | --- |"]
        level = self.policy.find_severity(self.peak)
        for name, attribute, target_name in _METRICS:
            value = getattr(self.metrics, attribute)
            if target_name is None:
                target = level.resolution_target if level else None
                basis = f" ({markdown_inline(self.peak)}, highest reached)"
            else:
                target, basis = self.policy.targets.target(target_name), ""
            shown = f"under {format_duration(target)}{basis}" if target is not None else "none set"
            if value is None:
                result = "not measured"
            elif target is None:
                result = "-"
            else:
                result = "met" if value < target else "missed"
            lines.append(f"| {name} | {_span(value)} | {shown} | {result} |")
        return lines

    def impact(self, section: ReportSection) -> list[str]:
        incident = self.incident
        if not incident.impact and not incident.services and not incident.customer_impact:
            return self.to_be_written("/set impact", section.prompts)
        lines = [f"- **Impact:** {markdown_inline(incident.impact) or '_not recorded_ (`/set impact`)'}",
                 f"- **Who is affected:** {markdown_inline(incident.customer_impact) or '_not recorded_ (`/set users`)'}",
                 f"- **Services:** {markdown_inline(', '.join(incident.services)) or '_none recorded_ (`/service add`)'}",
                 f"- **Highest severity:** {self.severity_name(self.peak)}"]
        changes = [e for e in self.notable if e.kind is EntryKind.FACT]
        if changes:
            lines += ["", "How the picture changed:", ""]
            lines += [f"- {_when(e.occurred_at)}, {markdown_inline(e.author)} (#{e.number}): {markdown_inline(e.text)}"
                      for e in changes]
        if section.prompts:
            lines += ["", "> Check that it covers: " + "; ".join(markdown_inline(p) for p in section.prompts) + "."]
        return lines

    def review(self, section: ReportSection) -> list[str]:
        """Contributing factors, what went well, what went badly: as recorded during the incident."""
        lines: list[str] = []
        for title, kind, command in _REVIEW:
            lines += [f"### {title}", "", *self.written([e for e in self.notable if e.kind is kind], command, []), ""]
        if section.prompts:
            lines += ["> Check that it covers: " + "; ".join(markdown_inline(p) for p in section.prompts) + ".", ""]
        return lines[:-1]

    def key_timeline(self, section: ReportSection) -> Iterator[str]:
        """The key entries (as many as the incident has: yielded as they are read), then the milestones."""
        if self.aside is not None and not self.appendix_set_aside:  # one read: the appendix set aside meanwhile
            self.appendix_set_aside = True
            empty = yield from key_lines_and_appendix(self.record, self.timeline, self.aside)
        else:
            empty = yield from key_lines(self.record, self.timeline)
        if empty:
            yield "- _No key entries._"
        yield from ["", "### Milestones", ""]
        yield from [f"- {m.label.capitalize()}: {_when(self.incident.milestones.get(m))}" for m in Milestone]

    def resolution(self, section: ReportSection) -> list[str]:
        entries = [e for e in self.notable if e.kind is EntryKind.MILESTONE
                   and (e.data or {}).get("milestone") in (Milestone.MITIGATED.value, Milestone.RESOLVED.value)]
        return self.written(entries, "/mitigated or /resolve", section.prompts)

    def actions(self, section: ReportSection) -> list[str]:
        """Worked now (during the incident), then the follow-ups, these in the policy's groups."""
        if not self.record.actions:
            return ["- _No action items._"]
        now, after = by_phase(numbered_actions(self.policy, self.record.actions, self.incident))
        lines = ["### Now: during the incident", ""]
        lines += [_action_line(a.item) + (f" _({markdown_inline(a.group_label)})_" if a.group_label else "")
                  for a in now] or ["- _None._"]
        lines += ["", "### Follow-ups: after the incident", ""]
        groups = [g for g in self.policy.action_group if not g.during]
        if not groups:
            return lines + ([_action_line(a.item) for a in after] or ["- _None._"])
        known = {g.id for g in groups}
        for group in groups:
            lines += [f"#### {markdown_inline(group.label)}", ""]
            if group.description:
                lines += [f"_{markdown_inline(group.description)}_", ""]
            lines += [_action_line(a.item) for a in after if a.item.group == group.id] or ["- _None._"]
            lines.append("")
        loose = [a for a in after if a.item.group not in known]
        if loose:
            lines += ["#### Not grouped yet", "", *[_action_line(a.item) for a in loose], ""]
        return lines[:-1]

    def section(self, section: ReportSection) -> Iterable[str]:
        if section.fill in _WRITTEN:
            kind, command = _WRITTEN[section.fill]
            return self.written([e for e in self.notable if e.kind is kind], command, section.prompts)
        if section.fill == "notes":
            return self.to_be_written("", section.prompts)
        return {"summary": self.summary, "metrics": self.metrics_table, "impact": self.impact,
                "timeline": self.key_timeline, "resolution": self.resolution, "review": self.review,
                "actions": self.actions}[section.fill](section)

    # ---- appendices ---------------------------------------------------------------------------

    def duty_lines(self) -> list[str]:
        now = self.record.exported_at
        lines = []
        for duty in by_urgency(self.record.duties):
            state = duty.state(now)
            due = f"due {_when(duty.due_at)}" if duty.due_at else "no deadline"
            done = f", done {_when(duty.done_at)}" if duty.done_at else ""
            late = ""
            if duty.done_at and duty.due_at:
                late = ", on time" if duty.done_at <= duty.due_at else ", late"
            lines.append(f"- {state.glyph} {markdown_inline(duty.what)}: {due}{done}{late} "
                         f"({state.value}; {markdown_inline(duty.reason(now))})")
        return lines or ["- _Nothing owed._"]

    def procedure_lines(self) -> list[str]:
        """Every checklist item (and attached playbook step): ticked by whom, by the record, or not."""
        proofs = record_ticks(replace(self.record, entries=self.notable))  # the notable entries prove the same
        ticks = {(d.get("checklist"), d.get("item")): e for e in self.notable
                 if e.kind is EntryKind.CHECKLIST and "checklist" in (d := e.data or {})}
        titles = {p.id: p for p in self.policy.playbook}
        groups = [(c.id, c.title, c.items) for c in self.policy.checklist]
        groups += [(PLAYBOOK_STEPS + pid, f"Playbook: {titles[pid].title}", titles[pid].steps)
                   for pid in self.record.playbooks if pid in titles]
        lines: list[str] = []
        for checklist_id, title, items in groups:
            rows, done = [], 0
            for index, item in enumerate(items):
                key = (checklist_id, index)
                proof, entry = proofs.get(key), ticks.get(key)
                if self.record.checklist_ticks.get(key) and entry is not None:
                    how = f"ticked by {markdown_inline(entry.author)}, {_when(entry.occurred_at)}"
                elif proof is not None:
                    number = f", #{proof.number}" if proof.number else ""
                    how = f"ticked by the record: {markdown_inline(proof.what)}, {_when(proof.at)}{number}"
                else:
                    rows.append(f"  - [ ] {markdown_inline(item)} (**not ticked**)")
                    continue
                done += 1
                rows.append(f"  - [x] {markdown_inline(item)} ({how})")
            lines += [f"- {markdown_line(title)}: {done} of {len(items)} ticked", *rows]
        return lines or ["- _The policy has no checklists and no playbook was attached._"]

    def update_lines(self) -> list[str]:
        labels = {a.id: a.label for a in self.policy.audience}
        lines: list[str] = []
        for number, u in enumerate(self.record.updates, start=1):
            promise = f"; next promised {_when(u.next_update_at)}" if u.next_update_at else ""
            lines += [f"### Update {number}: {markdown_inline(labels.get(u.audience, u.audience))}, "
                      f"{_when(u.posted_at)}, by {markdown_inline(u.author)}{promise}", ""]
            owed = owed_when_posted(self.policy, self.duty_record, u)
            if owed is not None and owed.due_at is not None:
                late = u.posted_at - owed.due_at
                verdict = "on time" if late <= timedelta(0) else f"late by {format_duration(late)}"
                lines += [f"{markdown_inline(owed.what)} was due {_when(owed.due_at)}: {verdict}.", ""]
            quoted = visible(u.text, keep_newlines=True).split("\n")
            lines += [f"> {markdown_line(line)}" if line.strip() else ">" for line in quoted]
            lines.append("")
        return lines or ["- _No updates were posted._", ""]


def _action_line(a: ActionItem) -> str:
    owner = f"@{markdown_inline(a.owner)}" if a.owner else "**no owner**"
    due = f", due {a.due:%Y-%m-%d}" if a.due else ""
    return f"- [{'x' if a.done else ' '}] {markdown_inline(a.text)} ({owner}{due})"


def report_sections(policy: Policy) -> tuple[ReportSection, ...]:
    """The policy's report sections, or the default ones when it names none."""
    return tuple(policy.postmortem) or DEFAULT_SECTIONS


def to_markdown(record: IncidentRecord) -> str:
    """The post-incident report in the policy's sections, then the appendices."""
    return "".join(markdown_pieces(record))


def markdown_pieces(record: IncidentRecord) -> Iterator[str]:
    """to_markdown in pieces, the full timeline as it is read (for writing a stream). With the
    record's spool, the timeline is read once: the appendix is set aside while the key timeline
    is written, then copied in its place."""
    sections = report_sections(record.policy)
    aside = record.spool() if record.spool is not None and any(s.fill == "timeline" for s in sections) else None
    try:
        report = _Report(record, aside)
        yield from joined(_markdown_lines(report, sections))  # to the appendix's title and the line after it
        if report.appendix_set_aside:
            aside.seek(0)
            while block := aside.read(SPOOL_BLOCK):
                yield block
        else:
            yield from appendix(report.timeline, stored_chunks(record.entries, TIMELINE_COLUMNS))
        yield from ("\n" + line for line in ("", _chain_line(record), "", f"_Exported {_when(record.exported_at)} by warroom._", ""))
    finally:
        if aside is not None:
            aside.close()


def _markdown_lines(report: _Report, sections: tuple[ReportSection, ...]) -> Iterator[str]:
    record, incident = report.record, report.incident
    lines = [f"# Incident post-mortem: {incident.id}: {markdown_inline(incident.title)}", ""]
    if is_drill(incident):
        lines += [f"> **{DRILL_MARK}**: a practice incident played with `warroom drill`, not a real one.", ""]
    for section in sections:
        lines += [f"## {markdown_inline(section.title)}", ""]
        yield from lines
        yield from report.section(section)
        lines = [""]
    if not any(section.fill == "review" for section in sections):
        lines += ["## Review", "", *report.review(ReportSection(title="Review", fill="review")), ""]
    if not any(section.fill == "metrics" for section in sections):
        lines += ["## Metrics", "", *report.metrics_table(sections[0]), ""]
    lines += ["## Duties", "", *report.duty_lines(), ""]
    lines += ["## Checklists and playbooks", "", *report.procedure_lines(), ""]
    lines += ["## Updates posted", "", *report.update_lines()]
    lines += ["## Appendix: full timeline", ""]
    yield from lines


def _chain_line(record: IncidentRecord) -> str:
    """The head of the hash chain: whoever keeps this report can later check the record against it."""
    if not record.chain_head:
        return "_The timeline has no hash chain._"
    return (f"_Record: {len(record.entries)} entries, chain head `{record.chain_head}` "
            f"(check with `warroom verify {record.incident.id} --head {record.chain_head[:16]}`)._")
