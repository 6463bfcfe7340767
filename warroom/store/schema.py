"""Schema and migrations. `PRAGMA user_version` holds the number of migrations applied.

The tables are written once, here (version 4, the change log, in warroom.store.schema_change_log),
in SQLite's words; warroom.store.pg_schema derives PostgreSQL's from the same text (`V1_TABLES`,
`V2`, ...) and adds only what differs: the rules (triggers) and the change log's numbering.

A migration is SQL text, or a `Migration`: SQL and then a Python step run in the same transaction
(for what SQL cannot do, such as hashing the existing timeline)."""

from __future__ import annotations

import json
from collections import namedtuple

from warroom.domain.entry_hash import ChainFields, chain
from warroom.store.schema_change_log import V4

TYPE_CHECKING = False  # (typing is not imported on a plain note's path)
if TYPE_CHECKING:
    from typing import Any

    import aiosqlite


class Migration(namedtuple("Migration", ("sql", "step"), defaults=(None,))):
    """SQL statements (`sql`), then `step(conn)` (an async function of the open connection, or
    None) inside the same migration transaction."""

    __slots__ = ()


def sql_of(migration: "str | Migration") -> str:
    """The SQL a migration runs (its Python step aside): what the schema it makes is built from."""
    return migration.sql if isinstance(migration, Migration) else migration


# Version 1: the incident record. Timeline text is append-only, enforced by triggers.
V1_TABLES = """
CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    day         TEXT NOT NULL,
    day_seq     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    policy      TEXT NOT NULL,
    severity    TEXT NOT NULL,
    status      TEXT NOT NULL,
    services    TEXT NOT NULL DEFAULT '[]',
    impact      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    UNIQUE (day, day_seq)
);

CREATE TABLE milestones (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    name        TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (incident_id, name)
);

CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    number      INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    author      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    data        TEXT,
    corrects    INTEGER REFERENCES entries(id),
    pinned      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (incident_id, number)
);
CREATE INDEX entries_by_time ON entries (incident_id, occurred_at, number);

CREATE TABLE role_assignments (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    role        TEXT NOT NULL,
    person      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT
);
CREATE INDEX role_assignments_by_incident ON role_assignments (incident_id, role);

CREATE TABLE status_updates (
    id             INTEGER PRIMARY KEY,
    incident_id    TEXT NOT NULL REFERENCES incidents(id),
    audience       TEXT NOT NULL,
    text           TEXT NOT NULL,
    posted_at      TEXT NOT NULL,
    author         TEXT NOT NULL,
    next_update_at TEXT,
    entry_id       INTEGER REFERENCES entries(id)
);

CREATE TABLE action_items (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    text        TEXT NOT NULL,
    owner       TEXT,
    due         TEXT,
    done        INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    entry_id    INTEGER REFERENCES entries(id)
);
"""

V1 = V1_TABLES + """
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
    SELECT RAISE(ABORT, 'timeline entries are append-only');
END;

CREATE TRIGGER entries_no_rewrite BEFORE UPDATE ON entries
WHEN NEW.text IS NOT OLD.text OR NEW.kind IS NOT OLD.kind OR NEW.author IS NOT OLD.author
  OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.recorded_at IS NOT OLD.recorded_at
  OR NEW.data IS NOT OLD.data OR NEW.corrects IS NOT OLD.corrects
  OR NEW.incident_id IS NOT OLD.incident_id OR NEW.number IS NOT OLD.number
BEGIN
    SELECT RAISE(ABORT, 'timeline entries are append-only');
END;
"""

# Version 2: health probes attached to incidents, their results and per-incident checklist ticks.
V2 = """
CREATE TABLE probes (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT REFERENCES incidents(id),
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    paused      INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    UNIQUE (incident_id, name)
);

CREATE TABLE probe_results (
    id          INTEGER PRIMARY KEY,
    probe       TEXT NOT NULL,
    incident_id TEXT,
    checked_at  TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    latency_ms  REAL,
    status_code INTEGER,
    error       TEXT,
    failed_condition TEXT,
    excerpt     TEXT
);
CREATE INDEX probe_results_by_probe ON probe_results (probe, checked_at);

CREATE TABLE checklist_ticks (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    checklist   TEXT NOT NULL,
    item        INTEGER NOT NULL,
    done        INTEGER NOT NULL,
    entry_id    INTEGER REFERENCES entries(id),
    PRIMARY KEY (incident_id, checklist, item)
);

CREATE TABLE attached_playbooks (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    playbook    TEXT NOT NULL,
    PRIMARY KEY (incident_id, playbook)
);
"""

# Version 3: one war-room screen per incident writes probe results and probe entries (the lease
# holder); pruning old results finds them by check time instead of scanning the table.
V3 = """
CREATE TABLE probe_leases (
    incident_id TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE INDEX probe_results_by_time ON probe_results (checked_at);
"""

# Version 4: the change log and the probe states (warroom.store.schema_change_log).

# Version 5: reaching people. Alerts taken in (one row per delivery, so a repeated delivery of the
# same alert is recognised), each update's delivery to each target (state, attempts, why it
# failed), the status page's own id for an incident, and pages sent to on-call. These rows are
# state, not the record: the timeline says what happened; they say what is left to retry.
# Secrets (URLs, keys, passwords) are never stored: a target or pager is named by its config name.
V5 = """
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    dedupe_key  TEXT NOT NULL UNIQUE,
    source      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      TEXT NOT NULL,
    title       TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    incident_id TEXT REFERENCES incidents(id),
    entry_id    INTEGER REFERENCES entries(id)
);
CREATE INDEX alerts_by_fingerprint ON alerts (fingerprint, received_at);

CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents(id),
    update_id     INTEGER NOT NULL REFERENCES status_updates(id),
    update_number INTEGER NOT NULL,
    audience      TEXT NOT NULL,
    target        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (update_id, target)
);
CREATE INDEX deliveries_by_incident ON deliveries (incident_id, update_id);

CREATE TABLE status_page_incidents (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    target      TEXT NOT NULL,
    remote_id   TEXT NOT NULL,
    PRIMARY KEY (incident_id, target)
);

CREATE TABLE pages (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    pager       TEXT NOT NULL,
    action      TEXT NOT NULL,
    dedup_key   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    entry_id    INTEGER REFERENCES entries(id)
);
CREATE INDEX pages_by_incident ON pages (incident_id, pager, dedup_key);
"""


def stored_data(text: str | None) -> Any:
    """An entry's `data` column as the value that is hashed (text that is not JSON is kept as text)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


async def chain_existing_entries(conn: aiosqlite.Connection) -> None:
    """Hash every entry written before the chain existed, per incident in number order."""
    async with conn.execute(
        "SELECT id, incident_id, number, occurred_at, recorded_at, author, kind, text, data, corrects"
        " FROM entries WHERE hash IS NULL ORDER BY incident_id, number"
    ) as cursor:
        rows = list(await cursor.fetchall())
    by_incident: dict[str, list] = {}
    for row in rows:
        by_incident.setdefault(row[1], []).append(row)
    updates = []
    for incident_rows in by_incident.values():
        fields = [ChainFields(r[1], r[2], r[3], r[4], r[5], r[6], r[7], stored_data(r[8]), r[9]) for r in incident_rows]
        updates += [(value, row[0]) for value, row in zip(chain(fields), incident_rows)]
    await conn.executemany("UPDATE entries SET hash = ? WHERE id = ?", updates)


# Version 6 (numbered by the lead at merge): the verifiable record. Each entry's hash chains it to
# the entry before it (warroom.domain.chain); existing timelines are chained by the Python step.
# The rewrite trigger also protects a hash once it is set.
V6_COLUMNS = """
ALTER TABLE entries ADD COLUMN hash TEXT;
"""

V6 = Migration(
    sql=V6_COLUMNS + """
DROP TRIGGER entries_no_rewrite;

CREATE TRIGGER entries_no_rewrite BEFORE UPDATE ON entries
WHEN NEW.text IS NOT OLD.text OR NEW.kind IS NOT OLD.kind OR NEW.author IS NOT OLD.author
  OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.recorded_at IS NOT OLD.recorded_at
  OR NEW.data IS NOT OLD.data OR NEW.corrects IS NOT OLD.corrects
  OR NEW.incident_id IS NOT OLD.incident_id OR NEW.number IS NOT OLD.number
  OR (OLD.hash IS NOT NULL AND NEW.hash IS NOT OLD.hash)
BEGIN
    SELECT RAISE(ABORT, 'timeline entries are append-only');
END;
""",
    step=chain_existing_entries,
)

# Version 7 (numbered by the lead at merge): who is hit, a fact kept current from the entry bar
# (`/set users ...`) beside the impact, services and title the incident row already holds.
V7 = """
ALTER TABLE incidents ADD COLUMN customer_impact TEXT NOT NULL DEFAULT '';
"""

# Version 8: the entries of some kinds, counted or listed without reading the whole timeline (the
# changes an update draft repeats: how many there are since the last update, and the last few).
V8 = """
CREATE INDEX entries_by_kind ON entries (incident_id, kind, recorded_at);
"""

# Version 9: the corrections of an incident, and the entries they point at, found without reading
# its whole timeline (a report quotes them: store.record_reads.notable_entries). Partial: only the
# few entries that correct another are in it.
V9 = """
CREATE INDEX entries_corrections ON entries (incident_id, corrects) WHERE corrects IS NOT NULL;
"""

MIGRATIONS: tuple[str | Migration, ...] = (V1, V2, V3, V4, V5, V6, V7, V8, V9)
SCHEMA_VERSION = len(MIGRATIONS)
