"""Commands for learning from incidents: `verify` (the hash chain), `run`, `log-command` and
`shell-hook` (captured commands), `stats` (numbers across incidents). `warroom.cli` registers them;
they receive its context object through click.pass_obj."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from warroom.domain.errors import WarroomError
from warroom.domain.text import visible

EXIT_BROKEN = 1


def _echo(line: str) -> None:
    click.echo(visible(line))


@click.command()
@click.argument("incident_id", metavar="[ID]", required=False)
@click.option("--export", "export_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Check the chain carried by a JSON export instead of the database.")
@click.option("--head", metavar="HASH", help="Also check that the record still holds this chain head "
              "(from a report or an earlier export; 12+ characters).")
@click.pass_obj
def verify(obj, incident_id: str | None, export_file: str | None, head: str | None) -> None:
    """Check the hash chain of incident ID (every incident without ID); exit 1 names the first
    entry that does not match."""
    from warroom.domain.chain import verify_export

    if export_file:
        reports = [verify_export(_read_export(export_file), export_file)]
        if incident_id and reports[0].incident_id != incident_id:
            raise WarroomError(f"{export_file} is an export of {reports[0].incident_id}, not {incident_id}")
    else:
        async def work(service):
            ids = [incident_id] if incident_id else [i.id for i in await service.incidents(include_closed=True)]
            return [await service.verify(one) for one in ids]

        reports = obj.run(work)
        if not reports:
            click.echo("No incidents.")
    if head and len(reports) != 1:
        raise WarroomError("--head needs one incident: name its ID")
    broken = False
    for report in reports:
        if not report.intact:
            broken = True
            _echo(f"{report.incident_id}: BROKEN at entry #{report.number}: {report.problem}"
                  if report.number else f"{report.incident_id}: BROKEN: {report.problem}")
            continue
        _echo(f"{report.incident_id}: intact, {report.entries} entries, head {report.head or '(no entries)'}")
        if head:
            position = report.position_of(head)
            if position is None:
                broken = True
                _echo(f"{report.incident_id}: BROKEN: head {head} is not in the chain (the record before it "
                      "was changed, or it is not this incident's)")
            else:
                grown = report.entries - position
                _echo(f"{report.incident_id}: head {head} is entry #{position}"
                      + (f"; {grown} entries were added after it" if grown else "; nothing was added after it"))
    if broken:
        sys.exit(EXIT_BROKEN)


def _read_export(path: str) -> object:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise WarroomError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise WarroomError(f"{path}: not JSON: {error}") from None


COMMANDS = (verify,)
