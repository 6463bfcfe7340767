"""One probe truth per incident (schema V4): the state of each probe as the lease holder stores it,
and the settings every screen on the incident shares (pause, fast mode, a requested check).

The holder writes a probe's state and since only together with the probe entry of that change
(one transaction), and its figures (counters, last check, recent latencies, uptime) with each
result batch. Every screen, the holder's too, shows these rows, so all of them agree. Writers
take a connection inside `Database.transaction()`; readers take `db.reader`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable

from warroom.domain.clock import from_stored, to_stored
from warroom.store.schema import stored_data

if TYPE_CHECKING:
    import aiosqlite


def _when(text: str | None) -> datetime | None:
    return from_stored(text) if text else None


def _stored(moment: datetime | None) -> str | None:
    return to_stored(moment) if moment else None


@dataclass(frozen=True)
class StoredProbeState:
    """One row of probe_states. `state`/`health` are ProbeState values; `last_result` is the
    dict ProbeResult.to_dict made; `recent` holds latencies, None for a failed check."""

    probe: str
    config: dict[str, Any]
    interval: float
    attached: bool
    state: str
    health: str
    since: datetime | None
    first_failure_at: datetime | None
    consecutive_failures: int
    consecutive_successes: int
    paused: bool
    last_result: dict[str, Any] | None
    recent: list[float | None] = field(default_factory=list)
    uptime_checks: int = 0
    uptime_ok: int = 0


@dataclass(frozen=True)
class ProbeSettings:
    """Settings shared by every screen on an incident: fast mode until a time, a requested check."""

    fast_interval: float | None = None
    fast_until: datetime | None = None
    check_requested_at: datetime | None = None


@dataclass(frozen=True)
class ProbeFigures:
    """What the holder writes of one probe with each result batch."""

    probe: str
    consecutive_failures: int
    consecutive_successes: int
    first_failure_at: datetime | None
    last_result: dict[str, Any] | None
    recent: list[float | None]
    uptime_checks: int
    uptime_ok: int


async def probe_states(conn: aiosqlite.Connection, incident_id: str) -> list[StoredProbeState]:
    async with conn.execute("SELECT * FROM probe_states WHERE incident_id = ? ORDER BY probe", (incident_id,)) as cursor:
        rows = await cursor.fetchall()
    return [
        StoredProbeState(
            probe=row["probe"], config=json.loads(row["config"]), interval=row["interval"],
            attached=bool(row["attached"]), state=row["state"], health=row["health"], since=_when(row["since"]),
            first_failure_at=_when(row["first_failure_at"]), consecutive_failures=row["consecutive_failures"],
            consecutive_successes=row["consecutive_successes"], paused=bool(row["paused"]),
            last_result=json.loads(row["last_result"]) if row["last_result"] else None,
            recent=json.loads(row["recent"]), uptime_checks=row["uptime_checks"], uptime_ok=row["uptime_ok"],
        )
        for row in rows
    ]


async def put_configs(conn, incident_id: str, probes: Iterable[tuple[str, dict[str, Any], float, bool]]) -> None:
    """The holder's probes (name, redacted config, interval now, attached): rows are added or
    updated, their state kept; rows of probes it does not run are dropped."""
    probes = list(probes)
    await conn.executemany(
        "INSERT INTO probe_states (incident_id, probe, config, interval, attached) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (incident_id, probe) DO UPDATE SET config = excluded.config, interval = excluded.interval,"
        " attached = excluded.attached"
        " WHERE probe_states.config IS DISTINCT FROM excluded.config"
        " OR probe_states.interval IS DISTINCT FROM excluded.interval"
        " OR probe_states.attached IS DISTINCT FROM excluded.attached",
        [(incident_id, name, json.dumps(config, sort_keys=True), interval, int(attached))
         for name, config, interval, attached in probes],
    )
    names = [name for name, *_ in probes]
    await conn.execute(
        f"DELETE FROM probe_states WHERE incident_id = ? AND probe NOT IN ({', '.join('?' * len(names))})",
        (incident_id, *names),
    )


async def put_state(conn, incident_id: str, probe: str, *, config: dict[str, Any], interval: float, attached: bool,
                    state: str, health: str | None, since: datetime, first_failure_at: datetime | None,
                    consecutive_failures: int, consecutive_successes: int,
                    last_result: dict[str, Any] | None = None) -> None:
    """A change of state (with its entry, in the same transaction), and the check that made it.
    `health` None keeps the stored one (a probe gone STALE is as healthy as its last result said)."""
    await conn.execute(
        "INSERT INTO probe_states (incident_id, probe, config, interval, attached, state, health, since,"
        " first_failure_at, consecutive_failures, consecutive_successes, last_result)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (incident_id, probe) DO UPDATE SET state = excluded.state,"
        " health = COALESCE(?, probe_states.health), since = excluded.since,"
        " first_failure_at = excluded.first_failure_at, consecutive_failures = excluded.consecutive_failures,"
        " consecutive_successes = excluded.consecutive_successes,"
        " last_result = COALESCE(excluded.last_result, probe_states.last_result)",
        (incident_id, probe, json.dumps(config, sort_keys=True), interval, int(attached), state, health or "unknown",
         to_stored(since), _stored(first_failure_at), consecutive_failures, consecutive_successes,
         json.dumps(last_result, sort_keys=True) if last_result else None, health),
    )


async def put_figures(conn, incident_id: str, figures: Iterable[ProbeFigures]) -> None:
    await conn.executemany(
        "UPDATE probe_states SET consecutive_failures = ?, consecutive_successes = ?, first_failure_at = ?,"
        " last_result = COALESCE(?, last_result), recent = ?, uptime_checks = ?, uptime_ok = ?"
        " WHERE incident_id = ? AND probe = ?",
        [(f.consecutive_failures, f.consecutive_successes, _stored(f.first_failure_at),
          json.dumps(f.last_result, sort_keys=True) if f.last_result else None, json.dumps(f.recent),
          f.uptime_checks, f.uptime_ok, incident_id, f.probe) for f in figures],
    )


async def set_paused(conn, incident_id: str, probe: str, paused: bool) -> None:
    await conn.execute(
        "INSERT INTO probe_states (incident_id, probe, paused) VALUES (?, ?, ?)"
        " ON CONFLICT (incident_id, probe) DO UPDATE SET paused = excluded.paused",
        (incident_id, probe, int(paused)),
    )


async def probe_settings(conn: aiosqlite.Connection, incident_id: str) -> ProbeSettings:
    async with conn.execute("SELECT * FROM probe_settings WHERE incident_id = ?", (incident_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return ProbeSettings()
    return ProbeSettings(row["fast_interval"], _when(row["fast_until"]), _when(row["check_requested_at"]))


async def set_fast_mode(conn, incident_id: str, interval: float | None, until: datetime | None) -> None:
    """Fast mode on (every probe at most `interval` apart until `until`) or off (None, None)."""
    await conn.execute(
        "INSERT INTO probe_settings (incident_id, fast_interval, fast_until) VALUES (?, ?, ?)"
        " ON CONFLICT (incident_id) DO UPDATE SET fast_interval = excluded.fast_interval,"
        " fast_until = excluded.fast_until",
        (incident_id, interval, _stored(until)),
    )


async def request_check(conn, incident_id: str, at: datetime) -> None:
    """Ask the holder to check every probe now (from a screen that does not hold the lease)."""
    await conn.execute(
        "INSERT INTO probe_settings (incident_id, check_requested_at) VALUES (?, ?)"
        " ON CONFLICT (incident_id) DO UPDATE SET check_requested_at = excluded.check_requested_at",
        (incident_id, to_stored(at)),
    )


async def recent_outcomes(conn: aiosqlite.Connection, incident_id: str,
                          since: datetime) -> list[tuple[str, datetime, bool]]:
    """(probe, checked_at, ok) of the incident's results since `since`, oldest first: a new holder
    seeds its uptime window with them, so uptime counts the checks made before it took over."""
    async with conn.execute(
        "SELECT probe, checked_at, ok FROM probe_results WHERE checked_at >= ? AND incident_id = ? ORDER BY checked_at",
        (to_stored(since), incident_id),
    ) as cursor:
        return [(row["probe"], from_stored(row["checked_at"]), bool(row["ok"])) for row in await cursor.fetchall()]


async def _transitions(conn, incident_id: str):
    """(probe, transition data) of the incident's probe entries, newest first. The data is read
    here rather than by the database: PostgreSQL's JSON cannot read data holding a \u0000."""
    async with conn.execute("SELECT data FROM entries WHERE incident_id = ? AND kind = 'probe' ORDER BY id DESC",
                            (incident_id,)) as cursor:
        rows = await cursor.fetchall()
    for row in rows:
        data = stored_data(row["data"])
        transition = data.get("transition") if isinstance(data, dict) else None
        if isinstance(transition, dict) and transition.get("probe") is not None:
            yield transition["probe"], transition


async def last_transitions(conn: aiosqlite.Connection, incident_id: str) -> dict[str, dict[str, Any]]:
    """The newest logged transition of each probe on the incident's timeline (probe -> its data):
    where a probe stood when no state row says it (a file from before schema V4)."""
    found: dict[str, dict[str, Any]] = {}
    async for probe, transition in _transitions(conn, incident_id):
        found.setdefault(probe, transition)
    return found


async def probe_history(conn: aiosqlite.Connection, incident_id: str, probe: str, limit: int = 20) -> list[dict]:
    """The probe's logged transitions (entry data), newest first: the same history on every screen."""
    found = []
    async for name, transition in _transitions(conn, incident_id):
        if name == probe:
            found.append(transition)
            if len(found) == limit:
                break
    return found
