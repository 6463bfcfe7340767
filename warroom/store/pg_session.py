"""One PostgreSQL connection as the queries see a connection: `execute(sql, params)` (awaited, or
used with `async with`) gives a cursor with `fetchone`, `fetchall`, `rowcount`; `executemany`.
It is the small part of aiosqlite's connection that warroom's queries use, so the same query
functions run on both backends; statements go through warroom.store.dialect on the way.

Statements on one session run one at a time (asyncpg refuses overlapping ones). A session whose
connection broke reconnects on its next use, outside a transaction only: within one, every
statement must run on the connection that began it, so a lost connection fails the transaction.
A lost server is `DatabaseUnavailable`; PostgreSQL refusing a statement is `DatabaseError`.

PostgreSQL text cannot hold NUL, which SQLite keeps (and a paste may carry). `install_text_codec`
makes every text value travel escaped: NUL as U+FFFF "0", U+FFFF itself doubled (a noncharacter,
so real text almost never pays). Values read come back exactly as written; LIKE still finds them.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterable, Sequence

import asyncpg

from warroom.domain.errors import DatabaseError, DatabaseUnavailable
from warroom.store.dialect import returns_rows, to_postgres

_ESCAPE = "\uffff"
_LOST = (OSError, asyncio.TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
         asyncpg.exceptions.OperatorInterventionError)


def is_connection_loss(error: BaseException) -> bool:
    """Whether an error means the server or the connection went away (not a refused statement)."""
    return isinstance(error, _LOST) and not isinstance(error, asyncpg.exceptions.QueryCanceledError)


def reason_of(error: BaseException) -> str:
    """A short reason for a failure, without anything from the connection string."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


def to_server_text(text: str) -> str:
    """`text` as PostgreSQL can hold it (see the module docstring)."""
    if "\x00" not in text and _ESCAPE not in text:
        return text
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("\x00", _ESCAPE + "0")


def from_server_text(text: str) -> str:
    """The text `to_server_text` was given."""
    if _ESCAPE not in text:
        return text
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == _ESCAPE and index + 1 < len(text):
            out.append("\x00" if text[index + 1] == "0" else text[index + 1])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


async def install_text_codec(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("text", encoder=to_server_text, decoder=from_server_text, schema="pg_catalog",
                              format="text")


class PgCursor:
    """The rows of one statement (all fetched), and how many rows it touched."""

    row_factory = None  # what a reader may set, as on a sqlite3 cursor: asyncpg's Records are indexable as they are

    def __init__(self, rows: list, rowcount: int):
        self._rows, self.rowcount = rows, rowcount
        self._next = 0

    async def fetchone(self):
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> "PgCursor":
        return self

    async def __aexit__(self, *exc) -> None:
        pass


class _Statement:
    """What `execute` returns: await it, or `async with` it, for the cursor."""

    def __init__(self, run: Awaitable[PgCursor]):
        self._run = run

    def __await__(self):
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(self, *exc) -> None:
        pass


def _count(status: str) -> int:
    last = status.rsplit(" ", 1)[-1] if status else ""
    return int(last) if last.isdigit() else 0


class PgSession:
    """A lazily (re)connected asyncpg connection speaking warroom's SQL."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], where: str,
                 on_new_connection: Callable[[asyncpg.Connection], object] | None = None):
        self._connect, self.where = connect, where
        self._on_new = on_new_connection
        self.conn: asyncpg.Connection | None = None
        self.pinned = False  # inside a transaction: never reconnect under it
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self.conn is not None and not self.conn.is_closed()

    async def ready(self) -> asyncpg.Connection:
        """The connection, made again if it was lost (outside a transaction)."""
        if self.alive:
            return self.conn
        if self.pinned:
            raise DatabaseUnavailable(f"the connection to {self.where} was lost; nothing was saved")
        if self.conn is not None:
            self.conn.terminate()
            self.conn = None
        self.conn = await self._connect()
        if self._on_new is not None:
            self._on_new(self.conn)
        return self.conn

    def lost(self) -> None:
        """Forget a connection that failed (the next use outside a transaction reconnects)."""
        if self.conn is not None and not self.pinned:
            self.conn.terminate()
            self.conn = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Statement:
        return _Statement(self._run(sql, tuple(params)))

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list:
        """Every row of one statement, read in one step (aiosqlite's call of the same name)."""
        return await (await self._run(sql, tuple(params))).fetchall()

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(row) for row in rows]
        if rows:
            await self._call(lambda conn: conn.executemany(to_postgres(sql), rows))

    async def _run(self, sql: str, params: tuple) -> PgCursor:
        text = to_postgres(sql)
        if returns_rows(text):
            rows = await self._call(lambda conn: conn.fetch(text, *params))
            return PgCursor(rows, len(rows))
        status = await self._call(lambda conn: conn.execute(text, *params))
        return PgCursor([], _count(status))

    async def _call(self, step: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
        async with self._lock:
            conn = await self.ready()
            try:
                return await step(conn)
            except asyncpg.PostgresError as error:
                if is_connection_loss(error):
                    self.lost()
                    raise DatabaseUnavailable(f"lost the connection to {self.where}: {reason_of(error)}") from None
                raise DatabaseError(f"{self.where}: {reason_of(error)}") from error
            except _LOST as error:
                self.lost()
                raise DatabaseUnavailable(f"lost the connection to {self.where}: {reason_of(error)}") from None

    async def raw(self, step: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
        """Run `step(connection)` with the same care (for what is not a warroom query)."""
        return await self._call(step)

    async def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:  # a server that is gone cannot say goodbye
                conn.terminate()
