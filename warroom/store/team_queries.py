"""Queries over the people and what they owe an incident: role assignments, status updates and
action items. Writers take a connection inside `Database.transaction()` (see store.queries)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from warroom.domain.clock import from_stored, to_stored
from warroom.domain.errors import NotFoundError
from warroom.domain.models import ActionItem, RoleAssignment, StatusUpdate
from warroom.store.queries import _all, _one, insert_returning_id
from warroom.store.schema import stored_data

if TYPE_CHECKING:
    import aiosqlite


# ---- roles -----------------------------------------------------------------------------------


async def current_holder(conn: aiosqlite.Connection, incident_id: str, role_id: str) -> str | None:
    row = await _one(
        conn, "SELECT person FROM role_assignments WHERE incident_id = ? AND role = ? AND ended_at IS NULL",
        (incident_id, role_id),
    )
    return row["person"] if row else None


async def assign_role(
    conn: aiosqlite.Connection, incident_id: str, role_id: str, person: str, at: datetime
) -> None:
    """End the current holder's term (if any) and start `person`'s."""
    await conn.execute(
        "UPDATE role_assignments SET ended_at = ? WHERE incident_id = ? AND role = ? AND ended_at IS NULL",
        (to_stored(at), incident_id, role_id),
    )
    await conn.execute(
        "INSERT INTO role_assignments (incident_id, role, person, started_at) VALUES (?, ?, ?, ?)",
        (incident_id, role_id, person, to_stored(at)),
    )


async def role_history(conn: aiosqlite.Connection, incident_id: str) -> list[RoleAssignment]:
    rows = await _all(
        conn, "SELECT * FROM role_assignments WHERE incident_id = ? ORDER BY started_at, id", (incident_id,)
    )
    return [
        RoleAssignment(
            incident_id=row["incident_id"], role_id=row["role"], person=row["person"],
            started_at=from_stored(row["started_at"]),
            ended_at=from_stored(row["ended_at"]) if row["ended_at"] else None,
        )
        for row in rows
    ]


# ---- updates and action items ----------------------------------------------------------------


async def insert_update(
    conn: aiosqlite.Connection, *, incident_id: str, audience: str, text: str, posted_at: datetime,
    author: str, next_update_at: datetime | None, entry_id: int,
) -> int:
    return await insert_returning_id(
        conn,
        "INSERT INTO status_updates (incident_id, audience, text, posted_at, author, next_update_at, entry_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (incident_id, audience, text, to_stored(posted_at), author,
         to_stored(next_update_at) if next_update_at else None, entry_id),
    )


async def list_updates(conn: aiosqlite.Connection, incident_id: str) -> list[StatusUpdate]:
    rows = await _all(conn, "SELECT * FROM status_updates WHERE incident_id = ? ORDER BY posted_at, id", (incident_id,))
    return [
        StatusUpdate(
            id=row["id"], incident_id=row["incident_id"], audience=row["audience"], text=row["text"],
            posted_at=from_stored(row["posted_at"]), author=row["author"],
            next_update_at=from_stored(row["next_update_at"]) if row["next_update_at"] else None,
        )
        for row in rows
    ]


async def insert_action(
    conn: aiosqlite.Connection, *, incident_id: str, text: str, owner: str | None, due: datetime | None,
    created_at: datetime, entry_id: int,
) -> int:
    return await insert_returning_id(
        conn, "INSERT INTO action_items (incident_id, text, owner, due, created_at, entry_id) VALUES (?, ?, ?, ?, ?, ?)",
        (incident_id, text, owner, to_stored(due) if due else None, to_stored(created_at), entry_id),
    )


async def set_action_done(conn: aiosqlite.Connection, incident_id: str, action_id: int, done: bool) -> ActionItem:
    await conn.execute(
        "UPDATE action_items SET done = ? WHERE id = ? AND incident_id = ?", (int(done), action_id, incident_id)
    )
    for item in await list_actions(conn, incident_id):
        if item.id == action_id:
            return item
    raise NotFoundError(f"{incident_id} has no action item {action_id}")


async def list_actions(conn: aiosqlite.Connection, incident_id: str) -> list[ActionItem]:
    # The group lives in the data of the action entry that created the item (no column of its own),
    # read here rather than by the database: PostgreSQL's JSON cannot read data holding a \u0000.
    rows = await _all(conn, "SELECT a.*, e.data AS entry_data FROM action_items a "
                            "LEFT JOIN entries e ON e.id = a.entry_id WHERE a.incident_id = ? ORDER BY a.id",
                      (incident_id,))
    return [
        ActionItem(
            id=row["id"], incident_id=row["incident_id"], text=row["text"], owner=row["owner"],
            created_at=from_stored(row["created_at"]), due=from_stored(row["due"]) if row["due"] else None,
            done=bool(row["done"]), group=_data_field(row["entry_data"], "group"),
        )
        for row in rows
    ]


def _data_field(data: str | None, name: str) -> Any:
    value = stored_data(data)
    return value.get(name) if isinstance(value, dict) else None
