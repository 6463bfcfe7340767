"""What `warroom stats` reads, in five queries whatever the number of incidents: the incidents of
the window, their milestones, their updates, their severity changes and their open actions."""

from __future__ import annotations

from typing import TYPE_CHECKING
import json
from datetime import datetime

from warroom.domain.clock import from_stored, to_stored
from warroom.domain.models import ActionItem, EntryKind, Milestone, StatusUpdate
from warroom.domain.stats import IncidentFacts
from warroom.store.queries import incident_from_row

if TYPE_CHECKING:
    import aiosqlite

_WINDOW = "SELECT id FROM incidents WHERE created_at >= ? AND (CAST(? AS TEXT) IS NULL OR policy = ?)"

# The statements, for the benchmark's floor (the same SQL, run bare) and for reading.
INCIDENTS_SQL = "SELECT * FROM incidents WHERE created_at >= ? AND (CAST(? AS TEXT) IS NULL OR policy = ?) ORDER BY created_at, id"
MILESTONES_SQL = f"SELECT incident_id, name, at FROM milestones WHERE incident_id IN ({_WINDOW})"
UPDATES_SQL = (f"SELECT id, incident_id, audience, posted_at, author, next_update_at FROM status_updates"
               f" WHERE incident_id IN ({_WINDOW}) ORDER BY incident_id, posted_at, id")
SEVERITY_SQL = (f"SELECT incident_id, occurred_at, data FROM entries WHERE kind = '{EntryKind.SEVERITY.value}'"
                f" AND incident_id IN ({_WINDOW}) ORDER BY incident_id, occurred_at, number")
OPEN_ACTIONS_SQL = (f"SELECT * FROM action_items WHERE done = 0 AND incident_id IN ({_WINDOW})"
                    " ORDER BY incident_id, id")
STATEMENTS = (INCIDENTS_SQL, MILESTONES_SQL, UPDATES_SQL, SEVERITY_SQL, OPEN_ACTIONS_SQL)


def window_parameters(since: datetime | None, policy_id: str | None) -> tuple:
    start = to_stored(since) if since else ""
    return (start, policy_id, policy_id)


async def stats_inputs(conn: aiosqlite.Connection, since: datetime | None,
                       policy_id: str | None) -> tuple[list[IncidentFacts], list[ActionItem]]:
    """The facts of every incident declared since `since` (of `policy_id` when given), and their
    actions that are not done."""
    params = window_parameters(since, policy_id)

    async def rows(sql: str):
        async with conn.execute(sql, params) as cursor:
            return await cursor.fetchall()

    stones: dict[str, dict[Milestone, datetime]] = {}
    for row in await rows(MILESTONES_SQL):
        stones.setdefault(row[0], {})[Milestone(row[1])] = from_stored(row[2])
    updates: dict[str, list[StatusUpdate]] = {}
    for row in await rows(UPDATES_SQL):
        updates.setdefault(row[1], []).append(StatusUpdate(
            id=row[0], incident_id=row[1], audience=row[2], text="", posted_at=from_stored(row[3]), author=row[4],
            next_update_at=from_stored(row[5]) if row[5] else None))
    changes: dict[str, list[tuple[datetime, str, str]]] = {}
    for row in await rows(SEVERITY_SQL):
        data = json.loads(row[2]) if row[2] else {}
        if isinstance(data, dict) and isinstance(data.get("from"), str) and isinstance(data.get("to"), str):
            changes.setdefault(row[0], []).append((from_stored(row[1]), data["from"], data["to"]))
    facts = [
        IncidentFacts(incident_from_row(row, stones.get(row["id"], {})), tuple(updates.get(row["id"], ())),
                      tuple(changes.get(row["id"], ())))
        for row in await rows(INCIDENTS_SQL)
    ]
    actions = [
        ActionItem(id=row["id"], incident_id=row["incident_id"], text=row["text"], owner=row["owner"],
                   created_at=from_stored(row["created_at"]), due=from_stored(row["due"]) if row["due"] else None,
                   done=bool(row["done"]))
        for row in await rows(OPEN_ACTIONS_SQL)
    ]
    return facts, actions
