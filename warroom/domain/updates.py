"""Stakeholder updates: the draft the composer starts from, and the next-update promise.

Drafts are plain text (no Markdown, no markup); every piece of entry text in them is made visible
with `text.visible`, so a hostile note cannot smuggle escapes into a clipboard or a webhook.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from warroom.domain.clock import UTC, format_duration
from warroom.domain.duties import update_promise
from warroom.domain.metrics import compute_metrics
from warroom.domain.models import ActionItem, Entry, EntryKind, Incident, StatusUpdate
from warroom.domain.policy import Audience, Policy
from warroom.domain.report import IncidentRecord
from warroom.domain.text import visible

# Entry kinds worth repeating to stakeholders, per template.
_CHANGE_KINDS = {
    "internal": (EntryKind.DECISION, EntryKind.ACTION, EntryKind.STATUS, EntryKind.SEVERITY,
                 EntryKind.MILESTONE, EntryKind.ROOT_CAUSE, EntryKind.FACT),
    "executive": (EntryKind.DECISION, EntryKind.STATUS, EntryKind.SEVERITY, EntryKind.MILESTONE, EntryKind.FACT),
}
MAX_CHANGES = 12  # changes a draft repeats; it counts the earlier ones

# What the status page says in each phase, keyed by words found in the policy's status ids.
_PUBLIC_PHASES = (
    ("investigat", "Investigating", "We are investigating reports of problems with {services}."),
    ("identif", "Identified", "We have identified the cause of the problem with {services} and are working on a fix."),
    ("mitigat", "Mitigating", "We are applying a fix for the problem with {services}."),
    ("monitor", "Monitoring", "A fix for the problem with {services} is in place and we are monitoring the results."),
)
_PUBLIC_RESOLVED = ("Resolved - The problem with {services} has been resolved and all systems are operating "
                    "normally. We apologise for the inconvenience.")
NO_ETA = "ETA: not estimated yet"


def next_update_promise(record: IncidentRecord, audience: str, now: datetime) -> datetime | None:
    """When the update after one posted to `audience` now is owed (domain.duties.update_promise)."""
    return update_promise(record.policy, record.incident, audience, now)


def audience_template(policy: Policy, audience: str) -> str:
    """The template ('internal', 'executive', 'public') the policy gives an audience id."""
    for known in policy.audience:
        if known.id == audience:
            return known.template or known.id
    return audience


def _when(moment: datetime, now: datetime) -> str:
    moment = moment.astimezone(UTC)
    if moment.date() != now.astimezone(UTC).date():
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"{moment:%H:%M} UTC"


def _last_update(updates: list[StatusUpdate], audience: str) -> StatusUpdate | None:
    same = [u for u in updates if u.audience == audience]
    return same[-1] if same else None


def draft_wants(policy: Policy, updates: list[StatusUpdate], audience: str) -> tuple[tuple[EntryKind, ...], datetime | None]:
    """The entry kinds a draft for `audience` repeats and since when (its last update; None: from
    the start): a record of only the last MAX_CHANGES such entries, with `entries_left_out` the
    others, drafts the same update as the whole record."""
    template = audience_template(policy, audience)
    if template == "public":
        return (), None
    last = _last_update(updates, audience)
    return _CHANGE_KINDS.get(template, _CHANGE_KINDS["internal"]), last.posted_at if last else None


def changes_since(record: IncidentRecord, since: datetime | None, kinds: tuple[EntryKind, ...]) -> list[Entry]:
    """Entries of `kinds` recorded after `since` (all of them when since is None), oldest first."""
    return [e for e in record.entries if e.kind in kinds and (since is None or e.recorded_at > since)]


def _services(incident: Incident) -> str:
    return ", ".join(visible(s) for s in incident.services) or "our service"


def _action_line(item: ActionItem, now: datetime) -> str:
    owner = f"@{visible(item.owner)}" if item.owner else "no owner yet"
    due = f", due {_when(item.due, now)}" if item.due else ""
    return f"- {visible(item.text)} ({owner}{due})"


def says_its_kind(entry: Entry) -> bool:
    """Whether the entry's text already says what it is (`Severity SEV-2 -> SEV-1`, `Action done: …`,
    `Impact: …`): then no `Kind:` goes in front of it (no "Action: Action done: …")."""
    return (entry.kind in (EntryKind.STATUS, EntryKind.SEVERITY, EntryKind.MILESTONE, EntryKind.FACT)
            or entry.text.casefold().startswith(entry.kind.label.casefold()))


def _change_line(entry: Entry) -> str:
    """What changed, its kind first unless its text already says it."""
    if says_its_kind(entry):
        return f"- {visible(entry.text)}"
    return f"- {entry.kind.label.capitalize()}: {visible(entry.text)}"


def _next_line(promise: datetime | None, incident: Incident, now: datetime) -> str:
    if promise is not None:
        return f"Next update at {_when(promise, now)}."
    if not incident.is_open:
        return "This is the final update."
    return "Next update when there is news."


def compose_update(record: IncidentRecord, audience: str, now: datetime) -> str:
    """A draft update for `audience`, pre-filled from the record as it stands at `now`."""
    incident, policy = record.incident, record.policy
    promise = next_update_promise(record, audience, now)
    template = audience_template(policy, audience)
    settings = policy.find_audience(audience) or Audience(id=audience, label=audience)
    if template == "public":
        return _public(incident, policy, settings, promise, now)
    level = policy.find_severity(incident.severity)
    status = policy.find_status(incident.status)
    metrics = compute_metrics(incident, now)
    last = _last_update(record.updates, audience)
    kinds = _CHANGE_KINDS.get(template, _CHANGE_KINDS["internal"])
    changes = changes_since(record, last.posted_at if last else None, kinds)
    label = next((a.label for a in policy.audience if a.id == audience), audience)
    lines = [
        f"INCIDENT UPDATE ({visible(label)}): {incident.id} {visible(incident.title)}",
        f"Time: {_when(now, now)}",
        f"Severity: {incident.severity}" + (f" ({level.label})" if level else ""),
        f"Status: {status.label if status else incident.status}",
        f"Duration: {format_duration(metrics.duration)} (since {metrics.measured_from})",
        f"Impact: {visible(incident.impact) or 'being assessed'}",
        *([f"Who is affected: {visible(incident.customer_impact)}"] if incident.customer_impact else []),
        f"Affected services: {_services(incident) if incident.services else 'being assessed'}",
        "",
        (f"Since the last update ({_when(last.posted_at, now)}):" if last else "What has happened so far:"),
    ]
    shown = changes[-MAX_CHANGES:]
    earlier = record.entries_left_out + len(changes) - len(shown)
    if earlier:
        lines.append(f"- ({earlier} earlier changes not repeated)")
    lines += [_change_line(e) for e in shown] or ["- No changes."]
    if template != "executive":
        open_actions = [a for a in record.actions if not a.done]
        lines += ["", "Next steps:"]
        lines += [_action_line(a, now) for a in open_actions] or ["- Continue the investigation."]
    if settings.eta and incident.is_open:
        lines += ["", NO_ETA]
    lines += ["", _next_line(promise, incident, now)]
    return "\n".join(lines)


def _public(incident: Incident, policy: Policy, audience: Audience, promise: datetime | None,
            now: datetime) -> str:
    """The status-page text: the policy's wording for the severity (or for the final update),
    else a sentence for the current status."""
    status = policy.find_status(incident.status)
    fields = {"services": _services(incident), "title": visible(incident.title), "impact": visible(incident.impact),
              "users": visible(incident.customer_impact)}
    resolved = (status is not None and status.resolved) or not incident.is_open
    if resolved:
        text = audience.final_wording or _PUBLIC_RESOLVED
    elif incident.severity in audience.wording:
        text = audience.wording[incident.severity]
    else:
        status_id = (status.id if status else incident.status).casefold()
        headline, sentence = next(
            ((word, text) for key, word, text in _PUBLIC_PHASES if key in status_id),
            (status.label if status else incident.status, "We are working on a problem with {services}."),
        )
        text = f"{headline} - {sentence}"
    lines = [" ".join(text.format(**fields).split()), f"Posted at {_when(now, now)}."]
    if audience.eta and not resolved:
        lines.append(NO_ETA + ".")
    lines.append(_next_line(promise, incident, now))
    return "\n".join(lines)


def promise_from_clock(value: str, now: datetime) -> datetime | None:
    """The next moment at HH:MM UTC after `now`, for the composer's 'next update at' field.
    Empty text is None; anything else that is not HH:MM raises ValueError."""
    value = value.strip()
    if not value:
        return None
    hours, sep, minutes = value.removesuffix("UTC").strip().partition(":")
    if not sep or not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()):
        raise ValueError(f"next update time {value!r} is not HH:MM (UTC)")
    try:
        moment = now.astimezone(UTC).replace(hour=int(hours), minute=int(minutes), second=0, microsecond=0)
    except ValueError:
        raise ValueError(f"next update time {value!r} is not a time of day (00:00 to 23:59)") from None
    return moment if moment > now else moment + timedelta(days=1)
