"""Errors a person can act on. The CLI prints them as one line and exits 2."""


class WarroomError(Exception):
    """A problem with the user's input, files or configuration (exit code 2)."""

    exit_code = 2


class ParseError(WarroomError):
    """Text typed in the entry bar or given to `warroom log` could not be understood."""


class PolicyError(WarroomError):
    """A policy file is malformed; the message names file, line and field."""


class NotFoundError(WarroomError):
    """An incident, entry or other record does not exist."""


class DatabaseError(WarroomError):
    """The database file cannot be used (unreadable, foreign, too new, not writable)."""


class RuleError(WarroomError):
    """A change the procedure does not allow (out-of-order milestone, unknown role...)."""


class SummaryRequired(RuleError):
    """Resolving needs a one-line resolution summary; the screen asks for it, the CLI says so."""


class ReadOnlyError(WarroomError):
    """This session may look but not write (`--read-only`, a stakeholder's browser session)."""


class DatabaseUnavailable(DatabaseError):
    """The database server cannot be reached (down, restarting, the network gone): nothing was
    saved and nothing is queued. Not the user's mistake: the CLI exits 1."""

    exit_code = 1
