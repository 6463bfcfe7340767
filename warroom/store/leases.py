"""Probe leases: which running monitor (one per war-room screen) checks an incident's probes and
writes their results, states and entries.

Two screens open on one incident each run a ProbeMonitor; only the lease holder checks and
writes, so nothing is recorded twice. How the lease is held depends on the database:

- a SQLite file: a row in probe_leases with an expiry. The holder renews it well before it
  expires; when its screen quits the lease is released, when it crashes the lease runs out and
  another monitor takes it. Times come from the injected clock (one machine, one clock).
- a PostgreSQL server: a session advisory lock, held by the holder's connection. The server lets
  it go the moment that connection dies (a crash, kill -9, a laptop closed), so another screen
  takes over within its next look, seconds, not the lease's length. The probe_leases row still
  says who holds it, with an expiry from the server's clock (laptops' clocks differ).

See warroom.service.monitor for how often each looks.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from warroom.domain.clock import Clock, system_clock, to_stored
from warroom.store.backend import Database

LEASE_SECONDS = 12.0
_UPSERT = ("INSERT INTO probe_leases (incident_id, holder, expires_at) VALUES (?, ?, ?)"
           " ON CONFLICT (incident_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at")


class ProbeLease:
    """One monitor's claim on an incident's probe writes. `holder` is a random token per monitor."""

    def __init__(self, db: Database, incident_id: str, *, duration: float = LEASE_SECONDS,
                 clock: Clock = system_clock, holder: str | None = None):
        self.db, self.incident_id = db, incident_id
        self.duration = timedelta(seconds=duration)
        self.clock = clock
        self.holder = holder or secrets.token_hex(8)
        self.lock_name = f"probe-lease:{incident_id}"

    async def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours (renewing it); True when we hold it."""
        if self.db.session_locks:
            if not await self.db.try_session_lock(self.lock_name):
                return False
            expires = await self.db.server_time() + self.duration
            async with self.db.transaction() as conn:
                await conn.execute(_UPSERT, (self.incident_id, self.holder, to_stored(expires)))
            return True
        now = self.clock()
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT holder, expires_at FROM probe_leases WHERE incident_id = ?", (self.incident_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and row["holder"] != self.holder and row["expires_at"] > to_stored(now):
                return False
            await conn.execute(_UPSERT, (self.incident_id, self.holder, to_stored(now + self.duration)))
        return True

    async def release(self) -> None:
        """Give the lease up (only if it is still ours) so another screen takes over at once."""
        try:
            async with self.db.transaction() as conn:
                await conn.execute("DELETE FROM probe_leases WHERE incident_id = ? AND holder = ?",
                                   (self.incident_id, self.holder))
        finally:
            if self.db.session_locks:
                await self.db.release_session_lock(self.lock_name)

    async def current_holder(self) -> str | None:
        """The token of the monitor holding the lease now, or None (free, expired, or its holder's
        connection is gone)."""
        if self.db.session_locks:
            if not await self.db.session_lock_taken(self.lock_name):
                return None
            async with self.db.reader.execute("SELECT holder FROM probe_leases WHERE incident_id = ?",
                                              (self.incident_id,)) as cursor:
                row = await cursor.fetchone()
            return row["holder"] if row else "unknown"
        async with self.db.reader.execute(
            "SELECT holder FROM probe_leases WHERE incident_id = ? AND expires_at > ?",
            (self.incident_id, to_stored(self.clock())),
        ) as cursor:
            row = await cursor.fetchone()
        return row["holder"] if row else None
