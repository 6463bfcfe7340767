"""SQLite persistence for warroom (aiosqlite). Never imports textual."""

from warroom.store.database import Database, open_database

__all__ = ["Database", "open_database"]
