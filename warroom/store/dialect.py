"""The one set of queries, spoken to PostgreSQL: the few places where its SQL differs from SQLite's.

warroom's queries are written once, in the SQL both engines share (`?` placeholders, `ON CONFLICT`
upserts, `RETURNING`, `IS DISTINCT FROM`, `COALESCE`...; JSON is read in Python, since
PostgreSQL's JSON cannot read a document holding \u0000). `to_postgres` turns the rest into
PostgreSQL's form, by rule, once per statement text (cached):

- `?` placeholders become `$1`, `$2`... (outside quoted text);
- `LIKE` becomes `ILIKE`: SQLite's LIKE ignores case, PostgreSQL's does not;
- SQLite's index hint, a unary `+` before a column name (`AND +incident_id = ?`), is dropped;
- an empty list, which SQLite accepts (`kind IN ()` is false, `NOT IN ()` true), becomes
  `= ANY('{}')` or `<> ALL('{}')`, which say the same.

What truly differs (schema, triggers, PRAGMA equivalents, locks) lives in warroom.store.pg_schema
and warroom.store.postgres.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LIKE = re.compile(r"\bLIKE\b")
_INDEX_HINT = re.compile(r"(?<=[\s(])\+(?=[A-Za-z_])")
_EMPTY_NOT_IN = re.compile(r"\bNOT\s+IN\s*\(\s*\)", re.IGNORECASE)
_EMPTY_IN = re.compile(r"\bIN\s*\(\s*\)", re.IGNORECASE)
_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|SHOW)\b|\bRETURNING\b", re.IGNORECASE)


def _outside_quotes(sql: str, change) -> str:
    """Apply `change` to the parts of `sql` that are not inside '...' or "..." quotes."""
    parts, start, quote = [], 0, None
    for index, char in enumerate(sql):
        if quote is None and char in "'\"":
            parts.append(change(sql[start:index]))
            start, quote = index, char
        elif char == quote:
            parts.append(sql[start:index + 1])
            start, quote = index + 1, None
    parts.append(change(sql[start:]) if quote is None else sql[start:])
    return "".join(parts)


def _numbered(sql: str) -> str:
    count = 0

    def number(piece: str) -> str:
        nonlocal count
        out = []
        for char in piece:
            if char == "?":
                count += 1
                out.append(f"${count}")
            else:
                out.append(char)
        return "".join(out)

    return _outside_quotes(sql, number)


def _rewrite(piece: str) -> str:
    piece = _INDEX_HINT.sub("", _LIKE.sub("ILIKE", piece))
    return _EMPTY_IN.sub("= ANY('{}')", _EMPTY_NOT_IN.sub("<> ALL('{}')", piece))


@lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """The PostgreSQL form of one of warroom's statements (see the module docstring)."""
    sql = _outside_quotes(sql, _rewrite)
    return _numbered(sql)


def returns_rows(sql: str) -> bool:
    """Whether the statement hands back rows (a query, or a write with RETURNING)."""
    return _ROWS.search(sql) is not None
