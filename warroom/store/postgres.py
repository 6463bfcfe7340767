"""A warroom database on a PostgreSQL server (asyncpg): the record a team shares from several
machines. The same interface as the SQLite one (warroom.store.backend.Database).

- Three connections: the writer (every transaction), the reader (query-only, for everything
  shown; made on first use), and the listener (LISTEN warroom_changes: every commit anywhere
  wakes the commit listeners at once, so screens refresh without polling; made when the first
  listener is added, so a one-shot command never pays for it).
- One writer at a time, as on SQLite: a transaction takes a transaction-level advisory lock first,
  so the read-then-write steps of the queries (the next entry number and hash, the next incident
  id of the day) cannot race between machines; the UNIQUE constraints hold them to it as well.
- Migrations run under a session advisory lock, one process at a time, each in a transaction
  (warroom.store.pg_migrations).
- The listener watches the server: when its connection is lost it says "reconnecting" to the
  state listeners and reconnects with backoff; when back, `generation` moves on, so followers
  reload everything. A write while the server is away fails (`DatabaseUnavailable`); nothing is
  queued.
- Session locks (`try_session_lock`) are held by the writer's connection: the server releases
  them when that connection dies, whatever happened to the process (the probe lease).
- Times: sessions run in UTC; `server_time()` is the server's clock; `clock_offset` how far this
  machine's clock is from it (measured when opened).

The password comes from `password` (the config's `password_env`), else PGPASSWORD or ~/.pgpass
(asyncpg reads them); `where` is the URL with any password masked, for every message.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator, Callable

import asyncpg

from warroom.domain.errors import DatabaseError, DatabaseUnavailable, ReadOnlyError
from warroom.domain.secrets import redact_url
from warroom.store.pg_migrations import APPLICATION, LOCK_SPACE, WRITE_LOCK, migrate, schema_version
from warroom.store.pg_schema import CHANNEL
from warroom.store.pg_session import PgSession, install_text_codec, is_connection_loss, reason_of
from warroom.store.schema import SCHEMA_VERSION

log = logging.getLogger("warroom.store.postgres")
SESSION_LOCK_SPACE = LOCK_SPACE + 1  # (SESSION_LOCK_SPACE, crc32 of the name)
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 30.0
PING_EVERY = 2.0  # the listener checks its connection this often when nothing arrives
BACKOFF_FIRST, BACKOFF_MAX = 0.1, 2.0
CONNECTED, RECONNECTING = "connected", "reconnecting"
# The server probes an idle connection after 5 s, every 2 s, and drops it after 3 unanswered: a
# laptop that vanishes from the network (lid closed, Wi-Fi gone) lets its probe lease go in about
# 11 s instead of the system's default of hours. (A process that dies closes its socket at once.)
KEEPALIVES = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}


def wall_time() -> float:
    """This machine's clock, in seconds since the epoch (what the server's is compared with)."""
    return time.time()


def session_lock_key(name: str) -> int:
    """The advisory lock number of a named session lock (the same on every machine)."""
    value = zlib.crc32(name.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


class PostgresDatabase:
    """A migrated warroom schema on a server; open it with `open_postgres`."""

    kind = "postgresql"
    pushes_changes = True  # commits anywhere call the commit listeners
    session_locks = True
    blocking = False  # a server is reached from an event loop only

    def __init__(self, url: str, *, read_only: bool = False, password: str | None = None):
        self.url, self.where = url, redact_url(url)
        self.read_only = read_only
        self._password = password
        self.writer = PgSession(lambda: self._connect(), self.where, self._writer_replaced)
        self.reader = PgSession(lambda: self._connect(read_only=True), self.where)
        self._write_lock = asyncio.Lock()
        self._commit_listeners: list[Callable[[], object]] = []
        self._state_listeners: list[Callable[[str], object]] = []
        self._revision = 0
        self.generation = 0  # moves on each time the connection to the server comes back
        self.state = CONNECTED
        self.clock_offset = 0.0  # the server's clock minus this machine's, in seconds
        self._held: dict[str, asyncpg.Connection] = {}  # session locks and the connection holding them
        self._listener: asyncpg.Connection | None = None
        self._watcher: asyncio.Task | None = None
        self._lost = asyncio.Event()
        self._closed = False

    # ---- connections -------------------------------------------------------------------------

    async def _connect(self, *, read_only: bool = False) -> asyncpg.Connection:
        settings = {"TimeZone": "UTC", "application_name": APPLICATION, **KEEPALIVES}
        if read_only or self.read_only:
            settings["default_transaction_read_only"] = "on"
        try:
            conn = await asyncpg.connect(self.url, password=self._password, timeout=CONNECT_TIMEOUT,
                                         command_timeout=COMMAND_TIMEOUT, server_settings=settings)
            try:
                await install_text_codec(conn)
            except BaseException:
                conn.terminate()
                raise
            return conn
        except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError) as error:
            raise DatabaseError(f"{self.where} refused the login: {reason_of(error)} (the password comes from "
                                "PGPASSWORD, ~/.pgpass or the config's password_env)") from None
        except asyncpg.InvalidCatalogNameError as error:
            raise DatabaseError(f"{self.where}: {reason_of(error)} (create it first: createdb)") from None
        except Exception as error:
            if is_connection_loss(error) or isinstance(error, (ValueError, asyncpg.PostgresError)):
                raise DatabaseUnavailable(f"cannot reach the database server {self.where}: {reason_of(error)}") \
                    from None
            raise

    def _writer_replaced(self, conn: asyncpg.Connection) -> None:
        self._held.clear()  # session locks went with the old connection

    async def open(self) -> None:
        """Connect, check (or migrate) the schema, measure the clock, start listening."""
        conn = await self.writer.ready()
        try:
            if self.read_only:
                version = await schema_version(conn, self.where)
                if version != SCHEMA_VERSION:
                    raise DatabaseError(f"{self.where} needs migrating: open it once without --read-only")
            else:
                await migrate(conn, self.where)
            await self._measure_clock()
        except BaseException:
            await self.close()
            raise

    def _watch_soon(self) -> None:
        """Listen from now on (the first listener asked for it; one-shot commands never do)."""
        if self._watcher is None and not self._closed:
            self._watcher = asyncio.create_task(self._watch(), name="warroom database listener")

    async def _measure_clock(self) -> None:
        before = wall_time()
        server = await self.writer.raw(lambda conn: conn.fetchval("SELECT clock_timestamp()"))
        after = wall_time()
        self.clock_offset = server.timestamp() - (before + after) / 2

    async def _listen(self) -> asyncpg.Connection:
        conn = await self._connect(read_only=True)
        lost = self._lost = asyncio.Event()  # this connection's own: an old one's end is no news
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, self._notified)
        return conn

    def _notified(self, _conn, pid: int, _channel: str, _payload: str) -> None:
        """A commit somewhere ("<incident> <part>"); our own writer's were announced already."""
        if self.writer.alive and pid == self.writer.conn.get_server_pid():
            return
        self._revision += 1
        self._announce_commit()

    async def _watch(self) -> None:
        """Keep the listener connected; say when the server is away and when it is back. Each time
        it (re)connects, followers look once (a commit may have come before LISTEN took effect);
        after a loss `generation` moves on, so they reload everything."""
        delay, lost_once = BACKOFF_FIRST, False
        while not self._closed:
            if self._listener is None or self._listener.is_closed():
                try:
                    self._listener = await self._listen()
                except (DatabaseError, OSError, asyncpg.PostgresError) as error:
                    log.info("database server still away: %s", error)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, BACKOFF_MAX)
                    continue
                delay = BACKOFF_FIRST
                if lost_once:
                    self.generation += 1
                self._revision += 1
                self._set_state(CONNECTED)
                self._announce_commit()
            try:
                await asyncio.wait_for(self._lost.wait(), PING_EVERY)
            except asyncio.TimeoutError:
                try:
                    await asyncio.wait_for(self._listener.fetchval("SELECT 1"), PING_EVERY)
                    continue
                except Exception:  # noqa: BLE001 - any failure of the ping means the connection is gone
                    pass
            if self._closed:
                return
            self._listener.terminate()
            lost_once = True
            self._set_state(RECONNECTING)
            self.writer.lost()
            self.reader.lost()

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        for listener in list(self._state_listeners):
            try:
                listener(state)
            except Exception:
                log.exception("state listener failed")

    def _announce_commit(self) -> None:
        for listener in list(self._commit_listeners):
            try:
                listener()
            except Exception:  # a listener's problem never undoes or hides a commit
                log.exception("commit listener failed")

    # ---- the interface -------------------------------------------------------------------------

    def add_commit_listener(self, listener: Callable[[], object]) -> Callable[[], None]:
        """Call `listener()` after each commit: this process's at once, anyone's through NOTIFY."""
        self._commit_listeners.append(listener)
        self._watch_soon()
        return lambda: self._commit_listeners.remove(listener) if listener in self._commit_listeners else None

    def add_state_listener(self, listener: Callable[[str], object]) -> Callable[[], None]:
        """Call `listener(state)` when the server goes away ("reconnecting") and comes back ("connected")."""
        self._state_listeners.append(listener)
        self._watch_soon()
        return lambda: self._state_listeners.remove(listener) if listener in self._state_listeners else None

    def watch_commits(self, moved: Callable[[], object], every: float) -> Callable[[], None]:
        """A server says at once (`pushes_changes`: the commit listeners): nothing to watch."""
        return lambda: None

    async def data_version(self) -> int:
        """Moves on with every commit this process hears of (no round trip: LISTEN tells)."""
        return self._revision

    async def checkpoint_in_background(self) -> None:
        """Nothing to do: the server checkpoints by itself, never in a client's commit."""

    async def server_time(self) -> datetime:
        return (await self.reader.raw(lambda conn: conn.fetchval("SELECT clock_timestamp()"))).astimezone(timezone.utc)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[PgSession]:
        """The reader inside one REPEATABLE READ transaction: every read sees the same commit."""
        session = self.reader
        conn = await session.ready()
        session.pinned = True
        try:
            await session.raw(lambda c: c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            try:
                yield session
            finally:
                await _rollback(conn)
        finally:
            session.pinned = False
            if not session.alive:
                session.lost()

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[PgSession]:
        """BEGIN, the write lock, ... COMMIT; rolls back on any error, so nothing is half-done.
        A server that is away raises DatabaseUnavailable before anything starts. `durable=False`
        (probe results) commits with `synchronous_commit = off`: the server answers before its WAL
        is flushed (within 3 x wal_writer_delay); a crash of the server may take such a commit back,
        never a durable one."""
        if self.read_only:
            raise ReadOnlyError("this session is read-only: nothing was saved")
        async with self._write_lock:
            session = self.writer
            try:
                conn = await session.ready()
            except DatabaseUnavailable as error:
                raise DatabaseUnavailable(f"nothing was saved: {error}") from None
            session.pinned = True
            try:
                try:
                    await session.raw(lambda c: c.execute("BEGIN"))
                    if not durable:
                        await session.raw(lambda c: c.execute("SET LOCAL synchronous_commit = off"))
                    await session.raw(lambda c: c.execute(f"SELECT pg_advisory_xact_lock({LOCK_SPACE}, {WRITE_LOCK})"))
                except BaseException:  # cancelled, or the server went: leave no transaction open
                    await _rollback(conn)
                    raise
                try:
                    yield session
                except BaseException as error:
                    await _rollback(conn)
                    unsaved = self._unsaved(error)
                    if unsaved is error:
                        raise
                    raise unsaved from error
                try:
                    await session.raw(lambda c: c.execute("COMMIT"))
                except DatabaseUnavailable:
                    raise DatabaseUnavailable(
                        f"the connection to {self.where} was lost while committing: this change may or may not "
                        "have been saved (the timeline shows it if it was)") from None
                except DatabaseError as error:
                    await _rollback(conn)
                    raise self._unsaved(error) from error
            finally:
                session.pinned = False
                if not session.alive:
                    session.lost()
            self._revision += 1
            self._announce_commit()

    def _unsaved(self, error: BaseException) -> BaseException:
        """What a failed transaction raises: the server's refusal as 'nothing was saved'."""
        if isinstance(error, DatabaseUnavailable) or not isinstance(error, (DatabaseError, asyncpg.PostgresError)):
            return error
        if isinstance(error, asyncpg.PostgresError) and is_connection_loss(error):
            return DatabaseUnavailable(f"lost the connection to {self.where}; nothing was saved")
        reason = _inner(error, self.where) if isinstance(error, DatabaseError) else reason_of(error)
        return DatabaseError(f"nothing was saved to {self.where}: {reason}")

    async def try_session_lock(self, name: str) -> bool:
        """Hold the lock `name` (True, also when held already), or False while another session
        holds it. The server lets it go when our connection ends, however the process ended."""
        async with self._write_lock:
            conn = await self.writer.ready()
            if self._held.get(name) is conn and not conn.is_closed():
                return True
            key = session_lock_key(name)
            got = await self.writer.raw(lambda c: c.fetchval("SELECT pg_try_advisory_lock($1, $2)",
                                                             SESSION_LOCK_SPACE, key))
            if got:
                self._held[name] = conn
            return bool(got)

    async def release_session_lock(self, name: str) -> None:
        async with self._write_lock:
            conn = self._held.pop(name, None)
            if conn is not None and conn is self.writer.conn and not conn.is_closed():
                await self.writer.raw(lambda c: c.execute("SELECT pg_advisory_unlock($1, $2)",
                                                          SESSION_LOCK_SPACE, session_lock_key(name)))

    async def session_lock_taken(self, name: str) -> bool:
        """Whether any session (this one included) holds `name` now."""
        return bool(await self.reader.raw(lambda c: c.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = $1::oid AND objid = $2::bigint::oid)",
            SESSION_LOCK_SPACE, session_lock_key(name) & 0xFFFF_FFFF)))

    async def close(self) -> None:
        self._closed = True
        self._lost.set()
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        if self._listener is not None:
            try:
                await asyncio.wait_for(self._listener.close(), 2)
            except Exception:  # noqa: BLE001 - closing what is already gone
                self._listener.terminate()
        await self.reader.close()
        await self.writer.close()


def _inner(error: DatabaseError, where: str) -> str:
    text = str(error)
    return text[len(where) + 2:] if text.startswith(f"{where}: ") else text


async def _rollback(conn: asyncpg.Connection) -> None:
    if conn.is_closed():
        return
    try:
        await conn.execute("ROLLBACK")
    except Exception:  # noqa: BLE001 - the connection died too: the server rolled it back
        conn.terminate()


async def open_postgres(url: str, *, read_only: bool = False, password: str | None = None) -> PostgresDatabase:
    """Open (migrating unless `read_only`) the warroom schema at `url`."""
    db = PostgresDatabase(url, read_only=read_only, password=password)
    await db.open()
    return db
