"""Probe results and incident-attached probes in the database.

Results arrive in batches from the engine (`ProbeStore.sink`), one transaction per batch.
`prune(older_than)` is the retention setting: call it periodically (e.g. keep 24 h) so a day of
1-second probes does not grow the file without bound (freed pages are reused by SQLite).
Configs are stored redacted: `${VAR}` templates, never resolved secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable, Iterable, Protocol

from warroom.domain.clock import from_stored, to_stored
from warroom.store.backend import Database

class CheckOutcome(Protocol):
    """What the store keeps of one probe check (the probe engine's ProbeResult has these fields)."""

    probe: str
    checked_at: datetime
    ok: bool
    latency_ms: float | None
    status_code: int | None
    error: str | None
    failed_condition: str | None
    excerpt: str | None


_COLUMNS = "probe, incident_id, checked_at, ok, latency_ms, status_code, error, failed_condition, excerpt"
PRUNE_CHUNK = 5000
# Finds old rows through the probe_results_by_time index (schema V3), not a table scan.
PRUNE_SQL = ("DELETE FROM probe_results WHERE id IN"
             " (SELECT id FROM probe_results WHERE checked_at < ? LIMIT ?)")


@dataclass(frozen=True)
class StoredResult:
    """One row of probe_results."""

    probe: str
    incident_id: str | None
    checked_at: datetime
    ok: bool
    latency_ms: float | None
    status_code: int | None
    error: str | None
    failed_condition: str | None
    excerpt: str | None


@dataclass(frozen=True)
class Uptime:
    checks: int
    ok: int

    @property
    def ratio(self) -> float | None:
        """Fraction of healthy checks, None when there were none."""
        return self.ok / self.checks if self.checks else None

    def percent(self) -> str:
        return "—" if self.ratio is None else f"{100 * self.ratio:.2f}%"


@dataclass(frozen=True)
class AttachedProbe:
    """A probe stored with an incident: its redacted configuration as written (the service layer
    validates it into a ProbeSpec), whether it is paused, and when it was attached."""

    incident_id: str
    name: str
    config: dict[str, Any]
    paused: bool
    created_at: datetime


def _row(row) -> StoredResult:
    return StoredResult(
        probe=row["probe"], incident_id=row["incident_id"], checked_at=from_stored(row["checked_at"]),
        ok=bool(row["ok"]), latency_ms=row["latency_ms"], status_code=row["status_code"], error=row["error"],
        failed_condition=row["failed_condition"], excerpt=row["excerpt"],
    )


def _scope(incident_id: str | None) -> tuple[str, tuple]:
    return ("", ()) if incident_id is None else (" AND incident_id = ?", (incident_id,))


class ProbeStore:
    """Reads and writes of probe data on a warroom Database."""

    def __init__(self, db: Database):
        self.db = db

    # -- results ---------------------------------------------------------------------------
    async def insert_results(self, results: Iterable[CheckOutcome], incident_id: str | None = None) -> int:
        """Insert a batch in one transaction; returns how many rows were written."""
        results = list(results)
        if not results:
            return 0
        async with self.db.transaction() as conn:
            return await insert_results(conn, results, incident_id)

    def sink(self, incident_id: str | None = None) -> Callable[[list[CheckOutcome]], Awaitable[int]]:
        """The `on_results` callable for ProbeEngine, tagging rows with the incident."""

        async def write(batch: list[CheckOutcome]) -> int:
            return await self.insert_results(batch, incident_id)

        return write

    async def recent(self, probe: str, limit: int = 50, incident_id: str | None = None) -> list[StoredResult]:
        """The newest `limit` results of one probe, newest first."""
        where, args = _scope(incident_id)
        async with self.db.reader.execute(
            f"SELECT {_COLUMNS} FROM probe_results WHERE probe = ?{where} ORDER BY checked_at DESC LIMIT ?",
            (probe, *args, limit),
        ) as cursor:
            return [_row(row) for row in await cursor.fetchall()]

    async def uptime(self, probe: str, since: datetime, until: datetime | None = None,
                     incident_id: str | None = None) -> Uptime:
        """Healthy checks / all checks of one probe in [since, until)."""
        where, args = _scope(incident_id)
        upper = to_stored(until) if until else "9999"
        async with self.db.reader.execute(
            "SELECT count(*) AS checks, coalesce(sum(ok), 0) AS ok FROM probe_results"
            f" WHERE probe = ? AND checked_at >= ? AND checked_at < ?{where}",
            (probe, to_stored(since), upper, *args),
        ) as cursor:
            row = await cursor.fetchone()
        return Uptime(checks=row["checks"], ok=row["ok"])

    async def uptimes(self, since: datetime, incident_id: str | None = None) -> dict[str, Uptime]:
        """Uptime of every probe with results since `since`."""
        where, args = _scope(incident_id)
        async with self.db.reader.execute(
            "SELECT probe, count(*) AS checks, coalesce(sum(ok), 0) AS ok FROM probe_results"
            f" WHERE checked_at >= ?{where} GROUP BY probe",
            (to_stored(since), *args),
        ) as cursor:
            return {row["probe"]: Uptime(row["checks"], row["ok"]) for row in await cursor.fetchall()}

    async def prune(self, older_than: datetime) -> int:
        """Delete results checked before `older_than`, in short transactions; returns the count."""
        cutoff, total = to_stored(older_than), 0
        while True:
            async with self.db.transaction() as conn:
                cursor = await conn.execute(PRUNE_SQL, (cutoff, PRUNE_CHUNK))
                deleted = cursor.rowcount
                await cursor.close()
            total += deleted
            if deleted < PRUNE_CHUNK:
                return total

    # -- probes attached to an incident ----------------------------------------------------
    async def attach(self, incident_id: str, name: str, config: dict[str, Any], now: datetime) -> bool:
        """Store (or update) a probe for an incident; True when it is new."""
        async with self.db.transaction() as conn:
            return await attach_probe(conn, incident_id, name, config, now)

    async def attached(self, incident_id: str) -> list[AttachedProbe]:
        """Probes of an incident in the order they were attached (configs as stored); paused as
        the incident's probe states say (schema V4 keeps pauses there, for file probes too)."""
        async with self.db.reader.execute(
            "SELECT p.name, p.config, COALESCE(s.paused, 0) AS paused, p.created_at FROM probes p"
            " LEFT JOIN probe_states s ON s.incident_id = p.incident_id AND s.probe = p.name"
            " WHERE p.incident_id = ? ORDER BY p.id", (incident_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            AttachedProbe(
                incident_id=incident_id,
                name=row["name"],
                config=json.loads(row["config"]),
                paused=bool(row["paused"]),
                created_at=from_stored(row["created_at"]),
            )
            for row in rows
        ]


async def insert_results(conn, results: Iterable[CheckOutcome], incident_id: str | None) -> int:
    """Inside an open transaction: store a batch of results; returns how many."""
    rows = [
        (r.probe, incident_id, to_stored(r.checked_at), int(r.ok), r.latency_ms, r.status_code,
         r.error, r.failed_condition, r.excerpt)
        for r in results
    ]
    await conn.executemany(f"INSERT INTO probe_results ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    return len(rows)


async def attach_probe(conn, incident_id: str, name: str, config: dict[str, Any], now: datetime) -> bool:
    """Inside an open transaction: store (or update) an incident's probe. `config` is the redacted
    form (``${VAR}`` templates, never resolved secrets). True when the name was new."""
    stored = json.dumps(config, sort_keys=True)
    async with conn.execute("SELECT 1 FROM probes WHERE incident_id = ? AND name = ?", (incident_id, name)) as cursor:
        existed = await cursor.fetchone() is not None
    await conn.execute(
        "INSERT INTO probes (incident_id, name, config, paused, created_at) VALUES (?, ?, ?, 0, ?)"
        " ON CONFLICT (incident_id, name) DO UPDATE SET config = excluded.config",
        (incident_id, name, stored, to_stored(now)),
    )
    return not existed
