"""The first reading of what was typed in the entry bar (or given to `warroom log`): its size,
whether there is anything, a leading back-dating token, and whether the rest is a note or a
/command. warroom.domain.grammar parses on from here; a plain note needs nothing more (so the
command line writes one without loading the commands, the policy or the models)."""

from __future__ import annotations

from datetime import datetime

from warroom.domain.clock import UTC
from warroom.domain.errors import ParseError
from warroom.domain.moments import backdate

MAX_ENTRY_BYTES = 2 * 2**20  # an entry holds at most 2 MiB of UTF-8 (a 1 MB paste fits whole)


def split_first(text: str) -> tuple[str, str]:
    """First whitespace-separated word and the stripped rest."""
    parts = text.split(None, 1) + ["", ""]
    return parts[0], parts[1].strip()


def entry_body(text: str, now: datetime) -> tuple[str, datetime | None]:
    """(the note or /command typed, the moment a leading `-5m` / `@14:02` back-dates it to, or
    None); `now` is aware. Raises ParseError for too much, nothing, or a token with nothing after."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_ENTRY_BYTES:
        raise ParseError(f"too long to be one entry: {size:,} bytes, and an entry holds at most "
                         f"{MAX_ENTRY_BYTES:,} (2 MiB); split it, or save it as a file and log its path")
    line = text.strip()
    if not line:
        raise ParseError("nothing to record: type a note, or a /command (see /help)")
    token, rest = split_first(line)
    occurred_at = backdate(token, now.astimezone(UTC))
    if occurred_at is None:
        return line, None
    if not rest:
        raise ParseError(f"nothing after '{token}': type the note or /command it back-dates")
    return rest, occurred_at


def note_of(body: str) -> str | None:
    """The note's text when `body` (see entry_body) is a note (a leading `//` keeps one `/`),
    None when it is a /command."""
    if body.startswith("//"):
        return body[1:]
    if not body.startswith("/"):
        return body
    return None
