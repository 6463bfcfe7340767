"""The rules a well-formed policy must still keep (unique names, known severities, valid durations
and templates), checked after msgspec has checked the types. Each rule reports the field at fault."""

from __future__ import annotations

import msgspec

from warroom.domain.clock import parse_duration
from warroom.domain.text import first_unsafe

NO_DEADLINE = "no deadline"
WORDING_FIELDS = ("title", "services", "impact")
# Fields older policy files used, and where their facts live now.
MOVED_FIELDS = {
    "update_every": "update cadences are per audience now: [[audience]] every = { SEV-1 = \"15m\" }",
    "first_update": "first-update deadlines are per audience now: [[audience]] first = { SEV-1 = \"5m\" }",
    "notify": "parties to notify are [[duty]] tables now (id, label, within = { SEV-1 = \"15m\" })",
    "postmortem_sections": "report sections are [[postmortem]] tables now (title, fill, prompts)",
}


def norm_name(text: str) -> str:
    """A name as lookups compare it: case, spaces, dashes and underscores folded."""
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


def moved_field_hint(message: str) -> str:
    """`message` with a pointer to the new home of a field this version no longer reads."""
    for field, hint in MOVED_FIELDS.items():
        if f"unknown field `{field}`" in message:
            return message.replace(f"unknown field `{field}`", f"unknown field `{field}` ({hint})", 1)
    return message


def _duration(value: str, *, deadline: bool, positive: bool = False) -> str | None:
    """Why `value` is not a usable duration (or "no deadline" where `deadline`), else None."""
    if deadline and value == NO_DEADLINE:
        return None
    try:
        span = parse_duration(value)
    except ValueError as error:
        return str(error) + (f', or "{NO_DEADLINE}"' if deadline else "")
    if positive and span.total_seconds() <= 0:
        return f"{value!r} must be longer than zero"
    return None


def _severity_table(table: dict[str, str], ids: list[str], path: str, *, deadline: bool,
                    positive: bool = False) -> tuple[str, str] | None:
    for key, value in table.items():
        if key not in ids:
            return path, f"unknown severity {key!r} (keys are severity ids: {', '.join(ids)})"
        problem = _duration(value, deadline=deadline, positive=positive)
        if problem:
            return path, f"{key}: {problem}"
    return None


def _wording(text: str, path: str) -> tuple[str, str] | None:
    try:
        text.format(**{name: "" for name in WORDING_FIELDS})
    except (KeyError, IndexError, ValueError) as error:
        return path, (f"cannot fill {text[:40]!r}: {error!s} (placeholders: "
                      + ", ".join("{" + name + "}" for name in WORDING_FIELDS) + "; write {{ for a brace)")
    return None


def _unique(kind: str, items, names) -> tuple[str, str] | None:
    seen: dict[str, str] = {}
    ids: set[str] = set()
    for index, item in enumerate(items):
        if norm_name(item.id) in ids:
            return f"$.{kind}[{index}].id", f"id {item.id!r} is used by two {kind} entries"
        ids.add(norm_name(item.id))
        for name in names(item):
            key = norm_name(name)
            if key in seen and seen[key] != item.id:
                return f"$.{kind}[{index}].id", f"name {name!r} is used by two {kind} entries"
            seen[key] = item.id
    return None


def _unsafe_text(node, path: str = "$") -> tuple[str, str] | None:
    """(field path, message) for the first string holding a control, bidi or zero-width character:
    policy text is shown on screens and in reports, so it must be plain (tabs and newlines are)."""
    if isinstance(node, str):
        found = first_unsafe(node)
        if found is not None:
            return path, f"holds the invisible or control character U+{ord(found):04X}; policy text must be plain"
    elif isinstance(node, dict):
        for key, value in node.items():
            if problem := _unsafe_text(value, f"{path}.{key}"):
                return problem
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if problem := _unsafe_text(value, f"{path}[{index}]"):
                return problem
    return None


def _check_proofs(policy, checklist, path: str) -> tuple[str, str] | None:
    from warroom.domain.checklists import proof_problem

    for key, proof in checklist.proofs.items():
        if not (key.isascii() and key.isdigit() and 1 <= int(key) <= len(checklist.items)):
            return path, f"key {key!r} is not an item number (1 to {len(checklist.items)})"
        if problem := proof_problem(proof, policy):
            return f"{path}.{key}", problem
    return None


def check_policy(policy) -> tuple[str, str] | None:
    """Return (field path, message) for the first rule a well-formed policy still breaks."""
    if unsafe := _unsafe_text(msgspec.to_builtins(policy)):
        return unsafe
    if not policy.severity:
        return "$.severity", "at least one severity level is required"
    if not policy.role:
        return "$.role", "at least one role is required"
    if not policy.status:
        return "$.status", "at least one status is required"
    for index, level in enumerate(policy.severity):
        for field in ("response", "resolution"):
            value = getattr(level, field)
            if value is not None and (problem := _duration(value, deadline=False)):
                return f"$.severity[{index}].{field}", problem
    for kind, items, names in (
        ("severity", policy.severity, lambda s: [s.id, s.label, *s.aliases]),
        ("role", policy.role, lambda r: [r.id, r.name, *r.aliases]),
        ("status", policy.status, lambda s: [s.id, s.label]),
        ("audience", policy.audience, lambda a: [a.id]),
        ("duty", policy.duty, lambda d: [d.id]),
        ("contact", policy.contact, lambda c: [c.id]),
        ("action_group", policy.action_group, lambda g: [g.id, g.label, *g.aliases]),
    ):
        if problem := _unique(kind, items, names):
            return problem
    if policy.find_severity(policy.policy.default_severity) is None:
        return "$.policy.default_severity", (
            f"unknown severity {policy.policy.default_severity!r}; valid: {policy.severity_names()}"
        )
    if not any(status.resolved for status in policy.status):
        return "$.status", "one status must be marked resolved = true"
    return _check_duties(policy)


def _check_duties(policy) -> tuple[str, str] | None:
    ids = [level.id for level in policy.severity]
    for index, audience in enumerate(policy.audience):
        at = f"$.audience[{index}]"
        for field, deadline, positive in (("first", True, False), ("every", False, True), ("final", True, False)):
            if problem := _severity_table(getattr(audience, field), ids, f"{at}.{field}",
                                          deadline=deadline, positive=positive):
                return problem
        for key, text in audience.wording.items():
            if key not in ids:
                return f"{at}.wording", f"unknown severity {key!r} (keys are severity ids: {', '.join(ids)})"
            if problem := _wording(text, f"{at}.wording"):
                return problem
        if problem := _wording(audience.final_wording, f"{at}.final_wording"):
            return problem
    contacts = {contact.id for contact in policy.contact}
    for index, duty in enumerate(policy.duty):
        at = f"$.duty[{index}]"
        if not duty.within:
            return f"{at}.within", "name at least one severity that owes this duty"
        if problem := _severity_table(duty.within, ids, f"{at}.within", deadline=True):
            return problem
        for contact in duty.contacts:
            if contact not in contacts:
                return f"{at}.contacts", f"unknown contact {contact!r}; [[contact]] ids: {', '.join(sorted(contacts)) or 'none'}"
    for index, contact in enumerate(policy.contact):
        for severity in contact.severities:
            if severity not in ids:
                return f"$.contact[{index}].severities", f"unknown severity {severity!r}; valid: {', '.join(ids)}"
    fills: set[str] = set()
    for index, section in enumerate(policy.postmortem):
        if not section.title.strip():
            return f"$.postmortem[{index}].title", "a report section needs a title"
        if section.fill != "notes" and section.fill in fills:
            return f"$.postmortem[{index}].fill", f"{section.fill!r} fills two sections (only 'notes' may repeat)"
        fills.add(section.fill)
    for index, checklist in enumerate(policy.checklist):
        if problem := _check_proofs(policy, checklist, f"$.checklist[{index}].proofs"):
            return problem
    for field in ("detect", "acknowledge", "mitigate"):
        value = getattr(policy.targets, field)
        if value is not None and (problem := _duration(value, deadline=False)):
            return f"$.targets.{field}", problem
    return None
