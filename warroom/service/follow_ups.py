"""Which committed entries call for something to go out: an update is delivered, an escalation
may page, a page request pages, a resolution (or closing) resolves the pages that went out.
warroom.service.reach does it; this small module lets a command tell whether there is anything to
do before it loads the code that sends."""

from __future__ import annotations

from typing import Iterable

from warroom.domain.models import Entry, EntryKind, Milestone

DELIVER, ESCALATED, PAGE_REQUEST, RESOLVED = "deliver", "escalated", "page request", "resolved"


def follow_up_of(entry: Entry) -> str | None:
    """What `entry` calls for (DELIVER, ESCALATED, PAGE_REQUEST, RESOLVED), or None."""
    data = entry.data or {}
    if entry.kind is EntryKind.UPDATE:
        return DELIVER
    if entry.kind is EntryKind.SEVERITY and data.get("to"):
        return ESCALATED
    if entry.kind is EntryKind.SYSTEM and data.get("page_request"):
        return PAGE_REQUEST
    if entry.kind is EntryKind.MILESTONE and data.get("milestone") in (Milestone.RESOLVED, Milestone.CLOSED):
        return RESOLVED
    return None


def needs_follow_up(entries: Iterable[Entry]) -> bool:
    return any(follow_up_of(entry) for entry in entries)
