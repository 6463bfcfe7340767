"""A read cancelled at the worst moment (its result arrived, its task not yet resumed: a screen's
exclusive worker replaced by a newer one) must not leave a statement open on the reader: an open
statement keeps the reader's snapshot, and no screen would see a new commit again."""

from __future__ import annotations

import asyncio

import aiosqlite.core
import pytest

from warroom.store import changes
from warroom.store import queries as q

pytestmark = pytest.mark.sqlite_only  # aiosqlite's own hand-over; a server session reads in one await


async def test_a_read_cancelled_after_its_result_came_leaves_the_reader_current(service, monkeypatch):
    incident = await service.declare("Login slow", "SEV-2", author="alice")
    reader = service.db.reader
    real = aiosqlite.core.set_result
    kept: list[BaseException] = []  # as a cancelled Textual worker keeps its error (and so its frames)
    # (data_version is not among them: it is answered on the loop, by a connection of its own)
    for read in (lambda: q.max_entry_id(reader), lambda: q.all_entries(reader, incident.id),
                 lambda: changes.last_change_id(reader)):
        victim: list[asyncio.Task] = []

        def set_result_then_cancel(future, result):
            real(future, result)  # the result is in; the task waiting on it has not run yet
            if victim and not victim[0].done():
                victim[0].cancel()

        monkeypatch.setattr(aiosqlite.core, "set_result", set_result_then_cancel)
        task = asyncio.create_task(read())
        victim.append(task)
        try:
            await task
        except asyncio.CancelledError as error:
            kept.append(error)
        monkeypatch.setattr(aiosqlite.core, "set_result", real)
        assert task.cancelled()
        before = await q.last_entry_number(reader, incident.id)
        await service.execute(incident.id, "a note written after the cancelled read", "alice")
        assert await q.last_entry_number(reader, incident.id) == before + 1, read
