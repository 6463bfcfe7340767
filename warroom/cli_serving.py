"""Commands that keep running: the war room for an incident (`open`; `warroom` alone opens it too),
the demo war room (`demo`), the war room served to browsers (`serve`) and the alert webhook
intake (`intake`). `warroom.cli` registers them; they receive its CliContext."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from warroom.cli_context import CliContext, pass_context
from warroom.domain.errors import WarroomError


def open_ui(obj: CliContext, incident_id: str | None) -> None:
    from warroom.ui.launch import launch

    launch(obj, incident_id=incident_id)


@click.command(name="open")
@click.argument("incident_id", metavar="ID")
@pass_context
def open_command(obj: CliContext, incident_id: str) -> None:
    """Open the war room for incident ID."""
    open_ui(obj, incident_id)


@click.command()
@click.option("--print", "print_only", is_flag=True, help="Seed the demo database and print it instead of opening the UI.")
@pass_context
def demo(obj: CliContext, print_only: bool) -> None:
    """Open the war room on a fresh demo incident (temporary database, removed when it closes)."""
    import asyncio

    from warroom.service.demo import seed_demo_database

    chosen = obj.db_option
    path, incident_id = asyncio.run(seed_demo_database(chosen))
    obj.db_option = str(path)
    if print_only:  # without it the UI opens, also when stdout is not a terminal (a browser session)
        from warroom.domain.report import plain_summary

        click.echo(obj.run(lambda s: _summary(s, incident_id, plain_summary)))
        click.echo(f"\nDemo database: {path}")
        return
    from warroom.ui.launch import launch_demo

    launch_demo(obj, path, incident_id, temporary=not chosen)  # never remove a --db the user chose


async def _summary(service, incident_id, render):
    return render(await service.record(incident_id), service.now())


@click.command()
@click.option("--people", "people_file", required=True, envvar="WARROOM_PEOPLE", metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Who may sign in: [[person]] name, token_env or token, read_only ($WARROOM_PEOPLE).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDR",
              help="Address to listen on; anything but loopback warns unless TLS is on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any free one).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="FILE",
              help="TLS certificate chain (PEM); with --tls-key, serves https and wss.")
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="FILE",
              help="TLS private key (PEM).")
@click.option("--max-sessions", default=8, show_default=True, type=click.IntRange(1, 1000), metavar="N",
              help="Browser tabs open at once (each runs one war-room process, about 58 MB).")
@click.option("--session-hours", default=12.0, show_default=True, type=click.FloatRange(0.1, 24 * 14), metavar="H",
              help="How long a sign-in lasts.")
@click.option("--public-url", "public_urls", multiple=True, metavar="URL",
              help="An address browsers use to reach this server (a name, a TLS proxy); repeatable.")
@click.option("--incident", "incident_id", metavar="ID", help="Open incident ID in every session (default: the only open one, or a picker).")
@pass_context
def serve(obj: CliContext, people_file: Path, host: str, port: int, tls_cert: Path | None, tls_key: Path | None,
          max_sessions: int, session_hours: float, public_urls: tuple[str, ...], incident_id: str | None) -> None:
    """Serve the war room to browsers: a sign-in per person, each tab signing entries with its person's name.

    Listens on 127.0.0.1 unless --host says otherwise. People marked read_only get a war room that
    cannot write. Tokens are never logged or shown; the sign-in form keeps them out of URLs.
    """
    from warroom.ui.launch import serve as serve_war_room

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    for url in public_urls:
        if not url.startswith(("http://", "https://")):
            raise click.UsageError(f"--public-url {url!r} is not an http(s) URL")
    if obj.read_only:
        raise click.UsageError("--read-only is per person in `warroom serve`: mark them read_only in the people file")
    serve_war_room(obj, people_file, incident_id, host=host, port=port, tls_cert=tls_cert, tls_key=tls_key,
                   max_sessions=max_sessions, session_hours=session_hours, public_urls=list(public_urls))


@click.command()
@click.option("--listen", metavar="HOST", help="Address to bind (default: config intake.listen, 127.0.0.1).")
@click.option("--port", type=int, metavar="N", help="Port (default: config intake.port, 9095; 0: any free one).")
@pass_context
def intake(obj: CliContext, listen: str | None, port: int | None) -> None:
    """Take alert webhooks (Alertmanager, Grafana, generic JSON) until Ctrl+C."""
    from warroom.service.config import resolve_updates_dir
    from warroom.service.intake import is_loopback, run_intake

    settings = obj.config.intake
    token = os.environ.get(settings.token_env, "").strip()
    if not token:
        raise WarroomError(f"set {settings.token_env} to the bearer token alert senders must give "
                           "(see README: Alerts in)")
    host = listen or settings.listen
    if not is_loopback(host):
        click.echo(f"warroom: warning: listening on {host}, beyond this machine; the intake speaks plain "
                   "HTTP, so put a TLS proxy in front of it", err=True)

    def say(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    obj.run(lambda service: run_intake(service, obj.config, host=host, port=settings.port if port is None else port,
                                       token=token, updates_dir=resolve_updates_dir(obj.config, obj.database()),
                                       say=say))


COMMANDS = (open_command, demo, serve, intake)
