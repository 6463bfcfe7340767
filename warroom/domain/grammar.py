"""The entry-bar grammar: turn what a scribe types into a typed Command.

Plain text is a note, `/word ...` is a command, and a leading `-5m` or `@14:02` back-dates
either. `parse` raises only ParseError, whose message says what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from warroom.domain.clock import UTC
from warroom.domain.commands import (
    AddAction, AddEntry, AddProbe, AssignRole, ChangeServices, Command, CorrectEntry, Handoff, MarkDuty,
    PageOnCall, PinEntry, PostUpdate, SetActionDone, SetFact, SetMilestone, SetSeverity, SetStatus, ShowHelp,
    replaced,
)  # fmt: skip
from warroom.domain.entry_text import (  # noqa: F401 (MAX_ENTRY_BYTES: re-exported)
    MAX_ENTRY_BYTES, entry_body, note_of, split_first,
)  # fmt: skip
from warroom.domain.errors import ParseError
from warroom.domain.models import FACTS, EntryKind, Milestone
from warroom.domain.moments import due_date
from warroom.domain.policy import Policy
from warroom.domain.secrets import redact_url


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One entry-bar command as shown on help screens and offered by completion."""

    name: str
    aliases: tuple[str, ...]
    synopsis: str
    help: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.synopsis}".rstrip()


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("note", (), "TEXT", "Add a note (plain text does the same)"),
    CommandSpec("decision", ("d",), "TEXT", "Record a decision"),
    CommandSpec("rootcause", (), "TEXT", "Record the root cause"),
    CommandSpec("hypothesis", ("hypo",), "TEXT", "Record the current hypothesis (the handoff summary quotes the latest)"),
    CommandSpec("lesson", (), "TEXT", "Record a lesson learned"),
    CommandSpec("factor", (), "TEXT", "Record a contributing factor (for the report)"),
    CommandSpec("went-well", ("well",), "TEXT", "Record something that went well (for the report)"),
    CommandSpec("went-badly", ("badly",), "TEXT", "Record something that went badly (for the report)"),
    CommandSpec("action", (), "TEXT [@owner] [due:WHEN] [group:GROUP]", "Add a follow-up action item"),
    CommandSpec("done", (), "N", "Mark action item N (as F4 numbers them) done"),
    CommandSpec("undone", (), "N", "Mark action item N open again"),
    CommandSpec("sev", ("severity",), "LEVEL [reason]", "Set the severity"),
    CommandSpec("status", (), "STATUS [note]", "Set the status"),
    CommandSpec("assign", (), "ROLE PERSON", "Give a role to someone"),
    CommandSpec("handoff", (), "ROLE PERSON", "Hand a role over to someone"),
    CommandSpec("impact", (), "[note]", "Mark when impact started (the impact itself: /set impact)"),
    CommandSpec("detected", (), "[note]", "Mark the incident detected"),
    CommandSpec("ack", ("acknowledged",), "[note]", "Mark the incident acknowledged"),
    CommandSpec("mitigated", (), "[note]", "Mark the impact mitigated"),
    CommandSpec("resolve", ("resolved",), "[note]", "Mark the incident resolved"),
    CommandSpec("close", (), "[note]", "Close the incident"),
    CommandSpec("update", (), "[AUDIENCE] TEXT", "Post a stakeholder update (default: internal)"),
    CommandSpec("notified", (), "PARTY [note]", "Tick a party the policy says to notify (F5 lists them)"),
    CommandSpec("pin", (), "N", "Pin timeline entry N (#N works too)"),
    CommandSpec("unpin", (), "N", "Unpin timeline entry N"),
    CommandSpec("correct", (), "N TEXT", "Correct timeline entry N"),
    CommandSpec("probe", (), "add NAME URL", "Start an HTTP health probe"),
    CommandSpec("page", (), "NAME|SERVICE REASON", "Page on-call now (a pager by name, or the pagers of a service)"),
    CommandSpec("set", (), "impact|users|title TEXT", "Keep a fact current: the impact, who is hit (users), the title"),
    CommandSpec("service", ("services",), "add|remove NAME...", "Add or remove affected services"),
    CommandSpec("title", (), "TEXT", "Rename the incident (as /set title)"),
    CommandSpec("help", ("?",), "", "Every entry-bar command"),
)

_SPECS: dict[str, CommandSpec] = {name: spec for spec in COMMANDS for name in spec.names}

_WORD = re.compile(r"\S+")
_COMMAND = re.compile(r"/(\S*)(\s+)?(.*)", re.DOTALL)
_OWNER = re.compile(r"@(\w+(?:[.\-]\w+)*)")
_NUMBER = re.compile(r"#?([0-9]{1,9})")
_QUOTES = "\"'"
_MAX_NAME_WORDS = 6  # longest unquoted multi-word role/status/severity name tried


def parse(text: str, policy: Policy | Callable[[], Policy], now: datetime) -> Command:
    """Parse what was typed in the entry bar (one line, or several pasted as one entry). `now` is
    aware UTC; `policy` the incident's, or the way to get it (asked for only by a /command: a note
    needs none, so `warroom log` reads no policy file for one); raises ParseError only."""
    now = now.astimezone(UTC)
    body, occurred_at = entry_body(text, now)
    command = _parse_body(body, policy, now)
    return command if occurred_at is None else replaced(command, occurred_at=occurred_at)


def _parse_body(body: str, policy: Policy | Callable[[], Policy], now: datetime) -> Command:
    note = note_of(body)
    if note is not None:
        return AddEntry(kind=EntryKind.NOTE, text=note)
    match = _COMMAND.fullmatch(body)
    assert match is not None  # the pattern accepts anything starting with "/"
    word, args = match.group(1), match.group(3).strip()
    spec = _SPECS.get(word.lower())
    if spec is None:
        raise ParseError(_unknown_command(word))
    return _HANDLERS[spec.name](args, policy if isinstance(policy, Policy) else policy(), now, spec)


def _unknown_command(word: str) -> str:
    escape = "start with // for a note beginning with '/'"
    if not word:
        return f"type a command name after '/' (see /help), or {escape}"
    import difflib

    close = difflib.get_close_matches(word.lower(), list(_SPECS), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join('/' + name for name in close)}? " if close else ""
    return f"unknown command '/{word}'; {hint}see /help, or {escape}"


# --- argument helpers --------------------------------------------------------------------------


def _is_quoted(text: str) -> bool:
    return bool(text) and text[0] in _QUOTES


def _take_word(text: str) -> tuple[str, str]:
    """First word, or a quoted phrase, and the stripped rest."""
    if _is_quoted(text):
        end = text.find(text[0], 1)
        if end < 0:
            raise ParseError(f"unclosed quote in '{text}'")
        return text[1:end].strip(), text[end + 1 :].strip()
    return split_first(text)


def _usage(spec: CommandSpec, problem: str = "") -> ParseError:
    return ParseError(f"{problem + '; ' if problem else ''}usage: {spec.usage}")


def _required(args: str, spec: CommandSpec) -> str:
    if not args:
        raise _usage(spec)
    return args


def _take_named(
    args: str, spec: CommandSpec, kind: str, find: Callable[[str], Any], valid: str
) -> tuple[Any, str]:
    """Resolve a leading policy name (quoted, or the longest matching words) and return the rest."""
    if _is_quoted(_required(args, spec)):
        word, rest = _take_word(args)
        if (found := find(word)) is not None:
            return found, rest
    else:
        words = list(_WORD.finditer(args))
        for match in reversed(words[:_MAX_NAME_WORDS]):
            if (found := find(args[: match.end()])) is not None:
                return found, args[match.end() :].strip()
        word = words[0].group()
    raise ParseError(f"unknown {kind} '{word}'; valid: {valid}")


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` without the given spans, the pieces left joined by single spaces."""
    pieces, start = [], 0
    for begin, end in sorted(spans):
        pieces.append(text[start:begin].strip())
        start = end
    pieces.append(text[start:].strip())
    return " ".join(piece for piece in pieces if piece)


def _entry_number(args: str, spec: CommandSpec) -> tuple[int, str]:
    word, rest = split_first(_required(args, spec))
    match = _NUMBER.fullmatch(word)
    if match is None or int(match.group(1)) == 0:
        raise _usage(spec, f"expected an entry number like 12 or #12, got '{word}'")
    return int(match.group(1)), rest


# --- handlers ----------------------------------------------------------------------------------

_Handler = Callable[[str, Policy, datetime, CommandSpec], Command]


def _entry(kind: EntryKind) -> _Handler:
    return lambda args, policy, now, spec: AddEntry(kind=kind, text=_required(args, spec))


def _milestone(milestone: Milestone) -> _Handler:
    return lambda args, policy, now, spec: SetMilestone(milestone=milestone, note=args)


def _severity(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    names = policy.severity_names()
    level, reason = _take_named(args, spec, "severity", policy.find_severity, names)
    return SetSeverity(severity_id=level.id, reason=reason)


def _status(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    status, note = _take_named(args, spec, "status", policy.find_status, policy.status_names())
    return SetStatus(status_id=status.id, note=note)


def _role_change(command: type[AssignRole] | type[Handoff]) -> _Handler:
    def handle(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
        role, person = _take_named(args, spec, "role", policy.find_role, policy.role_names())
        if _is_quoted(person) and len(person) > 1 and person[-1] == person[0]:
            person = person[1:-1]
        person = person.strip().removeprefix("@").strip()
        if not person:
            raise _usage(spec, f"who takes {role.id} ({role.name})?")
        return command(role_id=role.id, person=person)

    return handle


def _action(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    words = list(_WORD.finditer(args))
    dues = [word for word in words if word.group()[:4].lower() == "due:"]
    if len(dues) > 1:
        raise _usage(spec, "give at most one due: date")
    groups = [word for word in words if word.group()[:6].lower() == "group:"]
    if len(groups) > 1:
        raise _usage(spec, "give at most one group:")
    owners = [word for word in words if _OWNER.fullmatch(word.group())]
    owner = owners[-1].group()[1:] if owners else None
    due = due_date(dues[0].group()[4:], now) if dues else None
    group = _action_group(groups[0].group()[6:], policy) if groups else None
    text = _cut(args, [word.span() for word in dues + groups + owners[-1:]])
    if not text:
        raise _usage(spec, "the action needs a description")
    return AddAction(text=text, owner=owner, due=due, group=group)


def _action_group(name: str, policy: Policy) -> str:
    found = policy.find_action_group(name)
    if found is None:
        known = ", ".join(g.id for g in policy.action_group)
        raise ParseError(f"unknown action group {name!r}; " + (f"valid: {known}" if known else "this policy has none"))
    return found.id


def _pin(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    number, rest = _entry_number(args, spec)
    if rest:
        raise _usage(spec, f"unexpected '{rest}'")
    return PinEntry(number=number, pinned=spec.name == "pin")


def _correct(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    number, text = _entry_number(args, spec)
    if not text:
        raise _usage(spec, f"give the corrected text for #{number}")
    return CorrectEntry(number=number, text=text)


def _action_done(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    word, rest = split_first(_required(args, spec))
    match = _NUMBER.fullmatch(word)
    if match is None or int(match.group(1)) == 0 or rest:
        raise _usage(spec, f"expected an action number as F4 shows it, like 2, got '{args}'")
    return SetActionDone(number=int(match.group(1)), done=spec.name == "done")


def _notified(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    return MarkDuty(party=_required(args, spec))


def _find_audience(policy: Policy, word: str) -> str | None:
    """Audience id named by id, label or a 4+ letter prefix of the id (`exec`), else None."""
    wanted = word.casefold()
    ids = [a.id for a in policy.audience if wanted in (a.id.casefold(), a.label.casefold())]
    if not ids and len(wanted) >= 4:
        ids = [a.id for a in policy.audience if a.id.casefold().startswith(wanted)]
    return ids[0] if len(ids) == 1 else None


def _update(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    _required(args, spec)
    try:
        word, rest = _take_word(args)
    except ParseError:  # an unclosed quote: not an audience, just text
        word, rest = "", args
    audience = _find_audience(policy, word) if word else None
    if audience is None:
        return PostUpdate(text=args, audience="internal")
    if not rest:
        raise _usage(spec, f"the {audience} update has no text")
    return PostUpdate(text=rest, audience=audience)


_FACT_NAMES = {"impact": "impact", "users": "customer_impact", "customers": "customer_impact",
               "customer-impact": "customer_impact", "user-impact": "customer_impact",
               "customer_impact": "customer_impact", "title": "title"}
_SERVICE_VERBS = {"add": "add", "remove": "remove", "rm": "remove", "drop": "remove"}


def _set(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    name, text = split_first(_required(args, spec))
    fact = _FACT_NAMES.get(name.casefold())
    if fact is None:
        raise _usage(spec, f"unknown fact '{name}'; valid: impact, users (customer impact), title")
    if not text:
        raise _usage(spec, f"give the {FACTS[fact].lower()}")
    return SetFact(fact=fact, text=text)


def _title(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    return SetFact(fact="title", text=_required(args, spec))


def _service(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    verb, rest = split_first(_required(args, spec))
    action = _SERVICE_VERBS.get(verb.casefold())
    names = tuple(dict.fromkeys(name for name in re.split(r"[\s,]+", rest) if name))
    if action is None or not names:
        raise _usage(spec, "" if action else f"expected add or remove, got '{verb}'")
    return ChangeServices(add=names) if action == "add" else ChangeServices(remove=names)


def _probe(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    sub, rest = split_first(args)
    if sub.lower() != "add" or not rest:
        raise _usage(spec)
    name, rest = _take_word(rest)
    url, extra = split_first(rest)
    if not name or not url or extra:
        raise _usage(spec)
    if not re.match(r"https?://.", url, re.IGNORECASE):
        raise _usage(spec, f"the probe URL must start with http:// or https://, got '{redact_url(url)}'")
    return AddProbe(name=name, url=url)


def _page(args: str, policy: Policy, now: datetime, spec: CommandSpec) -> Command:
    target, reason = _take_word(_required(args, spec))
    if not target:
        raise _usage(spec, "name a pager or a service")
    if not reason:
        raise _usage(spec, f"say why {target} is paged")
    return PageOnCall(target=target, reason=reason)


_HANDLERS: dict[str, _Handler] = {
    "note": _entry(EntryKind.NOTE),
    "decision": _entry(EntryKind.DECISION),
    "rootcause": _entry(EntryKind.ROOT_CAUSE),
    "hypothesis": _entry(EntryKind.HYPOTHESIS),
    "done": _action_done,
    "undone": _action_done,
    "notified": _notified,
    "lesson": _entry(EntryKind.LESSON),
    "factor": _entry(EntryKind.FACTOR),
    "went-well": _entry(EntryKind.WENT_WELL),
    "went-badly": _entry(EntryKind.WENT_BADLY),
    "set": _set,
    "service": _service,
    "title": _title,
    "action": _action,
    "sev": _severity,
    "status": _status,
    "assign": _role_change(AssignRole),
    "handoff": _role_change(Handoff),
    "impact": _milestone(Milestone.IMPACT_STARTED),
    "detected": _milestone(Milestone.DETECTED),
    "ack": _milestone(Milestone.ACKNOWLEDGED),
    "mitigated": _milestone(Milestone.MITIGATED),
    "resolve": _milestone(Milestone.RESOLVED),
    "close": _milestone(Milestone.CLOSED),
    "update": _update,
    "pin": _pin,
    "unpin": _pin,
    "correct": _correct,
    "probe": _probe,
    "page": _page,
    "help": lambda args, policy, now, spec: ShowHelp(),
}
