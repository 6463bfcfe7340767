"""`warroom log ID TEXT` for the common case, a plain note, without click (nor msgspec, unless
there is a config file): the command line the scribes' scripts and the shell type most, made to
start as fast as the file's look allows (issue 14).

warroom.cli_start asks `log_plain` first. It takes only an argv it understands whole (`--db`,
`--as`, `--read-only`, `--quiet` before `log`, then an ID and words none of which is an option
of `log`'s), a file (not a server) and text that is a note (back-dated or not; a /command goes
to the grammar). The user's config file and policies, when there are any, are read and checked
as the full command reads them, and its user and database taken from there. Every step is the
full command's own function (the UTF-8 check of the arguments, the policies and the config, the
places and choices of service.places, the open and its look, the clock warning, the incident's
lookup and the append of store.appending, the clock), run in the same order on the same
transaction. Anything else, and every error before the commit, returns None: the full command
(warroom.cli) runs instead and says what it says; nothing was written. So every message, and
every exit code, is the full command's.
"""

from __future__ import annotations

import sys

from warroom.domain.errors import WarroomError

_GROUP_VALUED = ("--db", "--as")  # the group's options this path takes a value for
_GROUP_FLAGS = ("--read-only", "--quiet")


class PlainLog:
    """A `warroom log` command line this module understands whole."""

    __slots__ = ("db", "as_user", "read_only", "incident_id", "text")

    def __init__(self, db: str | None, as_user: str | None, read_only: bool, incident_id: str, text: str):
        self.db, self.as_user, self.read_only, self.incident_id, self.text = db, as_user, read_only, incident_id, text


def check_arguments(argv: list[str]) -> None:
    """Arguments that are not UTF-8 arrive with surrogates and could never be stored."""
    for argument in argv:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            from warroom.domain.text import visible

            shown = visible(argument.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            raise WarroomError(f"argument {shown!r} is not valid UTF-8") from None


def plain_log(argv: list[str]) -> PlainLog | None:
    """`argv` (without the program) as a `log` command this path takes, or None: any other
    command or option, an option given twice or with a value that looks like an option, after
    `log` an ID that is not a word, no text, or a word of it that click would read as an option
    of `log` (`--as`, `--help`, `--`: anything starting with `--`)."""
    given: dict[str, str | bool] = {}
    words = iter(argv)
    for word in words:
        if word == "log":
            break
        name, equals, value = word.partition("=")
        if name in _GROUP_VALUED and name not in given:
            value = value if equals else next(words, None)
            if value is None or value.startswith("-"):
                return None
            given[name] = value
        elif word in _GROUP_FLAGS and word not in given:
            given[word] = True
        else:
            return None
    else:
        return None
    rest = list(words)
    if len(rest) < 2 or rest[0].startswith("-") or any(word.startswith("--") for word in rest):
        return None
    return PlainLog(given.get("--db"), given.get("--as"), "--read-only" in given, rest[0], " ".join(rest[1:]))


def log_plain(argv: list[str]) -> int | None:
    """Write the plain note `argv` asks for and print its number: the exit code; None when the
    full command must run instead (see the module docstring), having written nothing."""
    request = plain_log(argv)
    if request is None:
        return None
    from warroom.domain.clock import system_clock
    from warroom.service.notes import plain_note
    from warroom.service.places import database_named, user_named

    try:
        check_arguments(argv)
        configured_user, configured_database = _configured()
        author = user_named(request.as_user, configured_user)
        location = database_named(request.db, configured_database)
        if isinstance(location, str):
            return None  # a server's URL, or another the full command refuses
        note = plain_note(request.text, system_clock())
    except Exception:  # what is wrong is said by the full command, as it says it
        return None
    if note is None:
        return None  # a /command
    from warroom.store.first_look import begin

    drop = begin(location)  # a file the config names: its look runs while the rest is imported
    try:
        from warroom.store.blocking import run_to_end

        number = run_to_end(_write(request, location, *note, author))
    except KeyboardInterrupt:
        return 130
    except Exception:  # raised before the commit (after it nothing raises): nothing was written
        return None
    finally:
        drop()
    if number is None:
        return None
    try:
        sys.stdout.write(f"{number}\n")
        sys.stdout.flush()
    except BrokenPipeError:
        return 1
    return 0


def _configured() -> tuple[str | None, str | None]:
    """(user, database) the config file names, read and checked as the full command reads them:
    the user's policies loaded (a broken one raises), then the config, strictly, its targets'
    audiences checked against the policies; or, when the same files passed that check before,
    as remembered then (warroom.service.config_memo). Without a config file or policies of the
    user's, nothing is read (the packaged policies are warroom's own) and nothing is named."""
    from warroom.domain.text_files import toml_files
    from warroom.service.places import config_dir, config_path, config_text, user_policy_dir
    from warroom.store.locations import is_url

    path, policy_dir = config_path(), user_policy_dir()
    text, policy_files = config_text(path), toml_files(policy_dir)
    if text is None and not policy_files:
        return None, None
    from warroom.service.config_memo import digest, recall, remember

    key = digest(text, policy_files)
    remembered = recall(config_dir(), key)
    if remembered is not None:
        return remembered
    from warroom.domain.policy import PolicyBook
    from warroom.service.config import configured_database, load_config

    policies = PolicyBook.load(policy_dir)
    config = load_config(path, audiences=policies.audience_ids)
    database = configured_database(config)
    if database is None or not is_url(database):  # (a URL, perhaps with its password, is not copied)
        remember(config_dir(), key, config.user, database)
    return config.user, database


async def _write(request: PlainLog, location, note: str, occurred_at, author: str) -> int | None:
    """The note written to the file at `location` (opened blocking, as the full command opens it):
    its number, or None (nothing written) when the open has a clock warning to give."""
    from warroom.domain.clock import clock_skew_warning, system_clock
    from warroom.service.notes import add_note
    from warroom.store.database import open_sqlite

    db = await open_sqlite(location, read_only=request.read_only, blocking=True)  # (store.open_database's, for a path)
    number = None
    try:
        if clock_skew_warning(db.clock_offset, db.where) is None:  # (a file's clock is this machine's)
            number = await add_note(db, request.incident_id, note, occurred_at, author, system_clock())
    finally:
        try:
            await db.close()
        except Exception:
            if number is None:
                raise
            # committed: closing a connection cannot undo it, and the number is said
    return number
