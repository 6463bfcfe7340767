"""Probe leases: which running monitor (one per war-room screen) checks an incident's probes and
writes their results, states and entries.

Two screens open on one incident each run a ProbeMonitor; only the lease holder checks and
writes, so nothing is recorded twice. The holder renews the lease well before it expires; when
its screen quits the lease is released, and when it crashes the lease runs out and another
monitor takes it (see warroom.service.monitor for how often each looks). Times come from the
injected clock (wall-clock UTC in use, shared by every process on the machine).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from warroom.domain.clock import Clock, system_clock, to_stored
from warroom.store.database import Database

LEASE_SECONDS = 12.0


class ProbeLease:
    """One monitor's claim on an incident's probe writes. `holder` is a random token per monitor."""

    def __init__(self, db: Database, incident_id: str, *, duration: float = LEASE_SECONDS,
                 clock: Clock = system_clock, holder: str | None = None):
        self.db, self.incident_id = db, incident_id
        self.duration = timedelta(seconds=duration)
        self.clock = clock
        self.holder = holder or secrets.token_hex(8)

    async def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours (renewing it); True when we hold it."""
        now = self.clock()
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT holder, expires_at FROM probe_leases WHERE incident_id = ?", (self.incident_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and row["holder"] != self.holder and row["expires_at"] > to_stored(now):
                return False
            await conn.execute(
                "INSERT INTO probe_leases (incident_id, holder, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (incident_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
                (self.incident_id, self.holder, to_stored(now + self.duration)),
            )
        return True

    async def release(self) -> None:
        """Give the lease up (only if it is still ours) so another screen takes over at once."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM probe_leases WHERE incident_id = ? AND holder = ?",
                               (self.incident_id, self.holder))

    async def current_holder(self) -> str | None:
        """The token of the monitor holding an unexpired lease, or None."""
        async with self.db.reader.execute(
            "SELECT holder FROM probe_leases WHERE incident_id = ? AND expires_at > ?",
            (self.incident_id, to_stored(self.clock())),
        ) as cursor:
            row = await cursor.fetchone()
        return row["holder"] if row else None
