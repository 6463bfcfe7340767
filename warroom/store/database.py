"""The SQLite backend: opening the database file safely, migrating it, and running write
transactions (the PostgreSQL one is warroom.store.postgres; the interface, warroom.store.backend).

A command-line process opens it `blocking` (warroom.store.blocking): the same connections without
an event loop, each statement run in the calling thread.

Journal mode WAL lets the screen read while `warroom log` in another terminal writes.
`synchronous=FULL`: in WAL mode NORMAL may lose the last commits on power loss; FULL fsyncs
the WAL on every commit. bench/bench_sqlite_sync.py measures the price (see README): well
under what a person typing can notice, so durability wins. Only the probe results, made again
at every check, are committed at NORMAL (`transaction(durable=False)`): their fsync, about one a
second, was one an Enter could queue behind.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import asynccontextmanager
from pathlib import Path
from datetime import datetime

from warroom.domain.clock import system_clock
from warroom.domain.errors import DatabaseError, ReadOnlyError
from warroom.store import first_look
from warroom.store.blocking import in_thread, pause
from warroom.store.identity import DamagedDatabaseError, damaged_message, is_damage, judge, look_at
from warroom.store.version_watch import VersionWatch, version_connection
from warroom.store.schema import SCHEMA_VERSION
from warroom.store.sqlite_migrations import migrate, retry_while_locked

TYPE_CHECKING = False  # (typing is not imported on a plain note's path)
if TYPE_CHECKING:
    from typing import AsyncIterator, Callable

    import aiosqlite


def _log():
    """The store's logger (logging is imported on first use: a scripted `warroom log` never logs)."""
    import logging

    return logging.getLogger("warroom.store")


BUSY_TIMEOUT_MS = 15_000
CHECKPOINT_EVERY = 64  # commits between two background checkpoints (see checkpoint_in_background)
_LOCK_RETRIES = 8


async def _connect(path: Path, blocking: bool):
    """An aiosqlite connection, or with `blocking` a BlockingConnection (no event loop, no thread)."""
    if blocking:
        from warroom.store.blocking import BlockingConnection

        return BlockingConnection.connect(path, isolation_level=None)
    import aiosqlite

    return await aiosqlite.connect(path, isolation_level=None)


def look_ahead(path: Path) -> Callable[[], None]:
    """Begin the read-only look at an existing file (store.identity.look_at: its PRAGMA quick_check
    reads the whole file, some 35 ms at 100,000 entries) in a thread, for the next `open_sqlite` of
    it to take and judge (warroom.store.first_look.begin): a command-line process imports the
    service meanwhile (SQLite checks without the GIL). Nothing is written; the look is the same,
    only begun earlier. Returns the way to drop a look that no open took."""
    return first_look.begin(path)


async def _look(path: Path, blocking: bool) -> None:
    """look_at(path), or the look begun ahead for it, judged here."""
    ahead = first_look.take(path)
    if ahead is None:
        await in_thread(blocking, look_at, path)
        return
    await in_thread(blocking, lambda: judge(path, ahead()))  # off the loop: an old file's judge runs the migrations


def _create_file(path: Path) -> None:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(f"cannot create directory {parent}: {error.strerror}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DatabaseError(f"directory {parent} is not writable")
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
        os.close(fd)
    except FileExistsError:
        pass  # another process created it a moment ago; fine
    except OSError as error:
        raise DatabaseError(f"cannot create database {path}: {error.strerror}") from None


class SQLiteDatabase:
    """A warroom database file: `conn` for retrying write transactions, `reader` for everything shown.

    The reader is a second, query-only connection: in WAL mode it sees only committed data, so
    nothing read for the screen can come from a transaction that is still open (or later rolls
    back) on the writing connection. Other processes' commits are seen through `data_version()`
    (a file has no server to tell us); there is no server clock, and no session locks."""

    kind = "sqlite"
    pushes_changes = False
    session_locks = False
    generation = 0  # a file never reconnects
    state = "connected"
    clock_offset = 0.0

    def __init__(self, path: Path, connection: aiosqlite.Connection, reader: aiosqlite.Connection | None = None,
                 *, read_only: bool = False, blocking: bool = False):
        self.path = path
        self.where = str(path)
        self.conn = connection
        self.reader = reader or connection
        self.read_only = read_only  # every transaction is refused, and both connections are query-only
        self.blocking = blocking  # BlockingConnections, used without an event loop
        if blocking:
            from warroom.store.blocking import NoWaitLock

            self._write_lock = NoWaitLock()  # one transaction at a time by construction
        else:
            import asyncio

            self._write_lock = asyncio.Lock()
        self._commit_listeners: list[Callable[[], object]] = []
        self._versions: sqlite3.Connection | None = None  # see data_version
        self._unknown_versions = 0
        self._commits_to_checkpoint: int | None = None  # see checkpoint_in_background
        self._checkpointing = None  # the background checkpoint's future, once one ran
        self._synchronous: str | None = "FULL"  # the writer's level as last set (None: not known)

    def add_commit_listener(self, listener: Callable[[], object]) -> Callable[[], None]:
        """Call `listener()` after each transaction this Database commits (so a screen follows its
        own writes at once, as it follows other processes' through data_version). Returns the
        function that removes it."""
        self._commit_listeners.append(listener)
        return lambda: self._commit_listeners.remove(listener) if listener in self._commit_listeners else None

    def add_state_listener(self, listener: Callable[[str], object]) -> Callable[[], None]:
        """A file is always there: the listener is never called."""
        return lambda: None

    def watch_commits(self, moved: Callable[[], object], every: float) -> Callable[[], None]:
        """Call `moved()`, from a thread of its own, within `every` seconds of another connection's
        commit (see warroom.store.version_watch); returns the way to stop."""
        return VersionWatch(self.path, moved, every).stop

    async def server_time(self) -> datetime:
        """No server: this machine's clock."""
        return system_clock()

    async def close(self) -> None:
        if self._checkpointing is not None:
            import asyncio

            await asyncio.gather(self._checkpointing, return_exceptions=True)
        if self._versions is not None:
            self._versions.close()
            self._versions = None
        if self.reader is not self.conn:
            await self.reader.close()
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any error so nothing is half-done.

        SQLite failures inside the transaction come out as DatabaseError (a WarroomError); on a
        read-only database it raises ReadOnlyError before anything starts. `durable=False` (probe
        results: observations made again at the next check) commits without an fsync of its own,
        at `synchronous=NORMAL`: the commit is in the WAL, safe from any crash of a process, and on
        disk with the next durable commit or checkpoint; a power cut may take it back, never a
        durable commit (the WAL is replayed in order, so what survives is always a prefix)."""
        if self.read_only:
            raise ReadOnlyError("this session is read-only: nothing was saved")
        async with self._write_lock:
            wanted = "FULL" if durable else "NORMAL"
            if self._synchronous != wanted:  # (refused inside a transaction: set before BEGIN)
                self._synchronous = None  # not known until the PRAGMA has run
                await self.conn.execute(f"PRAGMA synchronous = {wanted}")
                self._synchronous = wanted
            for attempt in range(_LOCK_RETRIES):
                try:
                    await self.conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) and "busy" not in str(error):
                        raise DatabaseError(f"cannot write to {self.path}: {error}") from error
                    if attempt == _LOCK_RETRIES - 1:
                        raise DatabaseError(f"{self.path} stayed locked by another writer") from None
                    await pause(self.blocking, 0.05 * (attempt + 1))
                except BaseException:
                    # Cancelled while BEGIN ran (or waited) in the connection's thread: it may still
                    # open the transaction. ROLLBACK queues behind it, so nothing is left open.
                    await self.conn.rollback()
                    raise
            try:
                yield self.conn
            except sqlite3.Error as error:
                await self.conn.rollback()
                if is_damage(error):
                    raise DamagedDatabaseError(damaged_message(self.path, error)) from error
                raise DatabaseError(f"nothing was saved to {self.path}: {error}") from error
            except BaseException:
                await self.conn.rollback()
                raise
            else:
                try:
                    await self.conn.commit()
                except sqlite3.Error as error:
                    await self.conn.rollback()
                    if is_damage(error):
                        raise DamagedDatabaseError(damaged_message(self.path, error)) from error
                    raise DatabaseError(f"nothing was saved to {self.path}: {error}") from error
                for listener in list(self._commit_listeners):
                    try:
                        listener()
                    except Exception:  # a listener's problem never undoes or hides a commit
                        _log().exception("commit listener failed")
                self._checkpoint_soon()

    async def checkpoint_in_background(self) -> None:
        """From now on a commit here never copies the WAL into the file itself (SQLite's automatic
        checkpoint, done by the commit that crosses 1,000 pages: 50-200 ms at 100,000 entries,
        every hundred commits or so, an entry on screen that much later): every CHECKPOINT_EVERY
        commits a checkpoint runs in a thread, on a connection of its own, after the commit has
        returned. For a process that stays open (a war room); a short one (`warroom log`) keeps
        SQLite's own, and the last connection to close checkpoints anyway. Durability is the
        same: a commit is in the WAL, synced, before it returns."""
        if self.read_only or self._commits_to_checkpoint is not None:
            return
        await self.conn.execute("PRAGMA wal_autocheckpoint = 0")
        self._commits_to_checkpoint = CHECKPOINT_EVERY

    def _checkpoint_soon(self) -> None:
        if self._commits_to_checkpoint is None:
            return
        self._commits_to_checkpoint -= 1
        if self._commits_to_checkpoint > 0 or (self._checkpointing is not None and not self._checkpointing.done()):
            return
        self._commits_to_checkpoint = CHECKPOINT_EVERY
        import asyncio  # (only a war room asks for this: it has a loop)

        self._checkpointing = asyncio.ensure_future(asyncio.to_thread(_checkpoint, self.path))

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """The reader inside one read transaction: every read in it sees the same commit."""
        await self.reader.execute("BEGIN")
        try:
            yield self.reader
        finally:
            await self.reader.execute("ROLLBACK")

    async def backup(self, target: Path) -> None:
        """A consistent copy of the whole file at `target` (a new file), by SQLite's backup API."""
        def copy() -> None:
            source = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                destination = sqlite3.connect(target)
                try:
                    source.backup(destination)
                    destination.execute("PRAGMA journal_mode = DELETE")  # one file, nothing beside it
                finally:
                    destination.close()
            finally:
                source.close()
        await in_thread(self.blocking, copy)

    async def data_version(self) -> int:
        """Changes when any connection but the one asked commits, this process's writer included.

        Asked of a plain, query-only connection of its own, on the caller's thread: a screen asks
        20 times a second, and through aiosqlite's thread each answer cost a thread hop and a
        turn of the event loop (most of an idle war room's polling); here it is a read of the
        WAL index, microseconds. It never waits for a lock (busy timeout 0): when SQLite says
        busy, or anything else goes wrong, the answer is a number never given before (negative),
        so the caller looks at the change log rather than miss a commit."""
        try:
            if self._versions is None:
                self._versions = version_connection(self.path)
            return int(self._versions.execute("PRAGMA data_version").fetchall()[0][0])  # read to the end
        except sqlite3.Error as error:
            _log().debug("data_version not known, so it moved: %s", error)
            self._unknown_versions += 1
            return -self._unknown_versions


def _checkpoint(path: Path) -> None:
    """Copy what the WAL holds into the file, as far as readers allow (PASSIVE: nobody waits)."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as error:  # the next one, or SQLite's at the last close, does it
        _log().warning("background checkpoint of %s: %s", path, error)


async def open_sqlite(path: Path | str, *, read_only: bool = False, blocking: bool = False) -> SQLiteDatabase:
    """Open (creating with mode 0600 if needed) and migrate a warroom database; `read_only` opens
    an existing, migrated one with both connections query-only and no write ever attempted;
    `blocking`: with BlockingConnections, for use without an event loop (warroom.store.blocking).

    An existing file is first looked at read-only (store.identity): another program's file, one
    from a newer warroom, or a damaged one is refused before anything could write to it."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    if read_only:
        return await _open_read_only(path, blocking)
    if path.exists():
        if not path.is_file():  # a FIFO would block the look forever; a device is no database
            raise DatabaseError(f"{path} is not a regular file, not a database file")
        await _look(path, blocking)
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseError(f"database {path} is not readable and writable by you")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise DatabaseError(f"directory {path.parent} is not writable (SQLite needs it for its journal)")
    else:
        _create_file(path)
    try:
        conn = await _connect(path, blocking)
    except sqlite3.Error as error:
        raise DatabaseError(f"cannot open database {path}: {error}") from None
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await retry_while_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"), blocking)
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await retry_while_locked(lambda: migrate(conn, path), blocking)
    except sqlite3.DatabaseError as error:
        await conn.close()
        if is_damage(error):
            raise DamagedDatabaseError(damaged_message(path, error)) from None
        raise DatabaseError(f"cannot use database {path}: {error}") from None
    except BaseException:
        await conn.close()
        raise
    conn.row_factory = sqlite3.Row
    reader = None
    try:
        reader = await _connect(path, blocking)
        await reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await reader.execute("PRAGMA query_only = ON")
    except sqlite3.Error as error:
        if reader is not None:
            await reader.close()
        await conn.close()
        raise DatabaseError(f"cannot open database {path}: {error}") from None
    reader.row_factory = sqlite3.Row
    return SQLiteDatabase(path, conn, reader, blocking=blocking)


async def _open_read_only(path: Path, blocking: bool) -> SQLiteDatabase:
    if not path.exists():
        raise DatabaseError(f"no database at {path} (a read-only session cannot create one)")
    if not path.is_file():
        raise DatabaseError(f"{path} is not a regular file, not a database file")
    await _look(path, blocking)
    connections: list[aiosqlite.Connection] = []
    try:
        for _ in range(2):
            connection = await _connect(path, blocking)
            connections.append(connection)
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA query_only = ON")
            connection.row_factory = sqlite3.Row
        async with connections[0].execute("PRAGMA user_version") as cursor:
            version = (await cursor.fetchone())[0]
    except sqlite3.Error as error:
        for connection in connections:
            await connection.close()
        raise DatabaseError(f"cannot open database {path}: {error}") from None
    if version != SCHEMA_VERSION:
        for connection in connections:
            await connection.close()
        raise DatabaseError(f"{path} needs migrating: open it once without --read-only")
    return SQLiteDatabase(path, connections[0], connections[1], read_only=True, blocking=blocking)
