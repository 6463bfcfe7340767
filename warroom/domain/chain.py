"""A verifiable record: each timeline entry carries a SHA-256 hash of its immutable fields and of
the hash of the entry before it in the same incident (entry #1 chains from GENESIS).

The hash covers exactly the fields the append-only triggers protect (incident, number, times,
author, kind, text, data, the entry it corrects), never `pinned`, which may change. Changing,
removing or inserting an entry behind warroom's back breaks the chain from that entry on; the
head (the last entry's hash) printed in a report or kept from an export pins the whole record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from warroom.domain.entry_hash import GENESIS, ChainFields, chain, entry_hash  # noqa: F401 (re-exported)
from warroom.domain.errors import WarroomError

ALGORITHM = "sha256"


def _hash_or_none(fields: ChainFields, previous: str) -> str | None:
    """entry_hash, or None for content that has no canonical form (NaN in an edited export)."""
    try:
        return entry_hash(fields, previous)
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What checking one incident's chain found: `problem` is None when intact; else it names the
    first entry (`number`) that does not match and why."""

    incident_id: str
    entries: int
    head: str | None
    problem: str | None = None
    number: int | None = None
    hashes: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return self.problem is None

    def position_of(self, head: str) -> int | None:
        """The number of the entry whose hash is `head` (a full hash or a prefix of 12+ characters)."""
        head = head.strip().lower()
        if len(head) < 12:
            return None
        for number, value in enumerate(self.hashes, start=1):
            if value.startswith(head):
                return number
        return None


def verify_chain(incident_id: str, links: Iterable[tuple[ChainFields, str | None]]) -> ChainReport:
    """Check entries given in number order, each with the hash stored with it. Stops at the first
    entry that does not match: a gap in the numbers, a missing hash, or content that is not what was
    hashed (each entry is checked against the stored hash of the one before it)."""
    previous, expected, seen = GENESIS, 1, []

    def broken(number: int, why: str) -> ChainReport:
        return ChainReport(incident_id, len(seen), seen[-1] if seen else None, why, number, tuple(seen))

    for fields, stored in links:
        number = fields.number
        if fields.incident_id != incident_id:
            return broken(number, f"entry #{number} belongs to {fields.incident_id}, not {incident_id}")
        if number < expected:
            return broken(number, f"entry #{number} appears twice")
        if number > expected:
            missing = f"#{expected}" if number == expected + 1 else f"#{expected}-#{number - 1}"
            return broken(number, f"entry #{number}: the entries before it ({missing}) are missing from the record")
        if not stored:
            return broken(number, f"entry #{number} has no hash: it was written outside warroom")
        if _hash_or_none(fields, previous) != stored:
            return broken(number, f"entry #{number} does not match its hash: it was changed after it was "
                                  "written (or its hash was)")
        seen.append(stored)
        previous, expected = stored, expected + 1
    return ChainReport(incident_id, len(seen), seen[-1] if seen else None, hashes=tuple(seen))


def verify_export(data: Any, source: str) -> ChainReport:
    """Check the chain carried by a JSON export (`warroom export`, format 2) without the database.

    A file that is not such an export raises WarroomError naming `source` and the field; a
    well-formed export whose entries, hashes or head do not match gives a report with a problem."""

    def bad(where: str, problem: str) -> WarroomError:
        return WarroomError(f"{source}: {where}: {problem}")

    if not isinstance(data, dict) or data.get("format") != "warroom-incident":
        raise bad("format", "not a warroom incident export (warroom export -f json)")
    if data.get("format_version") == 1:
        raise bad("format_version", "version 1 exports carry no hash chain (export it again)")
    incident, entries, carried = data.get("incident"), data.get("entries"), data.get("chain")
    if not isinstance(incident, dict) or not isinstance(incident.get("id"), str):
        raise bad("incident.id", "expected a string")
    if not isinstance(entries, list):
        raise bad("entries", "expected a list")
    if not isinstance(carried, dict) or carried.get("algorithm") != ALGORITHM:
        raise bad("chain.algorithm", f"expected {ALGORITHM!r}")
    incident_id = incident["id"]
    links = []
    for index, raw in enumerate(entries):
        where = f"entries[{index}]"
        if not isinstance(raw, dict):
            raise bad(where, "expected an object")

        def field(name: str, kinds: tuple[type, ...], what: str, raw=raw, where=where) -> Any:
            value = raw.get(name)
            if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
                raise bad(f"{where}.{name}", f"expected {what}")
            return value

        texts = [field(name, (str,), "a string") for name in ("occurred_at", "recorded_at", "author", "kind", "text")]
        number = field("number", (int,), "an integer")
        corrects = field("corrects", (int, type(None)), "an integer or null")
        stored = field("hash", (str, type(None)), "a string or null")
        links.append((ChainFields(incident_id, number, *texts, raw.get("data"), corrects), stored))
    links.sort(key=lambda link: link[0].number)
    report = verify_chain(incident_id, links)
    if not report.intact:
        return report
    head = carried.get("head")
    if head != report.head:
        return ChainReport(incident_id, report.entries, report.head,
                           f"the export's chain head {head!r} is not the last entry's hash {report.head!r}",
                           len(links) or None, report.hashes)
    if carried.get("entries") != len(links):
        return ChainReport(incident_id, report.entries, report.head,
                           f"the export says it holds {carried.get('entries')!r} entries but holds {len(links)}",
                           None, report.hashes)
    return report
