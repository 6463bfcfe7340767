"""The `warroom` command line: scripting commands plus the entry points of the war-room screen.

Exit codes: 0 success, 2 usage/config/input errors (one line on stderr), 1 anything else.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import click

from warroom.domain.errors import WarroomError
from warroom.domain.text import inert_json

EXIT_USAGE = 2


class _Context:
    def __init__(self, db: str | None, user: str | None, theme: str | None):
        self.db_option, self.user_option, self.theme_option = db, user, theme
        self._config = None
        self._policies = None

    @property
    def config(self):
        if self._config is None:
            from warroom.service.config import load_config

            self._config = load_config()
        return self._config

    def user(self, override: str | None = None) -> str:
        from warroom.service.config import resolve_user

        return resolve_user(override or self.user_option, self.config)

    def database(self) -> Path:
        from warroom.service.config import resolve_database

        return resolve_database(self.db_option, self.config)

    def policies(self):
        """The packaged policies and the user's own (loaded once per command)."""
        if self._policies is None:
            from warroom.domain.policy import PolicyBook
            from warroom.service.config import user_policy_dir

            self._policies = PolicyBook.load(user_policy_dir())
        return self._policies

    async def open_service(self):
        """The application layer on this context's database, policies and default policy."""
        from warroom.service import IncidentService

        return await IncidentService.open(self.database(), self.policies(), default_policy=self.config.default_policy)

    def run(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """Open the service, run `work(service)`, close it."""
        self.policies()  # a broken policy file is reported before the database is touched

        async def main() -> Any:
            service = await self.open_service()
            try:
                return await work(service)
            finally:
                await service.close()

        return asyncio.run(main())


pass_context = click.make_pass_decorator(_Context)
as_option = click.option("--as", "as_user", metavar="NAME", help="Who is writing (default: config, $WARROOM_USER, login).")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH", help="Database file (default: $WARROOM_DB, config, user data dir).")
@click.option("--as", "as_user", metavar="NAME", help="Who is typing (default: config, $WARROOM_USER, login).")
@click.option("--theme", metavar="NAME", help="UI theme (warroom-dark, warroom-light, warroom-contrast...).")
@click.option("--probes", "probes_file", metavar="FILE", type=click.Path(dir_okay=False), help="Probe definitions (TOML).")
@click.version_option(package_name="warroom")
@click.pass_context
def cli(ctx: click.Context, db: str | None, as_user: str | None, theme: str | None, probes_file: str | None) -> None:
    """warroom: a terminal war room for production incidents.

    Without a command, opens the war room for the only open incident, or a picker.
    """
    ctx.obj = _Context(db, as_user, theme)
    ctx.obj.probes_option = probes_file
    if ctx.invoked_subcommand is None:
        _open_ui(ctx.obj, incident_id=None)


@cli.command()
@click.argument("title")
@click.option("--severity", "-s", required=True, metavar="S", help="Severity id or alias from the policy.")
@click.option("--policy", "-p", "policy_id", metavar="P", help="Policy id (see `warroom policies`).")
@click.option("--commander", metavar="NAME", help="Seat this person as Incident Commander.")
@click.option("--service", "services", multiple=True, metavar="NAME", help="An affected service (repeatable).")
@click.option("--impact", default="", metavar="TEXT", help="One-line impact summary.")
@as_option
@pass_context
def declare(obj: _Context, title: str, severity: str, policy_id: str | None, commander: str | None,
            services: tuple[str, ...], impact: str, as_user: str | None) -> None:
    """Declare a new incident; prints only its id."""
    author = obj.user(as_user)
    incident = obj.run(lambda s: s.declare(title, severity, author=author, policy_id=policy_id,
                                           commander=commander, services=services, impact=impact))
    click.echo(incident.id)


# TEXT may start with a dash (`-1h /impact`): no short options here, or click would take the `h`
# of "-1h" for -h and print help instead of recording the entry.
@cli.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]})
@click.argument("incident_id", metavar="ID")
@click.argument("text", nargs=-1, required=True, type=click.UNPROCESSED)
@as_option
@pass_context
def log(obj: _Context, incident_id: str, text: tuple[str, ...], as_user: str | None) -> None:
    """Add TEXT to the timeline (any entry-bar command works); prints only the entry number."""
    from warroom.domain.commands import ShowHelp

    author = obj.user(as_user)
    joined = " ".join(text)

    async def work(service):
        command = await service.parse(incident_id, joined)
        if isinstance(command, ShowHelp):
            return None
        return await service.apply(incident_id, command, author)

    entries = obj.run(work)
    if entries is None:
        from warroom.domain.grammar import COMMANDS

        click.echo("Entry-bar commands (plain text is a note; -5m or @14:02 first back-dates):")
        for spec in COMMANDS:
            names = ", ".join(f"/{name}" for name in spec.aliases)
            click.echo(f"  {spec.usage:<34} {spec.help}" + (f" (also {names})" if names else ""))
        return
    click.echo(entries[0].number if entries else "")


@cli.command(name="list")
@click.option("--all", "include_closed", is_flag=True, help="Include resolved and closed incidents.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def list_command(obj: _Context, include_closed: bool, as_json: bool) -> None:
    """List open incidents (newest first)."""
    from warroom.domain.clock import format_duration, to_stored
    from warroom.domain.text import visible

    async def work(service):
        rows = []
        for incident in await service.incidents(include_closed):
            seats = await service.roster(incident)
            commander = next((seat.person for seat in seats if seat.is_commander), None)
            status = service.policy_for(incident).find_status(incident.status)
            rows.append((incident, commander, status.label if status else incident.status))
        return rows, service.now()

    rows, now = obj.run(work)
    if as_json:
        click.echo(json.dumps([
            {"id": i.id, "title": i.title, "severity": i.severity, "status": i.status, "policy": i.policy_id,
             "created_at": to_stored(i.created_at), "commander": commander, "open": i.is_open}
            for i, commander, _ in rows
        ], indent=2, sort_keys=True))
        return
    if not rows:
        click.echo("No open incidents." if not include_closed else "No incidents.")
        return
    for incident, commander, status in rows:
        age = format_duration(now - incident.created_at)
        click.echo(f"{incident.id}  {incident.severity:<10} {visible(status):<14} {age:>8}  "
                   f"IC {visible(commander or '(none)'):<12} {visible(incident.title)}")


@cli.command()
@click.argument("incident_id", metavar="ID")
@pass_context
def show(obj: _Context, incident_id: str) -> None:
    """Print an incident's record."""
    from warroom.domain.report import plain_summary

    async def work(service):
        return plain_summary(await service.record(incident_id), service.now())

    click.echo(obj.run(work))


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option("--format", "-f", "fmt", type=click.Choice(["json", "markdown", "csv"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to FILE instead of stdout.")
@pass_context
def export(obj: _Context, incident_id: str, fmt: str, output: str | None) -> None:
    """Export an incident: complete JSON, the Markdown post-incident report, or the timeline as CSV."""
    from warroom.domain import report

    database = obj.database()
    if output and database.exists() and Path(output).exists() and os.path.samefile(output, database):
        raise WarroomError(f"refusing to write the export over the database {database}")
    record = obj.run(lambda s: s.record(incident_id))
    if fmt == "json":
        dumped = json.dumps(report.to_json_dict(record), indent=2, sort_keys=True, ensure_ascii=False)
        text = inert_json(dumped) + "\n"
    elif fmt == "csv":
        text = report.to_csv(record)
        if not output and sys.stdout.isatty():  # a terminal must not run escapes; a pipe gets the data
            from warroom.domain.text import visible

            text = visible(text, keep_newlines=True)
    else:
        text = report.to_markdown(record)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise WarroomError(f"cannot write {output}: {error.strerror}") from None
    else:
        click.echo(text, nl=False)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def policies(obj: _Context, as_json: bool) -> None:
    """List the policies: packaged ones and your own (config dir / policies)."""
    book = obj.policies()
    if as_json:
        click.echo(json.dumps([
            {"id": p.id, "name": p.name, "source": p.policy.source,
             "severities": [{"id": s.id, "label": s.label, "update_every": s.update_every} for s in p.severity],
             "roles": [r.id for r in p.role], "statuses": [s.id for s in p.status]}
            for p in book
        ], indent=2))
        return
    from warroom.domain.text import visible

    def say(line: str) -> None:  # names come from the user's own policy files too
        click.echo(visible(line))

    for p in book:
        say(f"{p.id}: {p.name}" + (f"  [{p.policy.source}]" if p.policy.source else ""))
        for s in p.severity:
            cadence = f"updates every {s.update_every}" if s.update_every else "no update cadence"
            say(f"    {s.id:<12} {s.label:<10} respond {s.response:<5} {cadence}")
        say("    roles: " + ", ".join(r.name for r in p.role))
        say("    statuses: " + " -> ".join(s.label for s in p.status))


def _probe_path(obj: _Context, option: str | None = None) -> Path | None:
    """--probes (on the command or the group), the config's `probes`, or CONFIG_DIR/probes.toml."""
    from warroom.service.config import config_dir
    from warroom.service.monitor import probe_file

    return probe_file(option or getattr(obj, "probes_option", None), obj.config.probes, config_dir())


@cli.command()
@click.option("--probes", "probes_file", metavar="FILE", type=click.Path(dir_okay=False), help="Probe definitions (TOML).")
@click.option("--incident", "incident_id", metavar="ID", help="Also check the probes attached to incident ID.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def check(obj: _Context, probes_file: str | None, incident_id: str | None, as_json: bool) -> None:
    """Run every probe once and print a table; exit 1 if any is DOWN (for scripts and cron)."""
    from warroom.probes import ProbeConfigError, exit_code, format_table, load_probe_file, rows_as_json, run_once

    from warroom.probes import spec_from_dict

    path = _probe_path(obj, probes_file)
    specs = {spec.name: spec for spec in load_probe_file(path)} if path else {}
    if incident_id:
        attached = obj.run(lambda service: service.attached_probes(incident_id))
        for probe in attached:
            spec = spec_from_dict(probe.config, f"incident {incident_id}")
            specs[spec.name] = spec
    if not specs:
        raise ProbeConfigError("no probes to check: pass --probes FILE, set `probes` in the config, "
                               "put probes.toml in the config dir, or use --incident ID")
    rows = asyncio.run(run_once(specs.values()))
    if as_json:
        click.echo(inert_json(json.dumps(rows_as_json(rows), indent=2, ensure_ascii=False)))
    else:
        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 200
        click.echo(format_table(rows, width=width))
    if exit_code(rows):
        click.get_current_context().exit(exit_code(rows))


def _open_ui(obj: _Context, incident_id: str | None) -> None:
    from warroom.ui.launch import launch

    launch(obj, incident_id=incident_id)


@cli.command(name="open")
@click.argument("incident_id", metavar="ID")
@pass_context
def open_command(obj: _Context, incident_id: str) -> None:
    """Open the war room for incident ID."""
    _open_ui(obj, incident_id)


@cli.command()
@click.option("--print", "print_only", is_flag=True, help="Seed the demo database and print it instead of opening the UI.")
@pass_context
def demo(obj: _Context, print_only: bool) -> None:
    """Open the war room on a fresh demo incident (temporary database)."""
    from warroom.service.demo import seed_demo_database

    path, incident_id = asyncio.run(seed_demo_database(obj.db_option))
    obj.db_option = str(path)
    if print_only or not sys.stdout.isatty():
        from warroom.domain.report import plain_summary

        click.echo(obj.run(lambda s: _summary(s, incident_id, plain_summary)))
        click.echo(f"\nDemo database: {path}")
        return
    from warroom.service.demo import DemoServiceThread, attach_demo_probes

    with DemoServiceThread() as service:  # healthy, slow, flapping and failing endpoints on 127.0.0.1
        asyncio.run(attach_demo_probes(path, incident_id, service))
        _open_ui(obj, incident_id)


def _check_arguments(argv: list[str]) -> None:
    """Arguments that are not UTF-8 arrive with surrogates and could never be stored."""
    for argument in argv:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            from warroom.domain.text import visible

            shown = visible(argument.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            raise WarroomError(f"argument {shown!r} is not valid UTF-8") from None


async def _summary(service, incident_id, render):
    return render(await service.record(incident_id), service.now())


def run(argv: list[str] | None = None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]) and return its exit code: one line on
    stderr and 2 for anything the user can fix, 1 for anything else; never a traceback."""
    from warroom.domain.text import visible

    try:
        _check_arguments(sys.argv[1:] if argv is None else argv)
        code = cli.main(args=argv, prog_name="warroom", standalone_mode=False)
        return code if isinstance(code, int) else 0  # an int from ctx.exit(): --help, --version, check
    except WarroomError as error:  # messages quote what was typed: shown inert
        click.echo(f"warroom: error: {visible(str(error))}", err=True)
        return error.exit_code
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help() if error.ctx else str(error), err=True)
        return EXIT_USAGE
    except click.UsageError as error:
        hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
        click.echo(f"warroom: error: {visible(error.format_message())}{hint}", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        click.echo(f"warroom: error: {visible(error.format_message())}", err=True)
        return EXIT_USAGE
    except click.Abort:
        click.echo("warroom: aborted", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as error:  # a bug: say so in one line; WARROOM_DEBUG=1 shows the traceback
        if os.environ.get("WARROOM_DEBUG"):
            raise
        click.echo(f"warroom: internal error: {type(error).__name__}: {visible(str(error))}", err=True)
        return 1


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `warroom` command: run(argv), then exit with its code."""
    sys.exit(run(argv))
