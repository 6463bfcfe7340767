"""Plain SQL on a test's database, around warroom (what a stray script, or another program, could
do), and the errors each backend's driver raises, so one test covers both backends.

`database` is what the `database` fixture gives: a SQLite path or a postgresql:// URL. SQL is
written as for SQLite (`?` placeholders) and translated for PostgreSQL as warroom's own is.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from warroom.store import is_server_url
from warroom.store.dialect import to_postgres


def is_pg(database) -> bool:
    return is_server_url(database)


async def rows(database, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one statement on a connection of its own (committed at once); its rows as tuples."""
    if is_pg(database):
        import asyncpg

        conn = await asyncpg.connect(database)
        try:
            return [tuple(row) for row in await conn.fetch(to_postgres(sql), *params)]
        finally:
            await conn.close()
    conn = sqlite3.connect(Path(database))
    try:
        with conn:
            return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def rows_now(database, sql: str, params: tuple = ()) -> list[tuple]:
    """`rows`, from a test that is not async (or must not await): run on a thread of its own."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, rows(database, sql, params)).result()


def everything_stored(database) -> bytes:
    """Every byte the record keeps: the file and its journals, or every row of every table on a server."""
    if not is_pg(database):
        path = Path(database)
        return b"".join(found.read_bytes() for found in sorted(path.parent.glob(path.name + "*")))
    tables = [row[0] for row in rows_now(database, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
    return b"".join(str(row).encode() for table in tables
                    for row in rows_now(database, f'SELECT t::text FROM "{table}" t'))


def refused() -> tuple[type[BaseException], ...]:
    """What the drivers raise when the database refuses a statement (a trigger, a constraint)."""
    import asyncpg

    return (sqlite3.IntegrityError, asyncpg.PostgresError)


async def table_counts(database, tables=("incidents", "entries", "milestones", "role_assignments",
                                          "status_updates", "action_items")) -> dict[str, int]:
    return {table: (await rows(database, f"SELECT COUNT(*) FROM {table}"))[0][0] for table in tables}


def driver_error(database, message: str, *, integrity: bool = False) -> Exception:
    """The error the backend's driver raises for `message` (disk full, a foreign key...)."""
    if is_pg(database):
        from asyncpg import exceptions

        return (exceptions.ForeignKeyViolationError if integrity else exceptions.DiskFullError)(message)
    return (sqlite3.IntegrityError if integrity else sqlite3.OperationalError)(message)


def in_transaction(db) -> bool:
    """Whether the database's writing connection has a transaction open."""
    if db.kind == "postgresql":
        return db.writer.alive and db.writer.conn.is_in_transaction()
    return db.conn.in_transaction


def updates_folder(database, tmp_path: Path) -> Path:
    """Where `warroom` writes updates for the test's database by default: next to a file; in the
    user data dir (XDG_DATA_HOME, set by cli_env) for a server."""
    if is_pg(database):
        return tmp_path / "data" / "warroom" / "updates"
    return Path(database).parent / "updates"
