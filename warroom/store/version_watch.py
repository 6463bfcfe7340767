"""Watching a SQLite file for other connections' commits from a thread of its own.

A screen that follows a file must look often (another process's entry is to be on screen within
150 ms). Asked on the event loop, each look was a wake-up of the loop and a Textual timer tick, 20
a second, most of an idle war room's CPU: on a shared virtual machine a wake-up of the loop costs
some 0.2 ms, a thread's sleep a third of that. `VersionWatch` asks `PRAGMA data_version` (a read
of the WAL index, microseconds, no lock waited for) on a connection of its own in a daemon thread
and wakes the caller only when the version moved, or when it could not tell (then it says moved:
a commit is never missed for an error).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

TYPE_CHECKING = False  # (typing is not imported on a plain note's path)
if TYPE_CHECKING:
    from typing import Callable


def _log():
    import logging  # not at import: `warroom log` imports the store before anything logs

    return logging.getLogger("warroom.store")


class VersionWatch:
    """Calls `moved()` from its thread soon after any other connection to `path` commits (this
    process's own connections included). `stop()` ends the thread (it may call `moved` once more)."""

    def __init__(self, path: Path, moved: Callable[[], object], every: float) -> None:
        self.path, self.moved, self.every = path, moved, every
        self.looks = 0  # versions read (tests count them)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="warroom-version-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        conn, seen = None, None  # (None: the first version read counts as moved)
        try:
            while True:
                # A sleep, not a timed wait on the event: under libfaketime (the suite run at
                # another date) such a wait never ends. stop() is heard within `every`.
                time.sleep(self.every)
                if self._stopped.is_set():
                    break
                try:
                    if conn is None:
                        conn = version_connection(self.path)
                    version = conn.execute("PRAGMA data_version").fetchall()[0][0]
                except sqlite3.Error as error:  # busy, or gone: say it moved, look again next time
                    _log().debug("data_version not known, so it moved: %s", error)
                    version = None
                self.looks += 1
                if version is None or version != seen:  # the first look too: what came since the caller's
                    seen = version
                    self.moved()
        except Exception:  # the caller's wake-up failed (its loop closed): nothing left to wake
            _log().debug("version watch of %s ended", self.path, exc_info=True)
        finally:
            if conn is not None:
                conn.close()


def version_connection(path: Path) -> sqlite3.Connection:
    """A connection that only ever asks PRAGMA data_version: query-only, never waits for a lock."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error:
        conn.close()
        raise
    return conn
