"""The event loop's own stalls kept out of what is typed: the file's version is watched from a
thread (no wake-up of the loop while nobody commits), and the garbage collector's full
collections wait for a pause of the keyboard (warroom.ui.heap)."""

from __future__ import annotations

import asyncio
import gc
import sqlite3

from warroom.store import version_watch
from warroom.store.version_watch import VersionWatch
from warroom.ui import heap


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_full_collection_waits_for_a_pause_of_the_keyboard(monkeypatch):
    collected = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation))
    monkeypatch.setattr(gc, "get_count", lambda: (5, 3, 2))  # young collections since the last full one
    clock = _Clock()
    collector = heap.QuietCollector(clock)
    collector.keyed()
    clock.now += heap.QUIET / 2
    assert collector.look() is False and collected == []  # a key came a moment ago
    clock.now += heap.QUIET
    assert collector.look() is True and collected == [2]
    monkeypatch.setattr(gc, "get_count", lambda: (5, 3, 0))
    assert collector.look() is False and collected == [2]  # nothing promoted since: none owed


def test_python_s_own_full_collections_are_made_rare():
    before = gc.get_threshold()
    try:
        heap.QuietCollector().start()
        assert gc.get_threshold() == heap.THRESHOLDS
        assert heap.THRESHOLDS[2] > before[2] or before == heap.THRESHOLDS
    finally:
        gc.set_threshold(*before)


async def test_the_version_watch_wakes_only_when_another_connection_commits(tmp_path, monkeypatch):
    """Each look (the watch's statement, traced) and each wake-up is told to the event loop, and
    the test waits on those (no sleeps, and no timed wait on a lock: under libfaketime, with which
    the suite is run at other dates, one never ends)."""
    path = tmp_path / "watched.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x)")
    loop = asyncio.get_running_loop()
    counts, told = {"looks": 0, "wakes": 0}, asyncio.Event()

    def tell(what: str) -> None:  # on the loop
        counts[what] += 1
        told.set()

    real_connection = version_watch.version_connection

    def traced(watched):
        conn = real_connection(watched)
        conn.set_trace_callback(lambda sql: loop.call_soon_threadsafe(tell, "looks"))
        return conn

    monkeypatch.setattr(version_watch, "version_connection", traced)

    async def until(condition) -> None:
        async def told_until() -> None:
            while not condition():
                told.clear()
                await told.wait()

        await asyncio.wait_for(told_until(), 10)

    watch = VersionWatch(path, lambda: loop.call_soon_threadsafe(tell, "wakes"), every=0.01)
    try:
        await until(lambda: counts["wakes"])  # the first version read: whatever came before, looked at
        looks, wakes = counts["looks"], counts["wakes"]
        await until(lambda: counts["looks"] >= looks + 5)
        assert counts["wakes"] == wakes  # five looks, nobody committed: no wake-up
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO t VALUES (1)")
        await until(lambda: counts["wakes"] > wakes)
    finally:
        watch.stop()
