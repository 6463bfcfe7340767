"""Bringing a PostgreSQL schema up to date: warroom's bookkeeping table, its migrations applied
one process at a time (a session advisory lock), each in a transaction, and a schema that is not
warroom's refused (the server backend, warroom.store.postgres, runs these when it opens)."""

from __future__ import annotations

import asyncpg

from warroom.domain.errors import DatabaseError, DatabaseUnavailable
from warroom.store.identity import APPLICATION_ID
from warroom.store.pg_schema import BOOKKEEPING, PG_MIGRATIONS
from warroom.store.pg_session import PgSession, is_connection_loss, reason_of
from warroom.store.schema import SCHEMA_VERSION, Migration, sql_of

LOCK_SPACE = APPLICATION_ID >> 16  # advisory lock keys: (LOCK_SPACE, what)
MIGRATION_LOCK, WRITE_LOCK = 1, 2
APPLICATION = "warroom"
_OUR_TABLES = ["incidents", "entries", "milestones", "role_assignments", "changes", "probe_states"]


async def schema_version(conn: asyncpg.Connection, where: str) -> int:
    """The migrations applied (0: nothing of warroom's yet); refuse a schema that is not ours."""
    if await conn.fetchval("SELECT to_regclass('warroom_schema') IS NOT NULL"):
        row = await conn.fetchrow("SELECT application, version FROM warroom_schema")
        if row is None or row["application"] != APPLICATION:
            raise DatabaseError(f"{where} has a warroom_schema table that is not warroom's; refusing to touch it")
        if row["version"] > SCHEMA_VERSION:
            raise DatabaseError(f"{where} was written by a newer warroom (schema {row['version']}, this one "
                                f"knows {SCHEMA_VERSION})")
        return row["version"]
    found = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                             " AND tablename = ANY($1::text[])", _OUR_TABLES)
    if found:
        names = ", ".join(sorted(row[0] for row in found))
        raise DatabaseError(f"{where} already has tables of another program ({names}); refusing to touch it")
    return 0


async def migrate(conn: asyncpg.Connection, where: str) -> None:
    """Apply the missing migrations, one process at a time (a session advisory lock)."""
    try:
        await conn.execute(f"SELECT pg_advisory_lock({LOCK_SPACE}, {MIGRATION_LOCK})")
        try:
            version = await schema_version(conn, where)
            if version == 0 and not await conn.fetchval("SELECT to_regclass('warroom_schema') IS NOT NULL"):
                async with conn.transaction():
                    await conn.execute(BOOKKEEPING)
                    await conn.execute("INSERT INTO warroom_schema (application, version) VALUES ($1, 0)", APPLICATION)
            for number in range(version, SCHEMA_VERSION):
                migration = PG_MIGRATIONS[number]
                async with conn.transaction():
                    await conn.execute(sql_of(migration))
                    if isinstance(migration, Migration) and migration.step is not None:
                        await migration.step(_Bare(conn, where))
                    await conn.execute("UPDATE warroom_schema SET version = $1", number + 1)
        finally:
            if not conn.is_closed():
                await conn.execute(f"SELECT pg_advisory_unlock({LOCK_SPACE}, {MIGRATION_LOCK})")
    except asyncpg.PostgresError as error:
        if is_connection_loss(error):
            raise DatabaseUnavailable(f"lost the connection to {where} while migrating: {reason_of(error)}") from None
        raise DatabaseError(f"cannot migrate {where}: {reason_of(error)}") from None
    except OSError as error:
        raise DatabaseUnavailable(f"lost the connection to {where} while migrating: {reason_of(error)}") from None


class _Bare(PgSession):
    """A session on a connection already in a transaction (a migration's Python step)."""

    def __init__(self, conn: asyncpg.Connection, where: str):
        super().__init__(lambda: None, where)
        self.conn, self.pinned = conn, True
