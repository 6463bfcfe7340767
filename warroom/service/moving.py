"""Moving a record between backends: `copy_incidents` (a laptop's file to the team's server
mid-incident, or the server to an offline file; again and again, without duplicates) and
`backup` (a consistent SQLite snapshot of either backend). See warroom.store.copying.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable, Iterable

from warroom.domain.errors import DatabaseError, WarroomError
from warroom.store import describe, is_server_url, open_database
from warroom.store.copying import CopyConflict, CopyReport, incident_ids, read_incident, write_incident

PasswordFor = Callable[[Path | str], str | None]


def _same_place(one: Path | str, other: Path | str) -> bool:
    if is_server_url(one) or is_server_url(other):
        return str(one) == str(other)
    return Path(one).expanduser().resolve() == Path(other).expanduser().resolve()


async def copy_incidents(source: Path | str, destination: Path | str, wanted: Iterable[str] = (), *,
                         password_for: PasswordFor = lambda _location: None) -> CopyReport:
    """Copy the `wanted` incidents (all when empty) from `source` to `destination` (created and
    migrated as needed), each in one transaction of the destination, from one snapshot of the
    source. An incident written on both sides since they parted is refused (CopyConflict) after
    the others were copied."""
    if _same_place(source, destination):
        raise WarroomError(f"{describe(source)} is both the source and the destination")
    if not is_server_url(source) and not Path(source).expanduser().is_file():
        raise DatabaseError(f"no database at {describe(source)}")
    report, refused = CopyReport(), []
    src = await open_database(source, read_only=True, password=password_for(source))
    try:
        dst = await open_database(destination, password=password_for(destination))
        try:
            async with src.snapshot() as reader:
                chosen = list(wanted) or await incident_ids(reader)
                for incident_id in chosen:
                    rows = await read_incident(reader, incident_id)
                    try:
                        async with dst.transaction() as conn:
                            await write_incident(conn, rows, dst.kind, report)
                    except CopyConflict as error:
                        refused.append(str(error))
        finally:
            await dst.close()
    finally:
        await src.close()
    if refused:
        raise CopyConflict("; ".join(refused) + _done(report))
    return report


def _done(report: CopyReport) -> str:
    if not report.outcomes:
        return ""
    return f" (the others were copied: {', '.join(sorted(report.outcomes))})"


async def backup(source: Path | str, target: Path, *, password: str | None = None) -> int:
    """Write a new SQLite file at `target` holding everything of `source` at one moment (SQLite's
    backup API for a file; one REPEATABLE READ snapshot of a server). Refuses a `target` that
    exists (a file that is not ours is never touched). Returns the number of incidents."""
    target = Path(target).expanduser()
    if target.exists() or target.is_symlink():
        raise WarroomError(f"{target} exists: a backup is written to a new file")
    if not is_server_url(source) and _same_place(source, target):
        raise WarroomError(f"{target} is the database itself")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
    except OSError as error:
        raise WarroomError(f"cannot write {target}: {error.strerror}") from None
    os.close(fd)
    try:
        src = await open_database(source, read_only=True, password=password)
        try:
            if src.kind == "sqlite":
                partial.unlink()
                await src.backup(partial)
                os.chmod(partial, stat.S_IRUSR | stat.S_IWUSR)
            else:
                dst = await open_database(partial)
                try:
                    async with src.snapshot() as reader:
                        for incident_id in await incident_ids(reader):
                            rows = await read_incident(reader, incident_id)
                            async with dst.transaction() as conn:
                                await write_incident(conn, rows, dst.kind, CopyReport())
                finally:
                    await dst.close()
            check = await open_database(partial, read_only=True)
            try:
                async with check.snapshot() as reader:
                    count = len(await incident_ids(reader))
            finally:
                await check.close()
        finally:
            await src.close()
        for leftover in (Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        os.link(partial, target)  # fails, rather than replaces, if the name was taken meanwhile
    except FileExistsError:
        raise WarroomError(f"{target} appeared while the backup was written; it is left alone") from None
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm"), Path(f"{partial}-journal")):
            leftover.unlink(missing_ok=True)
    return count
