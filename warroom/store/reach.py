"""Queries for reaching people (schema version 5): alerts taken in, update deliveries per target,
the status page's id for an incident, and pages. Writers take a connection inside
`Database.transaction()`; nothing here ever sees a URL, key or password."""

from __future__ import annotations

from typing import TYPE_CHECKING
import sqlite3
from datetime import datetime

from warroom.domain.clock import from_stored, to_stored
from warroom.domain.errors import NotFoundError
from warroom.domain.models import Delivery, DeliveryState, Page, StatusUpdate
from warroom.store.queries import insert_returning_id

if TYPE_CHECKING:
    import aiosqlite

# ---- alerts ----------------------------------------------------------------------------------


async def record_alert(conn: aiosqlite.Connection, *, dedupe_key: str, source: str, fingerprint: str, status: str,
                       title: str, received_at: datetime, outcome: str) -> int | None:
    """Remember one alert delivery; None when the same delivery was recorded before (a duplicate)."""
    return await insert_returning_id(
        conn, "INSERT INTO alerts (dedupe_key, source, fingerprint, status, title, received_at, outcome)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        (dedupe_key, source, fingerprint, status, title, to_stored(received_at), outcome),
    )


async def settle_alert(conn: aiosqlite.Connection, alert_id: int, *, outcome: str, incident_id: str | None,
                       entry_id: int | None) -> None:
    await conn.execute("UPDATE alerts SET outcome = ?, incident_id = ?, entry_id = ? WHERE id = ?",
                       (outcome, incident_id, entry_id, alert_id))


async def alert_incident(conn: aiosqlite.Connection, fingerprint: str) -> str | None:
    """The incident the latest delivery of this alert (by fingerprint) went to, if any."""
    async with conn.execute(
        "SELECT incident_id FROM alerts WHERE fingerprint = ? AND incident_id IS NOT NULL"
        " ORDER BY received_at DESC, id DESC LIMIT 1", (fingerprint,),
    ) as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None


async def alert_count(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM alerts") as cursor:
        return (await cursor.fetchone())[0]


# ---- deliveries ------------------------------------------------------------------------------


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        id=row["id"], incident_id=row["incident_id"], update_id=row["update_id"],
        update_number=row["update_number"], audience=row["audience"], target=row["target"], kind=row["kind"],
        state=DeliveryState(row["state"]), attempts=row["attempts"], error=row["error"], detail=row["detail"],
        created_at=from_stored(row["created_at"]), updated_at=from_stored(row["updated_at"]),
    )


async def add_delivery(conn: aiosqlite.Connection, *, incident_id: str, update_id: int, update_number: int,
                       audience: str, target: str, kind: str, now: datetime) -> Delivery:
    """A pending delivery of an update to one target (the same pair again returns the existing row)."""
    await conn.execute(
        "INSERT INTO deliveries (incident_id, update_id, update_number, audience, target, kind, state,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)"
        " ON CONFLICT (update_id, target) DO NOTHING",
        (incident_id, update_id, update_number, audience, target, kind, to_stored(now), to_stored(now)),
    )
    async with conn.execute("SELECT * FROM deliveries WHERE update_id = ? AND target = ?", (update_id, target)) as cursor:
        return _delivery(await cursor.fetchone())


async def finish_delivery(conn: aiosqlite.Connection, delivery_id: int, *, ok: bool, attempts: int, error: str,
                          detail: str, now: datetime) -> Delivery:
    """Record a round of attempts: attempts add up, the state and reason are the latest."""
    await conn.execute(
        "UPDATE deliveries SET state = ?, attempts = attempts + ?, error = ?,"
        " detail = CASE WHEN ? = '' THEN detail ELSE ? END, updated_at = ? WHERE id = ?",
        ("delivered" if ok else "failed", attempts, "" if ok else error, detail, detail, to_stored(now), delivery_id),
    )
    return await get_delivery(conn, delivery_id)


async def get_delivery(conn: aiosqlite.Connection, delivery_id: int) -> Delivery:
    async with conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise NotFoundError(f"no delivery {delivery_id}")
    return _delivery(row)


async def list_deliveries(conn: aiosqlite.Connection, incident_id: str) -> list[Delivery]:
    """Every delivery of the incident's updates, oldest update first, in target order."""
    async with conn.execute("SELECT * FROM deliveries WHERE incident_id = ? ORDER BY update_id, id",
                            (incident_id,)) as cursor:
        return [_delivery(row) for row in await cursor.fetchall()]


# ---- status page incidents -------------------------------------------------------------------


async def status_page_incident(conn: aiosqlite.Connection, incident_id: str, target: str) -> str | None:
    async with conn.execute("SELECT remote_id FROM status_page_incidents WHERE incident_id = ? AND target = ?",
                            (incident_id, target)) as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None


async def remember_status_page_incident(conn: aiosqlite.Connection, incident_id: str, target: str,
                                        remote_id: str) -> None:
    await conn.execute(
        "INSERT INTO status_page_incidents (incident_id, target, remote_id) VALUES (?, ?, ?)"
        " ON CONFLICT (incident_id, target) DO UPDATE SET remote_id = excluded.remote_id",
        (incident_id, target, remote_id),
    )


# ---- pages -----------------------------------------------------------------------------------


def _page(row: sqlite3.Row) -> Page:
    return Page(
        id=row["id"], incident_id=row["incident_id"], pager=row["pager"], action=row["action"],
        dedup_key=row["dedup_key"], reason=row["reason"], state=DeliveryState(row["state"]),
        attempts=row["attempts"], error=row["error"], created_at=from_stored(row["created_at"]),
        updated_at=from_stored(row["updated_at"]),
    )


async def add_page(conn: aiosqlite.Connection, *, incident_id: str, pager: str, action: str, dedup_key: str,
                   reason: str, now: datetime) -> Page:
    page_id = await insert_returning_id(
        conn, "INSERT INTO pages (incident_id, pager, action, dedup_key, reason, state, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        (incident_id, pager, action, dedup_key, reason, to_stored(now), to_stored(now)),
    )
    async with conn.execute("SELECT * FROM pages WHERE id = ?", (page_id,)) as rows:
        return _page(await rows.fetchone())


async def finish_page(conn: aiosqlite.Connection, page_id: int, *, ok: bool, attempts: int, error: str,
                      now: datetime, entry_id: int | None) -> None:
    await conn.execute(
        "UPDATE pages SET state = ?, attempts = attempts + ?, error = ?, updated_at = ?, entry_id = ? WHERE id = ?",
        ("delivered" if ok else "failed", attempts, "" if ok else error, to_stored(now), entry_id, page_id),
    )


async def list_pages(conn: aiosqlite.Connection, incident_id: str) -> list[Page]:
    async with conn.execute("SELECT * FROM pages WHERE incident_id = ? ORDER BY id", (incident_id,)) as cursor:
        return [_page(row) for row in await cursor.fetchall()]


# ---- the updates deliveries are for ------------------------------------------------------------


async def update_with_entry(conn: aiosqlite.Connection, *, update_id: int | None = None,
                            entry_id: int | None = None) -> tuple[StatusUpdate, int] | None:
    """A status update (by its id or its entry's id) and its entry's number."""
    column, value = ("u.id", update_id) if update_id is not None else ("u.entry_id", entry_id)
    async with conn.execute(
        f"SELECT u.*, e.number AS entry_number FROM status_updates u JOIN entries e ON e.id = u.entry_id"
        f" WHERE {column} = ?", (value,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    update = StatusUpdate(
        id=row["id"], incident_id=row["incident_id"], audience=row["audience"], text=row["text"],
        posted_at=from_stored(row["posted_at"]), author=row["author"],
        next_update_at=from_stored(row["next_update_at"]) if row["next_update_at"] else None,
    )
    return update, row["entry_number"]
