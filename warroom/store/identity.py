"""Recognising warroom's own database files, positively, without changing a byte of any file.

Every file warroom creates or migrates carries `PRAGMA application_id = APPLICATION_ID`. Files
written before the id existed are recognised by their schema: exactly the tables and columns that
warroom's own migrations make for the file's `user_version`. Anything else belongs to another
program and is refused before a writing connection is ever opened.

The look is taken through a read-only connection that creates no `-wal` or `-shm` file: opened
`immutable` when the file is in WAL mode with no `-wal` beside it (nobody has it open, the file is
complete), `mode=ro` otherwise (a rollback-journal file creates nothing when read; a `-wal` that is
there is someone's live journal and must be read). Schema, version and id are read in one read
transaction, so a process migrating the file at that moment is seen before or after, never half.
The same look runs `PRAGMA quick_check`: a damaged file is refused with a way to recover it.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from warroom.domain.errors import DatabaseError
from warroom.store.schema import MIGRATIONS, SCHEMA_VERSION, sql_of

SQLITE_MAGIC = b"SQLite format 3\x00"
APPLICATION_ID = 0x5752_4F4D  # "WROM"
_HEADER_SIZE = 100
_WAL_FORMAT = 2  # header bytes 18 and 19: 1 = rollback journal, 2 = WAL
_DAMAGE_WORDS = ("malformed", "corrupt", "disk i/o error")
Fingerprint = frozenset[tuple[str, tuple[str, ...]]]


class DamagedDatabaseError(DatabaseError):
    """The file is warroom's (or looks like it) but SQLite cannot read all of it."""


@dataclass(frozen=True, slots=True)
class FileLook:
    """What a warroom file holds: `version` (migrations applied) and whether it carries our id."""

    version: int
    stamped: bool
    empty: bool = False  # no tables yet: a brand-new file (perhaps being created right now)


def damaged_message(path: Path, problem: object) -> str:
    """One line: what is wrong with `path` and how to get its contents back."""
    reason = " ".join(str(problem).split()) or "unreadable"
    return (f"{path} is damaged ({reason}); nothing was changed. Copy out everything readable with "
            f"`warroom recover {path}` (writes a new file, leaves this one as it is)")


def is_damage(error: BaseException) -> bool:
    """Whether a SQLite error says the file itself is broken (not locked, not full)."""
    return isinstance(error, sqlite3.DatabaseError) and any(word in str(error).lower() for word in _DAMAGE_WORDS)


def fingerprint(conn: sqlite3.Connection) -> Fingerprint:
    """The file's own tables (SQLite's internal ones left out) and their column names, in order."""
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
    return frozenset(
        (table, tuple(row[0] for row in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))))
        for table in tables
    )


@lru_cache(maxsize=1)
def known_fingerprints() -> dict[int, Fingerprint]:
    """{version: fingerprint} of the schema warroom's migrations make, for every version."""
    conn = sqlite3.connect(":memory:")
    try:
        prints = {}
        for number, script in enumerate(MIGRATIONS, start=1):
            conn.executescript(sql_of(script))
            prints[number] = fingerprint(conn)
        return prints
    finally:
        conn.close()


def read_only_uri(path: Path) -> str:
    """A URI that reads `path` without creating a -wal or -shm file (see the module docstring)."""
    with path.open("rb") as handle:
        header = handle.read(_HEADER_SIZE)
    in_wal_mode = len(header) > 19 and header[18] == _WAL_FORMAT
    wal = path.with_name(path.name + "-wal")
    immutable = in_wal_mode and not wal.exists()
    return f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def _read(path: Path, integrity: bool) -> tuple[int, int, Fingerprint, str]:
    conn = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None, timeout=15)
    try:
        conn.execute("BEGIN")  # one snapshot for id, version, schema and check
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        schema = fingerprint(conn)
        problems = "ok"
        ours = application_id == APPLICATION_ID or (schema and known_fingerprints().get(version) == schema)
        if integrity and ours:
            first = conn.execute("PRAGMA quick_check(1)").fetchone()[0]  # the first problem is enough
            problems = first.replace("*** in database main ***", "").strip() or "ok"
        conn.execute("COMMIT")
        return application_id, version, schema, problems
    finally:
        conn.close()


def look_at(path: Path, *, integrity: bool = True) -> FileLook:
    """Classify an existing, non-empty file; raise DatabaseError for anything warroom must not open."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise DatabaseError(f"cannot read database {path}: {error.strerror}") from None
    if not header:
        return FileLook(0, False, empty=True)  # an empty file (made by mktemp, or by a process a moment ago)
    if header != SQLITE_MAGIC:
        raise DatabaseError(f"{path} is not a SQLite database; refusing to touch it")
    for attempt in range(3):
        try:
            application_id, version, schema, problems = _read(path, integrity)
            break
        except sqlite3.DatabaseError as error:
            # Another process may be writing the file's first page this very moment: look again.
            if attempt == 2:
                if is_damage(error):
                    raise DamagedDatabaseError(damaged_message(path, error)) from None
                raise DatabaseError(f"{path} cannot be read as a database: {error}") from None
            time.sleep(0.02 * (attempt + 1))
        except OSError as error:
            raise DatabaseError(f"cannot read database {path}: {error.strerror}") from None
    stamped = application_id == APPLICATION_ID
    if not stamped:
        if application_id != 0:
            raise DatabaseError(f"{path} is a SQLite database of another program "
                                f"(application id {application_id:#x}); refusing to touch it")
        if not schema and version == 0:
            return FileLook(0, False, empty=True)
        if known_fingerprints().get(version) != schema:
            raise DatabaseError(f"{path} is a SQLite database of another program "
                                "(its tables are not warroom's); refusing to touch it")
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} was written by a newer warroom (schema {version}, this one knows {SCHEMA_VERSION})")
    if problems != "ok":
        raise DamagedDatabaseError(damaged_message(path, problems))
    return FileLook(version, stamped)
