"""The `warroom` command line: scripting commands plus the entry points of the war-room screen.

Exit codes: 0 success, 2 usage/config/input errors (one line on stderr), 1 anything else.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import click

from warroom.cli_learning import COMMANDS as LEARNING_COMMANDS
from warroom.cli_moving import COMMANDS as MOVING_COMMANDS
from warroom.domain.errors import WarroomError
from warroom.domain.text import inert_json

EXIT_USAGE = 2


class _Context:
    def __init__(self, db: str | None, user: str | None, theme: str | None, read_only: bool = False):
        self.db_option, self.user_option, self.theme_option = db, user, theme
        self.read_only = read_only
        self._config = None
        self._policies = None
        self.drafts = None  # a DraftStore other than the user's (the demo's, which goes with it)

    @property
    def config(self):
        if self._config is None:
            from warroom.service.config import load_config

            self._config = load_config(audiences=lambda: {a.id for p in self.policies() for a in p.audience})
        return self._config

    def user(self, override: str | None = None) -> str:
        from warroom.service.config import resolve_user

        return resolve_user(override or self.user_option, self.config)

    def database(self) -> Path | str:
        """A file path, or a postgresql:// URL."""
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

        return await IncidentService.open(self.database(), self.policies(), default_policy=self.config.default_policy,
                                          read_only=self.read_only, config=self.config)

    def reach(self, service):
        """Delivery of updates and paging, as the war room does them (the updates folder included)."""
        from warroom.service.config import resolve_updates_dir
        from warroom.service.reach import Reach

        return Reach(service, self.config, updates_dir=resolve_updates_dir(self.config, self.database()))

    def run(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """Open the service, run `work(service)`, close it."""
        self.policies()  # a broken policy file is reported before the database is touched

        async def main() -> Any:
            service = await self.open_service()
            warning = service.clock_warning()
            if warning:
                click.echo(f"warroom: warning: {warning}", err=True)
            try:
                return await work(service)
            finally:
                await service.close()

        try:
            return asyncio.run(main())
        except sqlite3.DatabaseError as error:  # a read that met a damaged page: say so, and the way out
            from warroom.service.recovery import damage_error

            explained = damage_error(error, self.database()) if isinstance(self.database(), Path) else None
            if explained is None:
                raise
            raise explained from None


pass_context = click.make_pass_decorator(_Context)
as_option = click.option("--as", "as_user", metavar="NAME", help="Who is writing (default: config, $WARROOM_USER, login).")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH|URL", help="Database file or postgresql:// URL (default: $WARROOM_DB, config, "
              "user data dir).")
@click.option("--as", "as_user", metavar="NAME", help="Who is typing (default: config, $WARROOM_USER, login).")
@click.option("--theme", metavar="NAME", help="UI theme (warroom-dark, warroom-light, warroom-contrast...).")
@click.option("--probes", "probes_file", metavar="FILE", type=click.Path(dir_okay=False), help="Probe definitions (TOML).")
@click.option("--read-only", is_flag=True, help="Look without the right to write: every change is refused.")
@click.option("--quiet", is_flag=True, help="No terminal bell when a duty falls due (toasts and the header still say so).")
@click.version_option(package_name="warroom")
@click.pass_context
def cli(ctx: click.Context, db: str | None, as_user: str | None, theme: str | None, probes_file: str | None,
        read_only: bool, quiet: bool) -> None:
    """warroom: a terminal war room for production incidents.

    Without a command, opens the war room for the only open incident, or a picker.
    """
    ctx.obj = _Context(db, as_user, theme, read_only)
    ctx.obj.probes_option = probes_file
    ctx.obj.quiet = quiet
    if ctx.invoked_subcommand is None:
        _open_ui(ctx.obj, incident_id=None)


@cli.command()
@click.argument("title", required=False)
@click.option("--severity", "-s", metavar="S", help="Severity id or alias from the policy.")
@click.option("--policy", "-p", "policy_id", metavar="P", help="Policy id (see `warroom policies`).")
@click.option("--commander", metavar="NAME", help="Seat this person as Incident Commander.")
@click.option("--service", "services", multiple=True, metavar="NAME", help="An affected service (repeatable).")
@click.option("--impact", default="", metavar="TEXT", help="One-line impact summary.")
@click.option("--from-alert", "alert_file", metavar="FILE", type=click.File("rb"),
              help="Declare from an alert (Alertmanager, Grafana or generic JSON; - reads stdin).")
@as_option
@pass_context
def declare(obj: _Context, title: str | None, severity: str | None, policy_id: str | None, commander: str | None,
            services: tuple[str, ...], impact: str, alert_file, as_user: str | None) -> None:
    """Declare a new incident; prints only its id. What the policy now owes goes to stderr, and a
    severity that pages pages on-call."""
    if alert_file is not None:
        if title or severity or policy_id or commander or services or impact:
            raise click.UsageError("--from-alert takes title, severity and services from the alert and the "
                                   "config's [[alert_rule]]s; give no TITLE or other options with it")
        _declare_from_alert(obj, alert_file.read(obj.config.intake.max_body + 1))
        return
    if not title or not severity:
        raise click.UsageError("give TITLE and --severity (or --from-alert FILE)")
    from warroom.domain.duties import open_duties
    from warroom.domain.text import visible

    author = obj.user(as_user)

    async def work(service):
        incident = await service.declare(title, severity, author=author, policy_id=policy_id,
                                         commander=commander, services=services, impact=impact)
        return incident, open_duties(await service.duties(incident)), service.now(), \
            await obj.reach(service).after_declare(incident)

    incident, owed, now, done = obj.run(work)
    click.echo(incident.id)
    if owed:
        click.echo(f"{incident.id} at {incident.severity}: the policy now asks for", err=True)
    for duty in owed:
        click.echo(f"  {duty.state(now).glyph} {visible(duty.what)}: {duty.due_words(now)}", err=True)
    _say_sent(done)


def _declare_from_alert(obj: _Context, body: bytes) -> None:
    from warroom.service.alerts import AlertIntake, declare_from_alert

    if len(body) > obj.config.intake.max_body:
        raise WarroomError(f"the alert is over {obj.config.intake.max_body} bytes (intake.max_body)")

    async def work(service):
        outcomes = await declare_from_alert(AlertIntake(service, obj.config), body)
        sent = [await obj.reach(service).after_declare(await service.incident(o.incident_id))
                for o in outcomes if o.declared]
        return outcomes, sent

    outcomes, sent = obj.run(work)
    for outcome in outcomes:
        click.echo(f"warroom: {outcome.describe()}", err=True)
        if outcome.incident_id:
            click.echo(outcome.incident_id)
    for done in sent:
        _say_sent(done)
    if not any(outcome.incident_id for outcome in outcomes):
        raise WarroomError("no incident was declared from the alert")


def _say_sent(done) -> None:
    """What a follow-up delivered or paged, one line each on stderr (stdout stays the result)."""
    from warroom.domain.text import visible

    for line in done.summary():
        click.echo(f"warroom: {visible(line)}", err=True)


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
        entries = await service.apply(incident_id, command, author)
        return entries, await obj.reach(service).follow_up(incident_id, entries)

    done = obj.run(work)
    if done is None:
        from warroom.domain.grammar import COMMANDS

        click.echo("Entry-bar commands (plain text is a note; -5m or @14:02 first back-dates):")
        for spec in COMMANDS:
            names = ", ".join(f"/{name}" for name in spec.aliases)
            click.echo(f"  {spec.usage:<34} {spec.help}" + (f" (also {names})" if names else ""))
        return
    entries, sent = done
    click.echo(entries[0].number if entries else "")
    _say_sent(sent)


@cli.command(name="list")
@click.option("--all", "include_closed", is_flag=True, help="Include resolved and closed incidents.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def list_command(obj: _Context, include_closed: bool, as_json: bool) -> None:
    """List open incidents (newest first), each with what it owes first."""
    from warroom.domain.clock import format_duration, to_stored
    from warroom.domain.standing import duty_brief, elapsed, shown_status
    from warroom.domain.text import visible

    async def work(service):
        rows = []
        incidents = await service.incidents(include_closed)
        firsts = await service.first_duties(incidents)
        for incident in incidents:
            seats = await service.roster(incident)
            commander = next((seat.person for seat in seats if seat.is_commander), None)
            rows.append((incident, commander, shown_status(service.policy_for(incident), incident),
                         firsts[incident.id]))
        return rows, service.now()

    rows, now = obj.run(work)
    if as_json:
        click.echo(json.dumps([
            {"id": i.id, "title": i.title, "severity": i.severity, "status": i.status, "status_label": status,
             "policy": i.policy_id, "created_at": to_stored(i.created_at), "commander": commander, "open": i.is_open,
             "next_duty": None if duty is None else {
                 "key": duty.key, "what": duty.what, "due_at": to_stored(duty.due_at) if duty.due_at else None,
                 "state": duty.state(now).value}}
            for i, commander, status, duty in rows
        ], indent=2, sort_keys=True))
        return
    if not rows:
        click.echo("No open incidents." if not include_closed else "No incidents.")
        return
    for incident, commander, status, duty in rows:
        age = format_duration(elapsed(incident, now))
        owed = duty_brief(duty, now) if duty else "✓ nothing owed"
        click.echo(f"{incident.id}  {visible(incident.severity):<10} {visible(status):<14} {age:>8}  "
                   f"IC {visible(commander or '(none)'):<12} {owed:<40} {visible(incident.title)}")


@cli.command()
@click.argument("incident_id", metavar="ID")
@pass_context
def show(obj: _Context, incident_id: str) -> None:
    """Print an incident's record."""
    from warroom.domain.report import joined, summary_lines
    from warroom.service.exports import streamed_record, write_pieces

    async def work(service):  # streamed: memory does not grow with the incident
        record, now = await streamed_record(service, incident_id), service.now()
        await write_pieces(lambda: itertools.chain(joined(summary_lines(record, now)), "\n"), _stdout())

    obj.run(work)


def _stdout():
    """Standard output for bytes (what was echoed before goes first)."""
    sys.stdout.flush()
    return sys.stdout.buffer


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option("--format", "-f", "fmt", type=click.Choice(["json", "markdown", "csv"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to FILE instead of stdout.")
@pass_context
def export(obj: _Context, incident_id: str, fmt: str, output: str | None) -> None:
    """Export an incident: complete JSON, the Markdown post-incident report, or the timeline as CSV."""
    from warroom.domain import report

    database = obj.database()
    if (output and isinstance(database, Path) and database.exists() and Path(output).exists()
            and os.path.samefile(output, database)):
        raise WarroomError(f"refusing to write the export over the database {database}")
    if fmt == "json":
        render = report.json_pieces  # inert wherever it goes: a terminal, a pipe or a file
    elif fmt == "csv":
        render = report.csv_pieces
    else:
        from warroom.domain.postmortem import markdown_pieces as render
    from warroom.service.exports import streamed_record, write_pieces

    async def work(service):  # streamed: memory does not grow with the incident
        record = await streamed_record(service, incident_id)
        if not output:
            return await write_pieces(lambda: render(record), _stdout())
        from warroom.service.files import open_private

        try:
            with open_private(output) as sink:
                await write_pieces(lambda: render(record), sink)
        except OSError as error:
            raise WarroomError(f"cannot write {output}: {error.strerror}") from None

    obj.run(work)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def policies(obj: _Context, as_json: bool) -> None:
    """List the policies: packaged ones and your own (config dir / policies)."""
    import msgspec

    book = obj.policies()
    if as_json:
        click.echo(json.dumps([
            {"id": p.id, "name": p.name, "source": p.policy.source, "deviations": p.policy.deviations,
             "severities": [{"id": s.id, "label": s.label, "response": s.response, "resolution": s.resolution}
                            for s in p.severity],
             "roles": [r.id for r in p.role], "statuses": [s.id for s in p.status],
             "audiences": msgspec.to_builtins(p.audience), "duties": msgspec.to_builtins(p.duty),
             "contacts": msgspec.to_builtins(p.contact), "action_groups": msgspec.to_builtins(p.action_group),
             "postmortem": msgspec.to_builtins(p.postmortem), "targets": msgspec.to_builtins(p.targets)}
            for p in book
        ], indent=2))
        return
    from warroom.domain.policy import update_cadences
    from warroom.domain.text import visible

    def say(line: str) -> None:  # names come from the user's own policy files too
        click.echo(visible(line))

    for p in book:
        say(f"{p.id}: {p.name}" + (f"  [{p.policy.source}]" if p.policy.source else ""))
        for s in p.severity:
            resolve = f"resolve {s.resolution}" if s.resolution else "no resolution target"
            say(f"    {s.id:<12} {s.label:<10} respond {s.response:<4} {resolve}")
            say(f"        updates: {update_cadences(p, s.id)}")
        say("    roles: " + ", ".join(r.name + (" (required)" if r.required else "") for r in p.role))
        say("    statuses: " + " -> ".join(s.label for s in p.status))
        for duty in p.duty:
            owed = ", ".join(f"{level} {within}" for level, within in duty.within.items())
            say(f"    {duty.kind} {duty.label}: {owed} from {duty.starts}"
                + (" (if still unresolved)" if duty.if_unresolved else ""))
        if p.postmortem:
            say("    report: " + ", ".join(section.title for section in p.postmortem))
        for deviation in p.policy.deviations:
            say(f"    differs from {p.policy.source or 'its source'}: {deviation}")


@cli.command()
@click.option("--listen", metavar="HOST", help="Address to bind (default: config intake.listen, 127.0.0.1).")
@click.option("--port", type=int, metavar="N", help="Port (default: config intake.port, 9095; 0: any free one).")
@pass_context
def intake(obj: _Context, listen: str | None, port: int | None) -> None:
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


def _probe_path(obj: _Context, option: str | None = None) -> Path | None:
    """--probes (on the command or the group), the config's `probes`, or CONFIG_DIR/probes.toml."""
    from warroom.service.config import config_dir
    from warroom.service.probe_sources import probe_file

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


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--output", "-o", metavar="NEW", type=click.Path(dir_okay=False),
              help="The new file (default: FILE.recovered.db beside it).")
def recover(file: str, output: str | None) -> None:
    """Copy everything readable from a damaged database FILE into a new file; FILE is not changed."""
    from warroom.service.recovery import recover as recover_file, report_lines

    for line in report_lines(asyncio.run(recover_file(file, output))):
        click.echo(line)


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
    """Open the war room on a fresh demo incident (temporary database, removed when it closes)."""
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


@cli.command()
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
def serve(obj: _Context, people_file: Path, host: str, port: int, tls_cert: Path | None, tls_key: Path | None,
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


for _command in (*LEARNING_COMMANDS, *MOVING_COMMANDS):  # verify, run, ..., copy, backup
    cli.add_command(_command)


def _take_user(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_object(_Context).user_option = value


for _command in cli.commands.values():  # `warroom open ID --as bob`: --as after any command, as before it
    if not any(param.name == "as_user" for param in _command.params):
        _command.params.append(click.Option(["--as", "as_user"], metavar="NAME", expose_value=False,
                                            callback=_take_user, help="Who is acting (as `warroom --as NAME ...`)."))


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


def _end_now(code: int) -> None:
    """The war room left because its terminal went away: drafts, lease, database and the demo's
    folder are done with, so skip the interpreter's half-second teardown (a closed terminal must
    see warroom go within a second)."""
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def run(argv: list[str] | None = None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]) and return its exit code: one line on
    stderr and 2 for anything the user can fix, 1 for anything else; never a traceback. A war room
    whose terminal went away raises LeftByItself (main ends the process at once)."""
    from warroom.domain.text import visible

    from warroom.ui.launch import LeftByItself

    try:
        _check_arguments(sys.argv[1:] if argv is None else argv)
        code = cli.main(args=argv, prog_name="warroom", standalone_mode=False)
        return code if isinstance(code, int) else 0  # an int from ctx.exit(): --help, --version, check
    except LeftByItself:
        raise
    except SystemExit as stop:  # `warroom run` exits with the code of the command it ran
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        click.echo(stop.code, err=True)  # what sys.exit("text") does
        return 1
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
    from warroom.ui.launch import LeftByItself

    try:
        code = run(argv)
    except LeftByItself as left:
        _end_now(left.code)
    sys.exit(code)
