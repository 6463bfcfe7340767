"""A war room's commits never do SQLite's WAL checkpoint themselves (50-200 ms at 100,000 entries,
every hundred commits or so): it runs in a thread after the commit, every CHECKPOINT_EVERY
commits; a short process (`warroom log`) keeps SQLite's automatic one."""

from __future__ import annotations

import asyncio
import sqlite3

from test_ui_support import POLICIES

from warroom.service import IncidentService
from warroom.store import database
from warroom.store.database import CHECKPOINT_EVERY


async def autocheckpoint(service) -> int:
    return [row[0] for row in await service.db.conn.execute_fetchall("PRAGMA wal_autocheckpoint")][0]


async def test_checkpoints_run_beside_the_commits_not_in_them(tmp_path, monkeypatch):
    ran: list[str] = []
    real = database._checkpoint
    monkeypatch.setattr(database, "_checkpoint", lambda path: ran.append(path.name) or real(path))
    service = await IncidentService.open(tmp_path / "w.db", POLICIES)
    try:
        incident = await service.declare("Checkout errors", "SEV-2", author="alice")
        assert await autocheckpoint(service) == 1000  # SQLite's own, until asked
        await service.checkpoint_in_background()  # as a war room does (ui.session)
        assert await autocheckpoint(service) == 0
        for number in range(CHECKPOINT_EVERY - 1):
            await service.execute(incident.id, f"note {number}", "alice")
        assert ran == []
        await service.execute(incident.id, "the last one before a checkpoint", "alice")
        await asyncio.gather(service.db._checkpointing)
        assert ran == ["w.db"]
        with sqlite3.connect(tmp_path / "w.db") as other:  # the WAL was copied into the file
            busy, frames, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and frames == copied
        assert len(await service.entries(incident.id)) == CHECKPOINT_EVERY + 1  # nothing lost on the way
    finally:
        await service.close()


async def test_a_short_process_keeps_sqlites_own_checkpoints(tmp_path, monkeypatch):
    ran: list[str] = []
    monkeypatch.setattr(database, "_checkpoint", ran.append)
    service = await IncidentService.open(tmp_path / "w.db", POLICIES)
    try:
        incident = await service.declare("Checkout errors", "SEV-2", author="alice")
        for number in range(CHECKPOINT_EVERY * 2):
            await service.execute(incident.id, f"note {number}", "alice")
        assert ran == [] and service.db._checkpointing is None
        assert await autocheckpoint(service) == 1000
    finally:
        await service.close()
