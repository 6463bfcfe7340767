"""Commands for learning from incidents: `verify` (the hash chain), `run`, `log-command` and
`shell-hook` (captured commands), `stats` (numbers across incidents), `replay` (a past incident as
it happened) and `drill` (a scripted practice incident). `warroom.cli` registers them; they
receive its context object through click.pass_obj."""

from __future__ import annotations

import json
import os
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


class _CommandAfterDashes(click.Command):
    """Everything after the first `--` is the command to run; click parses only what comes before."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta["warroom.command"] = args[at + 1:]
            args = args[:at]
        elif not set(args) & {"-h", "--help"}:
            raise click.UsageError("put the command after --: warroom run [ID] -- CMD ARGS...", ctx)
        return super().parse_args(ctx, args)


as_option = click.option("--as", "as_user", metavar="NAME", help="Who ran it (default: config, $WARROOM_USER, login).")


@click.command(cls=_CommandAfterDashes)
@click.argument("incident_id", metavar="[ID]", required=False)
@as_option
@click.pass_context
def run(ctx: click.Context, incident_id: str | None, as_user: str | None) -> None:
    """Run CMD (after --) as usual and log it to incident ID (the only open one without ID): the
    command line with secrets redacted, exit code, duration and the last lines of output. Exits
    with the command's exit code."""
    from warroom.domain.captured import command_run
    from warroom.domain.clock import system_clock
    from warroom.domain.redact import redact_argv
    from warroom.service.capture import run_streaming

    obj, argv = ctx.obj, ctx.meta.get("warroom.command") or []
    if not argv:
        raise click.UsageError("no command after --", ctx)
    author = obj.user(as_user)
    incident = obj.run(lambda service: service.resolve_incident(incident_id), blocking=True)  # before running anything
    redacted = redact_argv(argv)
    started_at = system_clock()
    finished = run_streaming(argv)
    captured = command_run(redacted, exit_code=finished.exit_code, started_at=started_at,
                           duration=finished.duration, output=finished.tail, output_lines=finished.lines,
                           signal=finished.signal, cwd=os.getcwd())
    _log(obj, incident.id, captured, author)
    sys.exit(finished.exit_code)


def _log(obj, incident_id: str, captured, author: str) -> None:
    """Record the command; when that fails say so (the command did run) and exit non-zero."""
    try:
        entry = obj.run(lambda service: service.log_command(incident_id, captured, author), blocking=True)
    except WarroomError as error:
        click.echo(visible(f"warroom: error: the command ran (exit {captured.exit_code}) but was not logged: {error}"),
                   err=True)
        sys.exit(captured.exit_code or 1)
    click.echo(f"warroom: logged as #{entry.number} on {incident_id} (exit {captured.exit_code})", err=True)


@click.command(name="log-command")
@click.argument("incident_id", metavar="[ID]", required=False)
@click.option("--exit", "exit_code", type=int, default=0, show_default=True, help="The command's exit status.")
@click.option("--started", metavar="EPOCH", help="When it started, in seconds since the epoch ($EPOCHREALTIME).")
@click.option("--ended", metavar="EPOCH", help="When it ended, in seconds since the epoch.")
@click.option("--cwd", metavar="DIR", help="Where it ran.")
@click.option("--check", is_flag=True, help="Log nothing: print the incident's id if it can be logged to.")
@as_option
@click.pass_obj
def log_command(obj, incident_id: str | None, exit_code: int, started: str | None, ended: str | None,
                cwd: str | None, check: bool, as_user: str | None) -> None:
    """Log a command that already ran (read from stdin, as typed) to incident ID. The shell hook
    calls this after each command; the line is redacted like `warroom run`'s."""
    from datetime import timedelta

    from warroom.domain.captured import command_run
    from warroom.domain.clock import system_clock
    from warroom.domain.redact import redact_command_line

    incident = obj.run(lambda service: service.resolve_incident(incident_id), blocking=True)
    if check:
        click.echo(incident.id)
        return
    line = sys.stdin.buffer.read(COMMAND_BYTES + 1)[:COMMAND_BYTES].decode("utf-8", errors="replace").strip()
    if not line:
        raise WarroomError("no command line on stdin")
    now = system_clock()
    begin, end = _epoch(started, "--started") or now, _epoch(ended, "--ended") or now
    captured = command_run(redact_command_line(line), exit_code=exit_code, started_at=begin,
                           duration=max(end - begin, timedelta(0)), cwd=cwd, source="shell")
    _log(obj, incident.id, captured, obj.user(as_user))


COMMAND_BYTES = 1 << 20


def _epoch(value: str | None, option: str):
    from datetime import datetime, timezone

    if value is None:
        return None
    try:  # $EPOCHREALTIME uses the locale's decimal separator
        return datetime.fromtimestamp(float(value.replace(",", ".")), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise WarroomError(f"{option}: {value!r} is not a time in seconds since the epoch") from None


@click.command(name="shell-hook")
@click.argument("shell", type=click.Choice(["bash", "zsh"]))
@click.pass_obj
def shell_hook(obj, shell: str) -> None:
    """Print a snippet for ~/.bashrc or ~/.zshrc: eval "$(warroom shell-hook bash)". Then
    `warroom_log on [ID]` logs every command typed in that shell to the incident (the prompt says
    [rec ID]) until `warroom_log off`."""
    from warroom.service.shellhook import snippet

    command = [sys.executable, "-m", "warroom"]
    if obj.db_option:
        command += ["--db", str(Path(obj.db_option).expanduser().resolve())]
    if obj.user_option:
        command += ["--as", obj.user_option]
    click.echo(snippet(shell, command), nl=False)


@click.command()
@click.option("--since", default="90d", show_default=True, metavar="DURATION",
              help="Incidents declared within this long before now (90d, 36h, 1d12h...), or 'all'.")
@click.option("--policy", "policy_id", metavar="P", help="Only incidents of policy P, against its targets.")
@click.option("--json", "as_json", is_flag=True, help="Every figure as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="One row per severity, for spreadsheets.")
@click.pass_obj
def stats(obj, since: str, policy_id: str | None, as_json: bool, as_csv: bool) -> None:
    """The numbers across incidents: count, MTTD/MTTA/MTTM/MTTR per severity against the policy's
    targets (median, p90), update punctuality, open actions, most affected services, charts."""
    import shutil

    from warroom.domain import stats_report
    from warroom.domain.clock import parse_duration
    from warroom.domain.text import inert_json

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    if since.strip().lower() == "all":
        window = None
    else:
        try:
            window = parse_duration(since)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--since") from None

    async def work(service):
        return await service.stats(service.now() - window if window is not None else None, policy_id)

    figures = obj.run(work)
    if as_json:
        click.echo(inert_json(json.dumps(stats_report.to_json_dict(figures), indent=2, ensure_ascii=False)))
    elif as_csv:
        text = stats_report.to_csv(figures)
        click.echo(visible(text, keep_newlines=True) if sys.stdout.isatty() else text, nl=False)
    else:
        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
        click.echo(stats_report.to_text(figures, width), nl=False)


def _speed(ctx, param, value):
    from warroom.domain.playback import parse_speed

    try:
        return parse_speed(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command()
@click.argument("incident_id", metavar="ID")
@click.option("--speed", default="10x", show_default=True, metavar="N[x]", callback=_speed,
              help="How much faster than it happened (1x: as it happened; + and - change it while playing).")
@click.option("--from", "start", metavar="TIME",
              help="Start here: +10m (after the first entry), 14:02 (UTC), 2026-11-23T14:02 or a milestone name.")
@click.pass_obj
def replay(obj, incident_id: str, speed: float, start: str | None) -> None:
    """Replay incident ID as it happened, read-only: entries appear when they happened; roles,
    countdown, probe states and header follow. Space pauses, n steps to the next entry, + and -
    change the speed, m jumps to a milestone. For the retrospective."""
    from warroom.ui.launch import launch_replay

    launch_replay(obj, incident_id, speed, start)


@click.command()
@click.argument("drill_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--speed", default="1x", show_default=True, metavar="N[x]", callback=_speed,
              help="Run the drill's clock N times faster than real time (deadlines shrink with it).")
@click.option("--live-delivery", is_flag=True,
              help="Send updates and pages to the real targets of the config (each marked DRILL) "
                   "instead of the drill outbox.")
@click.pass_obj
def drill(obj, drill_file: str, speed: float, live_delivery: bool) -> None:
    """Run the practice incident scripted in FILE, or a shipped drill by name (api-outage,
    database-failure, security-incident):
    probes fail and recover, alerts come in, other people write, and what you do is scored against
    the file's expected responses and the policy. Runs in a database of its own; nothing reaches a
    real target unless --live-delivery. The drill report is printed at the end."""
    from warroom.ui.launch import launch_drill

    if obj.db_option:
        raise click.UsageError("a drill runs in a database of its own (named at the end); drop --db")
    if obj.read_only:
        raise click.UsageError("a drill is played, not watched: drop --read-only")
    from warroom.service.drill import drill_path, shipped_drills

    path = drill_path(drill_file)
    if not path.exists():
        raise click.UsageError(f"{visible(drill_file)}: no such drill file (shipped drills: "
                               f"{', '.join(shipped_drills())})")
    launch_drill(obj, str(path), speed, live_delivery)


COMMANDS = (verify, run, log_command, shell_hook, stats, replay, drill)
