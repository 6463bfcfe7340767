"""Exports of an incident: the record, complete JSON, CSV of the timeline and the `warroom show`
summary (the Markdown post-incident report is domain.postmortem)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Callable, Collection, Iterable, Iterator

from warroom.domain.chain import ALGORITHM
from warroom.domain.clock import format_duration, format_moment, to_stored
from warroom.domain.drill_mark import is_drill
from warroom.domain.duties import Duty, DutyState, by_urgency, open_duties
from warroom.domain.duty_record import DutyRecord
from warroom.domain.metrics import compute_metrics
from warroom.domain.models import (
    ActionItem, Entry, EntryKind, Incident, Milestone, RoleAssignment, StatusUpdate,
)
from warroom.domain.policy import Policy
from warroom.domain.standing import shown_status
from warroom.domain.stored import (
    AUTHOR, DATA, KIND, NUMBER, OCCURRED, PINNED, TEXT, StoredRow, parts, row_data, row_kind, stamp_of,
    stored_chunks,
)
from warroom.domain.text import all_plain, csv_cell, inert_json, visible

EXPORT_FORMAT_VERSION = 2  # 2: each entry carries its chain hash, and "chain" the head
NOTABLE_KINDS = frozenset({EntryKind.MILESTONE, EntryKind.ROOT_CAUSE, EntryKind.LESSON, EntryKind.FACT,
                           EntryKind.FACTOR, EntryKind.WENT_WELL, EntryKind.WENT_BADLY, EntryKind.CHECKLIST,
                           EntryKind.ROLE, EntryKind.UPDATE, EntryKind.SEVERITY})
"""Entry kinds a report quotes in its sections or proves checklist items with. With the first
entry (the declaration), every correction and every entry a correction points at, they are a
record's notable entries (`notable_entries`): few, read up front."""
KEY_KINDS = (EntryKind.MILESTONE, EntryKind.DECISION, EntryKind.SEVERITY, EntryKind.STATUS, EntryKind.ROOT_CAUSE,
             EntryKind.ROLE)
"""Entry kinds of the report's key timeline (with the pinned entries; role entries only when they
name a role): as many as the incident has, so a stream reads them when that section is written."""


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """Everything known about one incident at one moment. `entries` is the timeline in order: a
    list, or a sized iterable that reads it as it goes (exports stream it, iterating it once);
    `notable`, when given, holds its notable entries (what the sections quote), read beforehand, and
    `key_entries` its entries of KEY_KINDS and pinned ones (iterable more than once); `spool`, when
    given, opens a private temporary text file (read and written, removed when closed) where a
    report may set text aside, to read the timeline once for two of its sections."""

    incident: Incident
    policy: Policy
    entries: Collection[Entry]
    roles: list[RoleAssignment]
    updates: list[StatusUpdate]
    actions: list[ActionItem]
    exported_at: datetime
    checklist_ticks: dict[tuple[str, int], bool] = field(default_factory=dict)
    playbooks: tuple[str, ...] = ()
    chain_head: str | None = None  # hash of the incident's last entry (domain.chain)
    duty_record: DutyRecord | None = None
    duties: tuple[Duty, ...] = ()
    notable: list[Entry] | None = None
    key_entries: Iterable[Entry] | None = None
    entries_left_out: int = 0  # entries before `entries` a reader left out (a draft needs only the last few)
    spool: Callable[[], IO[str]] | None = None


def notable_entries(record: IncidentRecord) -> list[Entry]:
    """The record's notable entries (see NOTABLE_KINDS), in timeline order."""
    if record.notable is not None:
        return record.notable
    corrected = {e.corrects for e in record.entries if e.corrects is not None}
    return [e for e in record.entries
            if e.kind in NOTABLE_KINDS or e.number == 1 or e.corrects is not None or e.id in corrected]


def key_entries(record: IncidentRecord) -> Iterable[Entry]:
    """The record's entries of KEY_KINDS and its pinned ones, in timeline order."""
    if record.key_entries is not None:
        return record.key_entries
    return [e for e in record.entries if e.pinned or e.kind in KEY_KINDS]


def joined(lines: Iterable[str]) -> Iterator[str]:
    """The pieces of "\\n".join(lines), yielded as the lines come (for writing a stream)."""
    first = True
    for line in lines:
        yield line if first else "\n" + line
        first = False


def _t(moment: datetime | None) -> str | None:
    return to_stored(moment) if moment else None


_ENTRIES_HERE = "\0entries\0"  # where json_pieces puts the entries, one at a time
_ENTRIES_DUMPED = json.dumps(_ENTRIES_HERE)


def to_json_dict(record: IncidentRecord, *, with_entries: bool = True) -> dict[str, Any]:
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
            "customer_impact": incident.customer_impact,
            "created_at": _t(incident.created_at),
            "created_by": incident.created_by,
            "milestones": {m.value: _t(incident.milestones.get(m)) for m in Milestone},
            **({"drill": True} if is_drill(incident) else {}),  # a practice incident (warroom drill)
        },
        "metrics": compute_metrics(incident, record.exported_at).as_seconds(),
        "entries": [entry_json(e) for e in record.entries] if with_entries else _ENTRIES_HERE,
        "chain": {"algorithm": ALGORITHM, "head": record.chain_head, "entries": len(record.entries)},
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
             "created_at": _t(a.created_at), "group": a.group}
            for a in record.actions
        ],
        "checklists": [
            {"checklist": checklist_id, "item": item, "done": done}
            for (checklist_id, item), done in sorted(record.checklist_ticks.items())
        ],
        "playbooks": list(record.playbooks),
        "duties": [duty_json(d, record.exported_at) for d in by_urgency(record.duties)],
    }


def entry_json(e: Entry) -> dict[str, Any]:
    """One timeline entry as the JSON export has it."""
    return {"id": e.id, "number": e.number, "occurred_at": _t(e.occurred_at), "recorded_at": _t(e.recorded_at),
            "author": e.author, "kind": e.kind.value, "text": e.text, "data": e.data,
            "corrects": e.corrects, "pinned": e.pinned, "hash": e.hash}


def json_pieces(record: IncidentRecord) -> Iterator[str]:
    """The JSON export as `warroom export` writes it (indented, sorted keys, every unsafe character
    escaped, a final newline), in pieces: the entries are dumped one at a time as they are read."""
    frame = json.dumps(to_json_dict(record, with_entries=False), indent=2, sort_keys=True, ensure_ascii=False)
    before, after = frame.split(_ENTRIES_DUMPED)
    yield inert_json(before)
    count = 0
    for entry in record.entries:
        dumped = json.dumps(entry_json(entry), indent=2, sort_keys=True, ensure_ascii=False)
        yield inert_json(("[\n    " if not count else ",\n    ") + dumped.replace("\n", "\n    "))
        count += 1
    yield "\n  ]" if count else "[]"
    yield inert_json(after) + "\n"


def duty_json(duty: Duty, now: datetime) -> dict[str, Any]:
    """One duty for the JSON export: who or what, due when, and whether it is open or overdue."""
    state = duty.state(now)
    return {"key": duty.key, "kind": duty.kind.value, "target": duty.target, "label": duty.label,
            "severity": duty.severity, "origin": duty.origin.value, "origin_at": _t(duty.origin_at),
            "due_at": _t(duty.due_at), "done_at": _t(duty.done_at), "state": state.value,
            "open": duty.is_open, "overdue": state is DutyState.OVERDUE, "if_unresolved": duty.if_unresolved}


CSV_COLUMNS = ("number", "occurred_at", "recorded_at", "author", "kind", "text", "corrects", "pinned")


def to_csv(record: IncidentRecord) -> str:
    """The timeline as CSV, safe to `cat` and to open in a spreadsheet: every text cell goes
    through text.csv_cell (unsafe characters as visible stand-ins, formulas defused)."""
    return "".join(csv_pieces(record))


def csv_pieces(record: IncidentRecord) -> Iterator[str]:
    """to_csv in pieces, one row at a time as the entries are read."""
    import csv  # (only here: a Markdown or JSON export, or `show`, does not load it)
    import io

    numbers = {e.id: e.number for e in notable_entries(record)}  # corrected entries are notable
    out = io.StringIO()
    # RFC 4180 line ends: with "\n" alone, a cell holding a bare "\r" would go out unquoted and break rows.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in record.entries:
        row = [e.number, _t(e.occurred_at), _t(e.recorded_at), e.author, e.kind.value, e.text,
               numbers.get(e.corrects, "") if e.corrects else "", int(e.pinned)]
        writer.writerow([csv_cell(cell) if isinstance(cell, str) else cell for cell in row])
        if out.tell() > 65536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _when(moment: datetime | None) -> str:
    return moment.isoformat(" ", "seconds")[:19] + " UTC" if moment else "not set"  # strftime is 5x slower


def _span(span) -> str:
    return format_duration(span) if span is not None else "n/a"


def plain_summary(record: IncidentRecord, now: datetime) -> str:
    """The record for `warroom show`: readable in a terminal, every text made inert."""
    return "\n".join(summary_lines(record, now))


_KIND_COLUMNS = {kind.value: (kind, f"{kind.glyph} {kind.label:<10}") for kind in EntryKind}


def summary_line(row: StoredRow, today: str, audiences: dict[str, str]) -> str:
    """The timeline line of one entry's stored row in `warroom show` (the date shown unless it is
    `today`, "YYYY-MM-DD" in UTC)."""
    day, time = stamp_of(row[OCCURRED])
    known = _KIND_COLUMNS.get(row[KIND])
    kind, shown = known if known is not None else (row_kind(row), "")  # (an unknown kind raises)
    to = ""
    if kind is EntryKind.UPDATE:
        audience = (row_data(row) or {}).get("audience")
        to = f"[to {visible(audiences.get(audience, audience))}] " if audience else ""
    # (str.ljust(N) pads as a format spec of <N does, in half the time)
    return (f"  #{str(row[NUMBER]).ljust(4)} {time if day == today else day + ' ' + time} UTC  {shown} "
            f"{visible(row[AUTHOR]).ljust(10)} {to}{visible(row[TEXT])}{' [pinned]' if row[PINNED] else ''}")


SUMMARY_COLUMNS = (NUMBER, OCCURRED, KIND, AUTHOR, TEXT, DATA, PINNED)
"""The columns of a stored row summary_line reads."""


def summary_pieces(rows: list[StoredRow], today: str, audiences: dict[str, str]) -> Iterator[str]:
    """The timeline lines of some stored rows (a part of a chunk) in `warroom show`, summary_line's
    for each: rows of plain text (domain.text.all_plain) as one piece, their lines joined by
    newlines and written here without a call per line; others a line at a time."""
    if not all_plain([row[TEXT] for row in rows] + [row[AUTHOR] for row in rows]):
        yield from (summary_line(row, today, audiences) for row in rows)
        return
    lines: list[str] = []
    append, kinds, fromisoformat, update = lines.append, _KIND_COLUMNS, datetime.fromisoformat, EntryKind.UPDATE
    for row in rows:
        occurred, known = row[OCCURRED], kinds.get(row[KIND])
        # stamp_of's own test of the fixed-width form (anything else, an update or an unknown kind: summary_line)
        if (known is None or known[0] is update or len(occurred) != 27 or occurred[4:20:3] != "--T::."
                or occurred[26] != "Z"):
            append(summary_line(row, today, audiences))
            continue
        fromisoformat(occurred)  # a time, or ValueError as stamp_of raises
        day = occurred[:10]
        append(f"  #{str(row[NUMBER]).ljust(4)} {occurred[11:19] if day == today else day + ' ' + occurred[11:19]}"
               f" UTC  {known[1]} {row[AUTHOR].ljust(10)} {row[TEXT]}{' [pinned]' if row[PINNED] else ''}")
    yield "\n".join(lines)


def summary_lines(record: IncidentRecord, now: datetime) -> Iterator[str]:
    """plain_summary a line at a time (the timeline's lines several to a piece), as it is read."""
    incident, policy = record.incident, record.policy
    metrics = compute_metrics(incident, now)
    out = [
        f"{incident.id}  {visible(incident.severity)}  {visible(shown_status(policy, incident))}",
        f"  {visible(incident.title)}",
        f"  declared {_when(incident.created_at)} by {visible(incident.created_by)}; "
        f"{_span(metrics.duration)} since {metrics.measured_from}",
    ]
    if incident.impact:
        out.append(f"  impact: {visible(incident.impact)}")
    if incident.customer_impact:
        out.append(f"  who is affected: {visible(incident.customer_impact)}")
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
    yield from out
    out = []
    today = now.date().isoformat()
    audiences = {a.id: a.label for a in policy.audience}
    for rows in stored_chunks(record.entries, SUMMARY_COLUMNS):  # as read: no Entry made for a line
        for part in parts(rows):
            yield from summary_pieces(part, today, audiences)
    owed = open_duties(record.duties)
    out.append(f"Open duties ({len(owed)}):" if owed else "Open duties: none")
    for duty in owed:
        state = duty.state(now)
        due = f"due {_when(duty.due_at)}" if duty.due_at else "no deadline"
        out.append(f"  {state.glyph} {state.value.upper() if state is DutyState.OVERDUE else state.value:<9} "
                   f"{visible(duty.what)}: {due} ({visible(duty.reason(now))})")
    if record.actions:
        out.append("Action items:")
        for a in record.actions:
            out.append(f"  [{'x' if a.done else ' '}] {visible(a.text)} ({visible(a.owner or 'no owner')})")
    yield from out
