"""The `warroom` command's first module (its entry point, and `python -m warroom`'s).

Before click and the service are imported (some 80 ms), it begins the read-only look at the
database file for a command that opens it soon (LOOKING_AHEAD): its PRAGMA quick_check reads the
whole file, some 35 ms at 100,000 entries, inside SQLite without the GIL, while the imports run.
The file is the one `--db` names before the command, else $WARROOM_DB (as CliContext.database
takes them; one named in the config is looked at when it is opened). Only the start is earlier:
the open takes what the look gathered and judges it as it judges a look taken there and then
(warroom.store.first_look), and an argument this peek misreads costs at most a look no open takes.
"""

from __future__ import annotations

import os
import sys

LOOKING_AHEAD = ("log", "log-command", "run", "show", "export", "open")
"""Commands that open a file (`open`: the war room) soon: its read-only look begins before they load."""
_VALUED = ("--as", "--theme", "--probes")  # the group's other options that take a value


def named_ahead(argv: list[str]) -> str | None:
    """The database `argv` (without the program) names for a LOOKING_AHEAD command: --db's value
    among the options before the command, else $WARROOM_DB; None for other commands or nothing
    named. (A postgresql:// URL names no file: the look finds nothing there to begin.)"""
    named, words = None, iter(argv)
    for word in words:
        if word == "--db":
            named = next(words, None)
        elif word.startswith("--db="):
            named = word[len("--db="):]
        elif word in _VALUED:
            next(words, None)
        elif word == "--" or not word.startswith("-"):
            command = next(words, None) if word == "--" else word
            break
    else:
        return None
    if command not in LOOKING_AHEAD:
        return None
    return named or os.environ.get("WARROOM_DB") or None


def begin_look(argv: list[str]):
    """Begin the look at the file `argv` names for a LOOKING_AHEAD command (see named_ahead);
    returns the way to drop it (a look no open took)."""
    named = named_ahead(argv)
    if named is None:
        return lambda: None
    from warroom.store.first_look import begin

    return begin(named)


def main() -> None:
    """Entry point of the `warroom` command: the look begun, then a plain note written without
    click (warroom.cli_note), or else warroom.cli.main."""
    argv = sys.argv[1:]
    drop = begin_look(argv)
    try:
        from warroom.cli_note import log_plain

        code = log_plain(argv)
        if code is not None:
            _leave(code)
        from warroom.cli import main as run

        run()
    finally:
        drop()


def _leave(code: int) -> None:
    """End a process whose work is done (the note committed and said, the file closed, nothing
    else begun) at once: the interpreter's teardown of every module it loaded (some 10 ms) would
    only delay the exit a script waits for. What was written to stdout and stderr goes first."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            pass
    os._exit(code)

