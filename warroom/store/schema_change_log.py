"""Version 4 of the schema (warroom.store.schema): a bounded change log so open screens reload
only what changed, written by triggers in the same transaction as the change itself (no write path
can forget it), and the probe truth of each incident as the lease holder stores it: one state row
per probe, and the settings every screen shares (fast mode, a check requested from a screen that
does not hold the lease).

`part` names what changed; `number` is the entry number for `entries` (appended) and `entry` (its
pin changed). Probe result batches write no change row. warroom.store.pg_schema writes its own
change log and takes only the tables (`V4_TABLES`) and the backfill from here."""

from __future__ import annotations

V4_TABLES = """
CREATE TABLE probe_states (
    incident_id           TEXT NOT NULL REFERENCES incidents(id),
    probe                 TEXT NOT NULL,
    config                TEXT NOT NULL DEFAULT '{}',
    interval              REAL NOT NULL DEFAULT 30,
    attached              INTEGER NOT NULL DEFAULT 0,
    state                 TEXT NOT NULL DEFAULT 'unknown',
    health                TEXT NOT NULL DEFAULT 'unknown',
    since                 TEXT,
    first_failure_at      TEXT,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    consecutive_successes INTEGER NOT NULL DEFAULT 0,
    paused                INTEGER NOT NULL DEFAULT 0,
    last_result           TEXT,
    recent                TEXT NOT NULL DEFAULT '[]',
    uptime_checks         INTEGER NOT NULL DEFAULT 0,
    uptime_ok             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (incident_id, probe)
);

CREATE TABLE probe_settings (
    incident_id        TEXT PRIMARY KEY REFERENCES incidents(id),
    fast_interval      REAL,
    fast_until         TEXT,
    check_requested_at TEXT
);
"""

V4_BACKFILL = """
INSERT INTO probe_states (incident_id, probe, config, attached, paused)
    SELECT incident_id, name, config, 1, paused FROM probes WHERE incident_id IS NOT NULL AND paused = 1;
"""

V4 = """
CREATE TABLE changes (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL,
    part        TEXT NOT NULL,
    number      INTEGER
);
CREATE INDEX changes_by_incident ON changes (incident_id, id);

CREATE TRIGGER changes_bounded AFTER INSERT ON changes WHEN NEW.id % 256 = 0
BEGIN
    DELETE FROM changes WHERE id <= NEW.id - 4096;
END;

CREATE TRIGGER changes_entry_added AFTER INSERT ON entries
BEGIN
    INSERT INTO changes (incident_id, part, number) VALUES (NEW.incident_id, 'entries', NEW.number);
END;

CREATE TRIGGER changes_entry_pinned AFTER UPDATE OF pinned ON entries WHEN NEW.pinned IS NOT OLD.pinned
BEGIN
    INSERT INTO changes (incident_id, part, number) VALUES (NEW.incident_id, 'entry', NEW.number);
END;

CREATE TRIGGER changes_incident_added AFTER INSERT ON incidents
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.id, 'incident');
END;

CREATE TRIGGER changes_incident_changed AFTER UPDATE ON incidents
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.id, 'incident');
END;

CREATE TRIGGER changes_milestone_set AFTER INSERT ON milestones
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'incident');
END;

CREATE TRIGGER changes_milestone_moved AFTER UPDATE ON milestones
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'incident');
END;

CREATE TRIGGER changes_milestone_cleared AFTER DELETE ON milestones
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (OLD.incident_id, 'incident');
END;

CREATE TRIGGER changes_role_added AFTER INSERT ON role_assignments
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'roles');
END;

CREATE TRIGGER changes_role_ended AFTER UPDATE ON role_assignments
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'roles');
END;

CREATE TRIGGER changes_update_posted AFTER INSERT ON status_updates
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'updates');
END;

CREATE TRIGGER changes_action_added AFTER INSERT ON action_items
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'actions');
END;

CREATE TRIGGER changes_action_changed AFTER UPDATE ON action_items
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'actions');
END;

CREATE TRIGGER changes_tick_added AFTER INSERT ON checklist_ticks
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'checklist');
END;

CREATE TRIGGER changes_tick_changed AFTER UPDATE ON checklist_ticks
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'checklist');
END;

CREATE TRIGGER changes_playbook_attached AFTER INSERT ON attached_playbooks
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'checklist');
END;

CREATE TRIGGER changes_probe_attached AFTER INSERT ON probes WHEN NEW.incident_id IS NOT NULL
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'probes');
END;

CREATE TRIGGER changes_probe_changed AFTER UPDATE ON probes WHEN NEW.incident_id IS NOT NULL
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'probes');
END;
""" + V4_TABLES + """
CREATE TRIGGER changes_probe_state AFTER UPDATE ON probe_states
WHEN NEW.state IS NOT OLD.state OR NEW.paused IS NOT OLD.paused OR NEW.config IS NOT OLD.config
  OR NEW.interval IS NOT OLD.interval
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'probe-state');
END;

CREATE TRIGGER changes_probe_state_added AFTER INSERT ON probe_states
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'probe-state');
END;

CREATE TRIGGER changes_probe_state_dropped AFTER DELETE ON probe_states
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (OLD.incident_id, 'probe-state');
END;

CREATE TRIGGER changes_probe_settings_added AFTER INSERT ON probe_settings
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'probes');
END;

CREATE TRIGGER changes_probe_settings_changed AFTER UPDATE ON probe_settings
BEGIN
    INSERT INTO changes (incident_id, part) VALUES (NEW.incident_id, 'probes');
END;
""" + V4_BACKFILL
