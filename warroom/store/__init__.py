"""Persistence for warroom: a SQLite file (aiosqlite) or a PostgreSQL server (asyncpg), behind one
interface (warroom.store.backend). Never imports textual.

The names below are warroom.store.backend's, imported when first asked for: importing a module of
this package (warroom.store.first_look, in a command's first milliseconds) loads no other."""

from __future__ import annotations

TYPE_CHECKING = False  # (typing itself is not imported yet)
if TYPE_CHECKING:
    from typing import Any

    from warroom.store.backend import Database, describe, is_server_url, open_database

__all__ = ["Database", "describe", "is_server_url", "open_database"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from warroom.store import backend

        return getattr(backend, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
