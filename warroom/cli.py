"""The `warroom` command line: scripting commands plus the entry points of the war-room screen.

The commands live in modules by what they do (cli_record: declare, log, list, show, export;
cli_serving: open, demo, serve, intake; cli_setup: policies, check, recover; cli_learning;
cli_moving), each imported only when one of its commands runs or help lists them, so a scripted
`warroom log` loads neither the screens nor the probe engine. They share `cli_context.CliContext`.

Exit codes: 0 success, 2 usage/config/input errors (one line on stderr), 1 anything else.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from warroom.cli_context import CliContext
from warroom.cli_note import check_arguments
from warroom.cli_start import LOOKING_AHEAD
from warroom.domain.errors import WarroomError

EXIT_USAGE = 2

COMMAND_MODULES = {
    **dict.fromkeys(("declare", "log", "list", "show", "export"), "warroom.cli_record"),
    **dict.fromkeys(("open", "demo", "serve", "intake"), "warroom.cli_serving"),
    **dict.fromkeys(("policies", "check", "recover"), "warroom.cli_setup"),
    **dict.fromkeys(("verify", "run", "log-command", "shell-hook", "stats", "replay", "drill"), "warroom.cli_learning"),
    **dict.fromkeys(("copy", "backup"), "warroom.cli_moving"),
}
"""Each command's module (its COMMANDS are registered together, when the first is asked for)."""


class _Commands(click.Group):
    """The commands of COMMAND_MODULES, a module imported when one of its commands is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            for command in importlib.import_module(COMMAND_MODULES[cmd_name]).COMMANDS:
                self.add_command(_with_as(command))
        return self.commands.get(cmd_name)


@click.group(cls=_Commands, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = CliContext(db, as_user, theme, read_only)
    ctx.obj.probes_option = probes_file
    ctx.obj.quiet = quiet
    if ctx.invoked_subcommand in LOOKING_AHEAD:
        ctx.call_on_close(ctx.obj.look_ahead())
    if ctx.invoked_subcommand is None:
        from warroom.cli_serving import open_ui

        open_ui(ctx.obj, incident_id=None)


def _take_user(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_object(CliContext).user_option = value


def _with_as(command: click.Command) -> click.Command:
    """`warroom open ID --as bob`: --as after any command, as before it."""
    if not any(param.name == "as_user" for param in command.params):
        command.params.append(click.Option(["--as", "as_user"], metavar="NAME", expose_value=False,
                                           callback=_take_user, help="Who is acting (as `warroom --as NAME ...`)."))
    return command


def _left_by_itself(stop: BaseException) -> bool:
    """Whether `stop` is the war room's LeftByItself (only a process that started the UI has it)."""
    launch = sys.modules.get("warroom.ui.launch")
    return launch is not None and isinstance(stop, launch.LeftByItself)


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

    try:
        check_arguments(sys.argv[1:] if argv is None else argv)
        code = cli.main(args=argv, prog_name="warroom", standalone_mode=False)
        return code if isinstance(code, int) else 0  # an int from ctx.exit(): --help, --version, check
    except SystemExit as stop:  # `warroom run` exits with the code of the command it ran
        if _left_by_itself(stop):
            raise
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
    try:
        code = run(argv)
    except SystemExit as stop:
        if not _left_by_itself(stop):
            raise
        _end_now(stop.code)
    sys.exit(code)
