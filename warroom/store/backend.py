"""The store seam: what every warroom database offers, whichever engine holds it.

A database is a SQLite file (warroom.store.database, the embedded default) or a schema on a
PostgreSQL server (warroom.store.postgres, shared by a team on several machines). `open_database`
takes either a path or a `postgresql://user@host:port/dbname` URL. The queries (queries.py and
the others) take the `Session` a transaction or `reader` gives and are the same for both; the
SQL that differs is translated by warroom.store.dialect.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, AsyncContextManager, Callable, Iterable, Protocol, Sequence

from warroom.domain.errors import DatabaseError
from warroom.domain.secrets import redact_url
from warroom.store.locations import SERVER_SCHEMES, is_server_url, is_url  # noqa: F401 (re-exported)



class Session(Protocol):
    """A connection as the queries use it (aiosqlite's, or warroom.store.pg_session.PgSession)."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ...) -> Iterable[Any]: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any: ...


class Database(Protocol):
    """A warroom database, migrated and ready.

    - `transaction()`: one write transaction (one writer at a time), rolled back on any error;
      `snapshot()`: the reader in one read transaction (every read sees the same commit);
    - `reader`: the query-only session for everything shown (sees committed data only);
    - `data_version()`: moves on when anyone commits (how followers know to look);
      `generation`: moves on when the connection came back after a loss (look at everything);
    - `add_commit_listener`: called after this process's commits, and with `pushes_changes`
      after everyone's (a server NOTIFYs); `add_state_listener`: "reconnecting"/"connected";
    - `server_time()`, `clock_offset`: the record's clock and how far this machine is from it;
    - `session_locks`: whether `try_session_lock` & co. exist (locks the server drops when
      their holder's connection dies);
    - `blocking`: opened for use without an event loop (a file only: warroom.store.blocking).
    """

    kind: str
    where: str
    read_only: bool
    reader: Session
    pushes_changes: bool
    session_locks: bool
    blocking: bool
    generation: int
    state: str
    clock_offset: float

    def transaction(self, *, durable: bool = True) -> AsyncContextManager[Session]:
        """One write transaction; `durable=False` for what is made again anyway (probe results):
        committed without waiting for the disk, made durable by the next durable commit."""
        ...

    def snapshot(self) -> AsyncContextManager[Session]:
        """The reader in one read transaction (a consistent view for copies and backups)."""
        ...

    async def data_version(self) -> int: ...

    async def checkpoint_in_background(self) -> None:
        """Keep WAL checkpoints out of this process's commits (a long-running screen)."""
        ...

    async def server_time(self) -> datetime: ...

    def add_commit_listener(self, listener: Callable[[], object]) -> Callable[[], None]: ...

    def add_state_listener(self, listener: Callable[[str], object]) -> Callable[[], None]: ...

    def watch_commits(self, moved: Callable[[], object], every: float) -> Callable[[], None]:
        """Call `moved()` (from any thread) soon after anyone commits, where `pushes_changes` is
        false (a file); returns the way to stop."""
        ...

    async def close(self) -> None: ...


def describe(location: str | Path) -> str:
    """`location` for messages: a path as it is, a URL with any password masked."""
    return redact_url(location) if is_server_url(location) else str(location)


async def open_database(location: str | Path, *, read_only: bool = False, password: str | None = None,
                        blocking: bool = False) -> Database:
    """Open (creating and migrating as needed; `read_only`: only an existing, migrated one) the
    database at `location`: a SQLite file path or a postgresql:// URL. `password`: for a server
    (else PGPASSWORD or ~/.pgpass). `blocking` (a file only): for use without an event loop, every
    statement run in the calling thread (warroom.store.blocking)."""
    if is_server_url(location):
        if blocking:
            raise ValueError("a server is only reached from an event loop: open it without blocking")
        from warroom.store.postgres import open_postgres

        return await open_postgres(str(location), read_only=read_only, password=password)
    if is_url(location):
        raise DatabaseError(f"{redact_url(location)}: a database is a file path or a postgresql:// URL")
    from warroom.store.database import open_sqlite

    return await open_sqlite(location, read_only=read_only, blocking=blocking)
