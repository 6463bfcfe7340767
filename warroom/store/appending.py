"""Appending to an incident's timeline from plain values: the incident's policy (and the one
"no such incident" error), and one entry with the incident's next number and its chained hash.
warroom.store.queries builds on these (its `insert_entry` is `append_entry` with an Entry back);
a plain note from the command line uses them without the models (no msgspec, no dataclasses of
the record), on the very same SQL."""

from __future__ import annotations

import json
from warroom.domain.entry_hash import GENESIS, ChainFields, entry_hash
from warroom.domain.errors import NotFoundError
from warroom.store.schema import stored_data

TYPE_CHECKING = False  # (typing is not imported on a plain note's path)
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

    import aiosqlite


async def all_rows(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Every row, run and read to the end in the connection's thread in one step: a caller
    cancelled meanwhile (a screen's exclusive worker) leaves no statement open behind it. An open
    one would hold the reader's snapshot, and every screen would stop seeing new commits."""
    return list(await conn.execute_fetchall(sql, params))


async def first_row(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> sqlite3.Row | None:
    """The first row of a query that returns one row at most (see `all_rows`)."""
    rows = await all_rows(conn, sql, params)
    return rows[0] if rows else None


async def insert_returning_id(conn, sql: str, params: tuple) -> int | None:
    """Run an INSERT and return the id of the row it added (None: ON CONFLICT DO NOTHING skipped it)."""
    row = await first_row(conn, sql + " RETURNING id", params)
    return row[0] if row is not None else None


def no_incident(incident_id: str) -> NotFoundError:
    """The error for an incident id that names none."""
    return NotFoundError(f"no incident {incident_id!r} (see `warroom list --all`)")


async def incident_policy(conn: aiosqlite.Connection, incident_id: str) -> str:
    """The id of the incident's policy (NotFoundError when there is no such incident)."""
    row = await first_row(conn, "SELECT policy FROM incidents WHERE id = ?", (incident_id,))
    if row is None:
        raise no_incident(incident_id)
    return row[0]


async def append_entry(
    conn: aiosqlite.Connection,
    *,
    incident_id: str,
    occurred_at: str,
    recorded_at: str,
    author: str,
    kind: str,
    text: str,
    data: dict[str, Any] | None = None,
    corrects: int | None = None,
) -> tuple[int, int, str]:
    """Append one entry (times in the stored form, domain.clock.to_stored; `kind` an EntryKind's
    value) with the incident's next number and its hash, chained to the entry before it (read in
    this same write transaction, so two writers cannot chain from the same entry); call inside a
    write transaction. Returns (its id, its number, its hash)."""
    last = await first_row(conn, "SELECT number, hash FROM entries WHERE incident_id = ? ORDER BY number DESC LIMIT 1",
                           (incident_id,))
    number = last[0] + 1 if last else 1
    stored = json.dumps(data, sort_keys=True) if data is not None else None
    fields = ChainFields(incident_id, number, occurred_at, recorded_at, author, kind, text, stored_data(stored),
                         corrects)
    digest = entry_hash(fields, (last[1] or GENESIS) if last else GENESIS)
    entry_id = await insert_returning_id(
        conn,
        "INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text, data, corrects, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (incident_id, number, occurred_at, recorded_at, author, kind, text, stored, corrects, digest),
    )
    return entry_id, number, digest
