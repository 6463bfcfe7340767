"""`warroom copy SRC DST` and `warroom backup FILE`: moving a record between a SQLite file and a
PostgreSQL server (warroom.service.moving). `warroom.cli` registers them; they receive its
context object through click.pass_obj."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from warroom.domain.text import visible


def _location(value: str) -> Path | str:
    from warroom.store import is_server_url

    return value if is_server_url(value) else Path(value).expanduser()


@click.command(name="copy")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@click.option("--incident", "incident_ids", multiple=True, metavar="ID", help="Copy only this incident (repeatable).")
@click.pass_obj
def copy_command(obj, source: str, destination: str, incident_ids: tuple[str, ...]) -> None:
    """Copy incidents (every one, or --incident ID) from SRC to DST, each a file path or a
    postgresql:// URL: from a laptop's file to the team's server, or back for an offline copy.
    Copying again brings DST up to date without duplicating anything."""
    from warroom.service.config import database_password
    from warroom.service.moving import copy_incidents
    from warroom.store import describe

    config = obj.config
    report = asyncio.run(copy_incidents(_location(source), _location(destination), incident_ids,
                                        password_for=lambda where: database_password(config, where)))
    for incident_id, outcome in report.outcomes.items():
        click.echo(visible(f"{incident_id}: {outcome}"))
    click.echo(visible(f"{len(report.outcomes)} incidents to {describe(_location(destination))}, "
                       f"{report.entries_added} new entries"), err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def backup(obj, file: str) -> None:
    """Write a consistent SQLite snapshot of the database (a file or a server) to the new FILE."""
    from warroom.service.config import database_password
    from warroom.service.moving import backup as write_backup

    database = obj.database()
    count = asyncio.run(write_backup(database, Path(file), password=database_password(obj.config, database)))
    click.echo(visible(f"{file}: {count} incidents"))


COMMANDS = (copy_command, backup)
