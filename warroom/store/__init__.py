"""Persistence for warroom: a SQLite file (aiosqlite) or a PostgreSQL server (asyncpg), behind one
interface (warroom.store.backend). Never imports textual."""

from warroom.store.backend import Database, describe, is_server_url, open_database

__all__ = ["Database", "describe", "is_server_url", "open_database"]
