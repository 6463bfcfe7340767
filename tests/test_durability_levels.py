"""What is committed with an fsync of its own and what is not: every entry and every change of a
probe's state is durable when its transaction returns; probe results (made again at the next
check) are committed without waiting for the disk, at SQLite's `synchronous=NORMAL` or
PostgreSQL's `synchronous_commit = off`, so an Enter never queues behind their sync."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest

from warroom.domain.models import EntryKind

from test_probe_monitor import declare, run_until_down

DURABLE = {"sqlite": 2, "postgresql": "on"}  # PRAGMA synchronous FULL; SHOW synchronous_commit
NOT_DURABLE = {"sqlite": 1, "postgresql": "off"}  # NORMAL; off


async def scalar(db, conn, sql: str):
    """One value, read on the writing connection inside its transaction."""
    if db.kind == "postgresql":
        return await conn.raw(lambda c: c.fetchval(sql))
    async with conn.execute(sql) as cursor:
        return (await cursor.fetchone())[0]


def sync_level_sql(db) -> str:
    return "SHOW synchronous_commit" if db.kind == "postgresql" else "PRAGMA synchronous"


async def durable_by_default(db) -> None:
    """The test server runs with synchronous_commit off (tests never lose power): this session on."""
    if db.kind == "postgresql":
        await db.writer.ready()
        await db.writer.raw(lambda c: c.execute("SET synchronous_commit = on"))


async def test_a_transaction_that_is_not_durable_leaves_the_next_one_durable(service):
    db = service.db
    await durable_by_default(db)
    async with db.transaction(durable=False) as conn:
        assert await scalar(db, conn, sync_level_sql(db)) == NOT_DURABLE[db.kind]
    async with db.transaction() as conn:
        assert await scalar(db, conn, sync_level_sql(db)) == DURABLE[db.kind]
    with pytest.raises(RuntimeError):
        async with db.transaction(durable=False):
            raise RuntimeError("a failure inside rolls back")
    async with db.transaction() as conn:
        assert await scalar(db, conn, sync_level_sql(db)) == DURABLE[db.kind]


async def test_probe_results_wait_for_no_sync_and_changes_of_state_and_entries_do(service, target, tmp_path):
    incident = await declare(service)
    db = service.db
    await durable_by_default(db)
    real_transaction = db.transaction
    seen: list[tuple[object, int, int]] = []  # (level inside, results written, entries written)

    @asynccontextmanager
    async def watched(*, durable: bool = True):
        async with real_transaction(durable=durable) as conn:
            results = await scalar(db, conn, "SELECT COUNT(*) FROM probe_results")
            entries = await scalar(db, conn, "SELECT COUNT(*) FROM entries")
            level = await scalar(db, conn, sync_level_sql(db))
            yield conn
            seen.append((level, await scalar(db, conn, "SELECT COUNT(*) FROM probe_results") - results,
                         await scalar(db, conn, "SELECT COUNT(*) FROM entries") - entries))

    db.transaction = watched
    await run_until_down(service, incident.id, target, tmp_path)
    await service.execute(incident.id, "an entry after the results", author="alice")
    del db.transaction
    results_written = [level for level, results, entries in seen if results and not entries]
    entries_written = [level for level, results, entries in seen if entries]
    assert results_written and set(results_written) == {NOT_DURABLE[db.kind]}
    assert len(entries_written) >= 3  # PENDING, DOWN and the note
    assert set(entries_written) == {DURABLE[db.kind]}
    kinds = [entry.kind for entry in await service.entries(incident.id)]
    assert kinds.count(EntryKind.PROBE) >= 2 and EntryKind.NOTE in kinds


@pytest.mark.sqlite_only
async def test_a_durable_transaction_after_a_level_that_failed_to_set_is_durable(service):
    db = service.db
    await db.conn.execute("PRAGMA synchronous = NORMAL")  # as if setting the level had failed half way
    db._synchronous = None
    async with db.transaction() as conn:
        assert await scalar(db, conn, sync_level_sql(db)) == DURABLE["sqlite"]
    assert db._synchronous == "FULL"
