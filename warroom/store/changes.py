"""The change log (schema V4): what each committed write changed, for screens that follow an incident.

Rows are written by triggers inside the writing transaction, so a change is in the log exactly when
it is committed. Ids ascend without gaps (rows are only ever deleted from the old end, by the
`changes_bounded` trigger, which keeps the newest ~4,000), so a reader that finds its next id
missing knows it fell behind and reloads everything instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiosqlite

# What a change row says changed (the `part` column).
ENTRIES = "entries"  # an entry was appended (number: its number)
ENTRY = "entry"  # an entry's pin changed (number: its number)
INCIDENT = "incident"  # severity, status, title, milestones
ROLES = "roles"
UPDATES = "updates"
ACTIONS = "actions"
CHECKLIST = "checklist"  # checklist ticks and attached playbooks
PROBES = "probes"  # attached probe configs, fast mode, a requested check
PROBE_STATE = "probe-state"  # a probe's stored state, pause or configuration (not its results)
PARTS = (ENTRIES, ENTRY, INCIDENT, ROLES, UPDATES, ACTIONS, CHECKLIST, PROBES, PROBE_STATE)


@dataclass(frozen=True, slots=True)
class Change:
    """One row of the change log."""

    id: int
    incident_id: str
    part: str
    number: int | None


async def last_change_id(conn: aiosqlite.Connection) -> int:
    # execute_fetchall: read to the end in one step, so a cancelled caller leaves no statement open
    rows = await conn.execute_fetchall("SELECT COALESCE(MAX(id), 0) FROM changes")
    return int(list(rows)[0][0])


async def changes_since(conn: aiosqlite.Connection, after: int, limit: int) -> list[Change]:
    """The changes after id `after`, oldest first, for every incident (at most `limit`)."""
    rows = await conn.execute_fetchall(
        "SELECT id, incident_id, part, number FROM changes WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
    return [Change(row[0], row[1], row[2], row[3]) for row in rows]
