"""Bringing a SQLite file's schema up to date: warroom's migrations applied in one transaction,
the application id stamped, and the retries a brand-new file's first locks need (the SQLite
backend, warroom.store.database, runs these when it opens a file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from warroom.store.blocking import pause
from warroom.store.identity import APPLICATION_ID
from warroom.store.schema import MIGRATIONS, SCHEMA_VERSION, Migration, sql_of

TYPE_CHECKING = False  # (typing is not imported on a plain note's path)
if TYPE_CHECKING:
    import aiosqlite


async def retry_while_locked(step, blocking: bool, attempts: int = 40) -> None:
    """Run `step()` again while another process holds a lock SQLite will not wait for.

    Switching a new file to WAL (and the first migration) need locks for which SQLite returns
    "database is locked" at once instead of calling the busy handler, so processes opening a
    brand-new file at the same moment must take turns."""
    for attempt in range(attempts):
        try:
            await step()
            return
        except sqlite3.OperationalError as error:
            if ("locked" not in str(error) and "busy" not in str(error)) or attempt == attempts - 1:
                raise
            await pause(blocking, 0.02 + 0.01 * attempt)


async def _version_and_id(conn: aiosqlite.Connection) -> tuple[int, int]:
    async with conn.execute("SELECT user_version, application_id FROM pragma_user_version, pragma_application_id") as cursor:
        version, application_id = await cursor.fetchone()
    return version, application_id


async def migrate(conn: aiosqlite.Connection, path: Path) -> None:
    """Apply the missing migrations and stamp warroom's application id, in one transaction."""
    version, application_id = await _version_and_id(conn)
    if version >= SCHEMA_VERSION and application_id == APPLICATION_ID:
        return
    await conn.execute("BEGIN IMMEDIATE")
    try:
        version, application_id = await _version_and_id(conn)  # another process may have migrated meanwhile
        for number in range(version, SCHEMA_VERSION):
            migration = MIGRATIONS[number]
            for statement in _statements(sql_of(migration)):
                await conn.execute(statement)
            if isinstance(migration, Migration) and migration.step is not None:
                await migration.step(conn)
        if version < SCHEMA_VERSION:
            await conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if application_id != APPLICATION_ID:
            await conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        await conn.commit()
    except BaseException:
        await conn.rollback()
        raise


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers contain inner semicolons)."""
    statements, current = [], []
    for line in script.splitlines():
        current.append(line)
        candidate = "\n".join(current).strip()
        if candidate and sqlite3.complete_statement(candidate):
            statements.append(candidate)
            current = []
    return statements
