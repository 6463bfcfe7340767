"""Queries over the incident record. Writers take a connection inside `Database.transaction()`,
so a service call that touches several tables still commits once or not at all."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable

from warroom.domain.chain import ChainFields
from warroom.domain.clock import from_stored, to_stored
from warroom.domain.errors import NotFoundError
from warroom.domain.models import Entry, EntryKind, Incident, Milestone
from warroom.domain.stored import STORED_COLUMNS, entry_from_row
from warroom.store.appending import all_rows as _all
from warroom.store.appending import append_entry, no_incident
from warroom.store.appending import insert_returning_id  # noqa: F401 (re-exported)
from warroom.store.appending import first_row as _one
from warroom.store.schema import stored_data

if TYPE_CHECKING:
    import aiosqlite

ENTRY_COLUMNS = ", ".join(STORED_COLUMNS)


# ---- incidents -------------------------------------------------------------------------------


async def insert_incident(
    conn: aiosqlite.Connection,
    *,
    title: str,
    policy_id: str,
    severity: str,
    status: str,
    created_by: str,
    created_at: datetime,
    services: tuple[str, ...] = (),
    impact: str = "",
) -> str:
    """Insert an incident with the next free INC-YYYYMMDD-NNN id (call inside a write transaction)."""
    day = to_stored(created_at)[:10].replace("-", "")
    row = await _one(conn, "SELECT COALESCE(MAX(day_seq), 0) + 1 FROM incidents WHERE day = ?", (day,))
    seq = row[0]
    incident_id = f"INC-{day}-{seq:03d}"
    await conn.execute(
        "INSERT INTO incidents (id, day, day_seq, title, policy, severity, status, services, impact,"
        " created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (incident_id, day, seq, title, policy_id, severity, status, json.dumps(list(services)),
         impact, to_stored(created_at), created_by),
    )
    return incident_id


async def get_incident(conn: aiosqlite.Connection, incident_id: str) -> Incident:
    row = await _one(conn, "SELECT * FROM incidents WHERE id = ?", (incident_id,))
    if row is None:
        raise no_incident(incident_id)
    stones = await _all(conn, "SELECT name, at FROM milestones WHERE incident_id = ?", (incident_id,))
    return incident_from_row(row, {Milestone(r["name"]): from_stored(r["at"]) for r in stones})


def incident_from_row(row: sqlite3.Row, milestones: dict[Milestone, datetime]) -> Incident:
    return Incident(
        id=row["id"],
        title=row["title"],
        policy_id=row["policy"],
        severity=row["severity"],
        status=row["status"],
        created_at=from_stored(row["created_at"]),
        created_by=row["created_by"],
        services=tuple(json.loads(row["services"])),
        impact=row["impact"],
        milestones=milestones,
        customer_impact=row["customer_impact"],
    )


async def list_incidents(conn: aiosqlite.Connection) -> list[Incident]:
    """Every incident, newest first."""
    rows = await _all(conn, "SELECT * FROM incidents ORDER BY created_at DESC, id DESC")
    stones = await _all(conn, "SELECT incident_id, name, at FROM milestones")
    by_incident: dict[str, dict[Milestone, datetime]] = {}
    for stone in stones:
        by_incident.setdefault(stone["incident_id"], {})[Milestone(stone["name"])] = from_stored(stone["at"])
    return [incident_from_row(row, by_incident.get(row["id"], {})) for row in rows]


async def update_incident(conn: aiosqlite.Connection, incident_id: str, **fields: Any) -> None:
    """Change the incident's current severity, status, facts or services (history is in the timeline)."""
    allowed = {"severity", "status", "impact", "services", "title", "customer_impact"}
    assert set(fields) <= allowed, fields
    if "services" in fields:
        fields["services"] = json.dumps(list(fields["services"]))
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await conn.execute(f"UPDATE incidents SET {assignments} WHERE id = ?", (*fields.values(), incident_id))


async def set_milestone(conn: aiosqlite.Connection, incident_id: str, milestone: Milestone, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO milestones (incident_id, name, at) VALUES (?, ?, ?)"
        " ON CONFLICT (incident_id, name) DO UPDATE SET at = excluded.at",
        (incident_id, milestone.value, to_stored(at)),
    )


async def clear_milestones(conn: aiosqlite.Connection, incident_id: str, milestones: Iterable[Milestone]) -> None:
    """Remove milestones from the incident's current state (reopening); the timeline keeps them."""
    names = [milestone.value for milestone in milestones]
    await conn.execute(
        f"DELETE FROM milestones WHERE incident_id = ? AND name IN ({', '.join('?' for _ in names)})",
        (incident_id, *names),
    )


# ---- timeline --------------------------------------------------------------------------------


async def insert_entry(
    conn: aiosqlite.Connection,
    *,
    incident_id: str,
    occurred_at: datetime,
    recorded_at: datetime,
    author: str,
    kind: EntryKind,
    text: str,
    data: dict[str, Any] | None = None,
    corrects: int | None = None,
) -> Entry:
    """Append one entry with the incident's next number and its hash, chained to the entry before it
    (read in this same write transaction, so two writers cannot chain from the same entry)."""
    entry_id, number, digest = await append_entry(
        conn, incident_id=incident_id, occurred_at=to_stored(occurred_at), recorded_at=to_stored(recorded_at),
        author=author, kind=kind.value, text=text, data=data, corrects=corrects)
    return Entry(
        id=entry_id, incident_id=incident_id, number=number, occurred_at=occurred_at,
        recorded_at=recorded_at, author=author, kind=kind, text=text, data=data, corrects=corrects, hash=digest,
    )


async def entry_by_number(conn: aiosqlite.Connection, incident_id: str, number: int) -> Entry:
    row = await _one(
        conn, f"SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ? AND number = ?", (incident_id, number)
    )
    if row is None:
        raise NotFoundError(f"{incident_id} has no entry #{number}")
    return entry_from_row(row)


async def set_pinned(conn: aiosqlite.Connection, entry_id: int, pinned: bool) -> None:
    await conn.execute("UPDATE entries SET pinned = ? WHERE id = ?", (int(pinned), entry_id))


def _filter_clause(query: str) -> tuple[str, tuple]:
    """Match entries whose text or author contains `query`, or whose kind is `query`."""
    query = query.strip()
    if not query:
        return "", ()
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    kind = query.casefold().replace(" ", "")
    return (
        " AND (text LIKE ? ESCAPE '\\' OR author LIKE ? ESCAPE '\\' OR kind = ?)",
        (pattern, pattern, kind),
    )


def _until_clause(until: datetime | None) -> tuple[str, tuple]:
    """Only the entries that had happened by `until` (a replay's clock); nothing when None."""
    return ("", ()) if until is None else (" AND occurred_at <= ?", (to_stored(until),))


async def count_entries(conn: aiosqlite.Connection, incident_id: str, query: str = "",
                        until: datetime | None = None) -> int:
    clause, params = _filter_clause(query)
    before, moment = _until_clause(until)
    row = await _one(conn, f"SELECT COUNT(*) FROM entries WHERE incident_id = ?{clause}{before}",
                     (incident_id, *params, *moment))
    return int(row[0])


async def entries_page(
    conn: aiosqlite.Connection, incident_id: str, offset: int, limit: int, query: str = "",
    until: datetime | None = None, *, from_end: bool = False,
) -> list[Entry]:
    """Entries in timeline order (occurred_at, then number), one page at a time, optionally filtered
    (and only those that had happened by `until`). `from_end` (neither filtered nor `until`): the
    same page read backwards from the newest entry, which costs what is after it instead of what is
    before it (a page near the end of 100,000 entries: 0.3 ms, not 24); the count and the page come
    from one statement, so they agree."""
    if from_end and not query.strip() and until is None:
        rows = await _all(
            conn,
            "WITH n(total) AS (SELECT COALESCE(MAX(number), 0) FROM entries WHERE incident_id = ?)"
            f" SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ? ORDER BY occurred_at DESC, number DESC"
            " LIMIT (SELECT CASE WHEN total <= ? THEN 0 WHEN total - ? < ? THEN total - ? ELSE ? END FROM n)"
            " OFFSET (SELECT CASE WHEN total - ? - ? > 0 THEN total - ? - ? ELSE 0 END FROM n)",
            (incident_id, incident_id, offset, offset, limit, offset, limit, offset, limit, offset, limit))
        return [entry_from_row(row) for row in reversed(rows)]
    clause, params = _filter_clause(query)
    before, moment = _until_clause(until)
    rows = await _all(
        conn,
        f"SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ?{clause}{before}"
        " ORDER BY occurred_at, number LIMIT ? OFFSET ?",
        (incident_id, *params, *moment, limit, offset),
    )
    return [entry_from_row(row) for row in rows]


async def entries_occurred(conn: aiosqlite.Connection, incident_id: str, after: datetime | None,
                           until: datetime) -> list[Entry]:
    """The entries that happened after `after` (None: from the start) and by `until`, in timeline order."""
    since, params = ("", ()) if after is None else (" AND occurred_at > ?", (to_stored(after),))
    rows = await _all(conn, f"SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ?{since} AND occurred_at <= ?"
                            " ORDER BY occurred_at, number", (incident_id, *params, to_stored(until)))
    return [entry_from_row(row) for row in rows]


async def occurrence_span(conn: aiosqlite.Connection, incident_id: str) -> tuple[datetime, datetime] | None:
    """When the incident's first and last entries happened (None: it has none)."""
    row = await _one(conn, "SELECT MIN(occurred_at), MAX(occurred_at) FROM entries WHERE incident_id = ?",
                     (incident_id,))
    return (from_stored(row[0]), from_stored(row[1])) if row and row[0] else None


async def next_occurrence(conn: aiosqlite.Connection, incident_id: str, after: datetime) -> datetime | None:
    """When the first entry after `after` happened (None: nothing happened after it)."""
    row = await _one(conn, "SELECT MIN(occurred_at) FROM entries WHERE incident_id = ? AND occurred_at > ?",
                     (incident_id, to_stored(after)))
    return from_stored(row[0]) if row and row[0] else None


async def all_entries(conn: aiosqlite.Connection, incident_id: str,
                      kinds: Iterable[EntryKind] | None = None, until: datetime | None = None) -> list[Entry]:
    """Every entry of the incident in time order; only those of `kinds` when given (and only those
    that had happened by `until`)."""
    where, params = "incident_id = ?", [incident_id]
    if until is not None:
        where += " AND occurred_at <= ?"
        params.append(to_stored(until))
    if kinds is not None:
        chosen = [kind.value for kind in kinds]
        where += f" AND kind IN ({', '.join('?' * len(chosen))})"  # SQLite accepts an empty list
        params += chosen
    # With kinds, `+` keeps the time index from being picked for the order: it would read every
    # entry of the incident (18 ms at 100k) where the kind index finds the few asked for
    order = "+occurred_at, +number" if kinds is not None else "occurred_at, number"
    rows = await _all(conn, f"SELECT {ENTRY_COLUMNS} FROM entries WHERE {where} ORDER BY {order}", params)
    return [entry_from_row(row) for row in rows]


async def chain_links(conn: aiosqlite.Connection, incident_id: str) -> list[tuple[ChainFields, str | None]]:
    """Every entry of the incident in number order as hashed fields, each with its stored hash."""
    rows = await _all(
        conn, "SELECT incident_id, number, occurred_at, recorded_at, author, kind, text, data, corrects, hash"
        " FROM entries WHERE incident_id = ? ORDER BY number", (incident_id,))
    return [(ChainFields(r[0], r[1], r[2], r[3], r[4], r[5], r[6], stored_data(r[7]), r[8]), r[9]) for r in rows]


async def chain_head(conn: aiosqlite.Connection, incident_id: str) -> str | None:
    """The stored hash of the incident's last entry (None: no entries, or written outside warroom)."""
    row = await _one(conn, "SELECT hash FROM entries WHERE incident_id = ? ORDER BY number DESC LIMIT 1", (incident_id,))
    return row[0] if row else None


async def max_entry_id(conn: aiosqlite.Connection) -> int:
    """The highest entry id of the whole database (0 when empty): where an incremental read stops."""
    row = await _one(conn, "SELECT COALESCE(MAX(id), 0) FROM entries")
    return int(row[0])


async def entries_between(conn: aiosqlite.Connection, incident_id: str, after_id: int, up_to_id: int,
                          kinds: Iterable[EntryKind]) -> list[Entry]:
    """The incident's entries of `kinds` with after_id < id <= up_to_id, by id. Entries are
    append-only and their ids only grow, so this walks the table from `after_id` (the `+` keeps
    SQLite off the incident index) and costs what is new, not the length of the timeline."""
    chosen = [kind.value for kind in kinds]
    rows = await _all(
        conn, f"SELECT {ENTRY_COLUMNS} FROM entries WHERE id > ? AND id <= ? AND +incident_id = ?"
              f" AND kind IN ({', '.join('?' * len(chosen))}) ORDER BY id",
        (after_id, up_to_id, incident_id, *chosen))
    return [entry_from_row(row) for row in rows]


async def last_entry_number(conn: aiosqlite.Connection, incident_id: str) -> int:
    """The incident's newest entry number, which is also how many entries it has (numbers run 1..N:
    entries are append-only and each takes the next number)."""
    row = await _one(conn, "SELECT COALESCE(MAX(number), 0) FROM entries WHERE incident_id = ?", (incident_id,))
    return int(row[0])


# The maximum of each kind's newest, the kinds found by skipping through the index on (incident,
# kind, recorded time): a few lookups instead of reading the whole incident's index (10 ms at 100k).
_NEWEST_RECORDED = """
WITH RECURSIVE kinds(kind) AS (
    SELECT MIN(kind) FROM entries WHERE incident_id = ?
    UNION ALL
    SELECT (SELECT MIN(e.kind) FROM entries e WHERE e.incident_id = ? AND e.kind > kinds.kind)
    FROM kinds WHERE kinds.kind IS NOT NULL
)
SELECT MAX(newest) FROM (
    SELECT (SELECT MAX(e.recorded_at) FROM entries e WHERE e.incident_id = ? AND e.kind = kinds.kind) AS newest
    FROM kinds WHERE kinds.kind IS NOT NULL
) AS per_kind
"""


async def newest_recorded_at(conn: aiosqlite.Connection, incident_id: str) -> datetime | None:
    """The latest time any of the incident's entries was written at, by its writer's clock (a
    computer whose clock is behind writes earlier times after it: the maximum, not the last)."""
    row = await _one(conn, _NEWEST_RECORDED, (incident_id, incident_id, incident_id))
    return from_stored(row[0]) if row and row[0] else None


async def latest_occurred_at(conn: aiosqlite.Connection, incident_id: str) -> datetime | None:
    """The latest moment on the incident's timeline (its last entry in time order)."""
    row = await _one(conn, "SELECT MAX(occurred_at) FROM entries WHERE incident_id = ?", (incident_id,))
    return from_stored(row[0]) if row and row[0] else None


async def entries_after(conn: aiosqlite.Connection, incident_id: str, number: int) -> list[Entry]:
    """The entries numbered above `number`, in number (commit) order."""
    rows = await _all(conn, f"SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ? AND number > ? ORDER BY number",
                      (incident_id, number))
    return [entry_from_row(row) for row in rows]


async def entries_numbered(conn: aiosqlite.Connection, incident_id: str, numbers: Iterable[int]) -> list[Entry]:
    """The entries with these numbers (those that exist), in number order."""
    wanted = sorted(set(numbers))
    if not wanted:
        return []
    rows = await _all(conn, f"SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ?"
                            f" AND number IN ({', '.join('?' * len(wanted))}) ORDER BY number", (incident_id, *wanted))
    return [entry_from_row(row) for row in rows]
