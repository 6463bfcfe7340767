"""The hash of one timeline entry, chained to the one before it (warroom.domain.chain verifies
chains and explains what it finds; this is what writing an entry needs, and no more: no
dataclasses, no models)."""

from __future__ import annotations

import hashlib
import json
from collections import namedtuple

from warroom.domain.clock import to_stored

TYPE_CHECKING = False  # (typing is not imported on a plain note's path)
if TYPE_CHECKING:
    from typing import Iterable

    from warroom.domain.models import Entry

GENESIS = "0" * 64
_FORMAT = "warroom-entry/1"


class ChainFields(namedtuple("ChainFields", ("incident_id", "number", "occurred_at", "recorded_at", "author", "kind",
                                             "text", "data", "corrects"))):
    """The hashed fields of one entry, as stored: `incident_id`, `number` (int), `occurred_at` and
    `recorded_at` (the stored UTC text form), `author`, `kind` (an EntryKind's value), `text`,
    `data` (the stored JSON's value, or None), `corrects` (an entry id, or None)."""

    __slots__ = ()

    @classmethod
    def of(cls, entry: Entry) -> "ChainFields":
        return cls(entry.incident_id, entry.number, to_stored(entry.occurred_at), to_stored(entry.recorded_at),
                   entry.author, entry.kind.value, entry.text, entry.data, entry.corrects)


def entry_hash(fields: ChainFields, previous: str) -> str:
    """The hash of one entry chained to `previous` (the hash of the entry before it, or GENESIS).

    The encoding is canonical JSON: a fixed-order array, data with sorted keys, no spaces, UTF-8."""
    canonical = json.dumps(
        [_FORMAT, previous, fields.incident_id, fields.number, fields.occurred_at, fields.recorded_at,
         fields.author, fields.kind, fields.text, fields.data, fields.corrects],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def chain(links: Iterable[ChainFields]) -> list[str]:
    """The hashes of entries given in number order, starting from GENESIS (for migrations and tests)."""
    hashes, previous = [], GENESIS
    for fields in links:
        previous = entry_hash(fields, previous)
        hashes.append(previous)
    return hashes
