"""Queries for the procedure side of an incident: checklist ticks and attached playbooks.
Writers take a connection inside `Database.transaction()`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from warroom.domain.models import Entry
from warroom.store.queries import ENTRY_COLUMNS, entry_from_row

if TYPE_CHECKING:
    import aiosqlite


async def checklist_ticks(conn: aiosqlite.Connection, incident_id: str) -> dict[tuple[str, int], bool]:
    """(checklist id, item index) -> done, for every item ever ticked or unticked."""
    async with conn.execute(
        "SELECT checklist, item, done FROM checklist_ticks WHERE incident_id = ?", (incident_id,)
    ) as cursor:
        return {(row["checklist"], row["item"]): bool(row["done"]) for row in await cursor.fetchall()}


async def checklist_tick_entries(conn: aiosqlite.Connection, incident_id: str) -> dict[tuple[str, int], Entry]:
    """(checklist id, item index) -> the entry that last ticked or unticked it (who and when)."""
    columns = ", ".join(f"e.{name}" for name in ENTRY_COLUMNS.split(", "))
    async with conn.execute(
        f"SELECT {columns}, t.checklist AS tick_checklist, t.item AS tick_item"  # entry columns first
        " FROM checklist_ticks t JOIN entries e ON e.id = t.entry_id WHERE t.incident_id = ?", (incident_id,)
    ) as cursor:
        return {(row["tick_checklist"], row["tick_item"]): entry_from_row(row) for row in await cursor.fetchall()}


async def set_checklist_tick(
    conn: aiosqlite.Connection, incident_id: str, checklist_id: str, item: int, done: bool, entry_id: int
) -> None:
    await conn.execute(
        "INSERT INTO checklist_ticks (incident_id, checklist, item, done, entry_id) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (incident_id, checklist, item) DO UPDATE SET done = excluded.done, entry_id = excluded.entry_id",
        (incident_id, checklist_id, item, int(done), entry_id),
    )


async def attached_playbooks(conn: aiosqlite.Connection, incident_id: str) -> list[str]:
    """Playbook ids attached to the incident, in the order they were attached."""
    async with conn.execute(
        "SELECT playbook FROM attached_playbooks WHERE incident_id = ? ORDER BY rowid", (incident_id,)
    ) as cursor:
        return [row["playbook"] for row in await cursor.fetchall()]


async def attach_playbook(conn: aiosqlite.Connection, incident_id: str, playbook_id: str) -> bool:
    """Attach; False when it already was."""
    async with conn.execute(
        "INSERT INTO attached_playbooks (incident_id, playbook) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING playbook",
        (incident_id, playbook_id),
    ) as cursor:
        return await cursor.fetchone() is not None
