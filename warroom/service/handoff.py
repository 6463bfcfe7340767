"""The summary a handoff entry carries (`/handoff`, service.commands.CommandWriter), read from the
record inside the handoff's own write transaction."""

from __future__ import annotations

from datetime import datetime

from warroom.domain.clock import format_duration, format_moment
from warroom.domain.models import Entry, EntryKind, Incident
from warroom.domain.policy import Policy
from warroom.service.procedures import read_duty_record
from warroom.store import queries as q
from warroom.store import team_queries as team

RECENT_DECISIONS = 3  # how many decisions a handoff summary quotes
QUOTED_LENGTH = 160  # characters of a quoted entry in a handoff summary


def _quoted(text: str) -> str:
    """An entry's text on one line, short, and without the ' | ' that separates summary parts."""
    flat = " ".join(text.split()).replace("|", "/")
    return flat if len(flat) <= QUOTED_LENGTH else flat[:QUOTED_LENGTH - 1] + "…"


def _latest_thought(entries: list[Entry]) -> str:
    """The latest /hypothesis or /rootcause, with its number, author and kind."""
    latest = next((e for e in reversed(entries) if e.kind in (EntryKind.HYPOTHESIS, EntryKind.ROOT_CAUSE)), None)
    if latest is None:
        return "none recorded (/hypothesis TEXT)"
    return f"{_quoted(latest.text)} (#{latest.number}, {latest.kind.label}, {latest.author})"


def _probe_words(states, now: datetime) -> str:
    """'checkout-api UP; payments-api DOWN since 14:02 UTC; search paused', or 'none'."""
    parts = []
    for state in states:
        if state.paused:
            parts.append(f"{state.probe} paused")
            continue
        since = f" since {format_moment(state.since, now, seconds=False)}" if state.since else ""
        parts.append(f"{state.probe} {state.state.upper()}{since}")
    return "; ".join(parts) or "none"


async def handoff_summary(conn, incident: Incident, policy: Policy, now: datetime, role_name: str,
                          person: str) -> str:
    """What the incoming person needs, one ' | '-separated part each (the handoff panel shows a
    part a line): where it stands, the current hypothesis, the last and next update per
    audience, recent decisions, probes, what is owed, actions, open needs and the roster."""
    from warroom.store.probe_states import probe_states as stored_probe_states

    status = policy.find_status(incident.status)
    elapsed = format_duration(now - incident.created_at)
    actions = [a for a in await team.list_actions(conn, incident.id) if not a.done]
    holders = {a.role_id: a.person for a in await team.role_history(conn, incident.id) if a.ended_at is None}
    roster = [f"{r.name}: {holders.get(r.id, '(unfilled)')}" for r in policy.role]
    needs = [r.name for r in policy.role if r.required and r.id not in holders]
    thinking = await q.all_entries(conn, incident.id, (EntryKind.HYPOTHESIS, EntryKind.ROOT_CAUSE,
                                                        EntryKind.DECISION))
    from warroom.domain.duties import DutyKind, derive_duties, open_duties

    duties = open_duties(derive_duties(policy, await read_duty_record(conn, incident)))
    owed = [d for d in duties if d.kind not in (DutyKind.UPDATE, DutyKind.FINAL)]
    lines = [
        f"Handoff of {role_name} to {person}.",
        f"Now: {incident.severity}, {status.label if status else incident.status}, {elapsed} since declared.",
        "Hypothesis: " + _latest_thought(thinking),
        "Updates: " + await _update_standing(conn, incident, policy, now, duties),
        "Recent decisions: " + ("; ".join(f"#{e.number} {_quoted(e.text)}" for e in [
            e for e in thinking if e.kind is EntryKind.DECISION][-RECENT_DECISIONS:]) or "none"),
        "Probes: " + _probe_words(await stored_probe_states(conn, incident.id), now),
        "Owed: " + ("; ".join(f"{d.what} {d.status_words(now)}" for d in owed) or "nothing besides updates"),
        "Actions in flight: " + ("; ".join(f"{a.text} ({a.owner or 'no owner'})" for a in actions) or "none"),
        "Open needs: " + (", ".join(f"{n} unfilled" for n in needs) or "none"),
        "Roster: " + "; ".join(roster),
    ]
    return " | ".join(lines)


async def _update_standing(conn, incident: Incident, policy: Policy, now: datetime, duties: list) -> str:
    """Per audience, from its updates and the open `duties`: 'Internal: last 14:05 UTC, next
    due 14:35 UTC; Status page: none yet, OVERDUE since 14:15 UTC'."""
    from warroom.domain.duties import DutyKind, DutyState

    updates = await team.list_updates(conn, incident.id)
    parts = []
    for audience in policy.audience or ():
        last = next((u for u in reversed(updates) if u.audience == audience.id), None)
        owed = next((d for d in duties if d.target == audience.id and d.kind in (DutyKind.UPDATE, DutyKind.FINAL)),
                    None)
        if last is None and owed is None:
            continue
        said = f"last {format_moment(last.posted_at, now, seconds=False)}" if last else "none yet"
        if owed is None:
            parts.append(f"{audience.label}: {said}, none due")
        elif owed.due_at is None:
            parts.append(f"{audience.label}: {said}, {owed.what} owed (no deadline)")
        else:
            late = "OVERDUE since" if owed.state(now) is DutyState.OVERDUE else "next due"
            parts.append(f"{audience.label}: {said}, {late} {format_moment(owed.due_at, now, seconds=False)}")
    return "; ".join(parts) or "none owed"
