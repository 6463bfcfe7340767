"""SQLite without an event loop, for a command-line process that has nothing else to do while a
statement runs (`warroom log`, the shell hook's `log-command`, `show`, `export`).

`BlockingConnection` runs each statement at once in the calling thread behind the part of
aiosqlite's interface the queries use (`execute`, awaited or with `async with`, giving a cursor
with `fetchone`, `fetchall`, `rowcount`, `row_factory`; `execute_fetchall`, `executemany`, `commit`,
`rollback`, `close`), so the same query and service code runs on it. Its coroutines never wait,
and `run_to_end` runs such a coroutine to its end without an event loop, or asyncio.
`in_thread` and `pause` are the store's two steps that differ with and without a loop.
"""

from __future__ import annotations

import sqlite3
import time

TYPE_CHECKING = False  # (typing is not imported on a plain note's path)
if TYPE_CHECKING:
    from typing import Any, Callable, Coroutine, Iterable, Sequence, TypeVar

    T = TypeVar("T")


def run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of `coroutine`, which awaits nothing but blocking connections (its exception,
    if it raises). One that waits for anything else is a bug: RuntimeError."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("a coroutine run without an event loop waited for something")


class NoWaitLock:
    """An asyncio.Lock's place where nothing ever waits (no event loop: one coroutine at a time), so
    taking it while it is held is a bug, raised, not a wait that never ends."""

    held = False

    async def __aenter__(self) -> None:
        if self.held:
            raise RuntimeError("a lock taken without an event loop is already held")
        self.held = True

    async def __aexit__(self, *exc) -> None:
        self.held = False


class BlockingCursor:
    """The cursor of one statement that already ran."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def row_factory(self):
        return self._cursor.row_factory

    @row_factory.setter
    def row_factory(self, factory) -> None:
        """What the rows fetched next are made with (None: tuples), as a sqlite3 cursor's."""
        self._cursor.row_factory = factory

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aenter__(self) -> "BlockingCursor":
        return self

    async def __aexit__(self, *exc) -> None:
        self._cursor.close()


class _Statement:
    """What `execute` returns: await it, or `async with` it, for the cursor (run then, as aiosqlite does)."""

    __slots__ = ("_run",)

    def __init__(self, run):
        self._run = run

    def __await__(self):
        return self._run()
        yield  # a generator that returns at once: awaiting never waits

    async def __aenter__(self) -> BlockingCursor:
        return self._run()

    async def __aexit__(self, *exc) -> None:
        pass


class BlockingConnection:
    """A sqlite3 connection speaking aiosqlite's interface, each call done before it returns."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection  # the sqlite3 connection itself

    @classmethod
    def connect(cls, path, **options) -> "BlockingConnection":
        return cls(sqlite3.connect(path, **options))

    @property
    def row_factory(self):
        return self.connection.row_factory

    @row_factory.setter
    def row_factory(self, factory) -> None:
        self.connection.row_factory = factory

    @property
    def total_changes(self) -> int:
        return self.connection.total_changes

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Statement:
        return _Statement(lambda: BlockingCursor(self.connection.execute(sql, () if parameters is None else parameters)))

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] | None = None) -> list:
        return self.connection.execute(sql, () if parameters is None else parameters).fetchall()

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> BlockingCursor:
        return BlockingCursor(self.connection.executemany(sql, rows))

    async def commit(self) -> None:
        self.connection.commit()

    async def rollback(self) -> None:
        self.connection.rollback()

    async def close(self) -> None:
        self.connection.close()


async def in_thread(blocking: bool, function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` off the event loop; without one (`blocking`), here and now."""
    if blocking:
        return function(*args)
    import asyncio

    return await asyncio.to_thread(function, *args)


async def pause(blocking: bool, seconds: float) -> None:
    """Sleep `seconds`: on the event loop, or without one (`blocking`) in this thread."""
    if blocking:
        time.sleep(seconds)
    else:
        import asyncio

        await asyncio.sleep(seconds)
