"""Whether a database location is a server's URL or a file's path: the stdlib alone (a plain
note on the command line asks before anything else of the store is loaded)."""

from __future__ import annotations

SERVER_SCHEMES = ("postgresql://", "postgres://")


def is_server_url(location: object) -> bool:
    """Whether `location` names a PostgreSQL database rather than a file."""
    return isinstance(location, str) and location.lower().startswith(SERVER_SCHEMES)
