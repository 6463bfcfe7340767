"""A damaged database: saying so in one line, and `warroom recover` copying out what is readable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from warroom.domain.errors import DatabaseError
from warroom.domain.text import visible
from warroom.store.identity import DamagedDatabaseError, damaged_message, is_damage, look_at
from warroom.store.salvage import SalvageReport, salvage


def damage_error(error: BaseException, path: Path) -> DatabaseError | None:
    """The one-line error (with the way out) for a SQLite error that means `path` is damaged."""
    return DamagedDatabaseError(damaged_message(path, error)) if is_damage(error) else None


def recovered_path(source: Path) -> Path:
    """Where the copy goes when no name is given: SOURCE.recovered.db, .recovered-2.db... beside it."""
    stem = source.name[: -len(source.suffix)] if source.suffix else source.name
    candidate, number = source.with_name(f"{stem}.recovered.db"), 1
    while candidate.exists() or candidate.with_name(candidate.name + ".partial").exists():
        number += 1
        candidate = source.with_name(f"{stem}.recovered-{number}.db")
    return candidate


async def recover(source: Path | str, target: Path | str | None = None) -> SalvageReport:
    """Copy every readable row of `source` into a new warroom file (`target`, else beside it) and
    check that the copy is whole. `source` is only read."""
    source = Path(source).expanduser()
    destination = Path(target).expanduser() if target else recovered_path(source)
    report = await asyncio.to_thread(salvage, source, destination)
    await asyncio.to_thread(look_at, destination)  # the copy must itself be a sound warroom file
    return report


def report_lines(report: SalvageReport) -> list[str]:
    """What `warroom recover` prints: the new file, each table's rows and gaps, what to do next."""
    target = visible(str(report.target))
    lines = [f"Recovered into {target} (schema {report.version}):"]
    lines += [f"  {visible(table.describe())}" for table in report.tables]
    state = "everything was readable" if report.complete else "the rows listed as unreadable are lost"
    lines.append(f"{visible(str(report.source))} was not changed; {state}. Use the copy: warroom --db {target} list")
    return lines
