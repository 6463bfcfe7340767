"""Completion for the entry bar: command names, then the argument a command takes (roles,
severities, statuses, audiences, facts, service verbs), after any back-dating prefix."""

from __future__ import annotations

from warroom.domain.entry_text import split_first
from warroom.domain.grammar import _COMMAND, _SPECS, COMMANDS, _is_quoted
from warroom.domain.moments import CLOCK, OFFSET, STAMP
from warroom.domain.policy import Policy


def complete(text: str, policy: Policy) -> list[str]:
    """Whole-line replacements for the input so far: command names, roles, severities, statuses,
    audiences."""
    body = text.lstrip()
    token, _ = split_first(body)
    if token != body and _looks_backdated(token):
        body = body[len(token) :].lstrip()
    head = text[: len(text) - len(body)]
    match = _COMMAND.fullmatch(body)
    if match is None or body.startswith("//"):
        return []
    word, gap, fragment = match.groups()
    if gap is None:
        typed = word.lower()
        found = [next((n for n in spec.names if n.startswith(typed)), None) for spec in COMMANDS]
        return [f"{head}/{name} " for name in found if name is not None]
    spec = _SPECS.get(word.lower())
    choices = _argument_choices(spec.name, policy) if spec else []
    quote = fragment[0] if _is_quoted(fragment) else ""
    typed = fragment[len(quote) :].casefold()
    prefix = head + body[: len(body) - len(fragment)]
    out: list[str] = []
    for shown, spellings in choices:
        if any(spelling.casefold().startswith(typed) for spelling in spellings):
            out.append(f"{prefix}{quote}{shown}{quote} ")
    return out


def _argument_choices(name: str, policy: Policy) -> list[tuple[str, list[str]]]:
    """(what to insert, spellings that select it) for the argument of command `name`."""
    if name in ("assign", "handoff"):
        seen: dict[str, str] = {}
        for role in policy.role:
            for spelling in (role.id, role.name, *role.aliases):
                seen.setdefault(spelling.casefold(), spelling)
        return [(spelling, [spelling]) for spelling in seen.values()]
    if name == "sev":
        return [(s.id, [s.id, s.label, *s.aliases]) for s in policy.severity]
    if name == "status":
        return [(s.id, [s.id, s.label]) for s in policy.status]
    if name == "update":
        return [(a.id, [a.id, a.label]) for a in policy.audience]
    if name == "set":
        return [(word, [word]) for word in ("impact", "users", "title")]
    if name == "service":
        return [("add", ["add"]), ("remove", ["remove"])]
    return []


def _looks_backdated(token: str) -> bool:
    """Whether `token` has back-dating syntax (its value is not checked)."""
    if len(token) > 1 and OFFSET.fullmatch(token):
        return True
    return token[:1] == "@" and any(p.fullmatch(token[1:]) for p in (CLOCK, STAMP))
