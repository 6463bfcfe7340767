"""Probe leases: which running monitor (one per war-room screen) checks an incident's probes and
writes their results, states and entries.

Two screens open on one incident each run a ProbeMonitor; only the lease holder checks and
writes, so nothing is recorded twice. The lease is a row in probe_leases: its holder and an
expiry. The holder renews it well before it expires; when its screen quits the lease is released;
when it stops renewing (a crash, a hang) the lease runs out and another monitor takes it.

On a PostgreSQL server two things differ, for screens on several machines:
- times come from the server's clock, not the injected one (laptops' clocks differ);
- every monitor holds a session advisory lock of its own (named by its holder token) while it
  runs; the server lets it go the moment the monitor's connection dies (a crash, kill -9, a
  laptop closed). A lease whose holder's lock is gone is free: another screen takes over at its
  next look, seconds after the crash instead of the lease's length.
On a SQLite file (one machine) times come from the injected clock, and a crash is noticed when
the lease runs out.

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
        self.lock_name = self._alive(self.holder)

    def _alive(self, holder: str) -> str:
        """The session lock that says `holder` is running (a server's)."""
        return f"probe-lease:{self.incident_id}:{holder}"

    async def _now(self):
        return await self.db.server_time() if self.db.session_locks else self.clock()

    async def acquire(self) -> bool:
        """Take the lease if it is free, expired or ours (renewing it), or, on a server, when its
        holder's connection is gone; True when we hold it."""
        if self.db.session_locks:
            await self.db.try_session_lock(self.lock_name)  # always ours: the name is this monitor's
        now = await self._now()
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT holder, expires_at FROM probe_leases WHERE incident_id = ?", (self.incident_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if (row is not None and row["holder"] != self.holder and row["expires_at"] > to_stored(now)
                    and await self._running(row["holder"])):
                return False
            await conn.execute(_UPSERT, (self.incident_id, self.holder, to_stored(now + self.duration)))
        return True

    async def _running(self, holder: str) -> bool:
        """Whether `holder` still runs: on a server, its session lock is held; on a file, assumed."""
        return not self.db.session_locks or await self.db.session_lock_taken(self._alive(holder))

    async def release(self) -> None:
        """Give the lease up (only if it is still ours) so another screen takes over at once."""
        try:
            async with self.db.transaction() as conn:
                await conn.execute("DELETE FROM probe_leases WHERE incident_id = ? AND holder = ?",
                                   (self.incident_id, self.holder))
        finally:
            await self.close()

    async def close(self) -> None:
        """This monitor stops (holding the lease or not): on a server, let its session lock go."""
        if self.db.session_locks:
            await self.db.release_session_lock(self.lock_name)

    async def current_holder(self) -> str | None:
        """The token of the monitor holding the lease now, or None (free, expired, or, on a server,
        its holder's connection is gone)."""
        async with self.db.reader.execute(
            "SELECT holder FROM probe_leases WHERE incident_id = ? AND expires_at > ?",
            (self.incident_id, to_stored(await self._now())),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or not await self._running(row["holder"]):
            return None
        return row["holder"]
