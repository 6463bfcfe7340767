"""Reads of an incident's record that cost what they return, not the length of the timeline: the
timeline in chunks (keyset pages on the time index, for exports that stream), the few entries a
report quotes, and the last changes an update draft repeats."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Iterable

from warroom.domain.models import Entry, EntryKind
from warroom.store.queries import ENTRY_COLUMNS, entry_from_row

if TYPE_CHECKING:
    import aiosqlite


def _kinds(kinds: Iterable[EntryKind]) -> tuple[str, list[str]]:
    chosen = [kind.value for kind in kinds]
    return f"kind IN ({', '.join('?' * len(chosen))})", chosen  # SQLite accepts an empty list


async def timeline_extent(conn: aiosqlite.Connection, incident_id: str) -> tuple[int, int]:
    """(how many entries, the newest number) of the incident, from one statement (the two differ
    in a file `warroom recover` salvaged: the entries on a damaged page are missing)."""
    async with conn.execute("SELECT COUNT(*), COALESCE(MAX(number), 0) FROM entries WHERE incident_id = ?",
                            (incident_id,)) as cursor:
        count, newest = await cursor.fetchone()
    return int(count), int(newest)


async def entry_rows_after(conn: aiosqlite.Connection, incident_id: str, up_to_number: int,
                           after: tuple[str, int] | None, limit: int,
                           kinds_or_pinned: Iterable[EntryKind] | None = None) -> list[sqlite3.Row]:
    """Up to `limit` raw rows of the timeline (occurred_at, number order) after the key `after`
    ((stored occurred_at, number) of the last row read; None: from the start), numbered up to
    `up_to_number`; only those of `kinds_or_pinned` and the pinned ones when given. Rows, not
    entries: the caller converts them where the time is spent best."""
    # `+number`: the bound is checked on each row, not sought by the (incident, number) index; a
    # first chunk read by that index would sort the whole timeline to give its first rows
    where, params = "incident_id = ? AND +number <= ?", [incident_id, up_to_number]
    if kinds_or_pinned is not None:
        clause, chosen = _kinds(kinds_or_pinned)
        where += f" AND ({clause} OR pinned = 1)"  # a flag, as integer (PostgreSQL wants a comparison)
        params += chosen
    if after is not None:
        where += " AND (occurred_at, number) > (?, ?)"
        params += list(after)
    async with conn.execute(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE {where} ORDER BY occurred_at, number"
                            " LIMIT ?", (*params, limit)) as cursor:
        return list(await cursor.fetchall())


async def notable_entries(conn: aiosqlite.Connection, incident_id: str, up_to_number: int,
                          kinds: Iterable[EntryKind]) -> list[Entry]:
    """In timeline order: the entries of `kinds`, the first one, every correction and every entry a
    correction points at (what a report quotes in its sections)."""
    clause, chosen = _kinds(kinds)
    async with conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ? AND number <= ? AND ({clause} OR number = 1"
        " OR corrects IS NOT NULL OR id IN (SELECT corrects FROM entries WHERE incident_id = ?"
        " AND corrects IS NOT NULL)) ORDER BY occurred_at, number",
        (incident_id, up_to_number, *chosen, incident_id)) as cursor:
        return [entry_from_row(row) for row in await cursor.fetchall()]


async def last_entries_of(conn: aiosqlite.Connection, incident_id: str, kinds: Iterable[EntryKind],
                          recorded_after: str | None, limit: int) -> tuple[list[Entry], int]:
    """The last `limit` entries of `kinds` recorded after `recorded_after` (stored form; None: all),
    in timeline order, and how many there are in all."""
    clause, chosen = _kinds(kinds)
    where, params = f"incident_id = ? AND {clause}", [incident_id, *chosen]
    if recorded_after is not None:
        where += " AND recorded_at > ?"
        params.append(recorded_after)
    # Each read in one step: no cursor left open if the caller is cancelled (a draft replaced).
    counted = await conn.execute_fetchall(f"SELECT COUNT(*) FROM entries WHERE {where}", params)
    rows = await conn.execute_fetchall(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE {where}"
                                       " ORDER BY occurred_at DESC, number DESC LIMIT ?", (*params, limit))
    return [entry_from_row(row) for row in reversed(list(rows))], int(list(counted)[0][0])
