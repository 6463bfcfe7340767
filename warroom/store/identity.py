"""Recognising warroom's own database files, positively, without changing a byte of any file.

Every file warroom creates or migrates carries `PRAGMA application_id = APPLICATION_ID`. Files
written before the id existed are recognised by their schema: exactly the tables and columns that
warroom's own migrations make for the file's `user_version`. Anything else belongs to another
program and is refused before a writing connection is ever opened.

The look (warroom.store.first_look gathers it, this module judges it) reads through a connection
that creates no `-wal` or `-shm` file, all in one read transaction, and runs `PRAGMA quick_check`:
a damaged file is refused with a way to recover it.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from functools import lru_cache
from pathlib import Path

from warroom.domain.errors import DatabaseError
from warroom.store.first_look import (APPLICATION_ID, SQLITE_MAGIC, Fingerprint, Gathered, fingerprint, gather,
                                      read_only_uri)
from warroom.store.schema import MIGRATIONS, SCHEMA_VERSION, sql_of

__all__ = ["APPLICATION_ID", "SQLITE_MAGIC", "DamagedDatabaseError", "FileLook", "damaged_message", "fingerprint",
           "is_damage", "judge", "known_fingerprints", "look_at", "read_only_uri"]
_DAMAGE_WORDS = ("malformed", "corrupt", "disk i/o error")


class DamagedDatabaseError(DatabaseError):
    """The file is warroom's (or looks like it) but SQLite cannot read all of it."""


class FileLook(namedtuple("FileLook", ("version", "stamped", "empty"), defaults=(False,))):
    """What a warroom file holds: `version` (migrations applied), `stamped` (it carries our id),
    `empty` (no tables yet: a brand-new file, perhaps being created right now)."""

    __slots__ = ()


def damaged_message(path: Path, problem: object) -> str:
    """One line: what is wrong with `path` and how to get its contents back."""
    reason = " ".join(str(problem).split()) or "unreadable"
    return (f"{path} is damaged ({reason}); nothing was changed. Copy out everything readable with "
            f"`warroom recover {path}` (writes a new file, leaves this one as it is)")


def is_damage(error: BaseException) -> bool:
    """Whether a SQLite error says the file itself is broken (not locked, not full)."""
    return isinstance(error, sqlite3.DatabaseError) and any(word in str(error).lower() for word in _DAMAGE_WORDS)


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


def look_at(path: Path, *, integrity: bool = True) -> FileLook:
    """Classify an existing, non-empty file; raise DatabaseError for anything warroom must not open."""
    return judge(path, gather(path, integrity=integrity))


def judge(path: Path, seen: Gathered) -> FileLook:
    """What `gather` read of `path`, judged: the file's FileLook, or DatabaseError for anything
    warroom must not open (another program's file, a newer warroom's, a damaged one)."""
    error = seen.error
    if isinstance(error, OSError):
        raise DatabaseError(f"cannot read database {path}: {error.strerror}") from None
    if not seen.header:
        return FileLook(0, False, empty=True)  # an empty file (made by mktemp, or by a process a moment ago)
    if seen.header != SQLITE_MAGIC:
        raise DatabaseError(f"{path} is not a SQLite database; refusing to touch it")
    if error is not None:
        if is_damage(error):
            raise DamagedDatabaseError(damaged_message(path, error)) from None
        raise DatabaseError(f"{path} cannot be read as a database: {error}") from None
    application_id, version, schema = seen.application_id, seen.version, seen.schema
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
    if seen.problems != "ok":
        raise DamagedDatabaseError(damaged_message(path, seen.problems))
    return FileLook(version, stamped)
