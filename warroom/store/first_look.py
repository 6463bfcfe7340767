"""The read-only look at a database file, in two halves: `gather` reads what the file holds
(header, application id, version, schema, `PRAGMA quick_check`) with the stdlib alone, and
warroom.store.identity judges it (ours? damaged? too new?). Looks begun ahead of an open live
here too (`begin`, `take`): a command-line process begins one in its first milliseconds
(warroom.cli_start), before click and the service are imported, so this module imports no other
warroom module (warroom.store's package aside) and its thread imports nothing: quick_check reads
the whole file (some 35 ms at 100,000 entries) inside SQLite, without the GIL, while the main
thread imports. Nothing is trusted that was not checked: the open judges the gathered facts
exactly as a look taken there and then.

The reading connection creates no `-wal` or `-shm` file: opened `immutable` when the file is in
WAL mode with no `-wal` beside it (nobody has it open, the file is complete), `mode=ro` otherwise
(a rollback-journal file creates nothing when read; a `-wal` that is there is someone's live
journal and must be read). Everything is read in one snapshot (for a file with our id, one
statement), so a process migrating the file at that moment is seen before or after, never half.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

TYPE_CHECKING = False  # (typing itself is not imported yet, nor pathlib: the look begins before them)
if TYPE_CHECKING:
    from typing import Callable

    from os import PathLike

    Where = PathLike[str] | str

SQLITE_MAGIC = b"SQLite format 3\x00"
APPLICATION_ID = 0x5752_4F4D  # "WROM"
_HEADER_SIZE = 100
_WAL_FORMAT = 2  # header bytes 18 and 19: 1 = rollback journal, 2 = WAL
_ATTEMPTS = 3
Fingerprint = frozenset[tuple[str, tuple[str, ...]]]


class Gathered:
    """What `gather` read: `header` (the first 16 bytes; empty for an empty file), and for a SQLite
    file either the facts (`application_id`, `version`, `schema`, `problems`: "ok" or the first
    one quick_check found) or the `error` its last attempt met (sqlite3.DatabaseError or OSError)."""

    __slots__ = ("header", "application_id", "version", "schema", "problems", "error")

    def __init__(self, header: bytes, application_id: int = 0, version: int = 0, schema: Fingerprint = frozenset(),
                 problems: str = "ok", error: BaseException | None = None) -> None:
        self.header, self.application_id, self.version = header, application_id, version
        self.schema, self.problems, self.error = schema, problems, error


def fingerprint(conn: sqlite3.Connection) -> Fingerprint:
    """The file's own tables (SQLite's internal ones left out) and their column names, in order."""
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
    return frozenset(
        (table, tuple(row[0] for row in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))))
        for table in tables
    )


_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def file_uri(path: Where) -> str:
    """The `file:` URI of `path`, absolute and its links resolved (what pathlib's
    `resolve().as_uri()` gives, without importing pathlib before the look begins)."""
    resolved = os.fsencode(os.path.realpath(path))
    return "file://" + "".join(chr(byte) if byte in _URI_SAFE else f"%{byte:02X}" for byte in resolved)


def read_only_uri(path: Where) -> str:
    """A URI that reads `path` without creating a -wal or -shm file (see the module docstring)."""
    with open(path, "rb") as handle:
        header = handle.read(_HEADER_SIZE)
    in_wal_mode = len(header) > 19 and header[18] == _WAL_FORMAT
    immutable = in_wal_mode and not os.path.exists(os.fspath(path) + "-wal")
    return f"{file_uri(path)}?mode=ro" + ("&immutable=1" if immutable else "")


def _known(version: int) -> Fingerprint | None:
    """The schema warroom's migrations make at `version` (needed only for a file without our id)."""
    from warroom.store.identity import known_fingerprints

    return known_fingerprints().get(version)


# One statement, so one snapshot without BEGIN and COMMIT: id, version and, for a file with our id
# (?), the check. In a thread, each return from SQLite waits for the GIL (up to 5 ms while the main
# thread imports), so the fewer statements the sooner the look is done.
_AT_ONCE = ("SELECT a.application_id, v.user_version,"
            " CASE WHEN a.application_id = ? THEN (SELECT quick_check FROM pragma_quick_check(1)) END"
            " FROM pragma_application_id AS a, pragma_user_version AS v")
_IDS = "SELECT a.application_id, v.user_version, ? FROM pragma_application_id AS a, pragma_user_version AS v"


# quick_check reads every page once: SQLite's default cache (2,000 pages) is only memory to fault
# in as it fills (some 5 ms of a 35 ms look at 100,000 entries); 100 pages hold what it reuses.
_SMALL_CACHE = "PRAGMA cache_size = 100"


def _read(path: Where, integrity: bool) -> tuple[int, int, Fingerprint, str]:
    """(application id, version, schema, problems), read in one snapshot. A file with our id needs
    no schema; only an older, unstamped file is known by its tables (read in a transaction)."""
    conn = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None, timeout=15)
    try:
        conn.execute(_SMALL_CACHE)
        application_id, version, first = conn.execute(_AT_ONCE if integrity else _IDS, (APPLICATION_ID,)).fetchone()
        if application_id == APPLICATION_ID:
            return application_id, version, frozenset(), _problems(first) if integrity else "ok"
        if application_id != 0:
            return application_id, version, frozenset(), "ok"  # another program's: refused whatever its state
        conn.execute("BEGIN")  # one snapshot for id, version, schema and check
        application_id, version, _ = conn.execute(_IDS, (None,)).fetchone()  # (stamped a moment ago?)
        schema: Fingerprint = fingerprint(conn) if application_id == 0 else frozenset()
        ours = application_id == APPLICATION_ID or (application_id == 0 and schema and _known(version) == schema)
        problems = "ok"
        if integrity and ours:
            problems = _problems(conn.execute("PRAGMA quick_check(1)").fetchone()[0])  # the first problem is enough
        conn.execute("COMMIT")
        return application_id, version, schema, problems
    finally:
        conn.close()


def _problems(first: str) -> str:
    """quick_check's first line, "ok" or the first problem found."""
    return first.replace("*** in database main ***", "").strip() or "ok"


def gather(path: Where, *, integrity: bool = True) -> Gathered:
    """Read what an existing file holds (nothing judged, nothing written); a SQLite error that may
    be another process writing the first page this very moment is read again, twice."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        return Gathered(b"", error=error)
    if header != SQLITE_MAGIC:
        return Gathered(header)
    for attempt in range(_ATTEMPTS):
        try:
            return Gathered(header, *_read(path, integrity))
        except sqlite3.DatabaseError as error:
            if attempt == _ATTEMPTS - 1:
                return Gathered(header, error=error)
            time.sleep(0.02 * (attempt + 1))
        except OSError as error:
            return Gathered(header, error=error)
    raise AssertionError("unreachable")


_AHEAD: dict[str, tuple[threading.Thread, list]] = {}
"""The looks begun ahead, by the file's real path (`_key`): each its thread and, once done,
[(Gathered, None) or (None, error)]."""


def _key(path: Where) -> str:
    """The file `path` names, `~` expanded and its links resolved: one file, however it is spelt."""
    return os.path.realpath(os.path.expanduser(path))


def begin(path: Where) -> Callable[[], None]:
    """Begin gathering the look at an existing file in a thread, for the next open of it to take
    (`take`). Returns the way to drop a look that no open took (the command failed before it
    opened the file); a look begun already, or no regular file there, begins nothing."""
    path = os.path.expanduser(path)
    key = _key(path)
    if key in _AHEAD or not os.path.isfile(path):  # begun already (its beginner drops it), or nothing to look at
        return lambda: None
    outcome: list = []

    def look() -> None:
        try:
            outcome.append((gather(path), None))
        except BaseException as error:  # raised where the look is taken, as if it were taken there
            outcome.append((None, error))

    thread = threading.Thread(target=look, name="warroom-look", daemon=True)
    ahead = _AHEAD[key] = (thread, outcome)
    thread.start()
    return lambda: _AHEAD.pop(key, None) if _AHEAD.get(key) is ahead else None


def begun(path: Where) -> bool:
    """Whether a look at `path` was begun and not yet taken or dropped."""
    return _key(path) in _AHEAD


def take(path: Where) -> Callable[[], Gathered] | None:
    """The look begun ahead for `path`, now no longer ahead: a function that waits for it and
    returns what it gathered (or raises what it met); None when none was begun."""
    ahead = _AHEAD.pop(_key(path), None)
    if ahead is None:
        return None
    thread, outcome = ahead

    def wait() -> Gathered:
        thread.join()
        gathered, error = outcome[0]
        if error is not None:
            raise error
        return gathered

    return wait
