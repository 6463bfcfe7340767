"""Database files for tests: real warroom files (optionally large), foreign ones, damaged ones, and
a snapshot of a whole folder to prove that refusing a file left it exactly as it was."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


async def make_warroom_file(path: Path, notes: int = 0) -> str:
    """A real warroom database with one incident and `notes` long notes; returns the incident id.
    Closed again, so the file is complete and there is no -wal/-shm beside it."""
    from warroom.domain.clock import to_stored
    from warroom.domain.policy import PolicyBook
    from warroom.service import IncidentService

    service = await IncidentService.open(path, PolicyBook.load(), lambda: T0)
    try:
        incident = await service.declare("Checkout down", "SEV-2", author="alice", commander="alice")
        first = await service.entry_count(incident.id) + 1
        rows = [(incident.id, first + n, to_stored(T0), to_stored(T0), "bob", "note",
                 f"note {n:05d} " + "checkout latency p99 high on pod web-7; " * 6) for n in range(notes)]
        async with service.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return incident.id
    finally:
        await service.close()


def warroom_file(path: Path, notes: int = 0) -> str:
    """make_warroom_file for synchronous tests."""
    return asyncio.run(make_warroom_file(path, notes))


def wreck_a_page_of(path: Path, table: str = "entries", which: int = 1) -> int:
    """Overwrite the middle of one leaf page of `table` with garbage (a torn or rotten sector).
    Returns the page number. The page header is kept so only that page's rows are lost."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)  # leaves no -shm
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        leaves = [row[0] for row in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,))]
    finally:
        conn.close()
    page = leaves[min(which, len(leaves) - 1)]
    with path.open("r+b") as handle:
        handle.seek((page - 1) * page_size + 8)
        handle.write(b"\xa5\x5a" * ((page_size - 16) // 2))
    return page


def folder_state(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file in `folder`: contents, mtime and mode."""
    state = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_file():
            info = entry.stat()
            state[entry.name] = (entry.read_bytes(), info.st_mtime_ns, info.st_mode)
    return state


def sqlite_file(path: Path, script: str) -> None:
    """Another program's SQLite file, made with the sqlite3 module."""
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()


def journal_mode(path: Path) -> str:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def other_user_ids() -> tuple[int, int] | None:
    """(uid, gid) of an unprivileged user when we are root and can become one; else None."""
    if os.geteuid() != 0:
        return None
    try:
        import pwd

        entry = pwd.getpwnam("nobody")
    except (ImportError, KeyError):
        return None
    return entry.pw_uid, entry.pw_gid
