"""Schema and migrations. `PRAGMA user_version` holds the number of migrations applied."""

from __future__ import annotations

# Version 1: the incident record. Timeline text is append-only, enforced by triggers.
V1 = """
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

MIGRATIONS: tuple[str, ...] = (V1, V2, V3)
SCHEMA_VERSION = len(MIGRATIONS)
