"""Commands on the incident record, for people and scripts: `declare`, `log`, `list`, `show` and
`export`. `warroom.cli` registers them; they receive its CliContext."""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path

import click

from warroom.cli_context import CliContext, as_option, pass_context
from warroom.domain.errors import WarroomError


@click.command()
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
def declare(obj: CliContext, title: str | None, severity: str | None, policy_id: str | None, commander: str | None,
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
    say_sent(done)


def _declare_from_alert(obj: CliContext, body: bytes) -> None:
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
        say_sent(done)
    if not any(outcome.incident_id for outcome in outcomes):
        raise WarroomError("no incident was declared from the alert")


def say_sent(done) -> None:
    """What a follow-up delivered or paged, one line each on stderr (stdout stays the result)."""
    from warroom.domain.text import visible

    for line in done.summary():
        click.echo(f"warroom: {visible(line)}", err=True)


# TEXT may start with a dash (`-1h /impact`): no short options here, or click would take the `h`
# of "-1h" for -h and print help instead of recording the entry.
@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]})
@click.argument("incident_id", metavar="ID")
@click.argument("text", nargs=-1, required=True, type=click.UNPROCESSED)
@as_option
@pass_context
def log(obj: CliContext, incident_id: str, text: tuple[str, ...], as_user: str | None) -> None:
    """Add TEXT to the timeline (any entry-bar command works); prints only the entry number."""
    from warroom.domain.commands import ShowHelp
    from warroom.service.follow_ups import needs_follow_up

    author = obj.user(as_user)
    joined = " ".join(text)

    async def write(service):
        command = await service.parse(incident_id, joined)
        if isinstance(command, ShowHelp):
            return None
        return await service.apply(incident_id, command, author)

    entries = obj.run(write, blocking=True)  # one committed transaction: nothing here waits on anything else
    if entries is None:
        from warroom.domain.grammar import COMMANDS

        click.echo("Entry-bar commands (plain text is a note; -5m or @14:02 first back-dates):")
        for spec in COMMANDS:
            names = ", ".join(f"/{name}" for name in spec.aliases)
            click.echo(f"  {spec.usage:<34} {spec.help}" + (f" (also {names})" if names else ""))
        return
    sent = obj.run(lambda service: obj.reach(service).follow_up(incident_id, entries)) \
        if needs_follow_up(entries) else None  # updates go out, pages are sent: the network, on an event loop
    click.echo(entries[0].number if entries else "")
    if sent is not None:
        say_sent(sent)


@click.command(name="list")
@click.option("--all", "include_closed", is_flag=True, help="Include resolved and closed incidents.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def list_command(obj: CliContext, include_closed: bool, as_json: bool) -> None:
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


@click.command()
@click.argument("incident_id", metavar="ID")
@pass_context
def show(obj: CliContext, incident_id: str) -> None:
    """Print an incident's record."""
    from warroom.domain.report import joined, summary_lines
    from warroom.service.exports import streamed_record, write_pieces

    async def work(service):  # streamed: memory does not grow with the incident
        record, now = await streamed_record(service, incident_id, notable=False), service.now()  # it quotes none
        await write_pieces(lambda: itertools.chain(joined(summary_lines(record, now)), "\n"), _stdout(),
                           blocking=service.db.blocking)

    obj.run(work, blocking=True)  # reads only, and the writing: nothing here waits on anything else


def _stdout():
    """Standard output for bytes (what was echoed before goes first)."""
    sys.stdout.flush()
    return sys.stdout.buffer


@click.command()
@click.argument("incident_id", metavar="ID")
@click.option("--format", "-f", "fmt", type=click.Choice(["json", "markdown", "csv"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to FILE instead of stdout.")
@pass_context
def export(obj: CliContext, incident_id: str, fmt: str, output: str | None) -> None:
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
        record, blocking = await streamed_record(service, incident_id), service.db.blocking
        if not output:
            return await write_pieces(lambda: render(record), _stdout(), blocking=blocking)
        from warroom.service.files import open_private

        try:
            with open_private(output) as sink:
                await write_pieces(lambda: render(record), sink, blocking=blocking)
        except OSError as error:
            raise WarroomError(f"cannot write {output}: {error.strerror}") from None

    obj.run(work, blocking=True)  # reads only, and the writing: nothing here waits on anything else


COMMANDS = (declare, log, list_command, show, export)
