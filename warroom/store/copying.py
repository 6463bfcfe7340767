"""Copying incidents from one warroom database to another, whichever backends they are on (a
SQLite file to a PostgreSQL server and back): the incident row, its timeline, milestones, roles,
updates, actions, probes and their states, checklist ticks, playbooks and the deliveries and
pages still to retry.

- Read from one snapshot of the source (`Database.snapshot()`), written in one transaction of the
  destination: a copy is whole or absent.
- Ids are kept when the destination has them free (a copy into a new database is exact, so an
  export of it is identical); when they are taken there, the copied rows get new ones and every
  reference to them follows. An entry's hash covers the id of the entry it corrects, so entries
  whose chain changed that way are hashed again (the copy still verifies).
- Copying again does not duplicate: an incident the destination has already is brought up to the
  source's state (new entries appended, pins, roles, updates, actions... as in the source),
  provided its timeline is the start of the source's. When both were written while apart, the
  incident is refused (`CopyConflict`): timelines are append-only, so neither can be merged
  into the other without rewriting one.

Not copied: probe results (check history; the states keep the uptime counts), the probe lease
(who checks now), the change log (the screens' bookkeeping), and intake's alert keys (global).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warroom.domain.chain import GENESIS, ChainFields, entry_hash
from warroom.domain.errors import NotFoundError, WarroomError
from warroom.store.schema import stored_data


class CopyConflict(WarroomError):
    """The destination holds another incident of that id, or its copy was written since the
    copies parted: nothing is copied for it."""


@dataclass(frozen=True)
class CopiedTable:
    """A table copied with its incident: its own integer id (or None) and the columns that refer
    to another copied table's id."""

    name: str
    ident: str | None = None
    refs: dict[str, str] = field(default_factory=dict)
    order: str = ""  # the order rows are read and written in (an ident's, or this)


# In the order they are written (referenced tables first); deleted in the reverse order.
STATE_TABLES = (
    CopiedTable("milestones", order="name"),
    CopiedTable("role_assignments", "id"),
    CopiedTable("status_updates", "id", {"entry_id": "entries"}),
    CopiedTable("action_items", "id", {"entry_id": "entries"}),
    CopiedTable("probes", "id"),
    CopiedTable("checklist_ticks", None, {"entry_id": "entries"}, "checklist, item"),
    CopiedTable("attached_playbooks", order="rowid"),  # attached in this order
    CopiedTable("probe_states", order="probe"),
    CopiedTable("probe_settings"),
    CopiedTable("status_page_incidents", order="target"),
    CopiedTable("deliveries", "id", {"update_id": "status_updates"}),
    CopiedTable("pages", "id", {"entry_id": "entries"}),
)
NOT_COPIED = {"probe_results", "probe_leases", "changes", "alerts"}
_ENTRY_FIELDS = ("occurred_at", "recorded_at", "author", "kind", "text", "data")


@dataclass
class CopyReport:
    """What one copy did, per incident: "copied", "updated" or "unchanged"."""

    outcomes: dict[str, str] = field(default_factory=dict)
    entries_added: int = 0


def _as_dict(row) -> dict[str, Any]:
    """A row by column name; PostgreSQL's stand-in for SQLite's rowid is not a column to copy."""
    return {name: value for name, value in zip(row.keys(), tuple(row)) if name != "rowid"}


async def _rows(session, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    async with session.execute(sql, params) as cursor:
        return [_as_dict(row) for row in await cursor.fetchall()]


async def incident_ids(session) -> list[str]:
    """Every incident of a database, oldest first."""
    return [row["id"] for row in await _rows(session, "SELECT id FROM incidents ORDER BY created_at, id")]


async def read_incident(session, incident_id: str) -> dict[str, list[dict[str, Any]]]:
    """The rows of one incident, table by table (within the caller's snapshot)."""
    found = await _rows(session, "SELECT * FROM incidents WHERE id = ?", (incident_id,))
    if not found:
        raise NotFoundError(f"no incident {incident_id!r} to copy")
    rows = {"incidents": found,
            "entries": await _rows(session, "SELECT * FROM entries WHERE incident_id = ? ORDER BY number", (incident_id,))}
    for table in STATE_TABLES:
        order = f" ORDER BY {table.ident or table.order}" if table.ident or table.order else ""
        rows[table.name] = await _rows(session, f"SELECT * FROM {table.name} WHERE incident_id = ?{order}",
                                       (incident_id,))
    return rows


async def write_incident(conn, source: dict[str, list[dict[str, Any]]], kind: str, report: CopyReport) -> None:
    """Make the destination's copy of one incident what `source` (read_incident) holds, inside
    the caller's transaction `conn` on a database of `kind` ("sqlite" or "postgresql")."""
    incident = source["incidents"][0]
    incident_id = incident["id"]
    existing = await _rows(conn, "SELECT * FROM entries WHERE incident_id = ? ORDER BY number", (incident_id,))
    had_incident = bool(await _rows(conn, "SELECT id FROM incidents WHERE id = ?", (incident_id,)))
    entry_ids = _match_timelines(incident_id, existing, source["entries"]) if had_incident else {}
    before = await read_incident(conn, incident_id) if had_incident else None
    if had_incident:
        for table in reversed(STATE_TABLES):
            await conn.execute(f"DELETE FROM {table.name} WHERE incident_id = ?", (incident_id,))
        columns = [name for name in incident if name != "id"]
        await conn.execute(f"UPDATE incidents SET {', '.join(f'{_q(n)} = ?' for n in columns)} WHERE id = ?",
                           (*[incident[n] for n in columns], incident_id))
    else:
        await _insert(conn, "incidents", [incident])
    new_ids = {"entries": entry_ids}
    added = await _copy_entries(conn, incident_id, existing, source["entries"], entry_ids)
    for entry in source["entries"][:len(existing)]:
        await conn.execute("UPDATE entries SET pinned = ? WHERE incident_id = ? AND number = ? AND pinned <> ?",
                           (entry["pinned"], incident_id, entry["number"], entry["pinned"]))
    for table in STATE_TABLES:
        rows = [dict(row) for row in source[table.name]]
        for column, target in table.refs.items():
            for row in rows:
                if row.get(column) is not None:
                    row[column] = new_ids[target][row[column]]
        if table.ident:
            new_ids[table.name] = await _place(conn, table.name, table.ident, rows)
        await _insert(conn, table.name, rows)
    if kind == "postgresql":
        for name in ["entries", *(t.name for t in STATE_TABLES if t.ident)]:
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                               f" GREATEST((SELECT MAX(id) FROM {name}), 1))")
    report.entries_added += added
    if before is None:
        report.outcomes[incident_id] = "copied"
    else:
        after = await read_incident(conn, incident_id)
        report.outcomes[incident_id] = "unchanged" if _same(before, after) else "updated"


def _q(name: str) -> str:
    return f'"{name}"'


async def _insert(conn, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(map(_q, names))}) VALUES ({', '.join('?' for _ in names)})"
    await conn.executemany(sql, [tuple(row[name] for name in names) for row in rows])


async def _place(conn, table: str, ident: str, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Give `rows` their ids in the destination (kept when free there, else new ones after the
    highest); returns old id -> new id and sets them in the rows."""
    if not rows:
        return {}
    wanted = [row[ident] for row in rows]
    taken = {row["id"] for row in await _rows(
        conn, f"SELECT {ident} AS id FROM {table} WHERE {ident} BETWEEN ? AND ?", (min(wanted), max(wanted)))}
    if not taken.intersection(wanted):
        return {old: old for old in wanted}
    [top] = await _rows(conn, f"SELECT COALESCE(MAX({ident}), 0) AS top FROM {table}")
    mapping = {old: top["top"] + offset for offset, old in enumerate(wanted, start=1)}
    for row in rows:
        row[ident] = mapping[row[ident]]
    return mapping


def _match_timelines(incident_id: str, existing: list[dict], source: list[dict]) -> dict[int, int]:
    """The destination's timeline must be the start of the source's; source id -> its id there."""
    by_id = {row["id"]: row["number"] for row in source}
    there = {row["id"]: row["number"] for row in existing}
    if existing and source and any(existing[0][name] != source[0][name] for name in _ENTRY_FIELDS):
        raise CopyConflict(f"{incident_id}: the destination holds another incident of that id (declared "
                           f"{existing[0]['occurred_at']} by {existing[0]['author']}); nothing was copied for it")
    for mine, theirs in zip(existing, source + [None] * len(existing)):
        if theirs is None or any(mine[name] != theirs[name] for name in ("number", *_ENTRY_FIELDS)) \
                or there.get(mine["corrects"]) != by_id.get(theirs["corrects"]):
            raise CopyConflict(
                f"{incident_id}: both copies were written since they parted (they differ from entry "
                f"#{mine['number']}); nothing was copied for it. Copy the other way, or export both")
    return {theirs["id"]: mine["id"] for mine, theirs in zip(existing, source)}


async def _copy_entries(conn, incident_id: str, existing: list[dict], source: list[dict],
                        entry_ids: dict[int, int]) -> int:
    """Append the source's entries the destination lacks; hash again those whose chain changed."""
    new = [dict(row) for row in source[len(existing):]]
    if not new:
        return 0
    originals = {row["id"]: dict(row) for row in new}
    entry_ids.update(await _place(conn, "entries", "id", new))
    previous_there = existing[-1]["hash"] if existing else GENESIS
    previous_here = source[len(existing) - 1]["hash"] if existing else GENESIS
    for row, original in zip(new, originals.values()):
        if row["corrects"] is not None:
            row["corrects"] = entry_ids[row["corrects"]]
        if row["hash"] is not None and (row["corrects"] != original["corrects"] or previous_there != previous_here):
            row["hash"] = entry_hash(ChainFields(
                incident_id, row["number"], row["occurred_at"], row["recorded_at"], row["author"], row["kind"],
                row["text"], stored_data(row["data"]), row["corrects"]), previous_there)
        previous_here, previous_there = original["hash"], row["hash"]
    await _insert(conn, "entries", new)
    return len(new)


def _same(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> bool:
    """Whether two reads of an incident hold the same content (ids aside: they are the copy's)."""
    ids = {"id", "entry_id", "update_id", "corrects"}

    def content(rows: dict[str, list[dict]]) -> dict[str, list[tuple]]:
        return {table: [tuple(sorted((k, v) for k, v in row.items() if k not in ids)) for row in found]
                for table, found in rows.items()}
    return content(before) == content(after)
