"""Whether a database location is a server's URL or a file's path: the stdlib alone (a plain
note on the command line asks before anything else of the store is loaded)."""

from __future__ import annotations

SERVER_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: object) -> bool:
    """Whether `location` is written as a URL (`scheme://...`), whatever the scheme: never a file's path."""
    if not isinstance(location, str):
        return False
    scheme, found, _ = location.partition("://")
    return bool(found and scheme[:1].isascii() and scheme[:1].isalpha()
                and all(c.isascii() and (c.isalnum() or c in "+.-") for c in scheme))


def is_server_url(location: object) -> bool:
    """Whether `location` names a PostgreSQL database rather than a file."""
    return isinstance(location, str) and location.lower().startswith(SERVER_SCHEMES)
