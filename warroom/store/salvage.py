"""Copying everything readable out of a damaged warroom database into a new file.

Like the sqlite3 shell's `.recover`, in spirit: the damaged file is only read (through the same
read-only look as store.identity, so not even a -shm is left beside it), and the new file gets the
same schema, version and application id. Each table is read in rowid order; where a damaged page
stops the read, the next readable rowid is found by probing further and further ahead (then back,
by bisection) and the copy goes on from there, so one bad page costs the rows on that page only.
Rows that no longer satisfy their table's constraints are left out and counted.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from warroom.domain.errors import DatabaseError
from warroom.store.identity import APPLICATION_ID, fingerprint, known_fingerprints, read_only_uri

_BATCH = 500
_FAR = 1 << 62


@dataclass(slots=True)
class TableSalvage:
    """What was copied from one table: rows, rowid ranges that could not be read, rows refused."""

    name: str
    copied: int = 0
    unreadable: list[tuple[int, int]] = field(default_factory=list)  # inclusive rowid ranges
    refused: int = 0  # read, but no longer valid for the table (a NOT NULL or UNIQUE broken by damage)

    def describe(self) -> str:
        text = f"{self.name}: {self.copied} row{'s' if self.copied != 1 else ''}"
        gaps = []
        for low, high in self.unreadable:
            first = "the first" if low <= -_FAR else str(low)
            gaps.append(f"{first} on" if high >= _FAR - 1 else first if high == low else f"{first}-{high}")
        if gaps:
            text += f", unreadable rowids {', '.join(gaps)}"
        if self.refused:
            text += f", {self.refused} damaged row(s) left out"
        return text


@dataclass(slots=True)
class SalvageReport:
    source: Path
    target: Path
    version: int
    tables: list[TableSalvage]

    @property
    def complete(self) -> bool:
        return not any(table.unreadable or table.refused for table in self.tables)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _next_readable(src: sqlite3.Connection, select: str, after: int) -> int | None:
    """The smallest rowid > `after` from which reading rows works again; None when nothing further
    does. Whole rows are read: a damaged page can still answer a seek, with made-up rowids."""

    def readable(start: int) -> bool:
        try:
            src.execute(select + " LIMIT 2", (start,)).fetchall()
            return True
        except sqlite3.DatabaseError:
            return False

    step, good = 1, None
    while after + step < _FAR:
        if readable(after + step):
            good = after + step
            break
        step *= 2
    if good is None or step == 1:
        return good
    low, high = after + step // 2 + 1, good  # after + step // 2 was the last probe that failed
    while low < high:
        middle = (low + high) // 2
        if readable(middle):
            high = middle
        else:
            low = middle + 1
    return high


def _copy_table(src: sqlite3.Connection, dst: sqlite3.Connection, name: str, columns: list[str]) -> TableSalvage:
    report = TableSalvage(name)
    table = _quote(name)
    listed = ", ".join(_quote(column) for column in columns)
    insert = (f"INSERT OR IGNORE INTO {table} (rowid, {listed}) "
              f"VALUES ({', '.join('?' * (len(columns) + 1))})")
    select = f"SELECT rowid, {listed} FROM {table} WHERE rowid >= ? ORDER BY rowid"
    start = -_FAR
    while True:
        batch: list[tuple] = []
        failed, last = False, None
        try:
            for row in src.execute(select, (start,)):
                if last is not None and row[0] <= last:
                    raise sqlite3.DatabaseError("rowids out of order")  # a page that lies
                if last is None and report.unreadable and report.unreadable[-1][1] == start - 1 < row[0] - 1:
                    report.unreadable[-1] = (report.unreadable[-1][0], row[0] - 1)  # the gap ran up to here
                batch.append(row)
                last = row[0]
                if len(batch) >= _BATCH:
                    report.copied += _insert(dst, insert, batch, report)
                    batch = []
        except sqlite3.DatabaseError:
            failed = True
        report.copied += _insert(dst, insert, batch, report)
        if not failed:
            if last is None and report.unreadable and report.unreadable[-1][1] == start - 1:
                report.unreadable[-1] = (report.unreadable[-1][0], _FAR - 1)  # nothing readable after the gap
            return report
        gap = last + 1 if last is not None else start  # the first rowid that could not be read
        resume = _next_readable(src, select, gap)
        end = resume if resume is not None else _FAR
        # Rows just below `resume` may sit on a sound page that a forward seek cannot reach.
        below = _read_backwards(src, f"SELECT rowid, {listed} FROM {table} WHERE rowid < ? AND rowid >= ?"
                                     " ORDER BY rowid DESC", end, gap)
        report.copied += _insert(dst, insert, below, report)
        top = below[-1][0] - 1 if below else end - 1
        if top >= gap:
            report.unreadable.append((gap, top if resume is not None or below else _FAR - 1))
        if resume is None:
            return report
        start = resume


def _read_backwards(src: sqlite3.Connection, select: str, below: int, floor: int) -> list[tuple]:
    """Rows from `below` - 1 down towards `floor`, until the first that cannot be read."""
    rows: list[tuple] = []
    try:
        for row in src.execute(select, (below, floor)):
            if rows and row[0] >= rows[-1][0]:
                break
            rows.append(row)
    except sqlite3.DatabaseError:
        pass
    return rows


def _insert(dst: sqlite3.Connection, insert: str, rows: list[tuple], report: TableSalvage) -> int:
    if not rows:
        return 0
    before = dst.total_changes
    dst.executemany(insert, rows)
    written = dst.total_changes - before
    report.refused += len(rows) - written
    return written


def _create(path: Path) -> None:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise DatabaseError(f"{path} already exists; name a new file for the recovered copy") from None
    except OSError as error:
        raise DatabaseError(f"cannot create {path}: {error.strerror}") from None
    os.fchmod(fd, 0o600)  # whatever the umask
    os.close(fd)


def salvage(source: Path, target: Path) -> SalvageReport:
    """Copy every readable row of warroom database `source` into the new file `target`.

    `source` is never written. `target` must not exist; it appears only when complete."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise DatabaseError(f"{source} is not a file")
    if target.exists():
        raise DatabaseError(f"{target} already exists; name a new file for the recovered copy")
    try:
        src = sqlite3.connect(read_only_uri(source), uri=True)
        src.execute("PRAGMA writable_schema = ON")  # lets a truncated file open (nothing is written)
    except (sqlite3.Error, OSError) as error:
        raise DatabaseError(f"cannot read {source}: {error}") from None
    partial = target.with_name(target.name + ".partial")
    try:
        try:
            application_id = src.execute("PRAGMA application_id").fetchone()[0]
            version = src.execute("PRAGMA user_version").fetchone()[0]
            objects = src.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                                  " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").fetchall()
            ours = application_id == APPLICATION_ID or known_fingerprints().get(version) == fingerprint(src)
        except sqlite3.DatabaseError as error:
            raise DatabaseError(f"{source}: nothing can be recovered, its schema is unreadable ({error})") from None
        if not ours:
            raise DatabaseError(f"{source} is not a warroom database; `warroom recover` copies only warroom's own")
        _create(partial)
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            dst.execute("BEGIN")
            tables = []
            for kind, name, sql in objects:
                if kind == "table":
                    dst.execute(sql)
            for kind, name, sql in objects:
                if kind == "table":
                    columns = [row[0] for row in dst.execute("SELECT name FROM pragma_table_info(?)", (name,))]
                    tables.append(_copy_table(src, dst, name, columns))
            for kind, name, sql in objects:
                if kind in ("index", "trigger", "view"):
                    dst.execute(sql)
            dst.execute(f"PRAGMA user_version = {int(version)}")
            dst.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            dst.execute("COMMIT")
            dst.execute("VACUUM")  # the schema rows made after the data move back to the front
        finally:
            dst.close()
        try:
            os.link(partial, target)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise DatabaseError(f"{target} already exists; name a new file for the recovered copy") from None
        return SalvageReport(source, target, version, tables)
    finally:
        src.close()
        partial.unlink(missing_ok=True)
