"""Reads of an incident's record that cost what they return, not the length of the timeline: the
timeline in chunks (keyset pages on the time index, for exports that stream), the few entries a
report quotes, and the last changes an update draft repeats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Collection, Iterable

from warroom.domain.models import Entry, EntryKind
from warroom.domain.stored import STORED_COLUMNS
from warroom.store.queries import ENTRY_COLUMNS, entry_from_row

if TYPE_CHECKING:
    import aiosqlite


def _kinds(kinds: Iterable[EntryKind]) -> tuple[str, list[str]]:
    chosen = [kind.value for kind in kinds]
    return f"kind IN ({', '.join('?' * len(chosen))})", chosen  # SQLite accepts an empty list


async def timeline_extent(conn: aiosqlite.Connection, incident_id: str) -> tuple[int, int]:
    """(how many entries numbered up to the newest, the newest number) of the incident (the two
    differ in a file `warroom recover` salvaged: the entries on a damaged page are missing). The
    newest first, sought on the index, then the count up to it: one snapshot, as an entry is never
    removed and each is numbered after the last committed (a count and a maximum in one statement
    would read each index entry's number: half as slow again)."""
    async with conn.execute("SELECT COALESCE(MAX(number), 0) FROM entries WHERE incident_id = ?",
                            (incident_id,)) as cursor:
        newest = int((await cursor.fetchone())[0])
    async with conn.execute("SELECT COUNT(*) FROM entries WHERE incident_id = ? AND number <= ?",
                            (incident_id, newest)) as cursor:
        count = int((await cursor.fetchone())[0])
    return count, newest


def _columns(columns: Collection[int] | None, prefix: str = "", data: str | None = None) -> str:
    """The select list of STORED_COLUMNS: with `columns` (their indices), only those, NULL in the
    others' places up to the last of them (each column keeps its index; a row ends there);
    `data` in data's place."""
    shown = STORED_COLUMNS if columns is None else STORED_COLUMNS[:max(columns) + 1]
    return ", ".join((data if data and name == "data" else prefix + name) if columns is None or index in columns
                     else "NULL" for index, name in enumerate(shown))


async def entry_rows_after(conn: aiosqlite.Connection, incident_id: str, up_to_number: int,
                           after: tuple[str, int] | None, limit: int,
                           kinds_or_pinned: Iterable[EntryKind] | None = None,
                           columns: Collection[int] | None = None,
                           data_of: Iterable[EntryKind] | None = None) -> list[tuple]:
    """Up to `limit` raw rows of the timeline (occurred_at, number order) after the key `after`
    ((stored occurred_at, number) of the last row read; None: from the start), numbered up to
    `up_to_number`; only those of `kinds_or_pinned` and the pinned ones when given. Rows, not
    entries, as plain tuples (asyncpg's Records: as they are), with only `columns` (indices in
    STORED_COLUMNS; occurred_at and number always, the keys of the next page) when given, None in
    the others' places, each row ending with the last of them: the caller converts them where
    the time is spent best. With `data_of`,
    `data` only in the rows of those kinds and the pinned ones (None in the others)."""
    if columns is not None:
        columns = {*columns, STORED_COLUMNS.index("occurred_at"), STORED_COLUMNS.index("number")}
    # `+number`: the bound is checked on each row, not sought by the (incident, number) index; a
    # first chunk read by that index would sort the whole timeline to give its first rows
    where, params = "incident_id = ? AND +number <= ?", [incident_id, up_to_number]
    if kinds_or_pinned is not None:
        clause, chosen = _kinds(kinds_or_pinned)
        where += f" AND ({clause} OR pinned = 1)"  # a flag, as integer (PostgreSQL wants a comparison)
        params += chosen
    data, data_params = None, []
    if data_of is not None:
        clause, data_params = _kinds(data_of)
        data = f"CASE WHEN {clause} OR pinned = 1 THEN data END"
    if after is not None:
        where += " AND (occurred_at, number) > (?, ?)"
        params += list(after)
    async with conn.execute(f"SELECT {_columns(columns, data=data)} FROM entries WHERE {where}"
                            " ORDER BY occurred_at, number LIMIT ?", (*data_params, *params, limit)) as cursor:
        cursor.row_factory = None  # tuples: a sqlite3.Row for each of 100,000 rows costs a third more
        return list(await cursor.fetchall())


async def notable_entries(conn: aiosqlite.Connection, incident_id: str, up_to_number: int,
                          kinds: Iterable[EntryKind]) -> list[Entry]:
    """In timeline order: the entries of `kinds`, the first one, every correction and every entry a
    correction points at (what a report quotes in its sections). Each part sought by its index
    (the kind index, the number, the index of corrections), not by reading the timeline."""
    clause, chosen = _kinds(kinds)
    # `+`: the bound and the incident checked on each row found, not an index to walk instead (the
    # planner would take the (incident, number) one and read the whole timeline). No ORDER BY in
    # SQL: with one each part would walk the time index; the few rows are sorted here.
    rows = await conn.execute_fetchall(
        f"SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ? AND +number <= ? AND {clause}"
        f" UNION SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ? AND number = 1 AND number <= ?"
        f" UNION SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ? AND corrects IS NOT NULL AND +number <= ?"
        f" UNION SELECT {ENTRY_COLUMNS} FROM entries WHERE id IN (SELECT corrects FROM entries WHERE incident_id = ?"
        " AND corrects IS NOT NULL) AND +incident_id = ? AND +number <= ?",
        (incident_id, up_to_number, *chosen, incident_id, up_to_number, incident_id, up_to_number,
         incident_id, incident_id, up_to_number))
    occurred, number = STORED_COLUMNS.index("occurred_at"), STORED_COLUMNS.index("number")
    return [entry_from_row(row) for row in sorted(rows, key=lambda row: (row[occurred], row[number]))]


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
