"""The event loop's own stalls kept out of what is typed: the file's version is watched from a
thread (no wake-up of the loop while nobody commits), and the garbage collector's full
collections wait for a pause of the keyboard (warroom.ui.heap)."""

from __future__ import annotations

import gc
import sqlite3
import time

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


def _within(condition, seconds: float = 10.0) -> bool:
    """True once `condition()` is; False after `seconds` (polled with sleeps: a timed wait on a
    lock or a semaphore never ends under libfaketime, with which the suite is run at other dates)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def test_the_version_watch_wakes_only_when_another_connection_commits(tmp_path):
    path = tmp_path / "watched.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x)")
    wakes: list[int] = []
    watch = VersionWatch(path, lambda: wakes.append(1), every=0.01)
    try:
        assert _within(lambda: wakes)  # the first version read: whatever came before, looked at
        start, woken = watch.looks, len(wakes)
        assert _within(lambda: watch.looks >= start + 5)
        assert len(wakes) == woken  # five looks, nobody committed: no wake-up
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO t VALUES (1)")
        assert _within(lambda: len(wakes) > woken)
    finally:
        watch.stop()
